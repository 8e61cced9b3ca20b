// The exercises of the design chapters 2 to 5 and 7 (see checks.ts for what an exercise is), and
// the observations they are judged against. Each judge builds its own harness kernels and runs the
// scenario: the right answers are never typed in here, they are observed; and a failure says what
// is wrong with the learner's answer and where to look, not what the answer is.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import type { ExceptionKind, Kernel, WorkloadId } from '../harness/kernel';
import { LAYOUT } from '../harness/layout';
import type { NmiOutcome } from '../machine/machine';
import { replaySchedule } from '../explore/replay';
import { replayActions, withRecording } from './answers';
import type { Recording } from './answers';
import {
  CheckFailure,
  defineExercise,
  describe,
  expectArray,
  expectBigint,
  expectBoolean,
  expectFunction,
  expectOneOf,
  expectRecord,
  expectString,
  expectTrue,
} from './checks';
import { breakTheDesign } from './break-design';
import {
  designKernel,
  frameAt,
  frameRipOffset,
  labelsToIret,
  runBackTo,
  runTo,
  runToUnblocked,
  ScenarioError,
} from './story';

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

/** Runs a scenario step; a ScenarioError (the machine did not get where the check needed) becomes a check failure. */
function scenario<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ScenarioError) throw new CheckFailure(`${what}: ${e.message}`);
    throw e;
  }
}

const OUTCOMES: readonly NmiOutcome[] = ['delivered', 'latched', 'collapsed'];

/** A label as a learner may write it: `repeat_nmi`, `repeat_nmi+0`, `repeat_nmi+0x0`. */
function normalLabel(text: string): string {
  const m = /^\s*([A-Za-z_.][\w.]*)\s*(?:\+\s*(0x[0-9a-fA-F]+|\d+))?\s*$/.exec(text);
  if (!m) return text.trim();
  const off = m[2] === undefined ? 0 : Number(m[2]);
  return off === 0 ? m[1] : `${m[1]}+0x${off.toString(16)}`;
}

/** A recording from an answer, checked for shape (it crossed from the learner's process). */
function recordingOf(value: unknown): Recording {
  const r = value as Recording;
  const okAt = (x: unknown) => {
    const a = x as { steps?: unknown; rip?: unknown; log?: unknown };
    return !!a && typeof a.steps === 'number' && typeof a.rip === 'string' && typeof a.log === 'number';
  };
  if (!r || !Array.isArray(r.actions) || !okAt(r.end) || !r.actions.every(okAt))
    throw new CheckFailure('the record of what your function did to the machine is malformed');
  return r;
}

// ---- chapter 2: the unprotected entry ------------------------------------------------------------

/** The five slot names of a hardware frame, top (highest address) first. */
export const FRAME_SLOTS = ['SS', 'RSP', 'RFLAGS', 'CS', 'RIP'] as const;
export type FrameSlot = (typeof FRAME_SLOTS)[number];

/** How a run ends, in the words of ch2-ex1. */
export type Ending = 'oops' | 'endless loop' | 'back in the interrupted code';

/**
 * Chapter 2's story, observed: the unprotected design on `workload`, a #BP at `point` in the first
 * do_nmi run, a second NMI as soon as NMIs are unblocked there. Returns which hardware-frame slots
 * changed value, where the first NMI's frame sends it back afterwards, whether do_nmi was
 * re-entered, and how the run ends.
 */
export function unprotectedNesting(
  point = 'nmi_point_middle',
  kind: ExceptionKind = 'bp',
  workload: WorkloadId = 'kernel',
): {
  changed: FrameSlot[];
  returnsTo: string;
  reentered: boolean;
  ending: Ending;
  kernel: Kernel;
} {
  const k = designKernel('unprotected', workload);
  const m = k.machine;
  const interruptedAt = workload === 'kernel' ? 'kernel_fault_point' : null;
  if (interruptedAt) runTo(k, interruptedAt);
  const interrupted = m.rip;
  m.raiseNmi();
  k.armException({ at: point, kind, run: 1 });
  runToUnblocked(k, point);
  const before = FRAME_SLOTS.map((_, i) => k.nmiStackSlot(-8 - 8 * i));
  m.raiseNmi();
  const changed = FRAME_SLOTS.filter((_, i) => k.nmiStackSlot(-8 - 8 * i) !== before[i]);
  const returnsTo = k.where(k.nmiStackSlot(-40)).replace(/\+0$/, '');
  runTo(k, 'do_nmi_return');
  const reentered = k.doNmiRuns().some((r) => r.reentered);
  let back = false;
  m.run({
    until: (mm) => {
      back = mm.rip === interrupted || (workload !== 'kernel' && mm.cpl === 3);
      return back || k.failure() !== null;
    },
    maxSteps: 3000,
  });
  const ending: Ending = k.failure() !== null ? 'oops' : back ? 'back in the interrupted code' : 'endless loop';
  return { changed, returnsTo, reentered, ending, kernel: k };
}

