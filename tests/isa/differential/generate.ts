// Seeded generator of differential-test cases: straight-line AT&T (GNU as) programs over the
// emulator's integer instructions, each with a statically computed set of flags that are
// architecturally defined at its end.
//
// A case is:
//   setup     scratch area, random registers (biased to edge values), random status flags
//             (and sometimes DF) through `pushq $image; popfq`
//   body      8..20 random groups: one instruction, possibly with `pre` lines such as
//             `movl $3, %esi` that load a known small index or shift count (`mov` never
//             touches flags), or a `jXX 1f; <instruction>; 1:` forward skip
//   epilogue  folds the 64-byte scratch area into %rbp (flags and %rax preserved)
// and then `hlt` (added by the callers, after a `case_N_end:` label for Unicorn).
//
// Flags: a model tracks which of CF PF AF ZF SF OF are defined after each group (rules with
// their SDM sources below); ADC/SBB and jcc are only emitted when the flags they read are
// defined, and pushfq images holding undefined flags may only be reloaded by popfq (never read
// into a register or memory operand). The comparison masks the flags undefined at the end.
// native/native_check.sh checked this model and Unicorn against a real CPU.
//
// Memory discipline: %rbp is reserved as a pointer to a 64-byte scratch area at
// [stackTop-128, stackTop-64); %rsp moves only by push/pop, stays between rbp-8*MAX_DEPTH and
// rbp. Memory operands are only disp(%rbp), disp(%rbp,%idx,s), disp(%rsp) and
// disp(%rsp,%idx,s), where %idx was set to a small constant by the line just before, so no
// address ever derives from a random register value. `lea` computes addresses from random
// registers but never accesses memory.
//
// Nothing depends on encoding lengths or absolute code addresses (no call, rip-relative or
// reads of RIP); jcc only ever skips forward over one instruction to a local label `1:`.

export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const DF = 1 << 10;
export const OF = 1 << 11;
/** The six arithmetic (status) flags whose definedness we track. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
export const FLAG_NAMES: ReadonlyArray<[string, number]> = [
  ['CF', CF],
  ['PF', PF],
  ['AF', AF],
  ['ZF', ZF],
  ['SF', SF],
  ['DF', DF],
  ['OF', OF],
];

/** Scratch area size in bytes (hashed into %rbp by the epilogue). */
export const SCRATCH = 64;
/** How far below %rbp the stack may grow, in 8-byte slots. */
const MAX_DEPTH = 6;

/** How a body group changes the stack model. */
export type StackOp = 'push' | 'push-flags' | 'pushf' | 'pop' | 'popf';

/** One generated body unit: an instruction with its `pre` lines, or a whole `jXX 1f; insn; 1:`. */
export interface Group {
  lines: string[];
  /** STATUS flags the group reads (ADC/SBB: CF; jcc: its condition); they must be defined. */
  reads: number;
  /** Flag definedness after the group, given the definedness before (ignored for popf). */
  flags: (before: number) => number;
  stackOp?: StackOp;
}

export interface DiffCase {
  id: number;
  /** Scratch area, random registers and flags. */
  setup: string[];
  body: Group[];
  /** Folds the scratch area into %rbp (flags and other registers preserved). */
  epilogue: string[];
  /** Mask of the STATUS flags that are architecturally defined at the end of the case. */
  definedFlags: number;
}

/** Assembly lines of a case, without the entry label and without the final hlt. */
export function caseLines(c: DiffCase): string[] {
  const out = [...c.setup];
  for (const g of c.body) out.push(...g.lines);
  out.push(...c.epilogue);
  return out;
}

// ---------------------------------------------------------------------------------------------
// PRNG: a small 32-bit generator (multiply/xor-shift mixing of a Weyl sequence), seeded.

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** Integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** Pick by weight from [weight, value] pairs. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of xs) total += w;
    let r = (this.u32() / 4294967296) * total;
    for (const [w, v] of xs) {
      if (r < w) return v;
      r -= w;
    }
    return xs[xs.length - 1][1];
  }
}

// ---------------------------------------------------------------------------------------------
// Values

const MASK64 = (1n << 64n) - 1n;
const EDGE_VALUES: readonly bigint[] = [
  0n,
  1n,
  MASK64,
  0x7fn,
  0x80n,
  0xffn,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x8000000000000000n,
  0x7fffffffffffffffn,
  2n,
  0x100n,
  0x10000n,
  0x100000000n,
  0xffffffffffffff80n,
  0xffffffff80000000n,
  0xfffffffffffffffen,
];

/** A 64-bit value biased toward edge cases. */
function value64(rng: Rng): bigint {
  const r = rng.int(10);
  if (r < 4) return rng.pick(EDGE_VALUES);
  if (r < 5) return rng.pick(EDGE_VALUES) ^ (1n << BigInt(rng.int(64)));
  if (r < 6) return BigInt(rng.int(256));
  return rng.u64();
}

