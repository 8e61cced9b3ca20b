// Integer arithmetic with exact 8/16/32/64-bit results and status flags (SDM vol. 2 instruction
// pages; flag rules in vol. 1 appendix A). Values travel as int32 halves: each function takes
// (lo, hi) pairs, returns the low half and leaves the high half in m.tHi (0 below 64 bits).
// Flags the SDM leaves undefined are set to documented, deterministic values (noted per function);
// the differential test masks them.
import type { ExecContext } from './context';

const MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

function setSZP32(m: ExecContext, r: number): void {
  m.sf = r >>> 31;
  m.zf = r === 0 ? 1 : 0;
  m.pfByte = r & 0xff;
}

/** a + b + carryIn. CF/OF/SF/ZF/AF/PF all defined. */
export function add(
  m: ExecContext,
  size: number,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cin: number,
): number {
  if (size === 8) {
    const sLo = (aLo >>> 0) + (bLo >>> 0) + cin;
    const rLo = sLo | 0;
    const sHi = (aHi >>> 0) + (bHi >>> 0) + (sLo > 0xffffffff ? 1 : 0);
    const rHi = sHi | 0;
    m.cf = sHi > 0xffffffff ? 1 : 0;
    m.of = ((aHi ^ rHi) & (bHi ^ rHi)) >>> 31;
    m.sf = rHi >>> 31;
    m.zf = (rLo | rHi) === 0 ? 1 : 0;
    m.af = ((aLo ^ bLo ^ rLo) >>> 4) & 1;
    m.pfByte = rLo & 0xff;
    m.tHi = rHi;
    return rLo;
  }
  m.tHi = 0;
  if (size === 4) {
    const s = (aLo >>> 0) + (bLo >>> 0) + cin;
    const r = s | 0;
    m.cf = s > 0xffffffff ? 1 : 0;
    m.of = ((aLo ^ r) & (bLo ^ r)) >>> 31;
    m.af = ((aLo ^ bLo ^ r) >>> 4) & 1;
    setSZP32(m, r);
    return r;
  }
  const mask = MASK[size];
  const top = size * 8 - 1;
  const a = aLo & mask;
  const b = bLo & mask;
  const s = a + b + cin;
  const r = s & mask;
  m.cf = s > mask ? 1 : 0;
  m.of = (((a ^ r) & (b ^ r)) >>> top) & 1;
  m.sf = r >>> top;
  m.zf = r === 0 ? 1 : 0;
  m.af = ((a ^ b ^ r) >>> 4) & 1;
  m.pfByte = r & 0xff;
  return r;
}

/** a - b - borrowIn (SUB, SBB, CMP, NEG). All six flags defined. */
export function sub(
  m: ExecContext,
  size: number,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  bin: number,
): number {
  if (size === 8) {
    const dLo = (aLo >>> 0) - (bLo >>> 0) - bin;
    const rLo = dLo | 0;
    const dHi = (aHi >>> 0) - (bHi >>> 0) - (dLo < 0 ? 1 : 0);
    const rHi = dHi | 0;
    m.cf = dHi < 0 ? 1 : 0;
    m.of = ((aHi ^ bHi) & (aHi ^ rHi)) >>> 31;
    m.sf = rHi >>> 31;
    m.zf = (rLo | rHi) === 0 ? 1 : 0;
    m.af = ((aLo ^ bLo ^ rLo) >>> 4) & 1;
    m.pfByte = rLo & 0xff;
    m.tHi = rHi;
    return rLo;
  }
  m.tHi = 0;
  if (size === 4) {
    const d = (aLo >>> 0) - (bLo >>> 0) - bin;
    const r = d | 0;
    m.cf = d < 0 ? 1 : 0;
    m.of = ((aLo ^ bLo) & (aLo ^ r)) >>> 31;
    m.af = ((aLo ^ bLo ^ r) >>> 4) & 1;
    setSZP32(m, r);
    return r;
  }
  const mask = MASK[size];
  const top = size * 8 - 1;
  const a = aLo & mask;
  const b = bLo & mask;
  const d = a - b - bin;
  const r = d & mask;
  m.cf = d < 0 ? 1 : 0;
  m.of = (((a ^ b) & (a ^ r)) >>> top) & 1;
  m.sf = r >>> top;
  m.zf = r === 0 ? 1 : 0;
  m.af = ((a ^ b ^ r) >>> 4) & 1;
  m.pfByte = r & 0xff;
  return r;
}

/** Flags after AND/OR/XOR/TEST: CF = OF = 0, SF/ZF/PF from the result; AF is undefined (set to 0). */
export function logicFlags(m: ExecContext, size: number, rLo: number, rHi: number): void {
  m.cf = 0;
  m.of = 0;
  m.af = 0;
  if (size === 8) {
    m.sf = rHi >>> 31;
    m.zf = (rLo | rHi) === 0 ? 1 : 0;
  } else {
    const mask = MASK[size];
    const r = rLo & mask;
    m.sf = (r >>> (size * 8 - 1)) & 1;
    m.zf = r === 0 ? 1 : 0;
  }
  m.pfByte = rLo & 0xff;
}

/** INC/DEC: like ADD/SUB of 1 but CF is preserved. */
export function incdec(m: ExecContext, size: number, aLo: number, aHi: number, dec: boolean): number {
  const cf = m.cf;
  const r = dec ? sub(m, size, aLo, aHi, 1, 0, 0) : add(m, size, aLo, aHi, 1, 0, 0);
  m.cf = cf;
  return r;
}