/** ch2-ex1: the chapter's scenario with the first NMI interrupting user mode: slots, return label, ending. */
export const USER_OVERWRITE_EXERCISE = defineExercise<null>({
  id: 'ch2-ex1',
  title: 'the predictions for an NMI from user mode match the machine',
  hint: 'Compare the two frames field by field: the first NMI interrupted a user program (user CS and SS, its own stack), the second one interrupted the handler in kernel mode. SDM 6.14.2 says what SS becomes on a privilege change. Then follow the first NMI’s exit: what did it do to GS before its IRET, and what does kernel code do with GS?',
  names: ['userChangedSlots', 'userReturnsTo', 'userEnding'],
  cases: [null],
  answer: (defs) => ({ slots: defs.userChangedSlots, returnsTo: defs.userReturnsTo, ending: defs.userEnding }),
  judge(answer) {
    const a = expectRecord(answer, 'the answer');
    const slots = expectArray(a.slots, 'userChangedSlots');
    const given = slots.map((s) => String(s).toUpperCase());
    for (const s of given)
      expectTrue(
        (FRAME_SLOTS as readonly string[]).indexOf(s) >= 0,
        `userChangedSlots: ${describe(s)} is not a frame slot (${FRAME_SLOTS.join(', ')})`,
      );
    const returnsTo = expectString(a.returnsTo, 'userReturnsTo');
    const ending = expectOneOf(a.ending, ['oops', 'endless loop', 'back in the interrupted code'], 'userEnding');
    const t = unprotectedNesting('nmi_point_middle', 'bp', 'user');
    const missing = t.changed.filter((s) => given.indexOf(s) < 0);
    const extra = given.filter((s) => t.changed.indexOf(s as FrameSlot) < 0);
    expectTrue(
      extra.length === 0,
      `userChangedSlots: ${extra.join(', ')} ${extra.length === 1 ? 'holds' : 'hold'} the same value in both frames`,
    );
    expectTrue(missing.length === 0, 'userChangedSlots: more slots change value than the ones you listed');
    expectTrue(
      normalLabel(returnsTo) === normalLabel(t.returnsTo),
      `userReturnsTo: after the nested NMI the slot at T-40 does not point to ${describe(returnsTo)}`,
    );
    expectTrue(ending === t.ending, `userEnding: the run does not end with ${describe(ending)}`);
  },
});

/** One ch2-ex2 case: where and which exception reenter() must use. */
export interface ReenterCase {
  point: string;
  kind: ExceptionKind;
}

/**
 * ch2-ex2: `reenter(k, point, kind)` drives a fresh unprotected kernel so that do_nmi is re-entered,
 * with exception `kind` at `point`. Judged on a replay of what it raised and armed.
 */
export const REENTER_EXERCISE = defineExercise<ReenterCase>({
  id: 'ch2-ex2',
  title: 'do_nmi was re-entered, with the exception and the point asked for',
  hint: "The second NMI must arrive after the exception handler's IRET (NMIs unblocked) and before the first do_nmi run returns; use the point and the kind you are given.",
  names: ['reenter'],
  cases: [{ point: 'nmi_point_middle', kind: 'bp' }],
  probe: (c) => ({ point: c.point, kind: c.kind }),
  answer(defs, probe) {
    const f = expectFunction(defs.reenter, 'reenter') as (k: Kernel, point: string, kind: ExceptionKind) => unknown;
    const p = probe as ReenterCase;
    const k = designKernel('unprotected');
    return withRecording(k.machine, k, () => f(k, p.point, p.kind)).recording;
  },
  judge(answer, c) {
    const rec = recordingOf(answer);
    const what = `with ${c.kind} at ${c.point}`;
    const k = designKernel('unprotected');
    const replay = replayActions(k.machine, rec, k);
    expectTrue(
      replay.reachedEnd,
      `${what}: replaying what reenter raised and armed did not bring the kernel where your run ended; reenter should only raise NMIs, arm exceptions and run the kernel`,
    );
    const nmis = rec.actions.filter((a) => a.op === 'nmi').length;
    expectTrue(nmis >= 2, `${what}: reenter raised ${nmis} NMI(s); it takes two`);
    const target = hex(k.machine.symbol(c.point));
    const armed = rec.actions.filter((a) => a.op === 'arm');
    expectTrue(armed.length > 0, `${what}: reenter armed no exception (k.armException)`);
    const right = armed.filter(
      (a) =>
        a.op === 'arm' && a.kind === c.kind && (a.at === c.point || a.at === target || normalLabel(a.at) === c.point),
    );
    expectTrue(
      right.length > 0,
      `${what}: reenter armed ${armed.map((a) => (a.op === 'arm' ? `${a.kind} at ${a.at}` : '')).join(', ')}: use the point and kind it is given`,
    );
    k.machine.run({
      until: (m) => m.symbolize(m.rip) === 'do_nmi_return+0' && k.doNmiRuns().length >= 2,
      maxSteps: 3000,
    });
    const runs = k.doNmiRuns();
    expectTrue(
      runs.length >= 2,
      `${what}: do_nmi ran ${runs.length} time(s); the second NMI must arrive while the first run is still going`,
    );
    expectTrue(
      runs.some((r) => r.reentered),
      `${what}: the second run of do_nmi began after the first had finished, so nothing was re-entered (raise the NMI at ${c.point}, after the exception's IRET)`,
    );
  },
});

/** The scenarios of ch2-ex3, on unprotected's kernel workload, as schedules (chapter 6's format). */
export const REENTRY_SCENARIOS: Record<string, string> = {
  a: 'nmi@0, bp@nmi_point_early, nmi@nmi_point_late',
  b: 'nmi@0, nmi@nmi+0, bp@nmi_point_early',
  c: 'nmi@0, bp@nmi_point_early, nmi@do_nmi_return+0',
  d: 'nmi@0, nmi@nmi_point_middle',
  e: 'nmi@0, pf@nmi_point_middle, nmi@nmi_point_late',
};