function truncate(v: bigint, size: number): bigint {
  return v & ((1n << BigInt(size * 8)) - 1n);
}

function signed(v: bigint, size: number): bigint {
  const bits = BigInt(size * 8);
  const t = truncate(v, size);
  return t >= 1n << (bits - 1n) ? t - (1n << bits) : t;
}

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/**
 * An immediate for an operation of `size` bytes. 8/16/32-bit: any value of that width,
 * written in hex or (sometimes) as a negative decimal; 64-bit: a sign-extended imm32.
 */
function immText(rng: Rng, size: number): string {
  const v = value64(rng);
  if (size === 8) {
    const s = signed(v, 4);
    return `$${s}`;
  }
  if (rng.chance(0.25)) return `$${signed(v, size)}`;
  return `$${hex(truncate(v, size))}`;
}

// ---------------------------------------------------------------------------------------------
// Registers

const NAMES64 = [
  'rax',
  'rcx',
  'rdx',
  'rbx',
  'rsp',
  'rbp',
  'rsi',
  'rdi',
  'r8',
  'r9',
  'r10',
  'r11',
  'r12',
  'r13',
  'r14',
  'r15',
];
const NAMES32 = [
  'eax',
  'ecx',
  'edx',
  'ebx',
  'esp',
  'ebp',
  'esi',
  'edi',
  'r8d',
  'r9d',
  'r10d',
  'r11d',
  'r12d',
  'r13d',
  'r14d',
  'r15d',
];
const NAMES16 = [
  'ax',
  'cx',
  'dx',
  'bx',
  'sp',
  'bp',
  'si',
  'di',
  'r8w',
  'r9w',
  'r10w',
  'r11w',
  'r12w',
  'r13w',
  'r14w',
  'r15w',
];
const NAMES8 = [
  'al',
  'cl',
  'dl',
  'bl',
  'spl',
  'bpl',
  'sil',
  'dil',
  'r8b',
  'r9b',
  'r10b',
  'r11b',
  'r12b',
  'r13b',
  'r14b',
  'r15b',
];
const HIGH8 = ['ah', 'ch', 'dh', 'bh'];
const RSP = 4;
const RBP = 5;
/** Registers the body may write: all but %rsp and %rbp. */
const WRITABLE = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const SUFFIX: Record<number, string> = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' };

function regName(reg: number, size: number, high8 = false): string {
  if (high8) return '%' + HIGH8[reg];
  const table = size === 8 ? NAMES64 : size === 4 ? NAMES32 : size === 2 ? NAMES16 : NAMES8;
  return '%' + table[reg];
}

/** An operand as text plus what the REX-prefix constraint needs to know about it. */
interface Opnd {
  text: string;
  kind: 'reg' | 'mem' | 'imm';
  reg?: number;
  size: number;
  /** Uses %ah/%ch/%dh/%bh (cannot be encoded together with any REX prefix). */
  high8: boolean;
  /** Forces a REX prefix: %r8..%r15 (as register, base or index), %spl/%bpl/%sil/%dil. */
  rex: boolean;
}

function regOpnd(reg: number, size: number, high8 = false): Opnd {
  return {
    text: regName(reg, size, high8),
    kind: 'reg',
    reg,
    size,
    high8,
    rex: !high8 && (reg >= 8 || (size === 1 && reg >= 4)),
  };
}

/**
 * x86-64 encoding rule: %ah/%bh/%ch/%dh cannot appear in an instruction that has a REX prefix
 * (REX.W for 64-bit operand size, or any extended/uniform-byte register). GNU as rejects such
 * combinations, so the generator never produces them.
 */
function rexConflict(ops: Opnd[], size64: boolean): boolean {
  const hasHigh = ops.some((o) => o.high8);
  if (!hasHigh) return false;
  return size64 || ops.some((o) => o.rex);
}

// ---------------------------------------------------------------------------------------------
// Generator state along the straight-line body

type Slot = { kind: 'value' } | { kind: 'flags'; mask: number };

export interface State {
  /** Mask of STATUS flags currently defined. */
  defined: number;
  /** Pushed 8-byte slots; slots[i] lives at rbp - 8*(i+1). */
  slots: Slot[];
}

/** One generated instruction (`pre` lines run first and never change flags or the stack). */
interface Item {
  pre: string[];
  insn: string;
  /** Flag definedness after the instruction, given the definedness before. */
  flags: (before: number) => number;
  reads?: number;
  /** Changes the stack model (push/pop); such items are never skipped by a jcc. */
  stackOp?: StackOp;
}

/**
 * Apply a group to the model (flag definedness and stack slots). Returns false when the group
 * is not valid in that state (reads an undefined flag, pops a slot it may not pop).
 * Used both while generating and to re-check shortened cases when minimizing a failure.
 */
