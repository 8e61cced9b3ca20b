// Register names as GAS spells them (without the `%`), mapped to encoding number and width.
import type { CrOperand, OperandSize, SegOperand } from './program';

export interface GprName {
  reg: number;
  size: OperandSize;
  high8?: boolean;
  /** spl/bpl/sil/dil and r8b..r15b need a REX prefix to be named at all. */
  needsRex?: boolean;
}

const LEGACY = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

function buildGprs(): Map<string, GprName> {
  const m = new Map<string, GprName>();
  LEGACY.forEach((n, reg) => {
    m.set('r' + n, { reg, size: 8 });
    m.set('e' + n, { reg, size: 4 });
    m.set(n, { reg, size: 2 });
  });
  ['al', 'cl', 'dl', 'bl'].forEach((n, reg) => m.set(n, { reg, size: 1 }));
  ['spl', 'bpl', 'sil', 'dil'].forEach((n, k) => m.set(n, { reg: k + 4, size: 1, needsRex: true }));
  ['ah', 'ch', 'dh', 'bh'].forEach((n, reg) => m.set(n, { reg, size: 1, high8: true }));
  for (let reg = 8; reg < 16; reg++) {
    m.set(`r${reg}`, { reg, size: 8 });
    m.set(`r${reg}d`, { reg, size: 4 });
    m.set(`r${reg}w`, { reg, size: 2 });
    m.set(`r${reg}b`, { reg, size: 1 });
    m.set(`r${reg}l`, { reg, size: 1 }); // Intel's spelling, also accepted by GAS
  }
  return m;
}

export const GPRS: ReadonlyMap<string, GprName> = buildGprs();

export const CONTROL_REGS: ReadonlyMap<string, CrOperand['cr']> = new Map([
  ['cr0', 0],
  ['cr2', 2],
  ['cr3', 3],
  ['cr4', 4],
] as Array<[string, CrOperand['cr']]>);

export const SEGMENT_REGS: ReadonlySet<SegOperand['seg']> = new Set([
  'es',
  'cs',
  'ss',
  'ds',
  'fs',
  'gs',
] as SegOperand['seg'][]);