/** Which of REENTRY_SCENARIOS re-enter do_nmi on unprotected (invariant 2 on replay). */
export function reentryObserved(): string[] {
  return Object.keys(REENTRY_SCENARIOS).filter((key) =>
    replaySchedule({
      design: 'unprotected',
      workload: 'kernel',
      schedule: REENTRY_SCENARIOS[key],
      maxStepsAfterEvent: 1500,
    }).violations.some((v) => v.invariant === 'reentrant-handler'),
  );
}

/** ch2-ex3: which of five scenarios re-enter do_nmi. */
export const REENTRY_PREDICTION_EXERCISE = defineExercise<null>({
  id: 'ch2-ex3',
  title: 'the predictions of which scenarios re-enter do_nmi match the machine',
  hint: 'Re-entry needs a second NMI delivered while the first do_nmi run is still going. Only an IRET ends NMI blocking; a latched NMI is delivered at the IRET that unblocks.',
  names: ['reentering'],
  cases: [null],
  answer: (defs) => defs.reentering,
  judge(answer) {
    const list = expectArray(answer, 'reentering');
    const keys = Object.keys(REENTRY_SCENARIOS);
    const given = list.map((x) => String(x).toLowerCase());
    for (const g of given)
      expectTrue(keys.indexOf(g) >= 0, `reentering: ${describe(g)} is not one of the scenarios ${keys.join(', ')}`);
    const truth = reentryObserved();
    const wrongIn = given.filter((g) => truth.indexOf(g) < 0);
    const missing = truth.filter((t) => given.indexOf(t) < 0);
    expectTrue(
      wrongIn.length === 0,
      `reentering: in scenario ${wrongIn.join(' and ')} do_nmi is not re-entered (look at when that second NMI is delivered and whether the first run is still going then)`,
    );
    expectTrue(missing.length === 0, 'reentering: other scenarios than the ones you listed re-enter do_nmi too');
  },
});

// ---- chapter 3: Linus's 2010 proposal ------------------------------------------------------------

/** First NMI at kernel_fault_point, #BP in do_nmi (its IRET unblocks), a nested NMI in do_nmi. */
function nestedOn(design: string): Kernel {
  const k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, 'nmi_point_middle');
  k.machine.raiseNmi();
  return k;
}

/**
 * linus-2010: the outer NMI's final IRET faults (its frame was marked by the nested NMI). Returns
 * whether NMI blocking ended before the #GP was delivered, and what an NMI raised at the first
 * instruction of the fault path does.
 */
export function faultingIretObserved(): { unblockedBeforeFault: boolean; nmiInFaultPath: NmiOutcome } {
  const k = nestedOn('linus-2010');
  const m = k.machine;
  const from = m.log.length;
  runTo(k, 'nmi_iret_fault');
  const kinds = m.log.slice(from).map((e) => e.kind as string);
  const u = kinds.indexOf('nmi-unblocked');
  const f = kinds.indexOf('fault');
  return { unblockedBeforeFault: u >= 0 && f >= 0 && u < f, nmiInFaultPath: m.raiseNmi() };
}

/** ch3-ex1: the proposal's premise ("NMI's will stay masked") against the SDM, predicted before it is shown. */
export const FAULTING_IRET_EXERCISE = defineExercise<null>({
  id: 'ch3-ex1',
  title: 'the premise "NMIs will stay masked" checked against the machine',
  hint: 'Chapter 1 quoted SDM 6.7.1 on which IRETs end NMI blocking. Does it say anything about an IRET that faults?',
  names: ['unblockedBeforeFault', 'nmiInFaultPath'],
  cases: [null],
  answer: (defs) => ({ unblocked: defs.unblockedBeforeFault, outcome: defs.nmiInFaultPath }),
  judge(answer) {
    const a = expectRecord(answer, 'the answer');
    const unblocked = expectBoolean(a.unblocked, 'unblockedBeforeFault');
    const outcome = expectOneOf(a.outcome, OUTCOMES, 'nmiInFaultPath');
    const t = faultingIretObserved();
    expectTrue(
      unblocked === t.unblockedBeforeFault,
      'unblockedBeforeFault: the machine disagrees about whether NMI blocking ends before the #GP is delivered',
    );
    expectTrue(
      outcome === t.nmiInFaultPath,
      `nmiInFaultPath: an NMI at the first instruction of the fault path is not ${outcome}; it follows from your first answer`,
    );
  },
});

/** What one NMI raised at `at` in `workload` does to linus-2010. */
export function linusNmiAt(
  workload: WorkloadId,
  at: string,
): { failure: string | null; runs: number; gsWasUser: boolean } {
  const k = designKernel('linus-2010', workload);
  runTo(k, at);
  const gsWasUser = k.machine.cpu.gsBase === LAYOUT.userGsBase;
  k.machine.raiseNmi();
  k.machine.run({ maxSteps: 800 });
  const f = k.failure();
  return { failure: f ? f.message : null, runs: k.doNmiRuns().length, gsWasUser };
}

/** ch3-ex2: a workload and a label where one plain NMI kills linus-2010 (its per-CPU pointer read through the user's GS). */
export const GS_TRAP_EXERCISE = defineExercise<null>({
  id: 'ch3-ex2',
  title: "one NMI at that point reads the per-CPU pointer through the user's GS and the kernel dies",
  hint: 'Which instruction switches to kernel mode without touching GS? Look at what SYSCALL changes (SDM SYSCALL reference).',
  names: ['gsTrap'],
  cases: [null],
  answer: (defs) => defs.gsTrap,
  judge(answer) {
    const c = expectRecord(answer, 'gsTrap');
    const workload = expectOneOf(c.workload, ['kernel', 'user', 'syscall', 'debug'] as const, 'gsTrap.workload');
    const at = expectString(c.at, 'gsTrap.at');
    expectTrue(at !== '', 'gsTrap.at should be a label, got ""');
    const r = scenario(`${workload} workload, NMI at ${at}`, () => linusNmiAt(workload, at));
    expectTrue(r.gsWasUser, `at ${at} GS already holds the kernel's per-CPU base, so the entry can read its pointer`);
    expectTrue(
      r.failure !== null,
      `an NMI at ${at} was handled (${r.runs} do_nmi run): the entry decided to SWAPGS correctly there. Where is the CPU in kernel mode with the user's GS?`,
    );
  },
});

