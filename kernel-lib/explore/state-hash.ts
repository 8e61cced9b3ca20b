// A cheap hash of "everything that decides the future" at an instruction boundary: the CPU state
// the handlers can observe (registers, flags, RIP, CPL and segments, GS bases, CR2, IDTR, NMI
// blocking and the latch) and the memory the entry code and the harness use (the stack tops and
// the harness globals), plus the explorer's own bookkeeping. Two boundaries with equal keys have
// the same futures, so the explorer explores them once.
import type { Machine } from '../machine/machine';
import type { Page } from '../machine/memory';

/** A run of 32-bit words on one page: page number, first and last-plus-one word index. */
export interface HashRegion {
  page: number;
  from: number;
  to: number;
}

const views = new WeakMap<Page, Int32Array>();

function wordsOf(page: Page): Int32Array {
  let v = views.get(page);
  if (v === undefined) {
    v = new Int32Array(page.data.buffer, page.data.byteOffset, page.data.byteLength >> 2);
    views.set(page, v);
  }
  return v;
}

/** Regions covering [address, address + bytes), split at page boundaries. */
export function regionsFor(address: bigint, bytes: number): HashRegion[] {
  const out: HashRegion[] = [];
  let a = BigInt.asUintN(64, address) & ~3n;
  let left = bytes;
  while (left > 0) {
    const page = Number(a >> 12n);
    const off = Number(a & 0xfffn);
    const n = Math.min(4096 - off, left);
    out.push({ page, from: off >> 2, to: (off + n + 3) >> 2 });
    left -= n;
    a += BigInt(n);
  }
  return out;
}

/**
 * A 53-bit key (two 32-bit lanes folded) of the machine at this boundary, mixed with `extra`
 * (the explorer's monitor digest and budgets).
 */
export function stateKey(m: Machine, regions: readonly HashRegion[], extra: number, extra2: number): number {
  const cpu = m.cpu;
  let a = 0x9e3779b9 ^ extra;
  let b = 0x85ebca6b ^ extra2;
  const rl = cpu.rl;
  const rh = cpu.rh;
  for (let i = 0; i < 16; i++) {
    a = Math.imul(a ^ rl[i], 0x5bd1e995);
    a ^= a >>> 13;
    b = Math.imul(b ^ rh[i], 0x27d4eb2f);
    b ^= b >>> 15;
  }
  const cur = cpu.cur;
  const misc = [
    cur.lo, cur.hi, cpu.readRflags(), cpu.cpl | (cpu.cs << 2) | (cpu.ss << 18), cpu.gsBaseLo, cpu.gsBaseHi,
    Number(cpu.kernelGsBase & 0xffffffffn) | 0, Number((cpu.kernelGsBase >> 32n) & 0xffffffffn) | 0,
    cpu.cr2Lo, cpu.cr2Hi, cpu.idtBaseLo, cpu.idtBaseHi,
    (cpu.nmiBlocked ? 1 : 0) | (cpu.nmiPending ? 2 : 0) | (cpu.debugTrapPending ? 4 : 0) | (cpu.halted ? 8 : 0) |
      (cpu.shutdownReason !== null ? 16 : 0) | (cpu.csl << 5),
    cpu.fsBaseLo, cpu.fsBaseHi,
  ];
  for (let i = 0; i < misc.length; i++) {
    a = Math.imul(a ^ misc[i], 0x5bd1e995);
    a ^= a >>> 13;
    b = Math.imul(b ^ misc[i], 0x27d4eb2f);
    b ^= b >>> 15;
  }
  const pages = m.memory.pages;
  for (let r = 0; r < regions.length; r++) {
    const region = regions[r];
    const page = pages.get(region.page);
    if (page === undefined) {
      a = Math.imul(a ^ 0x0bad, 0x5bd1e995);
      continue;
    }
    const w = wordsOf(page);
    for (let i = region.from; i < region.to; i++) {
      const v = w[i];
      a = Math.imul(a ^ v, 0x5bd1e995);
      a ^= a >>> 13;
      b = Math.imul(b + v, 0x27d4eb2f) ^ i;
      b ^= b >>> 15;
    }
  }
  return (a >>> 0) * 2097152 + (b >>> 11);
}

/** Mix numbers into a 32-bit digest (for the explorer's own state). */
export function digestOf(values: ArrayLike<number>, seed = 0x12345678): number {
  let h = seed;
  for (let i = 0; i < values.length; i++) {
    h = Math.imul(h ^ (values[i] | 0), 0x5bd1e995);
    h ^= h >>> 13;
  }
  return h | 0;
}

export function digestBytes(bytes: Uint8Array, seed: number): number {
  let h = seed;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return h | 0;
}

/** Page number and word index of a 4-aligned address (for peek32). */
export function wordAt(address: bigint): [number, number] {
  const a = BigInt.asUintN(64, address);
  return [Number(a >> 12n), Number(a & 0xfffn) >> 2];
}

/** The 32-bit word at a (page, word index) from wordAt(), without BigInt or allocation; 0 if unmapped. */
export function peek32(m: Machine, page: number, word: number): number {
  const p = m.memory.pages.get(page);
  return p === undefined ? 0 : wordsOf(p)[word];
}
