// Invariant 1: no NMI lost. The monitor (monitor.ts) remembers the NMI delivered last while no run
// of do_nmi has begun since (the explorer clears it when the guest's nmi_runs counter moves on); an
// episode that ends with one still waiting has lost it.
import type { Invariant } from '../invariant';

export const lostNmi: Invariant = {
  id: 'lost-nmi',
  number: 1,
  title: 'No NMI lost',
  rule:
    'Every NMI the CPU accepts (delivers through the IDT, at once or later from its one-deep latch) is followed by a ' +
    'run of the handler body (do_nmi) that begins after that delivery, by the time the interrupted code is running ' +
    'again with NMIs unblocked and nothing latched. NMIs that arrive while one is already latched are merged by the ' +
    'hardware itself; the explorer never counts them (it does not even schedule them: they change nothing). One ' +
    'do_nmi run serves every NMI delivered before it began, as the latch does in hardware.',
  checks: () => ({
    atEpisodeEnd(judge) {
      if (judge.monitor.unservedRuns < 0) return;
      const d = judge.machine.log[judge.monitor.unservedLog];
      judge.violation(
        'lost-nmi',
        () =>
          `the NMI delivered at ${judge.where(d?.rip ?? 0n)} (step ${(d?.step ?? 0) - judge.steadySteps}) was never handled: no do_nmi run began after it, and the interrupted code is running again`,
      );
    },
  }),
};