export function applyGroup(st: State, g: Group): boolean {
  if ((st.defined & g.reads) !== g.reads) return false;
  switch (g.stackOp) {
    case 'push':
      st.slots.push({ kind: 'value' });
      break;
    case 'push-flags':
      st.slots.push({ kind: 'flags', mask: STATUS });
      break;
    case 'pushf':
      st.slots.push({ kind: 'flags', mask: st.defined });
      break;
    case 'pop': {
      // to a register or memory: the popped bytes must be fully defined
      const top = st.slots.pop();
      if (!top || (top.kind === 'flags' && top.mask !== STATUS)) return false;
      break;
    }
    case 'popf': {
      // POPF (SDM Vol. 2B "POPF/POPFD/POPFQ"): loads the status flags from the stack image
      const top = st.slots.pop();
      if (!top || top.kind !== 'flags') return false;
      st.defined = top.mask;
      return true;
    }
    default:
      break;
  }
  st.defined = g.flags(st.defined) & STATUS;
  return true;
}

/** Re-derive the defined-flags mask of a (possibly shortened) body; null if it is invalid. */
export function replayDefined(body: Group[]): number | null {
  const st: State = { defined: STATUS, slots: [] };
  for (const g of body) if (!applyGroup(st, g)) return null;
  return st.defined;
}

// Flag rules (Intel SDM Vol. 2, instruction reference, "Flags Affected" of each page):
//  ADD/ADC/SUB/SBB/CMP/NEG/CMPXCHG: OF, SF, ZF, AF, CF and PF set according to the result.
const ALL_DEFINED = () => STATUS;
//  AND/OR/XOR/TEST: OF and CF cleared; SF, ZF, PF set by the result; "The state of the AF flag
//  is undefined."
const LOGIC_DEFINED = () => STATUS & ~AF;
//  INC/DEC: "The CF flag is not affected. The OF, SF, ZF, AF, and PF flags are set according to
//  the result."
const INCDEC_DEFINED = (b: number) => (STATUS & ~CF) | (b & CF);
//  IMUL: "For the one operand form ... CF and OF ... The SF, ZF, AF, and PF flags are
//  undefined." (same sentence covers the two- and three-operand forms.)
const IMUL_DEFINED = (b: number) => (b & 0) | CF | OF;
//  MOV, MOVZX, MOVSX(D), LEA, XCHG, NOT, PUSH, POP (to a GPR or memory), PUSHF, STD, CLD:
//  "None" (STD/CLD change only DF, which is always compared).
const UNCHANGED = (b: number) => b;

/**
 * SAL/SAR/SHL/SHR (SDM Vol. 2B, "SAL/SAR/SHL/SHR—Shift", Flags Affected and Operation):
 *  - the count is masked to 5 bits (6 bits with REX.W, i.e. 64-bit operands);
 *  - masked count 0: no flags are affected;
 *  - otherwise: SF, ZF, PF set by the result; "For a non-zero count, the AF flag is undefined";
 *  - "The OF flag is affected only on 1-bit shifts. For left shifts ... For the SAR instruction,
 *     the OF flag is cleared ... For the SHR instruction, the OF flag is set to the most-
 *     significant bit of the original operand." => OF undefined for counts other than 1;
 *  - "The CF flag contains the value of the last bit shifted out of the destination operand; it
 *     is undefined for SHL and SHR instructions where the count is greater than or equal to the
 *     size (in bits) of the destination operand." (only reachable for 8/16-bit operands; SAR's CF
 *     is not called undefined there: it is the sign bit.)
 * `count` null = not known statically (random %cl): intersect over all possible counts.
 */
export function shiftFlags(op: string, size: number, count: number | null): (b: number) => number {
  const bits = size * 8;
  const isSar = op === 'sar';
  if (count === null) {
    const cfAlways = bits >= 32 || isSar;
    return (b) => b & (SF | ZF | PF | (cfAlways ? CF : 0));
  }
  const c = count & (size === 8 ? 63 : 31);
  if (c === 0) return UNCHANGED;
  let m = SF | ZF | PF;
  if (isSar || c < bits) m |= CF;
  if (c === 1) m |= OF;
  return () => m;
}

/** Flags each jcc condition reads (SDM Vol. 2A "Jcc—Jump if Condition Is Met"). */
const CONDITIONS: ReadonlyArray<[string[], number]> = [
  [['jo'], OF],
  [['jno'], OF],
  [['jb', 'jc', 'jnae'], CF],
  [['jae', 'jnb', 'jnc'], CF],
  [['je', 'jz'], ZF],
  [['jne', 'jnz'], ZF],
  [['jbe', 'jna'], CF | ZF],
  [['ja', 'jnbe'], CF | ZF],
  [['js'], SF],
  [['jns'], SF],
  [['jp', 'jpe'], PF],
  [['jnp', 'jpo'], PF],
  [['jl', 'jnge'], SF | OF],
  [['jge', 'jnl'], SF | OF],
  [['jle', 'jng'], ZF | SF | OF],
  [['jg', 'jnle'], ZF | SF | OF],
];

