// What the explorer remembers about a run besides the machine: the event contexts still open (the
// interrupted state each delivery must give back), and the NMI that is still waiting for a run of
// do_nmi. Values are immutable: a new MonitorState per change, so each boundary can keep the one
// it saw and a branch can start from it. Addresses are int32 halves: this runs at every delivery
// and IRET the explorer sees, and BigInt there cost more than the instructions.
import { GPR_NAMES } from '../machine/machine';
import type { Machine } from '../machine/machine';
import type { LoggedEvent } from '../machine/event-log';
import type { Cpu } from '../machine/cpu';
import { digestOf, wordsOf } from './state-hash';
import { pageNumber } from '../machine/memory';
import { emptyObjectArray } from '../machine/object-array';

/** Vectors whose delivery pushes an error code (SDM 6.13): the frame starts 8 bytes higher. */
const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** Where execution was when an event arrived (or after a return): the full visible state. */
export interface ContextState {
  /** 16 general registers as lo/hi halves: [lo0, hi0, lo1, hi1, ...]; RSP from the frame. */
  regs: number[];
  ripLo: number;
  ripHi: number;
  cs: number;
  ss: number;
  rflags: number;
  cr2Lo: number;
  cr2Hi: number;
  /** GS.base, which per-CPU data and SWAPGS hinge on: a return must give back the one it interrupted. */
  gsBaseLo: number;
  gsBaseHi: number;
}

export interface OpenContext {
  vector: number;
  name: string;
  /** Log index of the delivery. */
  logIndex: number;
  state: ContextState;
  /** The interrupted code's live stack: where it starts and its words at delivery (null: not checked). */
  stackLo: number;
  stackHi: number;
  stack: number[] | null;
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

  static readonly EMPTY = new MonitorState(emptyObjectArray(), -1, -1, 0);

  static of(contexts: readonly OpenContext[], unservedRuns: number, unservedLog: number): MonitorState {
    const parts: number[] = [unservedRuns, contexts.length];
    for (const c of contexts) parts.push(c.digest);
    return new MonitorState(contexts, unservedRuns, unservedLog, digestOf(parts));
  }
}