/** linusNmiAt at `label+0xOFF` positions too. */
function linusNmiAtPosition(workload: WorkloadId, at: string): ReturnType<typeof linusNmiAt> & { address: bigint } {
  const m = /^\s*([A-Za-z_.][\w.]*)\s*(?:\+\s*(0x[0-9a-fA-F]+|\d+))?\s*$/.exec(at);
  if (!m) throw new CheckFailure(`${describe(at)} is not a label or label+offset`);
  const k = designKernel('linus-2010', workload);
  let address: bigint;
  try {
    address = k.machine.symbol(m[1]) + BigInt(m[2] ?? 0);
  } catch {
    throw new CheckFailure(`there is no label ${m[1]} in the harness kernel`);
  }
  const r = k.machine.run({ until: (mm) => mm.rip === address, maxSteps: 5000 });
  if (r.stop !== 'until') throw new CheckFailure(`on the ${workload} workload execution never reaches ${at}`);
  const gsWasUser = k.machine.cpu.gsBase === LAYOUT.userGsBase;
  k.machine.raiseNmi();
  k.machine.run({ maxSteps: 800 });
  const f = k.failure();
  return { failure: f ? f.message : null, runs: k.doNmiRuns().length, gsWasUser, address };
}

/** ch3-ex3: the same trap on the way out of a system call. */
export const GS_TRAP_OUT_EXERCISE = defineExercise<null>({
  id: 'ch3-ex3',
  title: "one NMI on the way out of a system call reads the per-CPU pointer through the user's GS",
  hint: 'Read the end of system_call in kernel-lib/harness/kernel.S: how does it give GS back to the user program, and what runs after that, still in kernel mode?',
  names: ['gsTrapOut'],
  cases: [null],
  answer: (defs) => defs.gsTrapOut,
  judge(answer) {
    const c = expectRecord(answer, 'gsTrapOut');
    const workload = expectOneOf(c.workload, ['kernel', 'user', 'syscall', 'debug'] as const, 'gsTrapOut.workload');
    const at = expectString(c.at, 'gsTrapOut.at');
    const r = linusNmiAtPosition(workload, at);
    const k = designKernel('linus-2010', 'syscall');
    const way =
      r.address >= k.machine.symbol('system_call') && r.address < k.machine.symbol('system_call_on_kernel_stack')
        ? 'in'
        : 'out';
    expectTrue(r.gsWasUser, `at ${at} GS holds the kernel's per-CPU base, so the entry can read its pointer`);
    expectTrue(
      r.failure !== null,
      `an NMI at ${at} was handled (${r.runs} do_nmi run): the entry decided to SWAPGS correctly there`,
    );
    expectTrue(
      workload === 'syscall' && way === 'out',
      `${at} is on the way into the kernel (exercise 3.2's trap): find the one on the way back to the user program`,
    );
  },
});

// ---- chapter 4: the iret-fault attempt (a reconstruction) ----------------------------------------

/** iret-fault with one nested NMI: after everything returns, whose GS base the interrupted kernel code has. */
export function iretFaultGsAfter(): { gs: 'kernel' | 'user'; runs: number; failure: string | null } {
  const k = nestedOn('iret-fault');
  runBackTo(k, 'kernel_fault_point');
  const f = k.failure();
  return {
    gs: k.machine.cpu.gsBase === LAYOUT.percpuBase ? 'kernel' : 'user',
    runs: k.doNmiRuns().length,
    failure: f ? f.message : null,
  };
}

/** ch4-ex1: whose GS base the interrupted kernel code has after one nested NMI, predicted before it is shown. */
export const IRET_FAULT_GS_EXERCISE = defineExercise<null>({
  id: 'ch4-ex1',
  title: 'the GS base after the repaired IRET',
  hint: "The #GP of a faulting IRET goes through the kernel's ordinary error entry. What did Linux 3.x's error entry assume a fault at the IRET instruction was, and what did it do to GS for that?",
  names: ['gsAfterwards'],
  cases: [null],
  answer: (defs) => defs.gsAfterwards,
  judge(answer) {
    const gs = expectOneOf(answer, ['kernel', 'user'] as const, 'gsAfterwards');
    expectTrue(
      gs === iretFaultGsAfter().gs,
      `gsAfterwards: the interrupted kernel code does not run with the ${gs} GS base`,
    );
  },
});

/** One ch4-ex2 case: where the storm raises its NMI, and whether do_nmi's first run takes a breakpoint. */
export interface StormCase {
  at: string;
  breakpoint: boolean;
}

function stormKernel(c: StormCase): Kernel {
  const k = designKernel('iret-fault');
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  if (c.breakpoint) k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  return k;
}

const STORM_STEPS = 50_000;

/**
 * ch4-ex2: `nmiStorm(k, at)` installs a boundary hook that raises one NMI during every run of
 * do_nmi, when RIP reaches `at`. Judged on a replay of the NMIs the hook raised.
 */
