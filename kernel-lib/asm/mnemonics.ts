// Mnemonic spellings -> canonical operation, size suffix and condition.
// GAS accepts an optional size suffix (b/w/l/q) on most integer instructions; a few spellings are whole
// words (movzbl, pushfq, iretq, jnbe) and are looked up first so `sbb` is not read as `sb` + `b`.
import { AsmError } from './diagnostics';
import type { Cond, Op, OperandSize } from './program';

export interface Mnemonic {
  op: Op;
  /** The spelling without suffix, as GAS names it in messages (`cmp`). */
  base: string;
  /** Size given by the suffix, if any. */
  suffix?: OperandSize;
  cond?: Cond;
  /** Source size of GAS's movz??/movs?? spellings. */
  srcSize?: 1 | 2 | 4;
  /** movabs: the 64-bit immediate / 64-bit absolute address form. */
  movabs?: boolean;
}

const SUFFIX_SIZE: Record<string, OperandSize> = { b: 1, w: 2, l: 4, q: 8 };

/** Instructions that take a b/w/l/q suffix, by base spelling. */
const SUFFIXABLE: Record<string, Op> = {
  mov: 'mov',
  movabs: 'mov',
  lea: 'lea',
  push: 'push',
  pop: 'pop',
  add: 'add',
  adc: 'adc',
  sub: 'sub',
  sbb: 'sbb',
  cmp: 'cmp',
  test: 'test',
  and: 'and',
  or: 'or',
  xor: 'xor',
  not: 'not',
  neg: 'neg',
  inc: 'inc',
  dec: 'dec',
  shl: 'shl',
  sal: 'shl',
  shr: 'shr',
  sar: 'sar',
  imul: 'imul',
  xchg: 'xchg',
  cmpxchg: 'cmpxchg',
  call: 'call',
  jmp: 'jmp',
  ret: 'ret',
  nop: 'nop',
};

/** Condition spellings (Intel SDM Vol. 2, Jcc) -> canonical condition. */
export const CONDITIONS: Record<string, Cond> = {
  o: 'o',
  no: 'no',
  b: 'b',
  c: 'b',
  nae: 'b',
  ae: 'ae',
  nb: 'ae',
  nc: 'ae',
  e: 'e',
  z: 'e',
  ne: 'ne',
  nz: 'ne',
  be: 'be',
  na: 'be',
  a: 'a',
  nbe: 'a',
  s: 's',
  ns: 'ns',
  p: 'p',
  pe: 'p',
  np: 'np',
  po: 'np',
  l: 'l',
  nge: 'l',
  ge: 'ge',
  nl: 'ge',
  le: 'le',
  ng: 'le',
  g: 'g',
  nle: 'g',
};

/** Whole-word spellings. */
const WORDS: Record<string, Omit<Mnemonic, 'base'> & { base?: string }> = {
  pushf: { op: 'pushf' },
  pushfq: { op: 'pushf', suffix: 8 },
  popf: { op: 'popf' },
  popfq: { op: 'popf', suffix: 8 },
  movzbw: { op: 'movzx', srcSize: 1, suffix: 2 },
  movzbl: { op: 'movzx', srcSize: 1, suffix: 4 },
  movzbq: { op: 'movzx', srcSize: 1, suffix: 8 },
  movzwl: { op: 'movzx', srcSize: 2, suffix: 4 },
  movzwq: { op: 'movzx', srcSize: 2, suffix: 8 },
  movsbw: { op: 'movsx', srcSize: 1, suffix: 2 },
  movsbl: { op: 'movsx', srcSize: 1, suffix: 4 },
  movsbq: { op: 'movsx', srcSize: 1, suffix: 8 },
  movswl: { op: 'movsx', srcSize: 2, suffix: 4 },
  movswq: { op: 'movsx', srcSize: 2, suffix: 8 },
  movslq: { op: 'movsx', srcSize: 4, suffix: 8 },
  movzx: { op: 'movzx' },
  movsx: { op: 'movsx' },
  movsxd: { op: 'movsx', srcSize: 4 },
  int3: { op: 'int3' },
  ud2: { op: 'ud2' },
  hlt: { op: 'hlt' },
  cli: { op: 'cli' },
  sti: { op: 'sti' },
  std: { op: 'std' },
  cld: { op: 'cld' },
  iretq: { op: 'iret', suffix: 8 },
  swapgs: { op: 'swapgs' },
  rdmsr: { op: 'rdmsr' },
  wrmsr: { op: 'wrmsr' },
  syscall: { op: 'syscall' },
  sysretq: { op: 'sysret', suffix: 8 },
  erets: { op: 'erets' },
  eretu: { op: 'eretu' },
  lidt: { op: 'lidt' },
  lidtq: { op: 'lidt', suffix: 8 },
  sidt: { op: 'sidt' },
  sidtq: { op: 'sidt', suffix: 8 },
  // `int $3` is folded to int3 by the instruction checker.
  int: { op: 'int3', base: 'int' },
};

const HINTS: Record<string, string> = {
  iret: "in 64-bit mode `iret' is the 32-bit form; use `iretq'",
  iretl: "in 64-bit mode `iretl' is the 32-bit form; use `iretq'",
  iretw: "`iretw' (16-bit) is not supported; use `iretq'",
  sysret: "`sysret' returns to 32-bit compatibility mode; use `sysretq'",
  sysretl: "`sysretl' returns to 32-bit compatibility mode; use `sysretq'",
};

const STRING_PREFIXES = new Set(['rep', 'repe', 'repz', 'repne', 'repnz']);

/** Looks up a mnemonic (case-insensitive); throws AsmError naming it if unknown. */
export function lookupMnemonic(spelling: string): Mnemonic {
  const name = spelling.toLowerCase();
  const word = WORDS[name];
  if (word) return { ...word, base: word.base ?? name };
  if (name.startsWith('j') && name.slice(1) in CONDITIONS)
    return { op: 'jcc', base: name, cond: CONDITIONS[name.slice(1)] };
  if (name in SUFFIXABLE) return { op: SUFFIXABLE[name], base: name, movabs: name === 'movabs' };
  const stem = name.slice(0, -1);
  const suffix = SUFFIX_SIZE[name.slice(-1)];
  if (suffix && stem in SUFFIXABLE) return { op: SUFFIXABLE[stem], base: stem, suffix, movabs: stem === 'movabs' };
  if (name in HINTS) throw new AsmError(HINTS[name]);
  if (STRING_PREFIXES.has(name))
    throw new AsmError(`unsupported instruction \`${name}' (string instructions and rep prefixes are not supported)`);
  throw new AsmError(`unknown instruction mnemonic \`${spelling}'`);
}
