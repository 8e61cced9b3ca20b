// FRED: Flexible Return and Event Delivery (Linux 6.9+; Intel FRED specification; Linux
// Documentation/arch/x86/x86_64/fred.rst, arch/x86/include/asm/fred.h, arch/x86/kernel/fred.c).
//
// What the machine models, and why it matters for the NMI story:
// - stack levels 0..3 replace IST. An event moves to a new stack only when its level is higher
//   than the current one; otherwise it pushes below the current RSP (after a red zone). So a #DB
//   inside an NMI handler no longer resets a fixed stack top.
// - the 64-byte frame: error code, RIP, CS (+ the stack level at the event), RFLAGS, RSP,
//   SS (+ event info: the NMI bit 18, vector bits 32-39, type bits 48-51), event data, reserved.
// - ERETS/ERETU unblock NMIs only when the frame they return through has the NMI bit set, so an
//   exception handler's return inside an NMI handler leaves NMIs blocked.
// Reconstructed where the public documents are thin (said here and in the lessons):
// - RFLAGS after delivery is 0x2 (every flag clear); CR2 is also loaded for #PF, besides the
//   event data; SYSCALL from ring 3 is delivered as an event of type "other" (7), vector 1.
import { ACC_STACK_BIT } from '../isa/access';
import { CpuFault, Vector, pushesErrorCode, vectorName } from '../isa/faults';
import { RESERVED1 } from '../isa/flags';
import type { Insn } from '../isa/insn';
import type { Cpu } from './cpu';
import { SELECTORS } from './descriptors';
import { RSP as RSP_INDEX, isCanonicalHigh } from '../isa/registers';

/** Event types in the SS slot (bits 51:48). */
export const FRED_TYPE = {
  EXTERNAL: 0,
  NMI: 2,
  HW_EXCEPTION: 3,
  SW_INTERRUPT: 4,
  PRIV_SW_EXCEPTION: 5,
  SW_EXCEPTION: 6,
  OTHER: 7,
} as const;

/** Linux's stack levels (arch/x86/kernel/fred.c): #DB 1, NMI and #MC 2, #DF 3, the rest 0. */
export const LINUX_FRED_LEVELS: Record<number, number> = { 1: 1, 2: 2, 18: 2, 8: 3 };

/** The red zone Linux configures: one 64-byte line (FRED_CONFIG_REDZONE_AMOUNT = 1). */
export const FRED_REDZONE = 64;
/** Events from ring 0 enter at the configured entry point + 256 (Linux asm_fred_entrypoint_kernel). */
export const FRED_KERNEL_ENTRY_OFFSET = 256;

const RSP = RSP_INDEX; // a local copy (see isa/operands.ts)
/** Bit 18 of the SS slot: the event was an NMI (Linux struct fred_ss, `nmi`). */
const NMI_BIT = 1 << 18;

export interface FredEvent {
  vector: number;
  type: number;
  errorCode: number;
  returnLo: number;
  returnHi: number;
  /** Event data: CR2 for #PF, else 0. */
  dataLo: number;
  dataHi: number;
}

let hiOut = 0;
function sub(lo: number, hi: number, n: number): number {
  const s = (lo >>> 0) - n;
  hiOut = (s < 0 ? hi - 1 : hi) | 0;
  return s | 0;
}
function add(lo: number, hi: number, n: number): number {
  const s = (lo >>> 0) + n;
  hiOut = (s > 0xffffffff ? hi + 1 : hi) | 0;
  return s | 0;
}

