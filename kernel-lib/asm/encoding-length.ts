// Estimating the x86-64 encoding length of an instruction from its operand forms, so every instruction
// gets the address GNU as would give it without encoding bytes (the machine runs the decoded form).
//
// The estimate follows the encoding rules of the Intel SDM Vol. 2 (ch. 2: prefixes, REX, ModRM, SIB,
// displacement, immediate) and the choices `as --64` makes (checked against objdump in
// tests/asm/encoding-length.test.ts):
// - a displacement or immediate is short (disp8 / imm8 / no displacement) only when it is a literal
//   constant known when the instruction is read; anything involving a label gets the 32-bit field. So the
//   length never depends on forward-referenced symbol values, and one pass is enough.
// - direct jmp / jcc / call always use the rel32 form (5 / 6 / 5 bytes): no branch relaxation pass.
//   (GAS would pick rel8 for near targets; addresses then differ from GAS after such a branch.)
import type { Op, OperandSize } from './program';
import { factsOf } from './instruction-set';

export type LengthOperand =
  | { kind: 'reg'; reg: number; size: OperandSize; needsRex?: boolean; high8?: boolean }
  | { kind: 'cr' }
  | { kind: 'seg' }
  /** `literal` is the value when it is a constant now, undefined when it involves a symbol. */
  | { kind: 'imm'; literal?: bigint }
  /** `disp`: null = not written, undefined = involves a symbol. */
  | { kind: 'mem'; base: number | 'rip' | null; index: number | null; disp: bigint | null | undefined; seg: boolean }
  | { kind: 'target' };

export interface LengthInput {
  op: Op;
  size: 0 | OperandSize;
  srcSize?: 1 | 2 | 4;
  operands: LengthOperand[];
  movabs?: boolean;
  lock?: boolean;
}

const fitsInt8 = (v: bigint | undefined | null): boolean => v !== undefined && v !== null && v >= -128n && v <= 127n;
const fitsInt32 = (v: bigint): boolean => {
  const s = BigInt.asIntN(64, v);
  return s >= -(1n << 31n) && s < 1n << 31n;
};

/** Bytes of ModRM + SIB + displacement for an r/m operand. */
function modrmBytes(o: LengthOperand | undefined): number {
  if (!o || o.kind !== 'mem') return 1;
  if (o.base === 'rip') return 1 + 4;
  if (o.base === null) return 1 + 1 + 4; // SIB with no base: always disp32
  const sib = o.index !== null || (o.base & 7) === 4; // rsp/r12 as base need a SIB byte
  let disp: number;
  if (o.disp === undefined) disp = 4;
  else if (o.disp === null || o.disp === 0n)
    disp = (o.base & 7) === 5 ? 1 : 0; // rbp/r13 have no disp0 form
  else disp = fitsInt8(o.disp) ? 1 : 4;
  return 1 + (sib ? 1 : 0) + disp;
}

const isAccumulator = (o: LengthOperand | undefined): boolean => !!o && o.kind === 'reg' && o.reg === 0 && !o.high8;

function needsRex(i: LengthInput): boolean {
  const crMove = i.operands.some((o) => o.kind === 'cr');
  // Operations 64-bit by default in long mode need no REX.W; nor does the multi-byte nop.
  if (i.size === 8 && !factsOf(i.op).default64 && !crMove && i.op !== 'nop') return true;
  for (const o of i.operands) {
    if (o.kind === 'reg' && (o.reg >= 8 || o.needsRex)) return true;
    if (o.kind === 'mem' && ((typeof o.base === 'number' && o.base >= 8) || (o.index !== null && o.index >= 8)))
      return true;
  }
  return false;
}

function immBytes(size: 0 | OperandSize): number {
  return size === 1 ? 1 : size === 2 ? 2 : 4;
}

export function instructionLength(i: LengthInput): number {
  const ops = i.operands;
  const mem = ops.find((o) => o.kind === 'mem');
  const rm = mem ?? ops[ops.length - 1];
  const imm = ops.find((o) => o.kind === 'imm') as { kind: 'imm'; literal?: bigint } | undefined;
  const hasSeg = ops.some((o) => o.kind === 'seg');
  let prefixes = (i.lock ? 1 : 0) + (mem && mem.kind === 'mem' && mem.seg ? 1 : 0);
  // 0x66 operand-size prefix for 16-bit operations (not for `mov %sreg, mem`, which is 16-bit anyway).
  if (i.size === 2 && !(hasSeg && mem)) prefixes++;
  if (needsRex(i)) prefixes++;
  return prefixes + opcodeAndOperands(i, ops, rm, imm);
}