export function join(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** lo + bytes as halves (into out[0], out[1]). */
function addTo(lo: number, hi: number, bytes: number, out: Int32Array): void {
  const sum = (lo >>> 0) + bytes;
  out[0] = sum | 0;
  out[1] = (hi + (sum > 0xffffffff ? 1 : 0)) | 0;
}

const at = new Int32Array(2);

/** The 32-bit word at lo:hi + offset, read as the supervisor would; 0 where nothing is mapped. */
function word(m: Machine, lo: number, hi: number, offset: number): number {
  addTo(lo, hi, offset, at);
  try {
    return m.memory.read32(at[0], at[1], 0);
  } catch {
    return 0;
  }
}

/** The state a delivery interrupted: GPRs now (deliveries change none), the rest from its frame. */
export function interruptedState(m: Machine, delivery: LoggedEvent): ContextState {
  const vector = delivery.vector ?? 0;
  // A FRED frame always starts with the error-code slot (machine/fred.ts: 64 bytes, RIP at +8);
  // an IDT frame has one only for the vectors that push an error code.
  const skip = m.cpu.fred || ERROR_CODE_VECTORS.has(vector) ? 8 : 0;
  const lo = delivery.toRspLo;
  const hi = delivery.toRspHi;
  const regs: number[] = new Array(32);
  const cpu = m.cpu;
  for (let i = 0; i < 16; i++) {
    regs[2 * i] = cpu.rl[i];
    regs[2 * i + 1] = cpu.rh[i];
  }
  regs[8] = word(m, lo, hi, skip + 24);
  regs[9] = word(m, lo, hi, skip + 28);
  const cs = word(m, lo, hi, skip + 8) & 0xffff;
  // IDT delivery leaves GS.base alone (SDM 6.14); FRED delivery from ring 3 swaps it with
  // IA32_KERNEL_GS_BASE (machine/fred.ts), so there the interrupted one is in the MSR now.
  const swapped = cpu.fred && (cs & 3) === 3;
  return {
    regs,
    ripLo: word(m, lo, hi, skip),
    ripHi: word(m, lo, hi, skip + 4),
    cs,
    rflags: word(m, lo, hi, skip + 16),
    ss: word(m, lo, hi, skip + 32) & 0xffff,
    cr2Lo: cpu.cr2Lo,
    cr2Hi: cpu.cr2Hi,
    gsBaseLo: swapped ? cpu.kgsLo : cpu.gsBaseLo,
    gsBaseHi: swapped ? cpu.kgsHi : cpu.gsBaseHi,
  };
}

/** The machine's state now, in the same shape. */
export function currentState(m: Machine): ContextState {
  const cpu = m.cpu;
  const regs: number[] = new Array(32);
  for (let i = 0; i < 16; i++) {
    regs[2 * i] = cpu.rl[i];
    regs[2 * i + 1] = cpu.rh[i];
  }
  return {
    regs,
    ripLo: cpu.cur.lo,
    ripHi: cpu.cur.hi,
    cs: cpu.cs,
    ss: cpu.ss,
    rflags: cpu.readRflags() | 0,
    cr2Lo: cpu.cr2Lo,
    cr2Hi: cpu.cr2Hi,
    gsBaseLo: cpu.gsBaseLo,
    gsBaseHi: cpu.gsBaseHi,
  };
}

/**
 * The page's words when `words` words from lo:hi (4-aligned) lie on one mapped page, and the
 * index of the first; null otherwise (the slow path reads word by word).
 */
function onePage(m: Machine, lo: number, hi: number, words: number): { page: Int32Array; first: number } | null {
  const off = lo & 0xfff;
  if ((off & 3) !== 0 || off + 4 * words > 4096) return null;
  const page = m.memory.pages.get(pageNumber(lo, hi));
  return page === undefined ? null : { page: wordsOf(page), first: off >> 2 };
}

/** `words` 32-bit words from lo:hi (a live stack, copied at delivery). */
export function readWords(m: Machine, lo: number, hi: number, words: number): number[] {
  const out: number[] = new Array(words);
  const p = onePage(m, lo, hi, words);
  if (p !== null) for (let i = 0; i < words; i++) out[i] = p.page[p.first + i];
  else for (let i = 0; i < words; i++) out[i] = word(m, lo, hi, 4 * i);
  return out;
}

/** The byte offset of the first 8-byte slot of a copied stack that differs now, or -1. */
export function firstChangedSlot(m: Machine, lo: number, hi: number, copy: readonly number[]): number {
  const p = onePage(m, lo, hi, copy.length);
  for (let i = 0; i < copy.length; i++) {
    const now = p !== null ? p.page[p.first + i] : word(m, lo, hi, 4 * i);
    if (now !== copy[i]) return 4 * (i & ~1);
  }
  return -1;
}

function hex(v: bigint | number): string {
  return `0x${(typeof v === 'number' ? BigInt(v >>> 0) : BigInt.asUintN(64, v)).toString(16)}`;
}

function reg(s: ContextState, i: number): bigint {
  return join(s.regs[2 * i], s.regs[2 * i + 1]);
}

/** Whether a return gave back exactly the interrupted state (stateDifferences() is empty). */
export function sameState(before: ContextState, after: ContextState, cr2IsContext = true): boolean {
  for (let i = 0; i < 32; i++) if (before.regs[i] !== after.regs[i]) return false;
  return (
    before.rflags === after.rflags &&
    before.cs === after.cs &&
    before.ss === after.ss &&
    before.gsBaseLo === after.gsBaseLo &&
    before.gsBaseHi === after.gsBaseHi &&
    !(cr2IsContext && (before.cs & 3) === 0 && (before.cr2Lo !== after.cr2Lo || before.cr2Hi !== after.cr2Hi))
  );
}

/** sameState() against the CPU as it is now, without building its state. */
export function sameAsCpu(before: ContextState, cpu: Cpu, cr2IsContext = true): boolean {
  for (let i = 0; i < 16; i++)
    if (before.regs[2 * i] !== cpu.rl[i] || before.regs[2 * i + 1] !== cpu.rh[i]) return false;
  return (
    before.rflags === (cpu.readRflags() | 0) &&
    before.cs === cpu.cs &&
    before.ss === cpu.ss &&
    before.gsBaseLo === cpu.gsBaseLo &&
    before.gsBaseHi === cpu.gsBaseHi &&
    !(cr2IsContext && (before.cs & 3) === 0 && (before.cr2Lo !== cpu.cr2Lo || before.cr2Hi !== cpu.cr2Hi))
  );
}

/** What differs between the interrupted state and the state returned to, in words (empty: none). */
export function stateDifferences(before: ContextState, after: ContextState, cr2IsContext = true): string[] {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (before.regs[2 * i] !== after.regs[2 * i] || before.regs[2 * i + 1] !== after.regs[2 * i + 1]) {
      out.push(`${GPR_NAMES[i]} ${hex(reg(before, i))} -> ${hex(reg(after, i))}`);
    }
  }
  if (before.rflags !== after.rflags) out.push(`rflags ${hex(before.rflags)} -> ${hex(after.rflags)}`);
  if (before.cs !== after.cs) out.push(`cs ${hex(before.cs)} -> ${hex(after.cs)}`);
  if (before.ss !== after.ss) out.push(`ss ${hex(before.ss)} -> ${hex(after.ss)}`);
  if (before.gsBaseLo !== after.gsBaseLo || before.gsBaseHi !== after.gsBaseHi) {
    out.push(`GS.base ${hex(join(before.gsBaseLo, before.gsBaseHi))} -> ${hex(join(after.gsBaseLo, after.gsBaseHi))}`);
  }
  // CR2 only matters to kernel code (a page-fault handler that has not read it yet); user code
  // never sees it. Under FRED it is not context at all: the faulting address travels in the
  // frame's event data (Linux fred.h, fred_event_data()), which is how FRED retires the 2012 fix.
  if (cr2IsContext && (before.cs & 3) === 0 && (before.cr2Lo !== after.cr2Lo || before.cr2Hi !== after.cr2Hi)) {
    out.push(`cr2 ${hex(join(before.cr2Lo, before.cr2Hi))} -> ${hex(join(after.cr2Lo, after.cr2Hi))}`);
  }
  return out;
}

export function contextDigest(s: ContextState, stack: readonly number[] | null, vector: number): number {
  const d = digestOf(
    [s.ripLo, s.ripHi, s.cs, s.ss, s.rflags, s.cr2Lo, s.cr2Hi, s.gsBaseLo, s.gsBaseHi, vector],
    digestOf(s.regs),
  );
  return stack === null ? d : digestOf(stack, d);
}