const SIZES = [1, 2, 4, 8];

class CaseGen {
  constructor(
    private rng: Rng,
    private st: State,
    private imageExtra: number,
  ) {}

  private size(): number {
    return this.rng.pick(SIZES);
  }

  /** A register for writing (never %rsp/%rbp); 8-bit may be a high-byte register. */
  private dstReg(size: number, allowHigh = true): Opnd {
    if (size === 1 && allowHigh && this.rng.chance(0.2)) return regOpnd(this.rng.int(4), 1, true);
    return regOpnd(this.rng.pick(WRITABLE), size);
  }

  /** A register for reading: any, including %rsp/%rbp (their values are deterministic). */
  private srcReg(size: number, allowHigh = true): Opnd {
    if (size === 1 && allowHigh && this.rng.chance(0.2)) return regOpnd(this.rng.int(4), 1, true);
    const reg = this.rng.chance(0.06) ? this.rng.pick([RSP, RBP]) : this.rng.pick(WRITABLE);
    return regOpnd(reg, size);
  }

  /**
   * A memory operand of `size` bytes in the scratch area or the live stack, with its `pre`
   * lines. Addresses are relative to %rbp: scratch [0, SCRATCH), stack slots below 0.
   * `noRex`: only index registers that need no REX (for instructions with a high-byte reg).
   * `avoidIdx`: registers that must not be used as index (the instruction's pre uses them).
   */
  private mem(size: number, noRex: boolean, avoidIdx: number[] = []): { op: Opnd; pre: string[] } {
    const depth = this.st.slots.length;
    // Lowest address (relative to rbp) we may touch: the top of the live stack, but not into
    // a flags image (pushfq or pushq $flags): a pushfq image may hold undefined flags that must
    // not reach a register, and a later popfq must not load random bits (e.g. TF) written there.
    let low = -8 * depth;
    for (let i = 0; i < depth; i++) {
      const s = this.st.slots[i];
      if (s.kind === 'flags') {
        low = -8 * i;
        break;
      }
    }
    const a = this.rng.range(Math.min(low, 0), SCRATCH - size);
    // Base: %rbp, or %rsp (then disp is relative to the current rsp = rbp - 8*depth).
    const useRsp = this.rng.chance(0.35);
    const baseName = useRsp ? '%rsp' : '%rbp';
    const baseOff = useRsp ? -8 * depth : 0;
    const pre: string[] = [];
    let rex = false;
    let text: string;
    if (this.rng.chance(0.4)) {
      const candidates = WRITABLE.filter((r) => !avoidIdx.includes(r) && !(noRex && r >= 8));
      const idx = this.rng.pick(candidates);
      const scale = this.rng.pick([1, 2, 4, 8]);
      const k = this.rng.int(8);
      pre.push(`movl $${k}, ${regName(idx, 4)}`);
      const disp = a - baseOff - k * scale;
      rex = idx >= 8;
      text = `${disp === 0 && this.rng.chance(0.5) ? '' : disp}(${baseName},${regName(idx, 8)},${scale})`;
    } else {
      const disp = a - baseOff;
      text = `${disp === 0 && this.rng.chance(0.5) ? '' : disp}(${baseName})`;
    }
    return { op: { text, kind: 'mem', size, high8: false, rex }, pre };
  }

  /** Suffix for the mnemonic; sometimes omitted when a register operand implies the size. */
  private sfx(size: number, ops: Opnd[]): string {
    if (ops.some((o) => o.kind === 'reg') && this.rng.chance(0.12)) return '';
    return SUFFIX[size];
  }

  // ---- instruction families. Each returns an Item, or null to retry.

  private mov(): Item | null {
    const size = this.size();
    const form = this.rng.int(6);
    const dst = form < 3 ? this.dstReg(size) : null;
    if (form === 0 && dst) {
      const src = this.srcReg(size);
      if (rexConflict([src, dst], size === 8)) return null;
      return { pre: [], insn: `mov${this.sfx(size, [src, dst])} ${src.text}, ${dst.text}`, flags: UNCHANGED };
    }
    if (form === 1 && dst) {
      if (size === 8 && this.rng.chance(0.5)) {
        return { pre: [], insn: `movabsq $${hex(value64(this.rng))}, ${dst.text}`, flags: UNCHANGED };
      }
      return { pre: [], insn: `mov${this.sfx(size, [dst])} ${immText(this.rng, size)}, ${dst.text}`, flags: UNCHANGED };
    }
    if (form === 2 && dst) {
      const m = this.mem(size, dst.high8);
      if (rexConflict([m.op, dst], size === 8)) return null;
      return { pre: m.pre, insn: `mov${this.sfx(size, [dst])} ${m.op.text}, ${dst.text}`, flags: UNCHANGED };
    }
    if (form === 3 || form === 4) {
      const src = this.srcReg(size);
      const m = this.mem(size, src.high8);
      if (rexConflict([m.op, src], size === 8)) return null;
      return { pre: m.pre, insn: `mov${this.sfx(size, [src])} ${src.text}, ${m.op.text}`, flags: UNCHANGED };
    }
    const m = this.mem(size, false);
    return { pre: m.pre, insn: `mov${SUFFIX[size]} ${immText(this.rng, size)}, ${m.op.text}`, flags: UNCHANGED };
  }

