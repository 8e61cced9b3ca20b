// Run a bare program in kernel mode: the engine behind `nmi-lab exec`.
import { assemble } from './asm';
import type { Diagnostic } from './asm/program';
import { DEFAULT_MAX_STEPS, GPR_NAMES, LoadError, Machine } from './machine/machine';

/** Where `execSource` puts things (kernel-style high addresses). */
export const EXEC_LAYOUT = {
  textBase: 0xffffffff81000000n,
  /** A 32 KiB kernel stack, writable, mapped [stackTop - stackSize, stackTop). */
  stackTop: 0xffffc90000008000n,
  stackSize: 0x8000,
  /** Initial RFLAGS: only the reserved bit 1. */
  rflags: 0x2n,
} as const;

export { GPR_NAMES };
export type { GprName } from './machine/machine';
import type { GprName } from './machine/machine';

export interface ExecOptions {
  /** File name used in diagnostics (default 'input.S'). */
  file?: string;
  /** Label to start at (default '_start'). */
  entry?: string;
  /** Step budget (default 1,000,000). */
  maxSteps?: number;
  /** Files for #include. */
  includes?: Record<string, string>;
}

export type ExecStop = 'hlt' | 'budget' | 'shutdown';

export interface ExecResult {
  /** False when the source did not assemble (see diagnostics); the machine fields are then absent. */
  ok: boolean;
  diagnostics: Diagnostic[];
  regs?: Record<GprName, bigint>;
  rip?: bigint;
  rflags?: bigint;
  steps?: number;
  stop?: ExecStop;
  /** Why it stopped, for a human (e.g. the shutdown report). */
  message?: string;
}

/**
 * Assemble `text` and run it from `entry` in kernel mode (CPL 0, all general registers 0,
 * RSP = EXEC_LAYOUT.stackTop, RFLAGS = 0x2) until `hlt`, the budget or a shutdown.
 */
export function execSource(text: string, options: ExecOptions = {}): ExecResult {
  const file = options.file ?? 'input.S';
  const assembled = assemble({ files: [{ name: file, text }], includes: options.includes });
  if (assembled.ok === false) return { ok: false, diagnostics: [...assembled.errors, ...assembled.warnings] };
  const entry = options.entry ?? '_start';
  const sym = assembled.program.symbols.get(entry);
  if (!sym) {
    const loc = { file, line: 1, column: 1 };
    return {
      ok: false,
      diagnostics: [
        ...assembled.warnings,
        { ...loc, severity: 'error', message: `entry label '${entry}' is not defined`, text: '' },
      ],
    };
  }
  const machine = bareMachine();
  try {
    machine.load(assembled.program);
  } catch (e) {
    if (e instanceof LoadError) return { ok: false, diagnostics: [...assembled.warnings, ...e.diagnostics] };
    throw e;
  }
  machine.setReg('rip', sym.value);
  const result = machine.run({ maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS });
  const stop: ExecStop = result.stop === 'hlt' || result.stop === 'shutdown' ? result.stop : 'budget';
  return {
    ok: true,
    diagnostics: assembled.warnings,
    regs: machine.registers(),
    rip: machine.rip,
    rflags: machine.rflags,
    steps: result.steps,
    stop,
    message: result.message,
  };
}

/** A kernel-mode machine with the exec stack mapped and no IDT (any exception ends in a shutdown). */
export function bareMachine(): Machine {
  const m = new Machine();
  m.map(EXEC_LAYOUT.stackTop - BigInt(EXEC_LAYOUT.stackSize), EXEC_LAYOUT.stackSize, { writable: true });
  m.setReg('rsp', EXEC_LAYOUT.stackTop);
  m.setReg('rflags', EXEC_LAYOUT.rflags);
  return m;
}
