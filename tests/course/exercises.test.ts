// What the exercises are judged against, observed on the machine, says what the lessons claim.
// Each expectation names the rule or the history it shows.
import { LAYOUT } from '../../kernel-lib';
import { replaySchedule } from '../../kernel-lib';
import {
  CH1_STACKS,
  deliveryRspObserved,
  faultingIretObserved,
  gapInstructionsObserved,
  iretFaultGsAfter,
  nestedCopiedFrame,
  nestingCases,
  nmiAfterException,
  outcomeMap,
  reentryObserved,
  unprotectedNesting,
  verdictOf,
  withDoNmiLatch,
} from '../../kernel-lib/course';
import { stormObserved } from '../../kernel-lib/course/design-exercises';
import { changedLines } from '../../kernel-lib/course/break-design';
import { allExercises, checkResult } from '../../kernel-lib/course/checks';
import { readLessons } from '../../kernel-lib/lessons/course-tree';
import { exercisesOf } from '../../kernel-lib/lessons/lesson';

jest.setTimeout(120_000);

test('every exercise of the lessons is defined, with a title, a hint and the names it reads', () => {
  const ids = readLessons().flatMap((l) => exercisesOf(l).map((e) => e.id));
  expect(
    allExercises()
      .map((e) => e.id)
      .sort(),
  ).toEqual([...ids].sort());
  for (const e of allExercises()) {
    expect(e.title.length).toBeGreaterThan(10);
    expect(e.hint.length).toBeGreaterThan(10);
    expect(e.names.length).toBeGreaterThan(0);
  }
});

test('ch1: the NMI frame lands 40 bytes below the 16-byte-aligned stack the gate selects (SDM 6.14.2, 6.14.4, 6.14.5)', () => {
  const { kernelStackTop: K, nmiStackTop: N } = CH1_STACKS;
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  expect(deliveryRspObserved({ rsp: hex(K - 0x208n), user: false, ist: 0 })).toBe(K - 0x210n - 40n); // aligned down
  expect(deliveryRspObserved({ rsp: hex(K - 0x200n), user: false, ist: 0 })).toBe(K - 0x200n - 40n);
  expect(deliveryRspObserved({ rsp: '0x7ffffffff008', user: true, ist: 0 })).toBe(K - 40n); // RSP0 on a privilege change
  expect(deliveryRspObserved({ rsp: hex(K - 0x208n), user: false, ist: 3 })).toBe(N - 40n); // the IST slot, unconditionally
});

test('ch2: the nested NMI overwrites three slots from kernel code, all five from user mode (SS is loaded null on a change to ring 0, SDM 6.14.4)', () => {
  const kernel = unprotectedNesting();
  expect([...kernel.changed].sort()).toEqual(['RFLAGS', 'RIP', 'RSP']);
  expect(kernel).toMatchObject({ returnsTo: 'nmi_point_middle', reentered: true, ending: 'endless loop' });
  const user = unprotectedNesting('nmi_point_middle', 'bp', 'user');
  expect([...user.changed].sort()).toEqual(['CS', 'RFLAGS', 'RIP', 'RSP', 'SS']);
  expect(user).toMatchObject({ returnsTo: 'nmi_point_middle', ending: 'oops' });
  // A latched NMI is delivered by the IRET that unblocks (SDM 6.7.1): (b) re-enters, (d) does not.
  expect(reentryObserved()).toEqual(['a', 'b', 'e']);
});

test('ch3 and ch4: a faulting IRET unblocks NMIs (SDM 6.7.1); the IRET-fault path leaves the user GS; the storm staircase', () => {
  expect(faultingIretObserved()).toEqual({ unblockedBeforeFault: true, nmiInFaultPath: 'delivered' });
  expect(iretFaultGsAfter().gs).toBe('user');
  const storm = stormObserved();
  // Each #GP pushes an error code and a five-slot frame (SDM 6.13, 6.14.2); a #PF during a #PF's delivery is a double fault (SDM 6.15).
  expect(new Set(storm.gpFrameSteps)).toEqual(new Set([48]));
  expect(storm.doubleFaultDuring).toBe('#PF');
});

test('ch5: the copied frame after a nested NMI, and the RFC nesting rule at the edges of the NMI stack', () => {
  expect(nestedCopiedFrame('linux-3.3')).toEqual({ rip: 'repeat_nmi', cs: 0x10n, rsp: -96, ss: 0x18n });
  expect(nestedCopiedFrame('rfc-2011')).toEqual({ rip: 'repeat_nmi', cs: 0x10n, rsp: -96, ss: 0x18n });
  expect(nestingCases('rfc-2011', true).map((c) => c.nested)).toEqual([false, true, true, true, true, false]);
});

test('ch7: FRED leaves NMIs blocked after an exception inside the handler (fred.rst); the syscall gap of CVE-2015-3291', () => {
  expect(nmiAfterException('unprotected').outcome).toBe('delivered');
  expect(nmiAfterException('fred')).toMatchObject({ outcome: 'latched', runs: 2, blocked: true });
  expect(gapInstructionsObserved('linux-3.3')).toEqual([
    'system_call',
    'system_call_after_swapgs',
    'system_call_after_swapgs+0x9',
    'system_call_exit_user_rsp',
    'system_call_exit_user_rsp+0x3',
  ]);
  expect(gapInstructionsObserved('linux-4.2')).toEqual([]);
  expect(LAYOUT.nmiStackTop).toBeGreaterThan(0n);
});

test('outcome maps and the do_nmi guard say what chapter 6 claims', () => {
  expect(verdictOf([])).toBe('ok');
  expect(verdictOf(['termination', 'reentrant-handler'])).toBe('re-entered do_nmi + hang (no return)');
  const map = outcomeMap('unprotected', { to: 12 });
  expect(map.points.filter((p) => p.exceptionPoint === 'no exception').every((p) => p.verdict === 'ok')).toBe(true);
  expect(
    map.points.filter((p) => p.exceptionPoint === 'bp@nmi_point_early').every((p) => /re-entered/.test(p.verdict)),
  ).toBe(true);
  const user = 'nmi@user_loop+0,nmi@nmi+0,bp@nmi_point_early+0';
  const on = replaySchedule({
    design: withDoNmiLatch('linux-4.2', true),
    workload: 'user',
    schedule: user,
    maxStepsAfterEvent: 600,
  });
  const off = replaySchedule({
    design: withDoNmiLatch('linux-4.2', false),
    workload: 'user',
    schedule: user,
    maxStepsAfterEvent: 600,
  });
  expect(on.violations).toEqual([]);
  expect(off.violations.map((v) => v.invariant)).toContain('reentrant-handler');
});

test('a break-the-design change is measured in lines', () => {
  expect(changedLines('a\nb\nc\nd', 'a\nc\nd')).toEqual({ removed: ['b'], added: [] });
  expect(changedLines('a\nb\nc', 'a\nx\nc')).toEqual({ removed: ['b'], added: ['x'] });
  expect(changedLines('a', 'a')).toEqual({ removed: [], added: [] });
});

test('check() says when a definition is missing, and a number where a bigint is expected', async () => {
  const missing = await checkResult('ch0-ex2', {});
  expect(missing.ok).toBe(false);
  expect(missing.message).toMatch(/`interruptedRsp` is not defined: run the exercise cell/);
  const number = await checkResult('ch5-ex1', {
    copiedAfterNested: { rip: 'repeat_nmi', cs: 16, rsp: -96, ss: 0x18n },
  });
  expect(number.message).toMatch(/should be a bigint, but it is the number 16: write it 16n/);
  expect((await checkResult('no-such', {})).message).toMatch(/there is no exercise/);
});