  private movx(): Item | null {
    const [mn, s, d] = this.rng.pick<[string, number, number]>([
      ['movzbw', 1, 2],
      ['movzbl', 1, 4],
      ['movzbq', 1, 8],
      ['movzwl', 2, 4],
      ['movzwq', 2, 8],
      ['movsbw', 1, 2],
      ['movsbl', 1, 4],
      ['movsbq', 1, 8],
      ['movswl', 2, 4],
      ['movswq', 2, 8],
      ['movslq', 4, 8],
    ]);
    const dst = this.dstReg(d);
    if (this.rng.chance(0.6)) {
      const src = this.srcReg(s);
      if (rexConflict([src, dst], d === 8)) return null;
      return { pre: [], insn: `${mn} ${src.text}, ${dst.text}`, flags: UNCHANGED };
    }
    const m = this.mem(s, false);
    if (rexConflict([m.op, dst], d === 8)) return null;
    return { pre: m.pre, insn: `${mn} ${m.op.text}, ${dst.text}`, flags: UNCHANGED };
  }

  private lea(): Item | null {
    const size = this.rng.pick([2, 4, 8, 8]);
    const dst = this.dstReg(size);
    const disp = this.rng.chance(0.3) ? 0n : signed(value64(this.rng), 4);
    const base = this.rng.chance(0.85) ? this.rng.int(16) : null;
    const idxChoices = [...Array(16).keys()].filter((r) => r !== RSP); // %rsp cannot be an index
    const index = this.rng.chance(0.6) || base === null ? this.rng.pick(idxChoices) : null;
    const scale = this.rng.pick([1, 2, 4, 8]);
    const dispText = disp === 0n && base !== null && this.rng.chance(0.7) ? '' : `${disp}`;
    let addr: string;
    if (index === null) addr = `${dispText}(${regName(base as number, 8)})`;
    else addr = `${dispText}(${base === null ? '' : regName(base, 8)},${regName(index, 8)},${scale})`;
    return { pre: [], insn: `lea${this.sfx(size, [dst])} ${addr}, ${dst.text}`, flags: UNCHANGED };
  }

  private alu(): Item | null {
    const op = this.rng.pick(['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test']);
    // ADC/SBB read CF: only when CF is defined (otherwise the result would be undefined too).
    if ((op === 'adc' || op === 'sbb') && !(this.st.defined & CF)) return null;
    const reads = op === 'adc' || op === 'sbb' ? CF : 0;
    const size = this.size();
    const flags = op === 'and' || op === 'or' || op === 'xor' || op === 'test' ? LOGIC_DEFINED : ALL_DEFINED;
    const form = this.rng.int(5);
    if (form === 0) {
      const src = this.srcReg(size);
      const dst = op === 'cmp' || op === 'test' ? this.srcReg(size) : this.dstReg(size);
      if (rexConflict([src, dst], size === 8)) return null;
      return { pre: [], insn: `${op}${this.sfx(size, [src, dst])} ${src.text}, ${dst.text}`, flags, reads };
    }
    if (form === 1) {
      const dst = op === 'cmp' || op === 'test' ? this.srcReg(size) : this.dstReg(size);
      return { pre: [], insn: `${op}${this.sfx(size, [dst])} ${immText(this.rng, size)}, ${dst.text}`, flags, reads };
    }
    if (form === 2) {
      // memory source, register destination (TEST has no such form in GAS order; use reg, mem)
      const dst = op === 'cmp' || op === 'test' ? this.srcReg(size) : this.dstReg(size);
      const m = this.mem(size, dst.high8);
      if (rexConflict([m.op, dst], size === 8)) return null;
      const text = op === 'test' ? `${dst.text}, ${m.op.text}` : `${m.op.text}, ${dst.text}`;
      return { pre: m.pre, insn: `${op}${this.sfx(size, [dst])} ${text}`, flags, reads };
    }
    if (form === 3) {
      const src = this.srcReg(size);
      const m = this.mem(size, src.high8);
      if (rexConflict([m.op, src], size === 8)) return null;
      return { pre: m.pre, insn: `${op}${this.sfx(size, [src])} ${src.text}, ${m.op.text}`, flags, reads };
    }
    const m = this.mem(size, false);
    return { pre: m.pre, insn: `${op}${SUFFIX[size]} ${immText(this.rng, size)}, ${m.op.text}`, flags, reads };
  }