export const STORM_EXERCISE = defineExercise<StormCase>({
  id: 'ch4-ex2',
  title: 'the storm raises one NMI per do_nmi run, at the point asked for, and ends in a double fault',
  hint: 'One NMI per run: remember the nmi_runs value you last raised for, and raise again only when it changes; use the point you are given.',
  names: ['nmiStorm'],
  cases: [{ at: 'nmi_point_late', breakpoint: true }],
  probe: (c) => ({ at: c.at, breakpoint: c.breakpoint }),
  answer(defs, probe) {
    const f = expectFunction(defs.nmiStorm, 'nmiStorm') as (k: Kernel, at: string) => unknown;
    const k = stormKernel(probe as StormCase);
    return withRecording(k.machine, k, () => {
      f(k, (probe as StormCase).at);
      k.machine.run({ maxSteps: STORM_STEPS, until: () => k.failure() !== null });
    }).recording;
  },
  judge(answer, c) {
    const rec = recordingOf(answer);
    const what = `at ${c.at}, ${c.breakpoint ? 'with' : 'without'} a breakpoint in the first run`;
    const k = stormKernel(c);
    const m = k.machine;
    const target = m.symbol(c.at).toString(16);
    const nmis = rec.actions.filter((a) => a.op === 'nmi');
    expectTrue(nmis.length > 0, `${what}: the hook raised no NMI`);
    const elsewhere = nmis.filter((a) => a.rip !== target);
    expectTrue(
      elsewhere.length === 0,
      `${what}: the hook raised NMIs elsewhere than at ${c.at} (e.g. at ${m.symbolize(BigInt(`0x${elsewhere.length ? elsewhere[0].rip : '0'}`)) ?? '?'})`,
    );
    expectTrue(
      rec.actions.every((x) => x.op === 'nmi'),
      `${what}: nmiStorm should only raise NMIs (it armed, injected or disarmed something)`,
    );
    // Replay the NMIs, noting the do_nmi run each one was raised in (the guest's nmi_runs counter).
    const perRun = new Map<string, number>();
    const replay = replayActions(m, rec, k, STORM_STEPS + 10, () => {
      const run = String(k.percpu('nmi_runs'));
      perRun.set(run, (perRun.get(run) ?? 0) + 1);
    });
    expectTrue(replay.reachedEnd, `${what}: replaying the NMIs your hook raised did not follow your run`);
    let twice = false;
    perRun.forEach((n) => {
      if (n > 1) twice = true;
    });
    expectTrue(!twice, `${what}: the hook raised more than one NMI in the same run of do_nmi`);
    const failure = k.failure();
    if (c.breakpoint) {
      expectTrue(
        nmis.length > 10,
        `${what}: only ${nmis.length} NMIs were raised: the hook should raise one in every run of do_nmi, for as long as runs go on`,
      );
      expectTrue(
        failure !== null && failure.message === 'double fault',
        `${what}: the storm did not end in a double fault (${failure ? failure.message : 'no failure'})`,
      );
    } else {
      expectTrue(
        failure === null,
        `${what}: the kernel failed (${failure ? failure.message : ''}); every NMI should wait in the latch`,
      );
      expectTrue(
        perRun.size > 5,
        `${what}: NMIs were raised in ${perRun.size} do_nmi runs; the hook should raise one in every run`,
      );
    }
  },
});

