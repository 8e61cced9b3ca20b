// Invariant 2: the handler body never runs re-entrantly. The harness's do_nmi counts, in the
// per-CPU nmi_reentered, every run that began while an earlier one had not finished; the counter is
// read where something was logged and when the episode ends (it is in the hashed per-CPU data, so a
// violation noticed late still belongs to every state after it).
import { LAYOUT, PERCPU } from '../../harness/layout';
import type { Invariant, Judge } from '../invariant';
import { peek32, wordAt } from '../state-hash';

export const reentrantHandler: Invariant = {
  id: 'reentrant-handler',
  number: 2,
  title: 'The handler body never runs re-entrantly',
  rule:
    'do_nmi never begins while an earlier run has not finished (the harness counts this in the per-CPU ' +
    'nmi_reentered counter).',
  checks(kernel) {
    const [page, word] = wordAt(LAYOUT.percpuBase + BigInt(PERCPU.nmi_reentered));
    // The counter at the steady state, which every run starts from.
    const base = peek32(kernel.machine, page, word);
    const check = (judge: Judge) => {
      const now = peek32(judge.machine, page, word);
      if (now !== base)
        judge.violation(
          'reentrant-handler',
          () => `do_nmi began while an earlier run had not finished (nmi_reentered = ${now})`,
        );
    };
    return { atChange: check, atEpisodeEnd: check };
  },
};