/** One FRED delivery attempt: throws CpuFault before changing state if a push faults. */
export function pushFredFrame(cpu: Cpu, ev: FredEvent): void {
  const mem = cpu.memory;
  const fromUser = cpu.cpl === 3;
  // Per-vector levels (IA32_FRED_STKLVLS) cover exceptions and NMI; SYSCALL ("other") uses 0.
  const eventLevel = ev.type === FRED_TYPE.OTHER ? 0 : (cpu.fredLevels[ev.vector] ?? 0);
  let level: number;
  let rspLo: number;
  let rspHi: number;
  if (fromUser) {
    level = eventLevel;
    [rspLo, rspHi] = cpu.fredRsp[level];
  } else if (eventLevel > cpu.csl) {
    level = eventLevel;
    [rspLo, rspHi] = cpu.fredRsp[level];
  } else {
    // Same or lower level: stay on this stack, below a red zone.
    level = cpu.csl;
    rspLo = sub(cpu.rl[RSP], cpu.rh[RSP], FRED_REDZONE);
    rspHi = hiOut;
  }
  rspLo &= ~0x3f; // aligned to 64 bytes (FRED_STACK_FRAME_RSP_MASK)
  const fLo = sub(rspLo, rspHi, 64);
  const fHi = hiOut;
  mem.probeWrite(fLo, fHi, 64, ACC_STACK_BIT);

  const flags = cpu.readRflags();
  const ssInfo = (cpu.ss & 0xffff) | (ev.type === FRED_TYPE.NMI ? NMI_BIT : 0);
  const ssHigh = (ev.vector & 0xff) | ((ev.type & 0xf) << 16) | (1 << 25); // vector, type, 64-bit mode
  const slots: [number, number][] = [
    [ev.errorCode, 0],
    [ev.returnLo, ev.returnHi],
    [(cpu.cs & 0xffff) | (cpu.csl << 16), 0],
    [flags, 0],
    [cpu.rl[RSP], cpu.rh[RSP]],
    [ssInfo, ssHigh],
    [ev.dataLo, ev.dataHi],
    [0, 0],
  ];
  for (let i = 0; i < 8; i++) mem.write64(add(fLo, fHi, 8 * i), hiOut, slots[i][0], slots[i][1], ACC_STACK_BIT);

  if (fromUser) {
    // Delivery from ring 3 swaps GS.base with IA32_KERNEL_GS_BASE (fred.rst, "LKGS").
    cpu.swapGsBases();
  }
  const fromCs = cpu.cs;
  cpu.writeRflags(RESERVED1);
  cpu.cs = SELECTORS.KERNEL_CS;
  cpu.ss = SELECTORS.KERNEL_DS;
  cpu.cpl = 0;
  cpu.csl = level;
  cpu.rl[RSP] = fLo;
  cpu.rh[RSP] = fHi;
  const entry = fromUser ? cpu.fredEntry : cpu.fredEntry + BigInt(FRED_KERNEL_ENTRY_OFFSET);
  cpu.jumpTo(entry);
  const e = cpu.event('deliver').at(ev.returnLo, ev.returnHi).to(cpu.cur.lo, cpu.cur.hi, fLo, fHi);
  e.vector = ev.vector;
  e.name = ev.type === FRED_TYPE.OTHER ? 'SYSCALL' : vectorName(ev.vector);
  if (pushesErrorCode(ev.vector)) e.errorCode = ev.errorCode;
  e.fromCs = fromCs;
  e.toCs = cpu.cs;
  e.ist = 0;
  e.level = level;
  if (ev.vector === Vector.PF && ev.type === FRED_TYPE.HW_EXCEPTION) e.withCr2(ev.dataLo, ev.dataHi);
}

/** The FRED event type of a vector raised by hardware or an instruction. */
export function fredTypeOf(vector: number, source: 'nmi' | 'fault' | 'trap' | 'software'): number {
  if (vector === Vector.NMI) return FRED_TYPE.NMI;
  if (source === 'software') return vector === Vector.BP ? FRED_TYPE.SW_EXCEPTION : FRED_TYPE.SW_INTERRUPT;
  return FRED_TYPE.HW_EXCEPTION;
}

/**
 * ERETS / ERETU: #UD unless FRED is on and CPL is 0. Reads the frame at RSP, returns to its
 * context, and ends NMI blocking only if the frame is an NMI's (the SS slot's bit 18).
 */
export function fredReturn(cpu: Cpu, insn: Insn, toUser: boolean): Insn {
  const name = toUser ? 'eretu' : 'erets';
  if (!cpu.fred) throw new CpuFault(Vector.UD, 0, 0, 0, `${name} without FRED enabled`);
  if (cpu.cpl !== 0) throw new CpuFault(Vector.UD, 0, 0, 0, `${name} at CPL ${cpu.cpl}`);
  const mem = cpu.memory;
  const acc = ACC_STACK_BIT;
  const sLo = cpu.rl[RSP];
  const sHi = cpu.rh[RSP];
  const read = (off: number): number => mem.read64(add(sLo, sHi, off), hiOut, acc);
  const ripLo = read(8);
  const ripHi = mem.hi;
  const csSlot = read(16);
  const flags = read(24);
  const rspLo = read(32);
  const rspHi = mem.hi;
  const ssSlot = read(40);
  const csSel = csSlot & 0xffff;
  const ssSel = ssSlot & 0xffff;
  if (!isCanonicalHigh(ripHi)) throw new CpuFault(Vector.GP, 0, 0, 0, `${name} to a non-canonical RIP`);
  if (toUser ? (csSel & 3) !== 3 : (csSel & 3) !== 0)
    throw new CpuFault(Vector.GP, 0, 0, 0, `${name}: CS ${csSel.toString(16)} has the wrong privilege`);
  // Commit.
  if ((ssSlot & NMI_BIT) !== 0 && cpu.nmiBlocked) {
    cpu.nmiBlocked = false;
    cpu.event('nmi-unblocked').at(insn.lo, insn.hi).detail = `by ${name.toUpperCase()} of an NMI frame`;
    if (cpu.nmiPending) cpu.attention = 1;
  }
  cpu.writeRflags((flags & 0x3f7fd7) | RESERVED1);
  cpu.cs = csSel;
  cpu.ss = ssSel;
  cpu.cpl = toUser ? 3 : 0;
  cpu.csl = toUser ? 0 : (csSlot >>> 16) & 3;
  cpu.rl[RSP] = rspLo;
  cpu.rh[RSP] = rspHi;
  if (toUser) {
    cpu.swapGsBases();
  }
  const e = cpu.event('iret').at(insn.lo, insn.hi).to(ripLo, ripHi, rspLo, rspHi);
  e.toCs = csSel;
  e.detail = name.toUpperCase();
  if (cpu.flagsOther & (1 << 8)) cpu.attention = 1;
  return cpu.insnAt(ripLo, ripHi);
}