  private unary(): Item | null {
    const op = this.rng.pick(['not', 'neg', 'inc', 'dec']);
    const size = this.size();
    const flags = op === 'not' ? UNCHANGED : op === 'neg' ? ALL_DEFINED : INCDEC_DEFINED;
    if (this.rng.chance(0.6)) {
      const dst = this.dstReg(size);
      return { pre: [], insn: `${op}${this.sfx(size, [dst])} ${dst.text}`, flags };
    }
    const m = this.mem(size, false);
    return { pre: m.pre, insn: `${op}${SUFFIX[size]} ${m.op.text}`, flags };
  }

  private shift(): Item | null {
    const spelled = this.rng.pick(['shl', 'sal', 'shr', 'sar']);
    const op = spelled === 'sal' ? 'shl' : spelled;
    const size = this.size();
    const bits = size * 8;
    const counts = [0, 1, 2, 3, bits - 1, bits, bits + 1, 31, 32, 33, 63, 64, 65, 127, 128, 255];
    const form = this.rng.int(5); // 0: implicit 1, 1: $1, 2: $imm, 3: %cl known, 4: %cl random
    const pre: string[] = [];
    let countText: string;
    let count: number | null;
    if (form === 0) {
      countText = '';
      count = 1;
    } else if (form === 1) {
      countText = '$1, ';
      count = 1;
    } else if (form === 2) {
      count = this.rng.chance(0.8) ? this.rng.pick(counts) : this.rng.int(256);
      countText = `$${count}, `;
    } else {
      countText = '%cl, ';
      if (form === 3) {
        count = this.rng.chance(0.8) ? this.rng.pick(counts) : this.rng.int(256);
        pre.push(`movb $${count}, %cl`);
      } else count = null;
    }
    const flags = shiftFlags(op, size, count);
    const avoid = form >= 3 ? [1] : [];
    if (this.rng.chance(0.65)) {
      const dst = this.dstReg(size);
      return { pre, insn: `${spelled}${this.sfx(size, [dst])} ${countText}${dst.text}`, flags };
    }
    const m = this.mem(size, false, avoid);
    return { pre: [...pre, ...m.pre], insn: `${spelled}${SUFFIX[size]} ${countText}${m.op.text}`, flags };
  }

  private imul(): Item | null {
    const size = this.rng.pick([2, 4, 8]);
    const dst = this.dstReg(size);
    const form = this.rng.int(5); // 0,1: 2-operand reg/mem; 2,3: 3-operand reg/mem; 4: `imul $imm, %reg`
    if (form === 4) {
      return {
        pre: [],
        insn: `imul${this.sfx(size, [dst])} ${immText(this.rng, size)}, ${dst.text}`,
        flags: IMUL_DEFINED,
      };
    }
    let src: Opnd;
    let pre: string[] = [];
    if (form % 2 === 0) src = this.srcReg(size);
    else {
      const m = this.mem(size, false);
      src = m.op;
      pre = m.pre;
    }
    const imm = form >= 2 ? `${immText(this.rng, size)}, ` : '';
    return { pre, insn: `imul${this.sfx(size, [dst])} ${imm}${src.text}, ${dst.text}`, flags: IMUL_DEFINED };
  }

  private xchg(): Item | null {
    const size = this.size();
    const a = this.dstReg(size);
    if (this.rng.chance(0.5)) {
      const b = this.dstReg(size);
      if (rexConflict([a, b], size === 8)) return null;
      return { pre: [], insn: `xchg${this.sfx(size, [a, b])} ${a.text}, ${b.text}`, flags: UNCHANGED };
    }
    const m = this.mem(size, a.high8);
    if (rexConflict([m.op, a], size === 8)) return null;
    const text = this.rng.chance(0.5) ? `${a.text}, ${m.op.text}` : `${m.op.text}, ${a.text}`;
    return { pre: m.pre, insn: `xchg${this.sfx(size, [a])} ${text}`, flags: UNCHANGED };
  }

