// Checking an instruction's operand forms and sizes the way GAS does, and choosing its length.
// The result still holds expressions: they are resolved to numbers after layout (see layout.ts).
import { AsmError } from './diagnostics';
import { Expr, literalValue } from './expr';
import { instructionLength, LengthOperand } from './encoding-length';
import { Mnemonic } from './mnemonics';
import { factsOf } from './instruction-set';
import type { Cond, CrOperand, Op, OperandSize, RegOperand, SegOperand } from './program';
import { OperandText, ParsedOperand } from './operands';

/** How an immediate must fit once its value is known. */
export type ImmRule =
  /** 8/16/32-bit field: values that fit neither signed nor unsigned are truncated with a warning. */
  | { kind: 'narrow'; bits: 8 | 16 | 32 }
  /** A 64-bit operation's sign-extended imm32. */
  | { kind: 's32' }
  /** mov to a 64-bit register / movabs: any 64-bit value. */
  | { kind: 'any' };

export type PendingOperand =
  | RegOperand
  | CrOperand
  | SegOperand
  | { kind: 'imm'; expr: Expr; rule: ImmRule }
  | {
      kind: 'mem';
      base: number | 'rip' | null;
      index: number | null;
      scale: 1 | 2 | 4 | 8;
      disp: Expr | null;
      seg: 'fs' | 'gs' | null;
      wide?: boolean;
    }
  | { kind: 'target'; expr: Expr };

export interface CheckedInstruction {
  op: Op;
  size: 0 | OperandSize;
  srcSize?: 1 | 2 | 4;
  cond?: Cond;
  operands: PendingOperand[];
  length: number;
  /** Warnings found while checking (e.g. the default-size warning). */
  warnings: string[];
}

const SUFFIX_LETTER: Record<number, string> = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' };

type Gpr = Extract<ParsedOperand, { kind: 'reg' }>;
type Mem = Extract<ParsedOperand, { kind: 'mem' }>;

