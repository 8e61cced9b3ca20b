// Invariant 4: no double fault, triple fault or unexpected fault. An exception counts unless the
// schedule injected it, the undisturbed workload raises it by itself (learned from one period of
// it), or the design raises it on purpose (its manifest's intendedFaults).
import type { LoggedEvent } from '../../machine/event-log';
import type { Invariant } from '../invariant';

/** What identifies a fault: its vector and the instruction it happened at. */
function faultKeyAt(vector: number, ripLo: number, ripHi: number): string {
  return `${vector}@${ripLo}:${ripHi}`;
}

function faultKey(e: LoggedEvent): string {
  return faultKeyAt(e.vector ?? -1, e.ripLo, e.ripHi);
}

export const fault: Invariant = {
  id: 'fault',
  number: 4,
  title: 'No double fault, triple fault or unexpected fault',
  rule:
    'No #DF, no shutdown, no kernel oops, and no exception that the schedule did not inject, that the ' +
    'undisturbed workload does not raise by itself (its own int3, say), and that the design does not raise on purpose ' +
    "(its manifest's intendedFaults: the IRET that linus-2010 and iret-fault make fault).",
  checks(kernel) {
    const m = kernel.machine;
    const allowed = new Set<string>();
    for (const f of kernel.design.intendedFaults) {
      const a = BigInt.asUintN(64, m.symbol(f.at));
      allowed.add(faultKeyAt(f.vector, Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0));
    }
    return {
      learnWorkload(events) {
        for (const e of events) if (e.kind === 'fault') allowed.add(faultKey(e));
      },
      atEvent(judge, e) {
        if (e.kind === 'double-fault')
          judge.violation('fault', () => `double fault: ${e.detail ?? ''} (at ${judge.where(e.rip ?? 0n)})`);
        else if (e.kind === 'shutdown') judge.violation('fault', () => `shutdown: ${e.detail ?? ''}`);
        else if (e.kind === 'fault' && e.detail !== 'injected' && !judge.inRoot && !allowed.has(faultKey(e)))
          judge.violation(
            'fault',
            () =>
              `unexpected ${e.name ?? 'exception'} at ${judge.where(e.rip ?? 0n)}${e.detail ? ` (${e.detail})` : ''}`,
          );
      },
      atStop(judge, stop) {
        if (stop === 'shutdown') {
          judge.violation('fault', () => `triple fault: ${judge.machine.shutdownReason}`);
        } else if (stop === 'hlt') {
          const f = judge.kernel.failure();
          if (f && /changed/.test(f.message)) return; // the workload's own transparency check (invariant 3)
          const what = f
            ? `${f.message}${f.where ? ` at ${f.where}` : ''}`
            : `halted at ${judge.where(judge.machine.rip)}`;
          judge.violation('fault', () => `kernel oops: ${what}`);
        }
      },
    };
  },
};
