// Instruction semantics: each assembled Instruction becomes an ExecFn closure specialised on its
// operands. Rules follow the SDM vol. 2 instruction pages. A fault throws CpuFault *before* any
// architectural state changes, so the instruction can be restarted (SDM 6.6): memory writes
// are checked (probeWrite) before registers or flags are committed.
import type { Cond, Instruction } from '../asm/program';
import type { ExecContext } from './context';
import { ACC_STACK_BIT, ACC_USER_BIT } from './access';
import * as alu from './alu';
import { CpuFault, Vector } from './faults';
import { DF, IF, PARITY, RF, VM } from './flags';
import type { ExecFn, Insn } from './insn';
import {
  COperand,
  K_IMM,
  K_MEM,
  K_REG,
  RSP,
  accessFor,
  compileOperand,
  effectiveAddress,
  readMemory,
  readOperand,
  readRegister,
  writeMemory,
  writeRegister,
} from './operands';
import { isCanonicalHigh } from './registers';

export class UnsupportedInstruction extends Error {}

function next(m: ExecContext, insn: Insn): Insn {
  return insn.next !== null ? insn.next : m.insnAt(insn.nextLo, insn.nextHi);
}

function gp0(reason: string): CpuFault {
  return new CpuFault(Vector.GP, 0, 0, 0, reason);
}

function requireCpl0(m: ExecContext, what: string): void {
  if (m.cpl !== 0) throw gp0(`${what} at CPL ${m.cpl}`);
}

function stackAcc(m: ExecContext): number {
  return (m.cpl === 3 ? ACC_USER_BIT : 0) | ACC_STACK_BIT;
}

/** PUSH of a 64-bit value: the write happens (and may fault) before RSP moves. */
export function push64(m: ExecContext, lo: number, hi: number): void {
  const sLo = m.rl[RSP];
  const newLo = (sLo - 8) | 0;
  const newHi = (sLo >>> 0 < 8 ? m.rh[RSP] - 1 : m.rh[RSP]) | 0;
  m.memory.write64(newLo, newHi, lo, hi, stackAcc(m));
  m.rl[RSP] = newLo;
  m.rh[RSP] = newHi;
}

/** POP of a 64-bit value: returns the low half (high in m.tHi); RSP moves after the read. */
export function pop64(m: ExecContext): number {
  const sLo = m.rl[RSP];
  const sHi = m.rh[RSP];
  const lo = m.memory.read64(sLo, sHi, stackAcc(m));
  const hi = m.memory.hi;
  addToRsp(m, 8);
  m.tHi = hi;
  return lo;
}

function addToRsp(m: ExecContext, n: number): void {
  const s = (m.rl[RSP] >>> 0) + n;
  m.rl[RSP] = s | 0;
  if (s > 0xffffffff) m.rh[RSP] = (m.rh[RSP] + 1) | 0;
}

function checkCanonical(hi: number, what: string): void {
  if (!isCanonicalHigh(hi)) throw gp0(`${what} to a non-canonical address`);
}

/** Write a result to a register or memory destination (a memory destination was probed already). */
function writeDest(
  m: ExecContext,
  c: COperand,
  size: number,
  lo: number,
  hi: number,
  eaLo: number,
  eaHi: number,
): void {
  if (c.kind === K_REG) writeRegister(m, c, size, lo, hi);
  else writeMemory(m, size, eaLo, eaHi, lo, hi, accessFor(m, c));
}

// ---- condition codes (SDM vol. 1, appendix B) ----------------------------------------------