export function checkInstruction(mn: Mnemonic, written: OperandText[], lock: boolean): CheckedInstruction {
  const warnings: string[] = [];
  const ops = written.map((w) => w.operand);
  const name = mn.base;
  const fail = (msg: string, k?: number): never => {
    throw new AsmError(msg, k === undefined ? undefined : written[k]?.offset);
  };
  const count = (...allowed: number[]): void => {
    if (!allowed.includes(ops.length)) {
      fail(
        `\`${name}' takes ${allowed.join(' or ')} operand${allowed.length === 1 && allowed[0] === 1 ? '' : 's'}, got ${ops.length}`,
      );
    }
  };
  const isReg = (o: ParsedOperand | undefined): o is Gpr => !!o && o.kind === 'reg';
  const isMem = (o: ParsedOperand | undefined): o is Mem => !!o && o.kind === 'mem';
  const isImm = (o: ParsedOperand | undefined): boolean => !!o && o.kind === 'imm';
  for (let k = 0; k < written.length; k++) {
    if (written[k].indirect && mn.op !== 'jmp' && mn.op !== 'call')
      fail(`\`*' (indirect) is only valid with jmp and call`, k);
  }

  /** Operand size from the suffix and the general registers, as GAS decides it. */
  const sizeFrom = (regs: Gpr[], fallback: OperandSize | undefined, warnDefault: boolean): OperandSize => {
    if (mn.suffix) {
      for (const r of regs) {
        if (r.size !== mn.suffix)
          fail(`incorrect register \`%${r.name}' used with \`${SUFFIX_LETTER[mn.suffix]}' suffix`);
      }
      return mn.suffix;
    }
    if (regs.length > 0) {
      for (const r of regs) {
        if (r.size !== regs[0].size)
          fail(`operand size mismatch for \`${name}' (\`%${regs[0].name}' and \`%${r.name}')`);
      }
      return regs[0].size;
    }
    if (fallback === undefined)
      fail(`no instruction mnemonic suffix given and no register operands for \`${name}'; add a suffix`);
    if (warnDefault)
      warnings.push(`no instruction mnemonic suffix given and no register operands; using default for \`${name}'`);
    return fallback as OperandSize;
  };
  const narrow = (size: OperandSize): ImmRule =>
    size === 8 ? { kind: 's32' } : { kind: 'narrow', bits: (size * 8) as 8 | 16 | 32 };

  const op: Op = mn.op;
  let size: 0 | OperandSize = 0;
  let srcSize: 1 | 2 | 4 | undefined;
  const rules = new Map<number, ImmRule>();
  const wideMem = new Set<number>();

  const facts = factsOf(mn.op);
  switch (facts.operands) {
    case 'mov': {
      count(2);
      const [src, dst] = ops;
      if (isImm(dst)) fail('an immediate cannot be the destination', 1);
      if (src.kind === 'cr' || dst.kind === 'cr') {
        const gpr = src.kind === 'cr' ? dst : src;
        if (!isReg(gpr) || gpr.size !== 8) fail('control registers move to and from 64-bit general registers only');
        if (mn.suffix && mn.suffix !== 8) fail(`invalid suffix for \`mov' with a control register`);
        size = 8;
        break;
      }
      if (src.kind === 'seg' || dst.kind === 'seg') {
        const other = src.kind === 'seg' ? dst : src;
        if (other.kind === 'seg' || isImm(other))
          fail('mov with a segment register needs a general register or memory on the other side');
        if (isReg(other)) {
          if (other.size === 1) fail(`\`%${other.name}' is not valid with a segment register`);
          size = sizeFrom([other], 2, false);
        } else size = mn.suffix ?? 2;
        if (isMem(other) && size !== 2)
          fail(`\`${name}' with a segment register and memory is 16-bit (use movw or mov)`);
        break;
      }
      if (isMem(src) && isMem(dst)) fail("too many memory references for `mov'");
      const regs = [src, dst].filter(isReg);
      size = sizeFrom(regs, 4, true);
      if (mn.movabs) {
        if (isImm(src)) {
          if (!isReg(dst) || size !== 8) fail('movabs with an immediate needs a 64-bit register destination');
        } else {
          const m = isMem(src) ? src : dst;
          const r = isMem(src) ? dst : src;
          if (!isMem(m) || !m.bare || !isReg(r) || r.reg !== 0 || r.high8) {
            fail('movabs moves between the accumulator (%al/%ax/%eax/%rax) and an absolute address');
          }
          wideMem.add(isMem(src) ? 0 : 1);
        }
      }
      if (isImm(src)) {
        // A literal too wide for imm32 gets the 10-byte B8+r form; a symbol gets the 7-byte imm32 form
        // (its value is not known yet), so it must then fit sign-extended 32 bits, like R_X86_64_32S.
        const literal = literalValue((src as Extract<ParsedOperand, { kind: 'imm' }>).expr) !== undefined;
        const wide = isReg(dst) && (mn.movabs || literal);
        rules.set(0, size === 8 ? (wide ? { kind: 'any' } : { kind: 's32' }) : narrow(size));
      }
      break;
    }
    case 'lea': {
      count(2);
      const [src, dst] = ops;
      if (!isMem(src)) fail('lea needs a memory operand as its source', 0);
      if (!isReg(dst) || dst.size === 1) fail('lea needs a 16/32/64-bit register destination', 1);
      size = sizeFrom([dst as Gpr], undefined, false);
      break;
    }
    case 'alu': {
      count(2);
      const [src, dst] = ops;
      if (isImm(dst)) fail('an immediate cannot be the destination', 1);
      if (isMem(src) && isMem(dst)) fail(`too many memory references for \`${name}'`);
      for (let k = 0; k < 2; k++)
        if (ops[k].kind === 'cr' || ops[k].kind === 'seg') fail(`invalid operand for \`${name}'`, k);
      size = sizeFrom([src, dst].filter(isReg), 4, true);
      if (isImm(src)) rules.set(0, narrow(size));
      break;
    }
    case 'unary': {
      count(1);
      if (!isReg(ops[0]) && !isMem(ops[0])) fail(`\`${name}' needs a register or memory operand`, 0);
      size = sizeFrom(ops.filter(isReg), 4, true);
      break;
    }
    case 'shift': {
      count(1, 2);
      const dst = ops[ops.length - 1];
      if (!isReg(dst) && !isMem(dst)) fail(`\`${name}' needs a register or memory destination`, ops.length - 1);
      if (ops.length === 2) {
        const c = ops[0];
        if (isReg(c)) {
          if (c.reg !== 1 || c.size !== 1 || c.high8) fail(`the shift count must be an immediate or %cl`, 0);
        } else if (!isImm(c)) fail(`the shift count must be an immediate or %cl`, 0);
        else rules.set(0, { kind: 'narrow', bits: 8 });
      }
      size = sizeFrom(isReg(dst) ? [dst] : [], 4, true);
      break;
    }
    case 'push-pop': {
      count(1);
      const o = ops[0];
      if (mn.suffix === 4 || mn.suffix === 1)
        fail(`invalid instruction suffix for \`${name}' (64-bit mode pushes and pops 8 or 2 bytes)`);
      if (isReg(o) && (o.size === 4 || o.size === 1))
        fail(`\`%${o.name}' cannot be pushed or popped in 64-bit mode`, 0);
      if (o.kind === 'cr' || o.kind === 'seg')
        fail(`\`${name}' of a ${o.kind === 'cr' ? 'control' : 'segment'} register is not supported`, 0);
      if (isImm(o) && mn.op === 'pop') fail('pop needs a register or memory operand', 0);
      size = sizeFrom(ops.filter(isReg), 8, false);
      if (isImm(o)) rules.set(0, narrow(size));
      break;
    }
    case 'extend': {
      count(2);
      const [src, dst] = ops;
      if (!isReg(dst)) fail(`\`${name}' needs a register destination`, 1);
      const d = dst as Gpr;
      if (!isReg(src) && !isMem(src)) fail(`\`${name}' needs a register or memory source`, 0);
      srcSize = mn.srcSize ?? (isReg(src) ? (src.size as 1 | 2 | 4) : undefined);
      if (srcSize === undefined)
        return fail(`\`${name}' with a memory source is ambiguous; use movzbl/movzwl/movsbq/... to give both sizes`, 0);
      if (isReg(src) && src.size !== srcSize)
        fail(`incorrect register \`%${src.name}' for \`${name}' (source must be ${srcSize * 8}-bit)`, 0);
      if (mn.suffix && d.size !== mn.suffix)
        fail(`incorrect register \`%${d.name}' for \`${name}' (destination must be ${mn.suffix * 8}-bit)`, 1);
      if (name === 'movsxd' && d.size !== 8) fail('movsxd needs a 64-bit destination', 1);
      size = d.size;
      if (srcSize >= size) fail(`\`${name}' must widen: ${srcSize * 8}-bit source to ${size * 8}-bit destination`);
      if (srcSize === 4 && mn.op === 'movzx') fail('there is no movzx from 32 bits; a 32-bit mov already zero-extends');
      break;
    }
    case 'imul': {
      count(1, 2, 3);
      if (ops.length === 1) fail('one-operand imul (writing %rdx:%rax) is not supported; use the 2- or 3-operand form');
      const dst = ops[ops.length - 1];
      if (!isReg(dst) || dst.size === 1) fail('imul needs a 16/32/64-bit register destination', ops.length - 1);
      if (ops.length === 3) {
        if (!isImm(ops[0])) fail('3-operand imul needs an immediate first', 0);
        if (!isReg(ops[1]) && !isMem(ops[1])) fail('imul needs a register or memory source', 1);
      } else if (ops[0].kind === 'cr' || ops[0].kind === 'seg') fail('invalid source for imul', 0);
      size = sizeFrom(ops.filter(isReg), undefined, false);
      if (isImm(ops[0])) rules.set(0, narrow(size));
      break;
    }
    case 'exchange': {
      count(2);
      const [a, b] = ops;
      if (mn.op === 'cmpxchg' && !isReg(a)) fail('cmpxchg needs a register source', 0);
      if (!(isReg(a) || isMem(a)) || !(isReg(b) || isMem(b)) || (isMem(a) && isMem(b)))
        fail(`\`${name}' needs two registers or a register and memory`);
      size = sizeFrom([a, b].filter(isReg), undefined, false);
      break;
    }
    case 'branch': {
      count(1);
      const w = written[0];
      const o = ops[0];
      if (mn.suffix && mn.suffix !== 8) fail(`invalid instruction suffix for \`${name}'`);
      if (isImm(o)) fail(`\`${name}' takes a label, not an immediate`, 0);
      if (mn.op === 'jcc' && w.indirect) fail('conditional jumps cannot be indirect', 0);
      let indirect = w.indirect;
      if (!indirect && (isReg(o) || (isMem(o) && !o.bare))) {
        if (mn.op === 'jcc') fail('conditional jumps take a label', 0);
        warnings.push(`indirect ${name} without \`*'`);
        indirect = true;
      }
      if (indirect) {
        if (isReg(o) && o.size !== 8) fail(`indirect ${name} needs a 64-bit register`, 0);
        if (o.kind === 'cr' || o.kind === 'seg') fail(`invalid operand for \`${name}'`, 0);
        size = 8;
        break;
      }
      const m = o as Mem;
      if (m.seg) fail('a direct branch target cannot have a segment override', 0);
      return finish(mn, { op: mn.op, size: 0, operands: [{ kind: 'target', expr: m.disp as Expr }], lock }, warnings, [
        { kind: 'target' },
      ]);
    }
    case 'ret': {
      count(0, 1);
      if (mn.suffix && mn.suffix !== 8) fail(`invalid instruction suffix for \`${name}'`);
      if (ops.length === 1) {
        if (!isImm(ops[0])) fail('ret takes an optional immediate (bytes to pop)', 0);
        rules.set(0, { kind: 'narrow', bits: 16 });
      }
      break;
    }
    case 'nop': {
      count(0, 1);
      if (ops.length === 1) {
        if (!isReg(ops[0]) && !isMem(ops[0])) fail('nop takes a register or memory operand', 0);
        size = sizeFrom(ops.filter(isReg), 4, false);
        if (size === 1) fail('there is no byte-sized multi-byte nop', 0);
      }
      break;
    }
    case 'descriptor-table': {
      // The operand is a 10-byte pseudo-descriptor in 64-bit mode (SDM LGDT/LIDT).
      count(1);
      if (!isMem(ops[0])) fail(`\`${name}' takes a memory operand`, 0);
      if (mn.suffix && mn.suffix !== 8) fail(`invalid instruction suffix for \`${name}'`);
      size = 0;
      break;
    }
    case 'int3': {
      if (name === 'int') {
        count(1);
        const v = isImm(ops[0]) ? literalValue((ops[0] as { expr: Expr }).expr) : undefined;
        if (v !== 3n) fail("only `int $3' (the breakpoint, int3) is supported");
        return finish(mn, { op: 'int3', size: 0, operands: [], lock }, warnings, []);
      }
      count(0);
      break;
    }
    case 'none': {
      count(0);
      size = facts.implicitSize ?? 0;
      if (mn.suffix && mn.suffix !== 8) fail(`invalid instruction suffix for \`${name}'`);
      break;
    }
  }
  if (lock && !facts.lockable) throw new AsmError(`\`lock' prefix is not valid with \`${name}'`);
  if (lock && !ops.some(isMem)) throw new AsmError("`lock' needs a memory destination");

  const pending: PendingOperand[] = ops.map((o, k): PendingOperand => {
    switch (o.kind) {
      case 'reg': {
        const r: RegOperand = { kind: 'reg', reg: o.reg, size: o.size };
        if (o.high8) r.high8 = true;
        return r;
      }
      case 'cr':
      case 'seg':
        return o;
      case 'imm':
        return { kind: 'imm', expr: o.expr, rule: rules.get(k) ?? { kind: 'any' } };
      case 'mem': {
        const m: PendingOperand = {
          kind: 'mem',
          base: o.base,
          index: o.index,
          scale: o.scale,
          disp: o.disp,
          seg: o.seg,
        };
        if (wideMem.has(k)) m.wide = true;
        return m;
      }
    }
  });
  const shapes: LengthOperand[] = ops.map((o): LengthOperand => {
    switch (o.kind) {
      case 'reg':
        return { kind: 'reg', reg: o.reg, size: o.size, needsRex: o.needsRex, high8: o.high8 };
      case 'imm':
        return { kind: 'imm', literal: literalValue(o.expr) };
      case 'mem':
        return {
          kind: 'mem',
          base: o.base,
          index: o.index,
          seg: o.seg !== null,
          disp: o.disp === null ? null : literalValue(o.disp),
        };
      default:
        return { kind: o.kind };
    }
  });
  if (facts.operands === 'unary' || facts.operands === 'alu' || facts.operands === 'shift') {
    // high-byte registers cannot be encoded together with a REX prefix (SDM Vol. 2, 2.2.1.2)
    const high = ops.some((o) => isReg(o) && o.high8);
    const rex = shapes.some(
      (s) =>
        (s.kind === 'reg' && (s.reg >= 8 || s.needsRex)) ||
        (s.kind === 'mem' && ((typeof s.base === 'number' && s.base >= 8) || (s.index ?? 0) >= 8)),
    );
    if (high && rex)
      throw new AsmError(`can't encode a high-byte register (%ah..%bh) in an instruction that needs a REX prefix`);
  }
  return finish(mn, { op, size, srcSize, operands: pending, lock, movabs: mn.movabs }, warnings, shapes);
}

function finish(
  mn: Mnemonic,
  i: {
    op: Op;
    size: 0 | OperandSize;
    srcSize?: 1 | 2 | 4;
    operands: PendingOperand[];
    lock: boolean;
    movabs?: boolean;
  },
  warnings: string[],
  shapes: LengthOperand[],
): CheckedInstruction {
  const length = instructionLength({
    op: i.op,
    size: i.size,
    srcSize: i.srcSize,
    operands: shapes,
    movabs: i.movabs,
    lock: i.lock,
  });
  const out: CheckedInstruction = { op: i.op, size: i.size, operands: i.operands, length, warnings };
  if (i.srcSize !== undefined) out.srcSize = i.srcSize;
  if (mn.cond) out.cond = mn.cond;
  return out;
}