/** The chapter's storm (an NMI in every do_nmi run at nmi_point_middle, a #BP in the first), observed. */
export function stormObserved(): { gpFrameSteps: number[]; doubleFaultDuring: string | null; gpFrames: number } {
  const k = stormKernel({ at: 'nmi_point_middle', breakpoint: true });
  const point = k.machine.symbol('nmi_point_middle');
  let last = -1n;
  k.onBoundary((mm) => {
    if (mm.rip !== point) return;
    const run = k.percpu('nmi_runs');
    if (run === last) return;
    last = run;
    mm.raiseNmi();
  });
  k.machine.run({ maxSteps: STORM_STEPS, until: () => k.failure() !== null });
  k.onBoundary(null);
  const gps = k.machine.log.filter((e) => e.kind === 'deliver' && e.name === '#GP');
  const steps: number[] = [];
  for (let i = 1; i < gps.length; i++) steps.push(Number((gps[i - 1].toRsp as bigint) - (gps[i].toRsp as bigint)));
  const df = k.machine.log.filter((e) => e.kind === 'delivery-fault').pop();
  const during = df && df.detail ? (/while delivering (#\w+|NMI)/.exec(df.detail)?.[1] ?? null) : null;
  return { gpFrameSteps: steps, doubleFaultDuring: during, gpFrames: gps.length };
}

/** ch4-ex3: the staircase of #GP frames and the double fault at its end, predicted before the page runs it. */
export const STAIRCASE_EXERCISE = defineExercise<null>({
  id: 'ch4-ex3',
  title: 'the staircase and the double fault predicted',
  hint: 'What does the CPU push for a #GP (SDM 6.14.2, and 6.13 on error codes), and does anything pop it before the next one? At the bottom of the stack a push faults: which exception is that, and can its own frame be pushed (SDM 6.15, interrupt 8)?',
  names: ['staircase'],
  cases: [null],
  answer: (defs) => defs.staircase,
  judge(answer) {
    const a = expectRecord(answer, 'staircase');
    const step = a.gpFrameStep;
    expectTrue(
      typeof step === 'number' && Number.isInteger(step),
      `staircase.gpFrameStep should be a whole number of bytes, got ${describe(step)}`,
    );
    const during = expectOneOf(a.doubleFaultDuring, ['#GP', '#PF', 'NMI', '#BP'], 'staircase.doubleFaultDuring');
    const t = stormObserved();
    const steps = t.gpFrameSteps.filter((x, i) => t.gpFrameSteps.indexOf(x) === i);
    expectTrue(
      steps.length === 1,
      'the storm did not build a regular staircase in this machine (the lesson needs updating)',
    );
    expectTrue(
      (step as number) !== -steps[0] || steps[0] === 0,
      'staircase.gpFrameStep: count the bytes each frame lies *below* the previous one as a positive number',
    );
    expectTrue(step === steps[0], `staircase.gpFrameStep: consecutive #GP frames are not ${step} bytes apart`);
    expectTrue(
      during === t.doubleFaultDuring,
      `staircase.doubleFaultDuring: the double fault does not come from a fault while delivering ${during}`,
    );
  },
});

// ---- chapter 5: repeat_nmi -----------------------------------------------------------------------

/** ch5-ex1: what the nested NMI writes into the copied frame, as observed on `design`. */
export function nestedCopiedFrame(design = 'linux-3.3'): { rip: string; cs: bigint; rsp: number; ss: bigint } {
  const k = designKernel(design);
  const m = k.machine;
  runTo(k, 'kernel_fault_point');
  m.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, design === 'rfc-2011' ? 'nmi_restore' : 'nmi_point_middle');
  m.raiseNmi();
  labelsToIret(k);
  const f = frameAt(k, frameRipOffset(k.design, 'copied frame'));
  return { rip: k.where(f.rip).replace(/\+0$/, ''), cs: f.cs, rsp: Number(f.rsp - k.nmiStackTop), ss: f.ss };
}

/** ch5-ex1: the copied frame after a nested NMI, predicted from the listing before the page shows it. */
export const COPIED_FRAME_EXERCISE = defineExercise<string>({
  id: 'ch5-ex1',
  title: 'the copied frame after a nested NMI, on linux-3.3 and on rfc-2011',
  hint: 'Read the five pushes after `1:` in nested_nmi: what does each one push, and where is RSP (measured from T) when the first of them runs?',
  names: ['copiedAfterNested'],
  cases: ['linux-3.3', 'rfc-2011'],
  answer: (defs) => defs.copiedAfterNested,
  judge(answer, design) {
    const a = expectRecord(answer, 'copiedAfterNested');
    const rip = expectString(a.rip, 'copiedAfterNested.rip (a label)');
    const cs = expectBigint(a.cs, 'copiedAfterNested.cs (a selector)');
    const ss = expectBigint(a.ss, 'copiedAfterNested.ss (a selector)');
    const rsp = typeof a.rsp === 'bigint' ? Number(a.rsp) : a.rsp;
    expectTrue(
      typeof rsp === 'number' && Number.isFinite(rsp),
      `copiedAfterNested.rsp should be a byte offset from T (a negative number), got ${describe(a.rsp)}`,
    );
    const t = nestedCopiedFrame(design);
    expectTrue(
      normalLabel(rip) === normalLabel(t.rip),
      `${design}: the copied RIP is not ${describe(rip)}: which address does the nested path push last?`,
    );
    expectTrue(cs === t.cs, `${design}: the copied CS is not ${describe(cs)}`);
    expectTrue(ss === t.ss, `${design}: the copied SS is not ${describe(ss)}`);
    expectTrue(
      rsp === t.rsp,
      `${design}: the copied RSP is not T${(rsp as number) < 0 ? '' : '+'}${rsp}: it is the address of one of the Saved frame's slots`,
    );
  },
});

/** One NMI arrival, as the entry code sees it, and which path the design took. */
export interface NestingCase {
  name: string;
  /** The "NMI executing" word at T-56 when the NMI arrived. */
  executing: bigint;
  /** The interrupted RSP, from the hardware frame at T-16. */
  interruptedRsp: bigint;
  /** The interrupted CS, from T-32. */
  interruptedCs: bigint;
  nmiStackTop: bigint;
  /** The design went down nested_nmi. */
  nested: boolean;
}

function observeArrival(k: Kernel, name: string): NestingCase {
  const m = k.machine;
  if (m.raiseNmi() !== 'delivered') throw new ScenarioError(`${name}: the NMI was not delivered`);
  const c = {
    name,
    executing: k.nmiStackSlot(-56),
    interruptedRsp: k.nmiStackSlot(-16),
    interruptedCs: k.nmiStackSlot(-32),
    nmiStackTop: k.nmiStackTop,
  };
  const path = labelsToIret(k);
  return { ...c, nested: path.indexOf('nested_nmi') >= 0 };
}

/** The NMI arrivals nestingCases can build (the visible check uses the first four). */
export type Arrival =
  | 'task stack'
  | 'nested in do_nmi'
  | 'after the clear'
  | 'second breakpoint'
  | 'debug workload'
  | { userRspFromTop: number };

/** One arrival on `design`, observed. */
export function nestingCase(design: string, arrival: Arrival): NestingCase {
  const safeNestAt = design === 'rfc-2011' ? 'nmi_restore' : 'nmi_point_middle';
  if (typeof arrival === 'object') {
    const k = designKernel(design, 'user', LAYOUT.nmiStackTop + BigInt(arrival.userRspFromTop));
    k.machine.run({ maxSteps: 5 });
    return observeArrival(
      k,
      `NMI from user mode with RSP = T${arrival.userRspFromTop < 0 ? '' : '+'}${arrival.userRspFromTop}`,
    );
  }
  if (arrival === 'debug workload')
    return observeArrival(
      designKernel(design, 'debug'),
      'NMI interrupting a breakpoint handler on the debug stack, no NMI running',
    );
  const k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  if (arrival === 'task stack') return observeArrival(k, 'NMI interrupting kernel code on the task stack');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  if (arrival === 'nested in do_nmi') {
    runToUnblocked(k, safeNestAt);
    return observeArrival(k, "NMI inside the first NMI, after a breakpoint's IRET");
  }
  if (arrival === 'after the clear') {
    runToUnblocked(k, 'irq_return');
    return observeArrival(k, 'NMI after "NMI executing" was cleared, before the final IRET');
  }
  k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 });
  runTo(k, 'int3', (kk) => !kk.machine.nmiBlocked);
  k.machine.step();
  return observeArrival(k, 'NMI while the first NMI is in its second breakpoint handler, on the debug stack');
}

