// What the explorer remembers about a run besides the machine: the event contexts still open (the
// interrupted state each delivery must give back), and the NMI that is still waiting for a run of
// do_nmi. Values are immutable: a new MonitorState per change, so each boundary can keep the one
// it saw and a branch can start from it.
import type { Machine } from '../machine/machine';
import { digestBytes, digestOf } from './state-hash';

/** Vectors whose delivery pushes an error code (SDM 6.13): the frame starts 8 bytes higher. */
const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

export const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Where execution was when an event arrived (or after a return): the full visible state. */
export interface ContextState {
  /** 16 general registers as lo/hi halves: [lo0, hi0, lo1, hi1, ...]; RSP from the frame. */
  regs: Int32Array;
  rip: bigint;
  cs: number;
  ss: number;
  rflags: number;
  cr2Lo: number;
  cr2Hi: number;
}

export interface OpenContext {
  vector: number;
  name: string;
  /** Log index of the delivery. */
  logIndex: number;
  state: ContextState;
  /** The interrupted code's live stack, and its bytes at delivery (null: not checked). */
  memAddress: bigint | null;
  mem: Uint8Array | null;
  digest: number;
}

export class MonitorState {
  constructor(
    readonly contexts: readonly OpenContext[],
    /** nmi_runs when the last NMI was delivered and no do_nmi run has begun since; -1 when none waits. */
    readonly unservedRuns: number,
    /** Log index of that delivery. */
    readonly unservedLog: number,
    readonly digest: number,
  ) {}

  static readonly EMPTY = new MonitorState([], -1, -1, 0);

  static of(contexts: readonly OpenContext[], unservedRuns: number, unservedLog: number): MonitorState {
    const parts: number[] = [unservedRuns, contexts.length];
    for (const c of contexts) parts.push(c.digest);
    return new MonitorState(contexts, unservedRuns, unservedLog, digestOf(parts));
  }
}

function u64(m: Machine, address: bigint): bigint {
  const a = BigInt.asUintN(64, address);
  const off = Number(a & 0xfffn);
  const page = m.memory.pages.get(Number(a >> 12n));
  if (page === undefined || off > 0xff8) return m.memory.peekU64(address) ?? 0n;
  return (BigInt(page.view.getUint32(off + 4, true)) << 32n) | BigInt(page.view.getUint32(off, true));
}

/** The state a delivery interrupted: GPRs now (deliveries change none), the rest from its frame. */
export function interruptedState(m: Machine, vector: number, frame: bigint): ContextState {
  // A FRED frame always starts with the error-code slot (machine/fred.ts: 64 bytes, RIP at +8);
  // an IDT frame has one only for the vectors that push an error code.
  const base = m.cpu.fred || ERROR_CODE_VECTORS.has(vector) ? frame + 8n : frame;
  const regs = new Int32Array(32);
  const cpu = m.cpu;
  for (let i = 0; i < 16; i++) {
    regs[2 * i] = cpu.rl[i];
    regs[2 * i + 1] = cpu.rh[i];
  }
  const rsp = u64(m, base + 24n);
  regs[8] = Number(rsp & 0xffffffffn) | 0;
  regs[9] = Number(rsp >> 32n) | 0;
  return {
    regs,
    rip: u64(m, base),
    cs: Number(u64(m, base + 8n) & 0xffffn),
    rflags: Number(u64(m, base + 16n) & 0xffffffffn),
    ss: Number(u64(m, base + 32n) & 0xffffn),
    cr2Lo: cpu.cr2Lo,
    cr2Hi: cpu.cr2Hi,
  };
}

/** The machine's state now, in the same shape. */
export function currentState(m: Machine): ContextState {
  const cpu = m.cpu;
  const regs = new Int32Array(32);
  for (let i = 0; i < 16; i++) {
    regs[2 * i] = cpu.rl[i];
    regs[2 * i + 1] = cpu.rh[i];
  }
  return { regs, rip: cpu.rip, cs: cpu.cs, ss: cpu.ss, rflags: cpu.readRflags() >>> 0, cr2Lo: cpu.cr2Lo, cr2Hi: cpu.cr2Hi };
}

function hex(v: bigint | number): string {
  return `0x${(typeof v === 'number' ? BigInt(v >>> 0) : BigInt.asUintN(64, v)).toString(16)}`;
}

function reg(s: ContextState, i: number): bigint {
  return (BigInt(s.regs[2 * i + 1] >>> 0) << 32n) | BigInt(s.regs[2 * i] >>> 0);
}

/** What differs between the interrupted state and the state returned to, in words (empty: none). */
export function stateDifferences(before: ContextState, after: ContextState, cr2IsContext = true): string[] {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (before.regs[2 * i] !== after.regs[2 * i] || before.regs[2 * i + 1] !== after.regs[2 * i + 1]) {
      out.push(`${REG_NAMES[i]} ${hex(reg(before, i))} -> ${hex(reg(after, i))}`);
    }
  }
  if (before.rflags !== after.rflags) out.push(`rflags ${hex(before.rflags)} -> ${hex(after.rflags)}`);
  if (before.cs !== after.cs) out.push(`cs ${hex(before.cs)} -> ${hex(after.cs)}`);
  if (before.ss !== after.ss) out.push(`ss ${hex(before.ss)} -> ${hex(after.ss)}`);
  // CR2 only matters to kernel code (a page-fault handler that has not read it yet); user code
  // never sees it. Under FRED it is not context at all: the faulting address travels in the
  // frame's event data (Linux fred.h, fred_event_data()), which is how FRED retires the 2012 fix.
  if (cr2IsContext && (before.cs & 3) === 0 && (before.cr2Lo !== after.cr2Lo || before.cr2Hi !== after.cr2Hi)) {
    const c = (s: ContextState) => (BigInt(s.cr2Hi >>> 0) << 32n) | BigInt(s.cr2Lo >>> 0);
    out.push(`cr2 ${hex(c(before))} -> ${hex(c(after))}`);
  }
  return out;
}

export function contextDigest(s: ContextState, mem: Uint8Array | null, vector: number): number {
  const d = digestOf([Number(s.rip & 0xffffffffn) | 0, Number(s.rip >> 32n) | 0, s.cs, s.ss, s.rflags, s.cr2Lo, s.cr2Hi, vector], digestOf(s.regs));
  return mem === null ? d : digestBytes(mem, d);
}
