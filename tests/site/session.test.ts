// The playground's stepper (site/src/session.ts) in Node: the position is a function of the
// schedule and the step, so stepping back, going to a step and loading a schedule's text all give
// the state that stepping forward gave; exceptions are raised only where the explorer raises them.
import { Session } from '../../site/src/session';
import { getDesign } from '../../kernel-lib/designs';
import { frameAt } from '../../kernel-lib/course/story';

function state(s: Session) {
  const m = s.machine;
  return {
    step: s.step,
    regs: m.registers(),
    rip: m.rip,
    rflags: m.rflags,
    blocked: m.nmiBlocked,
    pending: m.nmiPending,
    log: m.log.length,
    nmiStack: Array.from({ length: 24 }, (_, i) => s.kernel.nmiStackSlot(-8 * (i + 1))),
    runs: s.kernel.doNmiRuns().length,
  };
}

/** Chapter 5's scenario on linux-3.3, driven through the session as the page drives it. */
function nestedNmi(): Session {
  const s = new Session({ design: getDesign('linux-3.3'), workload: 'kernel' });
  expect(s.runTo('kernel_fault_point').ok).toBe(true);
  expect(s.raise('nmi').message).toMatch(/NMI at step \d+: delivered/);
  expect(s.runTo('nmi_point_early').ok).toBe(true);
  expect(s.raise('bp').ok).toBe(true);
  // The #BP handler's IRET unblocks NMIs; the nested NMI arrives in the middle of do_nmi.
  expect(s.runTo('nmi_point_middle').ok).toBe(true);
  expect(s.machine.nmiBlocked).toBe(false);
  expect(s.raise('nmi').message).toMatch(/delivered/);
  return s;
}

test('a nested NMI after a breakpoint rewrites the copied frame to repeat_nmi (linux-3.3)', () => {
  const s = nestedNmi();
  expect(s.runTo('nested_nmi_out').ok).toBe(true);
  const copied = frameAt(s.kernel, -136); // linux-3.3's copied frame (lessons/05-repeat-nmi.md)
  expect(s.kernel.where(copied.rip)).toBe('repeat_nmi+0');
  expect(s.scheduleText()).toMatch(/^nmi@\d+,bp@\d+,nmi@\d+$/);
});

test('stepping back and going to a step give the state stepping forward gave', () => {
  const s = nestedNmi();
  const seen: ReturnType<typeof state>[] = [];
  for (let i = 0; i < 30; i++) {
    seen.push(state(s));
    s.stepForward();
  }
  for (let i = 29; i >= 0; i--) {
    expect(s.stepBack().ok).toBe(true);
    expect(state(s)).toEqual(seen[i]);
  }
  // A fresh session from the schedule's text reaches the same states.
  const t = new Session({ design: getDesign('linux-3.3'), workload: 'kernel' });
  expect(t.loadSchedule(s.scheduleText(), seen[17].step).ok).toBe(true);
  expect(state(t)).toEqual(seen[17]);
});

test('an event at step 0 (the explorer reports many) is raised when going to step 0', () => {
  const s = new Session({ design: getDesign('linux-3.3'), workload: 'kernel' });
  expect(s.loadSchedule('nmi@0', 0).ok).toBe(true);
  expect(s.machine.nmiBlocked).toBe(true);
  expect(s.kernel.where()).toBe('nmi+0');
  s.stepForward();
  expect(s.stepBack().ok).toBe(true);
  expect(s.kernel.where()).toBe('nmi+0');
});

test('exceptions only at exception points; a new event drops the later ones', () => {
  const s = new Session({ design: getDesign('linux-3.3'), workload: 'kernel' });
  expect(s.raise('bp')).toEqual({ ok: false, message: expect.stringMatching(/exception point.*nmi_point_early/) });
  s.raise('nmi');
  s.runTo('nmi_point_early');
  s.raise('pf');
  const withPf = s.schedule.length;
  expect(withPf).toBe(2);
  s.goTo(1);
  expect(s.eventsApplied).toBe(1);
  expect(s.raise('nmi').message).toMatch(/latched \(1 later event dropped\)/);
  expect(s.schedule.map((e) => e.kind)).toEqual(['nmi', 'nmi']);
});

test('a run that cannot get there stops with a message (the step budget)', () => {
  const s = new Session({ design: getDesign('linux-3.3'), workload: 'kernel' });
  const r = s.runTo('repeat_nmi', 5000);
  expect(r.ok).toBe(false);
  expect(r.message).toMatch(/repeat_nmi not reached within 5,000 steps; stopped at .* \(step 5000\)/);
  expect(s.runTo('no_such_label').message).toMatch(/no label 'no_such_label'/);
  expect(s.loadSchedule('nmi@nowhere').message).toMatch(/unknown label 'nowhere'/);
});