/** The visible check's arrivals for ch5-ex2. */
export const VISIBLE_ARRIVALS: Arrival[] = ['task stack', 'nested in do_nmi', 'after the clear', 'second breakpoint'];

/**
 * NMI arrivals the RFC's two tests must tell apart, each run on `design` and classified by the
 * path the design took. `hidden` adds arrivals from user mode and from the debug stack.
 */
export function nestingCases(design = 'rfc-2011', hidden = false): NestingCase[] {
  const arrivals: Arrival[] = hidden
    ? [...VISIBLE_ARRIVALS, { userRspFromTop: -0x80 }, 'debug workload']
    : VISIBLE_ARRIVALS;
  return arrivals.map((a) => nestingCase(design, a));
}

/** ch5-ex2: `isNested(executing, interruptedRsp, nmiStackTop)` decides as the RFC's entry code does. */
export const IS_NESTED_EXERCISE = defineExercise<Arrival>({
  id: 'ch5-ex2',
  title: 'isNested agrees with the RFC on every arrival tried',
  hint: 'Two tests, either one suffices. Read test_in_nmi in the RFC: which comparisons, against which bounds, and is each bound included?',
  names: ['isNested'],
  cases: VISIBLE_ARRIVALS,
  probe(arrival) {
    const c = scenario('building the case', () => nestingCase('rfc-2011', arrival));
    return { executing: hex(c.executing), rsp: hex(c.interruptedRsp), top: hex(c.nmiStackTop) };
  },
  answer(defs, probe) {
    const f = expectFunction(defs.isNested, 'isNested') as (e: bigint, rsp: bigint, top: bigint) => unknown;
    const p = probe as { executing: string; rsp: string; top: string };
    return f(BigInt(p.executing), BigInt(p.rsp), BigInt(p.top));
  },
  judge(answer, arrival) {
    const c = scenario('building the case', () => nestingCase('rfc-2011', arrival));
    const off = c.interruptedRsp - c.nmiStackTop;
    const what = `${c.name} (executing = ${c.executing}, interrupted RSP = ${hex(c.interruptedRsp)}, T${off < 0n ? '-' : '+'}${off < 0n ? -off : off})`;
    const got = expectBoolean(answer, `isNested for the ${c.name}`);
    expectTrue(
      got === c.nested,
      `${what}: isNested says ${got ? 'nested' : 'first NMI'}, but the RFC's entry code takes the other path`,
    );
  },
});

/** ch5-ex3: linux-3.3 without its RSP test; the learner says what the explorer will find. */
export const NO_RSP_TEST_EXERCISE = breakTheDesign({
  id: 'ch5-ex3',
  design: 'linux-3.3',
  protection: 'RSP test (test_in_nmi)',
  touches: [/test_in_nmi\s+rdx/],
  workload: 'kernel',
  depth: 2,
  exceptions: 1,
  name: 'noRspTest',
  title: 'the explorer finds what removing the RSP test costs, on the schedule you gave',
  hint: 'Make the entry take first_nmi where test_in_nmi was. Which NMI did that test catch? Chapter 5 ran it ("The race after the variable is cleared"); a breakpoint in do_nmi is what lets such an NMI in.',
});

// ---- chapter 7: after 2011 -----------------------------------------------------------------------

/**
 * CVE-2015-3291 on `design`: a user program sets RSP to `userRsp` and makes system calls; an NMI
 * arrives in the syscall gap (kernel CS, user RSP). Returns how many NMIs went unserved.
 */
export function syscallGapNmi(
  design: string,
  userRsp: bigint,
  at = 'system_call_after_swapgs',
): { unserved: number; runs: number; path: string[]; failure: string | null } {
  const k = designKernel(design, 'syscall', userRsp);
  const address = /\+/.test(at) ? null : k.machine.symbol(at);
  if (address !== null) runTo(k, at);
  else {
    const [label, off] = at.split('+');
    const target = k.machine.symbol(label) + BigInt(off);
    const r = k.machine.run({ until: (m) => m.rip === target, maxSteps: 5000 });
    if (r.stop !== 'until') throw new ScenarioError(`execution did not reach ${at}`);
  }
  k.machine.raiseNmi();
  const path = labelsToIret(k);
  k.machine.run({ maxSteps: 600 });
  const f = k.failure();
  return { unserved: k.unservedNmis().length, runs: k.doNmiRuns().length, path, failure: f ? f.message : null };
}

/**
 * An exception inside the NMI handler, then a second NMI at `point`: what the second NMI's
 * raiseNmi() returns on `design`, and how many do_nmi runs follow.
 */
export function nmiAfterException(
  design: string,
  point = 'nmi_point_middle',
): { outcome: NmiOutcome; runs: number; blocked: boolean } {
  const k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runTo(k, point);
  const blocked = k.machine.nmiBlocked;
  const outcome = k.machine.raiseNmi();
  if (design !== 'unprotected') runBackTo(k, 'kernel_fault_point');
  return { outcome, runs: k.doNmiRuns().length, blocked };
}