type CondTest = (m: ExecContext) => boolean;
const CONDITIONS: Record<Cond, CondTest> = {
  o: (m) => m.of === 1,
  no: (m) => m.of === 0,
  b: (m) => m.cf === 1,
  ae: (m) => m.cf === 0,
  e: (m) => m.zf === 1,
  ne: (m) => m.zf === 0,
  be: (m) => (m.cf | m.zf) === 1,
  a: (m) => (m.cf | m.zf) === 0,
  s: (m) => m.sf === 1,
  ns: (m) => m.sf === 0,
  p: (m) => PARITY[m.pfByte] === 1,
  np: (m) => PARITY[m.pfByte] === 0,
  l: (m) => m.sf !== m.of,
  ge: (m) => m.sf === m.of,
  le: (m) => m.zf === 1 || m.sf !== m.of,
  g: (m) => m.zf === 0 && m.sf === m.of,
};

// ---- compilation -------------------------------------------------------------------------------

type BinaryOp = 'add' | 'adc' | 'sub' | 'sbb' | 'and' | 'or' | 'xor' | 'cmp' | 'test';

function binaryResult(
  m: ExecContext,
  op: BinaryOp,
  size: number,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): number {
  switch (op) {
    case 'add':
      return alu.add(m, size, aLo, aHi, bLo, bHi, 0);
    case 'adc':
      return alu.add(m, size, aLo, aHi, bLo, bHi, m.cf);
    case 'sub':
    case 'cmp':
      return alu.sub(m, size, aLo, aHi, bLo, bHi, 0);
    case 'sbb':
      return alu.sub(m, size, aLo, aHi, bLo, bHi, m.cf);
    case 'and':
    case 'test': {
      const lo = aLo & bLo;
      const hi = size === 8 ? aHi & bHi : 0;
      alu.logicFlags(m, size, lo, hi);
      m.tHi = hi;
      return lo;
    }
    case 'or': {
      const lo = aLo | bLo;
      const hi = size === 8 ? aHi | bHi : 0;
      alu.logicFlags(m, size, lo, hi);
      m.tHi = hi;
      return lo;
    }
    default: {
      const lo = aLo ^ bLo;
      const hi = size === 8 ? aHi ^ bHi : 0;
      alu.logicFlags(m, size, lo, hi);
      m.tHi = hi;
      return lo;
    }
  }
}

function compileBinary(op: BinaryOp, size: number, src: COperand, dst: COperand): ExecFn {
  const writes = op !== 'cmp' && op !== 'test';
  if (dst.kind === K_REG) {
    // The hottest shapes get their own closures: register destination, 64-bit, reg or imm source.
    if (size === 8 && src.kind === K_IMM && (op === 'add' || op === 'sub' || op === 'cmp')) {
      const r = dst.reg;
      const bLo = src.immLo;
      const bHi = src.immHi;
      if (op === 'add') {
        return (m, insn) => {
          m.rl[r] = alu.add(m, 8, m.rl[r], m.rh[r], bLo, bHi, 0);
          m.rh[r] = m.tHi;
          return next(m, insn);
        };
      }
      if (op === 'sub') {
        return (m, insn) => {
          m.rl[r] = alu.sub(m, 8, m.rl[r], m.rh[r], bLo, bHi, 0);
          m.rh[r] = m.tHi;
          return next(m, insn);
        };
      }
      return (m, insn) => {
        alu.sub(m, 8, m.rl[r], m.rh[r], bLo, bHi, 0);
        return next(m, insn);
      };
    }
    return (m, insn) => {
      const bLo = readOperand(m, src, size);
      const bHi = m.tHi;
      const aLo = readRegister(m, dst, size);
      const rLo = binaryResult(m, op, size, aLo, m.tHi, bLo, bHi);
      if (writes) writeRegister(m, dst, size, rLo, m.tHi);
      return next(m, insn);
    };
  }
  return (m, insn) => {
    const bLo = readOperand(m, src, size);
    const bHi = m.tHi;
    const eaLo = effectiveAddress(m, dst);
    const eaHi = m.tHi;
    const acc = accessFor(m, dst);
    if (writes) m.memory.probeWrite(eaLo, eaHi, size, acc);
    const aLo = readMemory(m, size, eaLo, eaHi, acc);
    const rLo = binaryResult(m, op, size, aLo, m.tHi, bLo, bHi);
    if (writes) writeMemory(m, size, eaLo, eaHi, rLo, m.tHi, acc);
    return next(m, insn);
  };
}

