// What instruction semantics need from the machine. `machine/cpu.ts` implements it; keeping the
// interface here lets isa/ stay free of machine/ (the arrow points one way: machine uses isa).
import type { Insn } from './insn';

/** Guest memory accesses that fault like the CPU (see machine/memory.ts). */
export interface GuestMemory {
  /** High half of the last read64. */
  hi: number;
  read64(lo: number, hi: number, acc: number): number;
  read32(lo: number, hi: number, acc: number): number;
  read16(lo: number, hi: number, acc: number): number;
  read8(lo: number, hi: number, acc: number): number;
  write64(lo: number, hi: number, vLo: number, vHi: number, acc: number): void;
  write32(lo: number, hi: number, v: number, acc: number): void;
  write16(lo: number, hi: number, v: number, acc: number): void;
  write8(lo: number, hi: number, v: number, acc: number): void;
  probeWrite(lo: number, hi: number, n: number, acc: number): void;
}

export interface ExecContext {
  /** General registers as int32 halves, indexed by encoding number (0 rax .. 15 r15). */
  rl: Int32Array;
  rh: Int32Array;
  // Status flags, unpacked (each 0 or 1); PF is derived from the low byte of the last result.
  cf: number;
  zf: number;
  sf: number;
  of: number;
  af: number;
  pfByte: number;
  /** Every other RFLAGS bit (DF, IF, TF, IOPL, ...), packed. */
  flagsOther: number;
  cpl: number;
  gsBaseLo: number;
  gsBaseHi: number;
  fsBaseLo: number;
  fsBaseHi: number;
  /** IDTR (LIDT/SIDT). */
  idtBaseLo: number;
  idtBaseHi: number;
  idtLimit: number;
  memory: GuestMemory;
  /** Scratch: the high half of the value an operand read produced. */
  tHi: number;
  /** Steps executed so far (the running instruction's number). */
  readonly steps: number;
  /** The last RET executed, and its step number (set by RET, read by the explorer). */
  lastRet: Insn | null;
  lastRetStep: number;
  /** The instruction at lo:hi, or a stand-in that faults when executed (fetch faults land on the target). */
  insnAt(lo: number, hi: number): Insn;
  readRflags(): number;
  /** POPF semantics: which bits may change depends on CPL (SDM POPF). */
  popRflags(value: number): void;
  readSegment(seg: string): number;
  readControlLo(cr: number): number;
  writeControl(cr: number, lo: number, hi: number): void;
  // System instructions: each returns the next instruction.
  iret(insn: Insn): Insn;
  syscall(insn: Insn): Insn;
  sysret(insn: Insn): Insn;
  swapgs(insn: Insn): Insn;
  rdmsr(insn: Insn): Insn;
  wrmsr(insn: Insn): Insn;
  hlt(insn: Insn): Insn;
  fredReturn(insn: Insn, toUser: boolean): Insn;
}
