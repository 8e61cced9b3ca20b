// Operands compiled for execution: registers, immediates and memory references, with the
// sized read/write rules of 64-bit mode (SDM vol. 1, 3.4.1.1: a 32-bit register write zeroes
// bits 63:32; 8- and 16-bit writes leave the other bits alone).
import type { Operand } from '../asm/program';
import type { ExecContext } from './context';
import { ACC_STACK_BIT, ACC_USER_BIT } from './access';
import { RBP as RBP_INDEX, RSP as RSP_INDEX } from './registers';

// Local copies: a module property load first reached after TurboFan optimized a caller deoptimizes it.
const RSP = RSP_INDEX;
const RBP = RBP_INDEX;

export const K_REG = 0;
export const K_IMM = 1;
export const K_MEM = 2;
export const K_OTHER = 3;

export class COperand {
  kind = K_OTHER;
  // register
  reg = 0;
  high8 = false;
  // immediate (already reduced to the operand size, sign-extended to 64 bits)
  immLo = 0;
  immHi = 0;
  // memory: [seg:] dispLo/dispHi + base + index << shift ; base/index -1 when absent
  base = -1;
  index = -1;
  shift = 0;
  dispLo = 0;
  dispHi = 0;
  seg = 0; // 0 none, 1 fs, 2 gs
  /** An SS-relative reference (base RSP or RBP): non-canonical faults #SS instead of #GP. */
  stack = false;
  /** disp(%base) with no index and no segment base: the common case, computed on a short path. */
  baseOnly = false;
  constructor(readonly src: Operand | null) {}
}

