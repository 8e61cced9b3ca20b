// Public face of the assembler. (Skeleton: the implementation lands in this folder.)
import type { Diagnostic, Program } from './program';

export * from './program';

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
  | { ok: true; program: Program; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

export declare function assemble(options: AssembleOptions): AssembleResult;