/** Read-modify-write of a single destination operand (NOT, NEG, INC, DEC, shifts). */
function compileUnary(
  size: number,
  dst: COperand,
  compute: (m: ExecContext, lo: number, hi: number) => number,
): ExecFn {
  if (dst.kind === K_REG) {
    return (m, insn) => {
      const aLo = readRegister(m, dst, size);
      const rLo = compute(m, aLo, m.tHi);
      writeRegister(m, dst, size, rLo, m.tHi);
      return next(m, insn);
    };
  }
  return (m, insn) => {
    const eaLo = effectiveAddress(m, dst);
    const eaHi = m.tHi;
    const acc = accessFor(m, dst);
    m.memory.probeWrite(eaLo, eaHi, size, acc);
    const aLo = readMemory(m, size, eaLo, eaHi, acc);
    const rLo = compute(m, aLo, m.tHi);
    writeMemory(m, size, eaLo, eaHi, rLo, m.tHi, acc);
    return next(m, insn);
  };
}

function signExtend(size: number, lo: number): [number, number] {
  const v = size === 1 ? (lo << 24) >> 24 : size === 2 ? (lo << 16) >> 16 : lo | 0;
  return [v, v < 0 ? -1 : 0];
}

function compileMov(insn: Instruction, size: number, ops: COperand[]): ExecFn {
  const [src, dst] = ops;
  const s = insn.operands[0];
  const d = insn.operands[1];
  if (d.kind === 'cr') {
    const cr = d.cr;
    return (m, me) => {
      requireCpl0(m, 'mov to %cr');
      const lo = readOperand(m, src, 8);
      m.writeControl(cr, lo, m.tHi);
      return next(m, me);
    };
  }
  if (s.kind === 'cr') {
    const cr = s.cr;
    return (m, me) => {
      requireCpl0(m, 'mov from %cr');
      const lo = m.readControlLo(cr);
      writeRegister(m, dst, 8, lo, m.tHi);
      return next(m, me);
    };
  }
  if (s.kind === 'seg') {
    const seg = s.seg;
    // Reading a segment register into a 32/64-bit register zero-extends the selector.
    return (m, me) => {
      const sel = m.readSegment(seg);
      if (dst.kind === K_REG) writeRegister(m, dst, size, sel, 0);
      else writeMemory(m, 2, effectiveAddress(m, dst), m.tHi, sel, 0, accessFor(m, dst));
      return next(m, me);
    };
  }
  if (d.kind === 'seg') throw new UnsupportedInstruction('mov to a segment register is not modelled');
  if (dst.kind === K_REG) {
    const r = dst.reg;
    if (size === 8 && src.kind === K_REG) {
      const sr = src.reg;
      return (m, me) => {
        m.rl[r] = m.rl[sr];
        m.rh[r] = m.rh[sr];
        return next(m, me);
      };
    }
    if (size === 8 && src.kind === K_IMM) {
      const lo = src.immLo;
      const hi = src.immHi;
      return (m, me) => {
        m.rl[r] = lo;
        m.rh[r] = hi;
        return next(m, me);
      };
    }
    if (size === 8 && src.kind === K_MEM) {
      // `movq disp(%base), %reg`: the load form entry code is full of.
      return (m, me) => {
        const aLo = effectiveAddress(m, src);
        const lo = m.memory.read64(aLo, m.tHi, accessFor(m, src));
        m.rl[r] = lo;
        m.rh[r] = m.memory.hi;
        return next(m, me);
      };
    }
    return (m, me) => {
      const lo = readOperand(m, src, size);
      writeRegister(m, dst, size, lo, m.tHi);
      return next(m, me);
    };
  }
  if (size === 8 && src.kind === K_REG) {
    const sr = src.reg;
    return (m, me) => {
      const aLo = effectiveAddress(m, dst);
      m.memory.write64(aLo, m.tHi, m.rl[sr], m.rh[sr], accessFor(m, dst));
      return next(m, me);
    };
  }
  return (m, me) => {
    const lo = readOperand(m, src, size);
    const hi = m.tHi;
    writeMemory(m, size, effectiveAddress(m, dst), m.tHi, lo, hi, accessFor(m, dst));
    return next(m, me);
  };
}

