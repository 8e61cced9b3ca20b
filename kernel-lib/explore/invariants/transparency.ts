// Invariant 3: transparency. At a return to the RIP and CS an event interrupted, the state must be
// the one the monitor recorded at its delivery, and the interrupted code's live stack unchanged.
// The harness's own check (the workload verifies its registers and halts with an oops) counts too.
import { firstChangedSlot, join, sameAsCpu, sameState, stateDifferences, currentState } from '../monitor';
import type { Invariant } from '../invariant';

export const transparency: Invariant = {
  id: 'transparency',
  number: 3,
  title: 'Transparency',
  rule:
    "Whenever execution returns (IRET, or a RET the design declares a return without IRET, like linus-2010's " +
    'popf/ret) to the RIP and CS an event interrupted, every general register, RSP, ' +
    'RFLAGS, RIP, CS, SS, GS.base (and, for kernel code, CR2) are exactly as they were when the event was delivered (GS.base ' +
    'because per-CPU data and every later SWAPGS depend on it; CR2 because a ' +
    "page-fault handler interrupted before it read CR2 needs it: commit 7fbb98c5cb07), and the interrupted code's live stack " +
    '(from its RSP to the top of its stack, up to 1 KiB; not on the NMI or #DF stacks, which belong to the entry ' +
    'machinery) is unchanged.',
  checks: () => ({
    atReturn(judge, ctx, back, how) {
      const m = judge.machine;
      const cpu = m.cpu;
      // Under FRED, CR2 is event data, not part of the interrupted context (machine/fred.ts).
      const cr2IsContext = !cpu.fred;
      const same = back !== null ? sameState(ctx.state, back, cr2IsContext) : sameAsCpu(ctx.state, cpu, cr2IsContext);
      const changed = ctx.stack === null ? -1 : firstChangedSlot(m, ctx.stackLo, ctx.stackHi, ctx.stack);
      if (same && changed < 0) return;
      // The words only now, on a violation.
      const to = back ?? currentState(m);
      const diffs = stateDifferences(ctx.state, to, cr2IsContext);
      if (changed >= 0)
        diffs.push(`its stack at ${judge.where(join(ctx.stackLo, ctx.stackHi) + BigInt(changed))} was overwritten`);
      judge.violation(
        'transparency',
        () =>
          `${ctx.name} ${how} to ${judge.where(join(to.ripLo, to.ripHi))} with ${diffs.slice(0, 4).join(', ')}${diffs.length > 4 ? ', ...' : ''}`,
      );
    },
    atStop(judge, stop) {
      if (stop !== 'hlt') return;
      const f = judge.kernel.failure();
      // The workload's own check found its registers or flags changed (harness OOPS_REASONS).
      if (f && /changed/.test(f.message))
        judge.violation(
          'transparency',
          () => `the interrupted code found its state changed (oops: ${f.message}${f.where ? ` at ${f.where}` : ''})`,
        );
    },
  }),
};
