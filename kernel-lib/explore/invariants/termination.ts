// Invariant 5: termination. The run must end (back in the interrupted code, every event returned)
// within the step budget after the last event, and never come back to a whole machine state whose
// future is still being explored (an exact cycle).
import type { Invariant } from '../invariant';

export const termination: Invariant = {
  id: 'termination',
  number: 5,
  title: 'Termination',
  rule:
    'After the last scheduled event the machine is back in the interrupted code (every delivered event has ' +
    'returned, NMIs unblocked, nothing latched) within the step budget, and never repeats a whole machine state on ' +
    'the way (an exact cycle is a hang).',
  checks: () => ({
    atStop(judge, stop) {
      if (stop !== 'budget') return;
      judge.violation(
        'termination',
        () =>
          `not back in the interrupted code ${judge.bound.maxStepsAfterEvent} steps after the last event (at ${judge.where(judge.machine.rip)}, ${judge.monitor.contexts.length} event(s) not returned)`,
      );
    },
    atCycle(judge) {
      judge.violation(
        'termination',
        () =>
          `the machine came back to exactly the same state at ${judge.where(judge.machine.rip)}: it will loop forever`,
      );
    },
  }),
};
