// Public face of the assembler: GNU as (AT&T syntax, 64-bit) for kernel-style entry code.
//
//   preprocess.ts   C preprocessor subset (#define, #if, #include)
//   assembler.ts    pass 1: statements, directives, .macro/.rept/.irp, instructions and their lengths
//   layout.ts       pass 2: section addresses, symbol values, operands, section images
import { Assembler } from './assembler';
import { DiagnosticSink, formatDiagnostic } from './diagnostics';
import { Linker, placeSections } from './layout';
import { Preprocessor } from './preprocess';
import type { Diagnostic, Program } from './program';

export * from './program';
export { formatDiagnostic } from './diagnostics';
export { DEFAULT_TEXT_BASE } from './layout';

export interface SourceFile {
  name: string;
  text: string;
}

export interface AssembleOptions {
  /** Assembled in order as one unit (one symbol table), like files concatenated. */
  files: SourceFile[];
  /** Files that `#include "name"` / `#include <name>` may read, by name. */
  includes?: Record<string, string>;
  /** Predefined object-like preprocessor macros (like `cc -DNAME=value`). */
  defines?: Record<string, string>;
  /** Predefined absolute symbols (e.g. `__KERNEL_CS`), usable in any expression. */
  symbols?: Record<string, bigint>;
  /** Base address per section name; sections without one follow the highest placed one, 4 KiB aligned. */
  sectionBases?: Record<string, bigint>;
}

export type AssembleResult =
  { ok: true; program: Program; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** Assembles; every problem in the source comes back as a Diagnostic (this function does not throw). */
export function assemble(options: AssembleOptions): AssembleResult {
  const sink = new DiagnosticSink();
  try {
    const predefined = options.symbols ?? {};
    const lines = new Preprocessor(options, sink).run();
    const asm = new Assembler(sink, predefined);
    asm.run(lines);
    const bases = placeSections(asm, options.sectionBases ?? {});
    const program = new Linker(asm, bases, predefined, sink).link();
    if (sink.errors.length > 0) return { ok: false, errors: sink.errors, warnings: sink.warnings };
    program.warnings = sink.warnings;
    return { ok: true, program, warnings: sink.warnings };
  } catch (e) {
    // A bug in the assembler itself: still a value, never a stack trace for the learner.
    const file = options.files[0]?.name ?? '<input>';
    sink.report(
      'error',
      { file, line: 1, column: 1, text: '' },
      `internal assembler error: ${e instanceof Error ? e.message : String(e)}`,
    );
    return { ok: false, errors: sink.errors, warnings: sink.warnings };
  }
}

/** Thrown by assembleOrThrow: carries every error, and its message lists them formatted. */
export class AssemblyError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`assembly failed with ${diagnostics.length} error(s):\n` + diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'AssemblyError';
  }
}

/** Assembles or throws an AssemblyError listing all errors. */
export function assembleOrThrow(options: AssembleOptions): Program {
  const r = assemble(options);
  if (r.ok === false) throw new AssemblyError(r.errors);
  return r.program;
}
