// A decoded instruction ready to run: its address, a compiled `exec`, and links to its successors
// so the step loop follows pointers instead of looking addresses up.
import type { Instruction } from '../asm/program';
import type { ExecContext } from './context';

/** Runs one instruction and returns the next one to execute. Throws CpuFault on a fault. */
export type ExecFn = (m: ExecContext, insn: Insn) => Insn;

export class Insn {
  /** Fall-through successor, linked after loading (null: found by address at run time). */
  next: Insn | null = null;
  /** Direct branch target, linked after loading (null: found by address at run time). */
  target: Insn | null = null;
  /** Stop `run()` before executing this instruction. */
  breakpoint = false;
  exec: ExecFn;
  constructor(
    readonly lo: number,
    readonly hi: number,
    /** Address of the following instruction (the return address of a call, the RIP a trap reports). */
    readonly nextLo: number,
    readonly nextHi: number,
    /** The assembled instruction, or null for a stand-in at an address with no code. */
    readonly src: Instruction | null,
    exec: ExecFn,
  ) {
    this.exec = exec;
  }

  get address(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}
