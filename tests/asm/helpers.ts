// Shared helpers for the assembler tests.
import { assemble, AssembleOptions, Diagnostic, formatDiagnostic, Instruction, Program } from '../../kernel-lib/asm';

export function asm(text: string, options: Partial<AssembleOptions> = {}): Program {
  const r = assemble({ files: [{ name: 'test.S', text }], ...options });
  if (!r.ok) throw new Error('unexpected errors:\n' + r.errors.map(formatDiagnostic).join('\n'));
  return r.program;
}

export function errorsOf(text: string, options: Partial<AssembleOptions> = {}): Diagnostic[] {
  const r = assemble({ files: [{ name: 'test.S', text }], ...options });
  if (r.ok) throw new Error('expected errors, assembled fine');
  return r.errors;
}

export function warningsOf(text: string): Diagnostic[] {
  const r = assemble({ files: [{ name: 'test.S', text }] });
  return r.warnings;
}

export function only(text: string, options: Partial<AssembleOptions> = {}): Instruction {
  const p = asm(text, options);
  expect(p.instructions).toHaveLength(1);
  return p.instructions[0];
}

export function sym(p: Program, name: string): bigint {
  const s = p.symbols.get(name);
  if (!s) throw new Error(`no symbol ${name}`);
  return s.value;
}

export const TEXT = 0xffffffff81000000n;