function opcodeAndOperands(
  i: LengthInput,
  ops: LengthOperand[],
  rm: LengthOperand | undefined,
  imm: { literal?: bigint } | undefined,
): number {
  const dest = ops[ops.length - 1];
  const rule = factsOf(i.op).length;
  if (typeof rule === 'object') return 'bytes' in rule ? rule.bytes : rule.opcodeThenModrm + modrmBytes(rm);
  switch (rule) {
    case 'mov': {
      if (ops.some((o) => o.kind === 'cr')) return 2 + 1; // 0F 20 / 0F 22 + ModRM
      if (ops.some((o) => o.kind === 'seg')) return 1 + modrmBytes(rm); // 8C / 8E
      if (i.movabs && !imm) return 1 + 8; // A0..A3 moffs64
      if (imm) {
        if (dest.kind === 'reg') {
          if (i.size !== 8) return 1 + immBytes(i.size); // B0+r / B8+r
          if (!i.movabs && (imm.literal === undefined || fitsInt32(imm.literal))) return 1 + 1 + 4; // C7 /0 id
          return 1 + 8; // B8+r io
        }
        return 1 + modrmBytes(rm) + immBytes(i.size); // C6 / C7
      }
      return 1 + modrmBytes(rm);
    }
    case 'alu':
      if (imm) {
        if (i.size !== 1 && fitsInt8(imm.literal)) return 1 + modrmBytes(rm) + 1; // 83 /n ib
        if (isAccumulator(dest)) return 1 + immBytes(i.size); // 04/05-style short form
        return 1 + modrmBytes(rm) + immBytes(i.size); // 80 / 81
      }
      return 1 + modrmBytes(rm);
    case 'test':
      if (imm) return isAccumulator(dest) ? 1 + immBytes(i.size) : 1 + modrmBytes(rm) + immBytes(i.size);
      return 1 + modrmBytes(rm);
    case 'shift':
      // D0/D1 (by 1, also for a literal `$1`), D2/D3 (by %cl), C0/C1 ib.
      if (imm && imm.literal !== 1n) return 1 + modrmBytes(rm) + 1;
      return 1 + modrmBytes(rm);
    case 'push':
      if (imm) return fitsInt8(imm.literal) ? 2 : 1 + (i.size === 2 ? 2 : 4); // 6A ib / 68 iw,id
      return dest.kind === 'reg' ? 1 : 1 + modrmBytes(rm); // 50+r / FF /6
    case 'pop':
      return dest.kind === 'reg' ? 1 : 1 + modrmBytes(rm); // 58+r / 8F /0
    case 'ret':
      return ops.length === 1 ? 3 : 1; // C2 iw / C3
    case 'extend':
      return (i.srcSize === 4 ? 1 : 2) + modrmBytes(rm); // 63 (movsxd) / 0F B6,B7,BE,BF
    case 'imul':
      if (imm) return 1 + modrmBytes(ops.length === 3 ? ops[1] : dest) + (fitsInt8(imm.literal) ? 1 : immBytes(i.size)); // 6B / 69
      return 2 + modrmBytes(rm); // 0F AF
    case 'xchg': {
      const bothRegs = ops.every((o) => o.kind === 'reg');
      // 90+r when one side is the accumulator (but `xchg %eax,%eax` is not the nop 90).
      if (
        bothRegs &&
        i.size !== 1 &&
        (isAccumulator(ops[0]) || isAccumulator(ops[1])) &&
        !(isAccumulator(ops[0]) && isAccumulator(ops[1]) && i.size === 4)
      )
        return 1;
      return 1 + modrmBytes(rm);
    }
    case 'branch':
      return dest.kind === 'target' ? 5 : 1 + modrmBytes(rm); // E9/E8 rel32, FF /4 /2
    case 'nop':
      return ops.length === 0 ? 1 : 2 + modrmBytes(rm); // 90 / 0F 1F /0
  }
}
