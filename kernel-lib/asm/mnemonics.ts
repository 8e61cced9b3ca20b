// Mnemonic spellings -> canonical operation, size suffix and condition.
// GAS accepts an optional size suffix (b/w/l/q) on most integer instructions; a few spellings are whole
// words (movzbl, pushfq, iretq, jnbe) and are looked up first so `sbb` is not read as `sb` + `b`.
import { AsmError } from './diagnostics';
import type { Cond, Op, OperandSize } from './program';
import { INSTRUCTION_SET, InstructionFacts } from './instruction-set';

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

/** Spellings that take a b/w/l/q suffix, and whole-word spellings, from the instruction set. */
// No prototype: a spelling like `constructor` must not find Object's.
const SUFFIXABLE: Record<string, Op> = Object.create(null);
const WORDS: Record<string, Omit<Mnemonic, 'base'> & { base?: string }> = Object.create(null);
/** The operation spelled `j` + a condition. */
let conditionalJump: Op = 'jcc';
for (const [op, facts] of Object.entries(INSTRUCTION_SET) as [Op, InstructionFacts][]) {
  if (facts.conditional) conditionalJump = op;
  for (const base of facts.suffixed ?? []) SUFFIXABLE[base] = op;
  for (const [word, w] of Object.entries(facts.words ?? {})) WORDS[word] = { op, ...w };
}

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
    return { op: conditionalJump, base: name, cond: CONDITIONS[name.slice(1)] };
  if (name in SUFFIXABLE) return { op: SUFFIXABLE[name], base: name, movabs: name === 'movabs' };
  const stem = name.slice(0, -1);
  const suffix = SUFFIX_SIZE[name.slice(-1)];
  if (suffix && stem in SUFFIXABLE) return { op: SUFFIXABLE[stem], base: stem, suffix, movabs: stem === 'movabs' };
  if (name in HINTS) throw new AsmError(HINTS[name]);
  if (STRING_PREFIXES.has(name))
    throw new AsmError(`unsupported instruction \`${name}' (string instructions and rep prefixes are not supported)`);
  throw new AsmError(`unknown instruction mnemonic \`${spelling}'`);
}