  /**
   * CMPXCHG (SDM Vol. 2A): compares AL/AX/EAX/RAX with the destination; equal: ZF=1, DEST=SRC;
   * else ZF=0, accumulator=DEST. Flags as CMP.
   * For 32-bit operands the reference (Unicorn 2.0.1 = QEMU 5.0 TCG) zero-extends RAX even on
   * success and zero-extends a register destination even on failure, which real CPUs do not
   * (there the untouched register keeps its upper half). So 32-bit cases first clear the upper
   * halves of RAX and of a register destination (`movl %eax, %eax`), making both readings agree.
   */
  private cmpxchg(): Item | null {
    const size = this.size();
    const acc = regOpnd(0, size);
    const src = this.srcReg(size);
    const pre: string[] = [];
    let dst: Opnd;
    if (this.rng.chance(0.5)) {
      dst = this.dstReg(size);
      if (rexConflict([src, dst], size === 8)) return null;
    } else {
      const m = this.mem(size, src.high8, [0]);
      if (rexConflict([m.op, src], size === 8)) return null;
      dst = m.op;
      pre.push(...m.pre);
    }
    if (size === 4) {
      pre.unshift('movl %eax, %eax');
      if (dst.kind === 'reg') pre.push(`movl ${dst.text}, ${dst.text}`);
    }
    // Make the equal case likely: load the accumulator from the destination first.
    if (this.rng.chance(0.45)) {
      pre.push(`mov${SUFFIX[size]} ${dst.text}, ${acc.text}`);
    }
    return { pre, insn: `cmpxchg${this.sfx(size, [src])} ${src.text}, ${dst.text}`, flags: ALL_DEFINED };
  }

  private dirflag(): Item | null {
    return { pre: [], insn: this.rng.pick(['std', 'cld']), flags: UNCHANGED };
  }

  private pushPop(): Item | null {
    const slots = this.st.slots;
    const depth = slots.length;
    const top = depth > 0 ? slots[depth - 1] : null;
    const canPush = depth < MAX_DEPTH;
    const topReadable = top !== null && (top.kind === 'value' || top.mask === STATUS);
    const choices: Array<[number, string]> = [];
    if (canPush) choices.push([3, 'push-reg'], [1, 'push-imm'], [2, 'push-mem'], [2, 'pushf']);
    if (topReadable) choices.push([4, 'pop-reg'], [2, 'pop-mem']);
    if (top !== null && top.kind === 'flags') choices.push([4, 'popf']);
    if (choices.length === 0) return null;
    const what = this.rng.weighted(choices);
    switch (what) {
      case 'push-reg': {
        // `pushq %rsp` pushes the value RSP had before the push.
        const r = this.srcReg(8);
        return { pre: [], insn: `push${this.sfx(8, [r])} ${r.text}`, flags: UNCHANGED, stackOp: 'push' };
      }
      case 'push-imm':
        if (this.rng.chance(0.5)) {
          // A flags image a later popfq may load: only status flags and DF (+ reserved bit 1).
          const img = (this.rng.u32() & (STATUS | DF)) | 2 | this.imageExtra;
          return { pre: [], insn: `pushq $${hex(BigInt(img))}`, flags: UNCHANGED, stackOp: 'push-flags' };
        }
        return { pre: [], insn: `pushq ${immText(this.rng, 8)}`, flags: UNCHANGED, stackOp: 'push' };
      case 'push-mem': {
        // PUSH r/m64 reads its operand before RSP is decremented (SDM "PUSH": the address is
        // computed with the old RSP).
        const m = this.mem(8, false);
        return { pre: m.pre, insn: `pushq ${m.op.text}`, flags: UNCHANGED, stackOp: 'push' };
      }
      case 'pushf':
        return { pre: [], insn: this.rng.pick(['pushfq', 'pushf']), flags: UNCHANGED, stackOp: 'pushf' };
      case 'pop-reg': {
        const r = this.dstReg(8);
        return { pre: [], insn: `pop${this.sfx(8, [r])} ${r.text}`, flags: UNCHANGED, stackOp: 'pop' };
      }
      case 'pop-mem': {
        // SDM "POP": "If the ESP register is used as a base register for addressing a destination
        // operand in memory, the POP instruction computes the effective address of the operand
        // after it increments the ESP register." Model the pop first, then pick the address.
        const saved = slots.pop() as Slot;
        const m = this.mem(8, false);
        slots.push(saved);
        return { pre: m.pre, insn: `popq ${m.op.text}`, flags: UNCHANGED, stackOp: 'pop' };
      }
      case 'popf':
        return { pre: [], insn: this.rng.pick(['popfq', 'popf']), flags: UNCHANGED, stackOp: 'popf' };
    }
    return null;
  }

  /** `jXX 1f; <insn>; 1:` — a forward skip over one flag-/register-level instruction. */
  private jcc(): Item[] | null {
    const usable = CONDITIONS.filter(([, reads]) => (this.st.defined & reads) === reads);
    if (usable.length === 0) return null;
    const [spellings, reads] = this.rng.pick(usable);
    const mnemonic = this.rng.pick(spellings);
    const inner = this.simple();
    if (!inner) return null;
    // Conservative join: a flag is defined after the skip only if it is defined on both paths.
    const joined = (b: number) => b & inner.flags(b);
    return [
      { pre: inner.pre, insn: `${mnemonic} 1f`, flags: UNCHANGED, reads },
      { pre: [], insn: inner.insn, flags: UNCHANGED, reads: inner.reads ?? 0 },
      { pre: [], insn: '1:', flags: joined },
    ];
  }