/** ch7-ex1: predictions for the same schedule on the unprotected entry and under FRED, before the page runs it. */
export const FRED_EXERCISE = defineExercise<null>({
  id: 'ch7-ex1',
  title: 'the predictions match both machines',
  hint: 'Which return instruction ends NMI blocking under FRED, and which frames does it look at (fred.rst)? A latched NMI runs when blocking ends.',
  names: ['fredPrediction'],
  cases: [null],
  answer: (defs) => defs.fredPrediction,
  judge(answer) {
    const p = expectRecord(answer, 'fredPrediction');
    const unprotected = expectOneOf(p.unprotected, OUTCOMES, 'fredPrediction.unprotected');
    const fred = expectOneOf(p.fred, OUTCOMES, 'fredPrediction.fred');
    const runs = p.fredRuns;
    expectTrue(
      typeof runs === 'number' && Number.isInteger(runs),
      `fredPrediction.fredRuns should be a whole number, got ${describe(runs)}`,
    );
    const u = nmiAfterException('unprotected');
    const f = nmiAfterException('fred');
    expectTrue(
      unprotected === u.outcome,
      `fredPrediction.unprotected: on the unprotected entry the second NMI is not ${unprotected} (is NMI blocking still on after the #BP handler returned?)`,
    );
    expectTrue(fred === f.outcome, `fredPrediction.fred: under FRED the second NMI is not ${fred}`);
    expectTrue(
      runs === f.runs,
      `fredPrediction.fredRuns: do_nmi does not run ${runs} time(s) under FRED once everything has returned`,
    );
  },
});

/** ch7-ex2: linux-4.2 without its DF test; the learner says what the explorer will find. */
export const NO_DF_TEST_EXERCISE = breakTheDesign({
  id: 'ch7-ex2',
  design: 'linux-4.2',
  protection: 'DF test (the testb of X86_EFLAGS_DF and its jz)',
  touches: [/X86_EFLAGS_DF/, /^\s*jz\s+first_nmi/],
  workload: 'syscall',
  depth: 1,
  exceptions: 0,
  name: 'noDfTest',
  title: 'the explorer finds what removing the DF test costs, on the schedule you gave',
  hint: 'Which interrupted contexts pass the RSP test but have DF clear? Chapter 6 showed the schedule string for a user RSP (rsp=...) and where the syscall entry starts.',
});

/** The instructions of the harness's system-call path, from system_call to its SYSRET, as label+offset. */
export function syscallPath(design: string): { address: bigint; where: string }[] {
  const k = designKernel(design, 'syscall');
  const start = k.machine.symbol('system_call');
  const out: { address: bigint; where: string }[] = [];
  const insns = k.program.instructions
    .filter((i) => i.address >= start)
    .sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const i of insns) {
    out.push({ address: i.address, where: normalLabel(k.where(i.address)) });
    if (/^\s*sysret/.test(i.text)) break;
  }
  return out;
}

const gapCache = new Map<string, string[]>();

/** Where on the system-call path an NMI, with the user's RSP inside the NMI stack, is lost on `design`. */
export function gapInstructionsObserved(design: string): string[] {
  const known = gapCache.get(design);
  if (known) return known;
  const evil = LAYOUT.nmiStackTop - 0x80n;
  const lost: string[] = [];
  for (const i of syscallPath(design)) {
    const k = designKernel(design, 'syscall', evil);
    const r = k.machine.run({ until: (m) => m.rip === i.address, maxSteps: 5000 });
    if (r.stop !== 'until') continue;
    k.machine.raiseNmi();
    k.machine.run({ maxSteps: 800 });
    if (k.unservedNmis().length > 0) lost.push(i.where);
  }
  gapCache.set(design, lost);
  return lost;
}

/** ch7-ex3: every instruction of the system-call path where linux-3.3 loses the NMI of CVE-2015-3291. */
export const GAP_EXERCISE = defineExercise<string>({
  id: 'ch7-ex3',
  title: 'the list of instructions where linux-3.3 loses the NMI is complete and exact',
  hint: 'The NMI is lost wherever the CPU runs with kernel CS and the user’s RSP. Read the system-call path in kernel-lib/harness/kernel.S from system_call to the SYSRET: where does RSP become the kernel’s, and is that the only place RSP changes?',
  names: ['gapInstructions'],
  cases: ['linux-3.3'],
  answer: (defs) => defs.gapInstructions,
  judge(answer, design) {
    const list = expectArray(answer, 'gapInstructions');
    const given = list.map((x, i) => normalLabel(expectString(x, `gapInstructions[${i}]`)));
    const path = syscallPath(design).map((p) => p.where);
    for (const g of given)
      expectTrue(
        path.indexOf(g) >= 0,
        `gapInstructions: ${describe(g)} is not an instruction of the system-call path (write label+0xOFFSET, e.g. system_call+0x0 or system_call_after_swapgs+0x9)`,
      );
    const truth = gapInstructionsObserved(design);
    const handled = given.filter((g) => truth.indexOf(g) < 0);
    expectTrue(
      handled.length === 0,
      `gapInstructions: on ${design} an NMI at ${handled.join(', ')} is handled (where is RSP there?)`,
    );
    const missing = truth.filter((t) => given.indexOf(t) < 0);
    expectTrue(
      missing.length === 0,
      `gapInstructions: ${design} loses the NMI at more instructions than the ones you listed`,
    );
  },
});
