// Invariant 6: no privilege confusion. Checked at every boundary (the quick path asks for a full
// look only when CPL is 0 at a lower-half address, which user programs control).
import type { Invariant } from '../invariant';

export const privilege: Invariant = {
  id: 'privilege',
  number: 6,
  title: 'No privilege confusion',
  rule:
    'The CPU never executes at a user-space address (the lower canonical half, which user programs control) ' +
    'with CPL 0, for example after an IRET to a user RIP with the kernel CS.',
  checks: () => ({
    needsLook: (cpu) => cpu.cpl === 0 && cpu.cur.hi >= 0,
    atBoundary(judge, cpu) {
      if (cpu.cpl !== 0 || cpu.cur.hi < 0 || judge.inRoot) return;
      judge.violation('privilege', () => `executing ${judge.where(cpu.rip)} (a user address) with CPL 0`);
    },
  }),
};