function halves(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

/**
 * Compile an operand. `size` is the operand size it is used at (immediates are sign-extended
 * from their encoded width, which for 64-bit operations is 32 bits except in `mov $imm64, %reg`).
 * `nextAddress` resolves RIP-relative displacements to absolute addresses at compile time.
 */
export function compileOperand(op: Operand, size: number, nextAddress: bigint): COperand {
  const c = new COperand(op);
  switch (op.kind) {
    case 'reg':
      c.kind = K_REG;
      c.reg = op.reg;
      c.high8 = op.high8 === true;
      break;
    case 'imm': {
      c.kind = K_IMM;
      const v = size === 8 ? op.value : BigInt.asIntN(size * 8, op.value);
      [c.immLo, c.immHi] = halves(v);
      break;
    }
    case 'mem': {
      c.kind = K_MEM;
      let disp = op.disp;
      if (op.base === 'rip') {
        disp = nextAddress + op.disp;
      } else if (op.base !== null) {
        c.base = op.base;
      }
      if (op.index !== null) c.index = op.index;
      c.shift = op.scale === 8 ? 3 : op.scale === 4 ? 2 : op.scale === 2 ? 1 : 0;
      [c.dispLo, c.dispHi] = halves(disp);
      c.seg = op.seg === 'fs' ? 1 : op.seg === 'gs' ? 2 : 0;
      c.stack = c.base === RSP || c.base === RBP;
      c.baseOnly = c.base >= 0 && c.index < 0 && c.seg === 0;
      break;
    }
    default:
      c.kind = K_OTHER;
  }
  return c;
}

/** Effective (linear) address: returns the low half, leaves the high half in m.tHi. */
export function effectiveAddress(m: ExecContext, c: COperand): number {
  let lo = c.dispLo;
  let hi = c.dispHi;
  if (c.baseOnly) {
    const s = (lo >>> 0) + (m.rl[c.base] >>> 0);
    m.tHi = (hi + m.rh[c.base] + (s > 0xffffffff ? 1 : 0)) | 0;
    return s | 0;
  }
  if (c.base >= 0) {
    const s = (lo >>> 0) + (m.rl[c.base] >>> 0);
    lo = s | 0;
    hi = (hi + m.rh[c.base] + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  if (c.index >= 0) {
    const iLo = m.rl[c.index];
    const iHi = m.rh[c.index];
    const k = c.shift;
    const sLo = iLo << k;
    const sHi = k === 0 ? iHi : (iHi << k) | (iLo >>> (32 - k));
    const s = (lo >>> 0) + (sLo >>> 0);
    lo = s | 0;
    hi = (hi + sHi + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  if (c.seg !== 0) {
    // In 64-bit mode only FS and GS contribute a base (SDM vol. 1, 3.4.2.1).
    const bLo = c.seg === 2 ? m.gsBaseLo : m.fsBaseLo;
    const bHi = c.seg === 2 ? m.gsBaseHi : m.fsBaseHi;
    const s = (lo >>> 0) + (bLo >>> 0);
    lo = s | 0;
    hi = (hi + bHi + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  m.tHi = hi;
  return lo;
}

// Local copies of imported constants used on one side of a condition. Compiled to CommonJS, an
// imported name is a property load on the module object, and one that was never executed when
// TurboFan optimized its caller deoptimizes the caller the first time it runs (here: the first
// user-mode access after a kernel-only warm-up, which recompiled most of the step loop).
const USER_BIT = ACC_USER_BIT;
const STACK_BIT = ACC_STACK_BIT;

export function accessFor(m: ExecContext, c: COperand): number {
  return (m.cpl === 3 ? USER_BIT : 0) | (c.stack ? STACK_BIT : 0);
}

export function readMemory(m: ExecContext, size: number, lo: number, hi: number, acc: number): number {
  switch (size) {
    case 8: {
      const v = m.memory.read64(lo, hi, acc);
      m.tHi = m.memory.hi;
      return v;
    }
    case 4:
      m.tHi = 0;
      return m.memory.read32(lo, hi, acc);
    case 2:
      m.tHi = 0;
      return m.memory.read16(lo, hi, acc);
    default:
      m.tHi = 0;
      return m.memory.read8(lo, hi, acc);
  }
}

export function writeMemory(
  m: ExecContext,
  size: number,
  lo: number,
  hi: number,
  vLo: number,
  vHi: number,
  acc: number,
): void {
  switch (size) {
    case 8:
      m.memory.write64(lo, hi, vLo, vHi, acc);
      return;
    case 4:
      m.memory.write32(lo, hi, vLo, acc);
      return;
    case 2:
      m.memory.write16(lo, hi, vLo, acc);
      return;
    default:
      m.memory.write8(lo, hi, vLo, acc);
  }
}

export function readRegister(m: ExecContext, c: COperand, size: number): number {
  const r = c.reg;
  if (size === 8) {
    m.tHi = m.rh[r];
    return m.rl[r];
  }
  m.tHi = 0;
  if (size === 4) return m.rl[r];
  if (size === 2) return m.rl[r] & 0xffff;
  return c.high8 ? (m.rl[r] >>> 8) & 0xff : m.rl[r] & 0xff;
}

export function writeRegister(m: ExecContext, c: COperand, size: number, lo: number, hi: number): void {
  const r = c.reg;
  if (size === 8) {
    m.rl[r] = lo;
    m.rh[r] = hi;
  } else if (size === 4) {
    m.rl[r] = lo;
    m.rh[r] = 0;
  } else if (size === 2) {
    m.rl[r] = (m.rl[r] & ~0xffff) | (lo & 0xffff);
  } else if (c.high8) {
    m.rl[r] = (m.rl[r] & ~0xff00) | ((lo & 0xff) << 8);
  } else {
    m.rl[r] = (m.rl[r] & ~0xff) | (lo & 0xff);
  }
}

/** Read a source operand (register, immediate or memory); low half returned, high in m.tHi. */
export function readOperand(m: ExecContext, c: COperand, size: number): number {
  if (c.kind === K_REG) return readRegister(m, c, size);
  if (c.kind === K_IMM) {
    m.tHi = size === 8 ? c.immHi : 0;
    return c.immLo;
  }
  const lo = effectiveAddress(m, c);
  return readMemory(m, size, lo, m.tHi, accessFor(m, c));
}

export { RSP, RBP };
