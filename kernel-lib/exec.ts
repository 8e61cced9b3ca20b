// Run a bare program in kernel mode: the engine behind `nmi-lab exec`. (Skeleton; implementation pending.)
import type { Diagnostic } from './asm/program';

/** Where `execSource` puts things (kernel-style high addresses). */
export const EXEC_LAYOUT = {
  textBase: 0xffffffff81000000n,
  /** A 32 KiB kernel stack, writable, mapped [stackTop - stackSize, stackTop). */
  stackTop: 0xffffc90000008000n,
  stackSize: 0x8000,
  /** Initial RFLAGS: only the reserved bit 1. */
  rflags: 0x2n,
} as const;

export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

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
export declare function execSource(text: string, options?: ExecOptions): ExecResult;