  /** A random non-stack instruction (also used inside jcc skips). */
  private simple(): Item | null {
    for (let tries = 0; tries < 20; tries++) {
      const kind = this.rng.weighted<() => Item | null>([
        [5, () => this.mov()],
        [2, () => this.movx()],
        [2, () => this.lea()],
        [9, () => this.alu()],
        [3, () => this.unary()],
        [5, () => this.shift()],
        [2, () => this.imul()],
        [2, () => this.xchg()],
        [2, () => this.cmpxchg()],
        [0.5, () => this.dirflag()],
      ]);
      const item = kind();
      if (item) return item;
    }
    return null;
  }

  /** Next body item(s). */
  next(): Item[] {
    for (let tries = 0; tries < 50; tries++) {
      const r = this.rng.int(100);
      if (r < 12) {
        const it = this.jcc();
        if (it) return it;
      } else if (r < 26) {
        const it = this.pushPop();
        if (it) return [it];
      } else {
        const it = this.simple();
        if (it) return [it];
      }
    }
    return [{ pre: [], insn: 'cld', flags: UNCHANGED }];
  }
}

/** Generate one case. */
export interface GenOptions {
  /**
   * Extra RFLAGS bits in every flags image loaded by popfq (default 0). The native hardware
   * cross-check (native/) passes IF (0x200): user-mode POPF cannot clear IF, kernel mode can.
   */
  imageExtra?: number;
}

export function generateCase(rng: Rng, id: number, opts: GenOptions = {}): DiffCase {
  const extra = opts.imageExtra ?? 0;
  const setup: string[] = [];
  // Setup: scratch area at [rsp-128, rsp-64) addressed by %rbp; the stack grows below it.
  // Registers get random values; each scratch qword is a copy of a random register's initial
  // value (kept short: the emulator's assembler time per line dominates the test's run time).
  setup.push('leaq -128(%rsp), %rsp', 'movq %rsp, %rbp');
  for (const r of WRITABLE) setup.push(`movabsq $${hex(value64(rng))}, %${NAMES64[r]}`);
  for (let k = 0; k < SCRATCH / 8; k++) setup.push(`movq %${NAMES64[rng.pick(WRITABLE)]}, ${k * 8}(%rbp)`);
  let img = rng.u32() & STATUS;
  if (rng.chance(0.2)) img |= DF;
  setup.push(`pushq $${hex(BigInt(img | 2 | extra))}`, 'popfq');

  const st: State = { defined: STATUS, slots: [] };
  const gen = new CaseGen(rng, st, extra);
  const n = rng.range(8, 20);
  const body: Group[] = [];
  while (body.length < n) {
    const items = gen.next();
    const lines: string[] = [];
    let reads = 0;
    for (const it of items) {
      lines.push(...it.pre, it.insn);
      reads |= it.reads ?? 0;
    }
    const fns = items.map((it) => it.flags);
    const group: Group = {
      lines,
      reads,
      flags: (b) => fns.reduce((acc, f) => f(acc) & STATUS, b),
      stackOp: items.find((it) => it.stackOp)?.stackOp,
    };
    if (!applyGroup(st, group)) throw new Error(`generator bug: invalid group ${lines.join('; ')}`);
    body.push(group);
  }

  // Epilogue: fold the scratch area into %rbp without disturbing the compared state
  // (flags and %rax are saved on the stack and restored; the fold happens below the live stack).
  // Alternating add/xor: any single wrong byte in the scratch area changes the result.
  const epilogue = ['pushfq', 'pushq %rax', 'movq 0(%rbp), %rax'];
  for (let k = 1; k < SCRATCH / 8; k++) epilogue.push(`${k % 2 ? 'addq' : 'xorq'} ${k * 8}(%rbp), %rax`);
  epilogue.push('movq %rax, %rbp', 'popq %rax', 'popfq');
  return { id, setup, body, epilogue, definedFlags: st.defined };
}

export function generateCases(seed: number, count: number, opts: GenOptions = {}): DiffCase[] {
  const rng = new Rng(seed);
  const out: DiffCase[] = [];
  for (let i = 0; i < count; i++) out.push(generateCase(rng, i, opts));
  return out;
}

/** The case as a stand-alone program for the emulator (entry `_start`). */
export function caseSource(c: DiffCase): string {
  return ['\t.text', '_start:', ...caseLines(c).map(indent), '\thlt', ''].join('\n');
}

/** All cases in one file for the reference: `case_N:` ... `case_N_end:` `hlt`. */
export function batchSource(cases: DiffCase[]): string {
  const out: string[] = ['\t.section .note.GNU-stack,"",@progbits', '\t.text'];
  for (const c of cases) {
    out.push(`case_${c.id}:`, ...caseLines(c).map(indent), `case_${c.id}_end:`, '\thlt');
  }
  out.push('');
  return out.join('\n');
}

function indent(l: string): string {
  return l.endsWith(':') ? l : '\t' + l;
}