function compileBranchTarget(target: COperand): (m: ExecContext) => number {
  // Indirect branch operand: always 64-bit in long mode.
  return (m) => readOperand(m, target, 8);
}

/** Compile one instruction. Throws UnsupportedInstruction for forms the machine does not model. */
export function compileInstruction(insn: Instruction, nextAddress: bigint): ExecFn {
  const size = insn.size === 0 ? 8 : insn.size;
  // Immediates of 64-bit operations are sign-extended imm32, except `mov $imm64, %reg` (movabs);
  // the assembler has already rejected imm32 overflow, so the value is used as evaluated.
  const ops = insn.operands.map((o, i) => {
    const opSize = insn.op === 'movzx' || insn.op === 'movsx' ? (i === 0 ? (insn.srcSize ?? 1) : size) : size;
    return compileOperand(o, opSize, nextAddress);
  });
  switch (insn.op) {
    case 'mov':
      return compileMov(insn, size, ops);
    case 'movzx':
    case 'movsx': {
      const srcSize = insn.srcSize ?? 1;
      const [src, dst] = ops;
      const signed = insn.op === 'movsx';
      return (m, me) => {
        const lo = readOperand(m, src, srcSize);
        if (signed) {
          const [eLo, eHi] = signExtend(srcSize, lo);
          writeRegister(m, dst, size, eLo, eHi);
        } else {
          writeRegister(m, dst, size, lo, 0);
        }
        return next(m, me);
      };
    }
    case 'lea': {
      const [src, dst] = ops;
      // LEA computes the offset only: a segment override contributes no base.
      const noSeg = new COperand(src.src);
      Object.assign(noSeg, src, { seg: 0 });
      return (m, me) => {
        const lo = effectiveAddress(m, noSeg);
        writeRegister(m, dst, size, lo, m.tHi);
        return next(m, me);
      };
    }
    case 'push': {
      const [src] = ops;
      if (size === 2) {
        // PUSHW: a 16-bit push moves RSP by 2 (SDM PUSH, operand-size prefix in 64-bit mode).
        return (m, me) => {
          const v = readOperand(m, src, 2);
          const sLo = m.rl[RSP];
          const newLo = (sLo - 2) | 0;
          const newHi = (sLo >>> 0 < 2 ? m.rh[RSP] - 1 : m.rh[RSP]) | 0;
          m.memory.write16(newLo, newHi, v, stackAcc(m));
          m.rl[RSP] = newLo;
          m.rh[RSP] = newHi;
          return next(m, me);
        };
      }
      if (src.kind === K_REG) {
        const r = src.reg;
        return (m, me) => {
          push64(m, m.rl[r], m.rh[r]);
          return next(m, me);
        };
      }
      if (size !== 8) throw new UnsupportedInstruction('only 64-bit and 16-bit push are modelled');
      // The operand is read before RSP moves: `pushq 6*8(%rsp)` copies the slot 48 bytes up.
      return (m, me) => {
        const lo = readOperand(m, src, 8);
        push64(m, lo, m.tHi);
        return next(m, me);
      };
    }
    case 'pop': {
      const [dst] = ops;
      if (size === 2) {
        return (m, me) => {
          const sLo = m.rl[RSP];
          const sHi = m.rh[RSP];
          const v = m.memory.read16(sLo, sHi, stackAcc(m));
          addToRsp(m, 2);
          try {
            if (dst.kind === K_REG) writeRegister(m, dst, 2, v, 0);
            else writeMemory(m, 2, effectiveAddress(m, dst), m.tHi, v, 0, accessFor(m, dst));
          } catch (e) {
            m.rl[RSP] = sLo;
            m.rh[RSP] = sHi;
            throw e;
          }
          return next(m, me);
        };
      }
      if (size !== 8) throw new UnsupportedInstruction('only 64-bit and 16-bit pop are modelled');
      if (dst.kind === K_REG) {
        const r = dst.reg;
        return (m, me) => {
          const lo = pop64(m);
          m.rl[r] = lo;
          m.rh[r] = m.tHi;
          return next(m, me);
        };
      }
      // POP to memory: the address is computed with RSP already incremented (SDM POP).
      return (m, me) => {
        const sLo = m.rl[RSP];
        const sHi = m.rh[RSP];
        const lo = pop64(m);
        const hi = m.tHi;
        try {
          writeMemory(m, 8, effectiveAddress(m, dst), m.tHi, lo, hi, accessFor(m, dst));
        } catch (e) {
          m.rl[RSP] = sLo;
          m.rh[RSP] = sHi;
          throw e;
        }
        return next(m, me);
      };
    }
    case 'pushf':
      // The image has RF and VM clear (SDM PUSHF).
      return (m, me) => {
        push64(m, m.readRflags() & ~(RF | VM), 0);
        return next(m, me);
      };
    case 'popf':
      return (m, me) => {
        const lo = pop64(m);
        m.popRflags(lo);
        return next(m, me);
      };
    case 'add':
    case 'adc':
    case 'sub':
    case 'sbb':
    case 'and':
    case 'or':
    case 'xor':
    case 'cmp':
    case 'test':
      return compileBinary(insn.op, size, ops[0], ops[1]);
    case 'not':
      return compileUnary(size, ops[0], (m, lo, hi) => {
        m.tHi = size === 8 ? ~hi : 0;
        return ~lo;
      });
    case 'neg':
      return compileUnary(size, ops[0], (m, lo, hi) => alu.neg(m, size, lo, hi));
    case 'inc':
      return compileUnary(size, ops[0], (m, lo, hi) => alu.incdec(m, size, lo, hi, false));
    case 'dec':
      return compileUnary(size, ops[0], (m, lo, hi) => alu.incdec(m, size, lo, hi, true));
    case 'shl':
    case 'shr':
    case 'sar': {
      const kind = insn.op;
      if (ops.length === 1) return compileUnary(size, ops[0], (m, lo, hi) => alu.shift(m, kind, size, lo, hi, 1));
      const count = ops[0];
      if (count.kind === K_IMM) {
        const n = count.immLo & 0xff;
        return compileUnary(size, ops[1], (m, lo, hi) => alu.shift(m, kind, size, lo, hi, n));
      }
      return compileUnary(size, ops[1], (m, lo, hi) => {
        const n = m.rl[1] & 0xff; // %cl
        const r = alu.shift(m, kind, size, lo, hi, n);
        return r;
      });
    }
    case 'imul': {
      if (ops.length === 2) {
        const [src, dst] = ops;
        return (m, me) => {
          const bLo = readOperand(m, src, size);
          const bHi = m.tHi;
          const aLo = readRegister(m, dst, size);
          const r = alu.imul(m, size, aLo, m.tHi, bLo, bHi);
          writeRegister(m, dst, size, r, m.tHi);
          return next(m, me);
        };
      }
      if (ops.length === 3) {
        const [imm, src, dst] = ops;
        return (m, me) => {
          const aLo = readOperand(m, src, size);
          const aHi = m.tHi;
          const r = alu.imul(m, size, aLo, aHi, imm.immLo, size === 8 ? imm.immHi : 0);
          writeRegister(m, dst, size, r, m.tHi);
          return next(m, me);
        };
      }
      throw new UnsupportedInstruction('one-operand imul is not modelled');
    }
    case 'xchg': {
      const [a, b] = ops;
      return (m, me) => {
        if (a.kind === K_REG && b.kind === K_REG) {
          const aLo = readRegister(m, a, size);
          const aHi = m.tHi;
          const bLo = readRegister(m, b, size);
          const bHi = m.tHi;
          writeRegister(m, a, size, bLo, bHi);
          writeRegister(m, b, size, aLo, aHi);
          return next(m, me);
        }
        const mem = a.kind === K_MEM ? a : b;
        const reg = a.kind === K_MEM ? b : a;
        const eaLo = effectiveAddress(m, mem);
        const eaHi = m.tHi;
        const acc = accessFor(m, mem);
        m.memory.probeWrite(eaLo, eaHi, size, acc);
        const mLo = readMemory(m, size, eaLo, eaHi, acc);
        const mHi = m.tHi;
        const rLo = readRegister(m, reg, size);
        writeMemory(m, size, eaLo, eaHi, rLo, m.tHi, acc);
        writeRegister(m, reg, size, mLo, mHi);
        return next(m, me);
      };
    }
    case 'cmpxchg': {
      const [src, dst] = ops;
      const accum = compileOperand({ kind: 'reg', reg: 0, size: size as 1 | 2 | 4 | 8 }, size, 0n);
      // Compare the accumulator with the destination; equal: dest <- src, else accumulator <- dest.
      // A memory destination is always written (with its own value when unequal), SDM CMPXCHG.
      return (m, me) => {
        let eaLo = 0;
        let eaHi = 0;
        let acc = 0;
        let dLo: number;
        if (dst.kind === K_MEM) {
          eaLo = effectiveAddress(m, dst);
          eaHi = m.tHi;
          acc = accessFor(m, dst);
          m.memory.probeWrite(eaLo, eaHi, size, acc);
          dLo = readMemory(m, size, eaLo, eaHi, acc);
        } else {
          dLo = readRegister(m, dst, size);
        }
        const dHi = m.tHi;
        const aLo = readRegister(m, accum, size);
        alu.sub(m, size, aLo, m.tHi, dLo, dHi, 0);
        if (m.zf === 1) {
          const sLo = readRegister(m, src, size);
          writeDest(m, dst, size, sLo, m.tHi, eaLo, eaHi);
        } else {
          if (dst.kind === K_MEM) writeMemory(m, size, eaLo, eaHi, dLo, dHi, acc);
          writeRegister(m, accum, size, dLo, dHi);
        }
        return next(m, me);
      };
    }
    case 'jmp': {
      const [t] = ops;
      if (insn.operands[0].kind === 'target')
        return (m, me) => (me.target !== null ? me.target : m.insnAt(...targetHalves(insn)));
      const read = compileBranchTarget(t);
      return (m) => {
        const lo = read(m);
        const hi = m.tHi;
        checkCanonical(hi, 'jmp');
        return m.insnAt(lo, hi);
      };
    }
    case 'jcc': {
      const test = CONDITIONS[insn.cond as Cond];
      if (!test) throw new UnsupportedInstruction(`unknown condition ${insn.cond}`);
      const [tLo, tHi] = targetHalves(insn);
      return (m, me) => {
        if (test(m)) return me.target !== null ? me.target : m.insnAt(tLo, tHi);
        return next(m, me);
      };
    }
    case 'call': {
      if (insn.operands[0].kind === 'target') {
        const [tLo, tHi] = targetHalves(insn);
        return (m, me) => {
          push64(m, me.nextLo, me.nextHi);
          return me.target !== null ? me.target : m.insnAt(tLo, tHi);
        };
      }
      const read = compileBranchTarget(ops[0]);
      return (m, me) => {
        const lo = read(m);
        const hi = m.tHi;
        checkCanonical(hi, 'call');
        push64(m, me.nextLo, me.nextHi);
        return m.insnAt(lo, hi);
      };
    }
    case 'ret': {
      const extra = ops.length === 1 ? ops[0].immLo & 0xffff : 0;
      return (m, me) => {
        const sLo = m.rl[RSP];
        const sHi = m.rh[RSP];
        const lo = pop64(m);
        const hi = m.tHi;
        if (!isCanonicalHigh(hi)) {
          m.rl[RSP] = sLo;
          m.rh[RSP] = sHi;
          throw gp0('ret to a non-canonical address');
        }
        if (extra !== 0) addToRsp(m, extra);
        m.lastRet = me;
        m.lastRetStep = m.steps;
        return m.insnAt(lo, hi);
      };
    }
    case 'int3':
      return () => {
        const f = new CpuFault(Vector.BP, 0, 0, 0, 'int3');
        f.trap = true;
        throw f;
      };
    case 'ud2':
      return () => {
        throw new CpuFault(Vector.UD, 0, 0, 0, 'ud2');
      };
    case 'nop':
      return (m, me) => next(m, me);
    case 'hlt':
      return (m, me) => m.hlt(me);
    case 'cli':
    case 'sti': {
      const set = insn.op === 'sti';
      return (m, me) => {
        // With IOPL 0 (as Linux runs) only CPL 0 may change IF (SDM CLI/STI).
        if (m.cpl > ((m.flagsOther >>> 12) & 3)) throw gp0(`${insn.op} at CPL ${m.cpl}`);
        m.flagsOther = set ? m.flagsOther | IF : m.flagsOther & ~IF;
        return next(m, me);
      };
    }
    case 'std':
      return (m, me) => {
        m.flagsOther |= DF;
        return next(m, me);
      };
    case 'cld':
      return (m, me) => {
        m.flagsOther &= ~DF;
        return next(m, me);
      };
    case 'iret':
      return (m, me) => m.iret(me);
    case 'syscall':
      return (m, me) => m.syscall(me);
    case 'sysret':
      return (m, me) => m.sysret(me);
    case 'swapgs':
      return (m, me) => m.swapgs(me);
    case 'rdmsr':
      return (m, me) => m.rdmsr(me);
    case 'wrmsr':
      return (m, me) => m.wrmsr(me);
    case 'lidt': {
      const [desc] = ops;
      // LIDT (SDM LGDT/LIDT): CPL 0 only; limit16 then base64; both read before IDTR changes.
      return (m, me) => {
        requireCpl0(m, 'lidt');
        const aLo = effectiveAddress(m, desc);
        const aHi = m.tHi;
        const acc = accessFor(m, desc);
        const limit = m.memory.read16(aLo, aHi, acc);
        const s2 = (aLo >>> 0) + 2;
        const bLo = m.memory.read64(s2 | 0, s2 > 0xffffffff ? (aHi + 1) | 0 : aHi, acc);
        m.idtBaseHi = m.memory.hi;
        m.idtBaseLo = bLo;
        m.idtLimit = limit;
        return next(m, me);
      };
    }
    case 'sidt': {
      const [desc] = ops;
      return (m, me) => {
        const aLo = effectiveAddress(m, desc);
        const aHi = m.tHi;
        const acc = accessFor(m, desc);
        m.memory.probeWrite(aLo, aHi, 10, acc);
        m.memory.write16(aLo, aHi, m.idtLimit, acc);
        const s2 = (aLo >>> 0) + 2;
        m.memory.write64(s2 | 0, s2 > 0xffffffff ? (aHi + 1) | 0 : aHi, m.idtBaseLo, m.idtBaseHi, acc);
        return next(m, me);
      };
    }
    case 'erets':
    case 'eretu': {
      const toUser = insn.op === 'eretu';
      return (m, me) => m.fredReturn(me, toUser);
    }
    default:
      throw new UnsupportedInstruction(`instruction '${insn.op}' is not modelled`);
  }
}

export function targetHalves(insn: Instruction): [number, number] {
  const t = insn.operands[0];
  if (t.kind !== 'target') return [0, 0];
  const u = BigInt.asUintN(64, t.address);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}