/** NEG: 0 - a; CF = (a != 0). */
export function neg(m: ExecContext, size: number, aLo: number, aHi: number): number {
  const r = sub(m, size, 0, 0, aLo, aHi, 0);
  const nonzero = size === 8 ? (aLo | aHi) !== 0 : (aLo & MASK[size]) !== 0;
  m.cf = nonzero ? 1 : 0;
  return r;
}

/**
 * SHL/SHR/SAR. The count is masked to 5 bits (6 for 64-bit operands); a masked count of 0 leaves
 * every flag alone. CF is the last bit shifted out; OF is defined only for a count of 1 (SHL:
 * MSB(result) xor CF; SHR: MSB(original); SAR: 0) and NMI Lab applies the same formula for larger
 * counts; AF is undefined (set to 0). For 8/16-bit SHL/SHR with count >= width, CF is undefined;
 * NMI Lab reports the bit that a wide shift would have moved out.
 */
export function shift(
  m: ExecContext,
  kind: 'shl' | 'shr' | 'sar',
  size: number,
  aLo: number,
  aHi: number,
  countIn: number,
): number {
  const count = countIn & (size === 8 ? 63 : 31);
  if (count === 0) {
    m.tHi = size === 8 ? aHi : 0;
    return size === 8 ? aLo : aLo & MASK[size];
  }
  if (size === 8) return shift64(m, kind, aLo, aHi, count);
  const bits = size * 8;
  const mask = MASK[size];
  const a = aLo & mask;
  let r: number;
  m.tHi = 0;
  if (kind === 'shl') {
    m.cf = count > bits ? 0 : (a >>> (bits - count)) & 1;
    r = count >= bits ? 0 : a << count;
    r = bits === 32 ? r | 0 : r & mask;
    m.of = ((r >>> (bits - 1)) & 1) ^ m.cf;
  } else if (kind === 'shr') {
    m.cf = count > bits ? 0 : (a >>> (count - 1)) & 1;
    r = count >= bits ? 0 : a >>> count;
    m.of = (a >>> (bits - 1)) & 1;
  } else {
    const signed = bits === 32 ? a | 0 : (a << (32 - bits)) >> (32 - bits);
    const c = count >= bits ? bits - 1 : count;
    m.cf = count >= bits ? (signed < 0 ? 1 : 0) : (signed >> (c - 1)) & 1;
    r = (signed >> c) & mask;
    m.of = 0;
  }
  r = bits === 32 ? r | 0 : r & mask;
  m.sf = (r >>> (bits - 1)) & 1;
  m.zf = (r & mask) === 0 ? 1 : 0;
  m.af = 0;
  m.pfByte = r & 0xff;
  return r;
}

function shift64(m: ExecContext, kind: 'shl' | 'shr' | 'sar', lo: number, hi: number, n: number): number {
  let rLo: number;
  let rHi: number;
  if (kind === 'shl') {
    const k = 64 - n; // index of the last bit shifted out
    m.cf = k >= 32 ? (hi >>> (k - 32)) & 1 : (lo >>> k) & 1;
    if (n < 32) {
      rHi = (hi << n) | (lo >>> (32 - n));
      rLo = lo << n;
    } else {
      rHi = lo << (n - 32);
      rLo = 0;
    }
    m.of = (rHi >>> 31) ^ m.cf;
  } else {
    const k = n - 1;
    m.cf = k >= 32 ? (hi >>> (k - 32)) & 1 : (lo >>> k) & 1;
    if (kind === 'shr') {
      if (n < 32) {
        rLo = (lo >>> n) | (hi << (32 - n));
        rHi = hi >>> n;
      } else {
        rLo = hi >>> (n - 32);
        rHi = 0;
      }
      m.of = hi >>> 31;
    } else {
      if (n < 32) {
        rLo = (lo >>> n) | (hi << (32 - n));
        rHi = hi >> n;
      } else {
        rLo = hi >> (n - 32);
        rHi = hi >> 31;
      }
      m.of = 0;
    }
  }
  rLo |= 0;
  rHi |= 0;
  m.sf = rHi >>> 31;
  m.zf = (rLo | rHi) === 0 ? 1 : 0;
  m.af = 0;
  m.pfByte = rLo & 0xff;
  m.tHi = rHi;
  return rLo;
}

function toSigned(size: number, lo: number, hi: number): bigint {
  if (size === 8) return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  return BigInt.asIntN(size * 8, BigInt(lo >>> 0));
}

/**
 * IMUL (2- and 3-operand forms): the product truncated to the operand size. CF = OF = 1 when the
 * signed product does not fit. SF, ZF, AF and PF are undefined: NMI Lab sets SF/ZF/PF from the
 * truncated result and AF to 0.
 */
export function imul(m: ExecContext, size: number, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const bits = size * 8;
  const full = toSigned(size, aLo, aHi) * toSigned(size, bLo, bHi);
  const truncated = BigInt.asIntN(bits, full);
  m.cf = m.of = truncated === full ? 0 : 1;
  const u = BigInt.asUintN(64, truncated);
  const rLo = Number(u & 0xffffffffn) | 0;
  const rHi = size === 8 ? Number(u >> 32n) | 0 : 0;
  m.sf = size === 8 ? rHi >>> 31 : (rLo >>> (bits - 1)) & 1;
  m.zf = truncated === 0n ? 1 : 0;
  m.af = 0;
  m.pfByte = rLo & 0xff;
  m.tHi = rHi;
  return size === 8 ? rLo : size === 4 ? rLo : rLo & MASK[size];
}
