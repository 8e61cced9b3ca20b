// The checks behind the exercises of the design chapters (2 onwards). Each builds its own harness
// kernels, runs the scenario, and compares the learner's answer with what the machine did: the
// expected answers are never typed in here, they are observed.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import type { ExceptionKind, Kernel, WorkloadId } from '../harness/kernel';
import { LAYOUT, EXCEPTION_STKSZ } from '../harness/layout';
import type { NmiOutcome } from '../machine/machine';
import { CheckFailure, describe, expectEqual, expectTrue } from './checks';
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

function expectFunction(fn: unknown, name: string): (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw new CheckFailure(`${name} should be a function, got ${describe(fn)}`);
  return fn as (...args: never[]) => unknown;
}

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

// ---- chapter 2: the unprotected entry ------------------------------------------------------------

/** The five slot names of a hardware frame, top (highest address) first. */
export const FRAME_SLOTS = ['SS', 'RSP', 'RFLAGS', 'CS', 'RIP'] as const;
export type FrameSlot = (typeof FRAME_SLOTS)[number];

/**
 * Chapter 2's story, observed: the unprotected design, a #BP at `point` in the first do_nmi run,
 * a second NMI as soon as NMIs are unblocked there. Returns which hardware-frame slots changed
 * value, where the first NMI's frame sends it back afterwards, and whether do_nmi was re-entered.
 */
export function unprotectedNesting(
  point = 'nmi_point_middle',
  kind: ExceptionKind = 'bp',
): {
  changed: FrameSlot[];
  returnsTo: string;
  reentered: boolean;
  kernel: Kernel;
} {
  const k = designKernel('unprotected');
  const m = k.machine;
  runTo(k, 'kernel_fault_point');
  m.raiseNmi();
  k.armException({ at: point, kind, run: 1 });
  runToUnblocked(k, point);
  const before = FRAME_SLOTS.map((_, i) => k.nmiStackSlot(-8 - 8 * i));
  m.raiseNmi();
  const changed = FRAME_SLOTS.filter((_, i) => k.nmiStackSlot(-8 - 8 * i) !== before[i]);
  const returnsTo = k.where(k.nmiStackSlot(-40)).replace(/\+0$/, '');
  runTo(k, 'do_nmi_return');
  const reentered = k.doNmiRuns().some((r) => r.reentered);
  return { changed, returnsTo, reentered, kernel: k };
}

/** ch2-ex1: which slots of the first NMI's frame the nested NMI changes, and where that frame returns to then. */
export function checkOverwritePrediction(changedSlots: unknown, returnsTo: unknown): void {
  const truth = unprotectedNesting();
  expectTrue(
    Array.isArray(changedSlots),
    `changedSlots should be a list of slot names such as 'RIP', got ${describe(changedSlots)}`,
  );
  const given = (changedSlots as unknown[]).map((s) => String(s).toUpperCase()).sort();
  const expected = truth.changed.slice().sort();
  expectTrue(
    given.length === expected.length && given.every((s, i) => s === expected[i]),
    `the slots whose value the nested NMI changes: you said ${describe(given)}; count again (CS and SS hold the same selectors in both frames)`,
  );
  expectEqual(
    String(returnsTo).replace(/\+0$/, ''),
    truth.returnsTo,
    'the label the first NMI frame returns to after the nested NMI',
  );
}

/**
 * ch2-ex2: `reenter(k, point, kind)` drives a fresh unprotected kernel (at its steady state) so
 * that do_nmi is re-entered: a first NMI, the exception `kind` armed at `point` for that first
 * run, and a second NMI once NMIs are unblocked there. The check runs the kernel on to see it.
 */
export function checkReenter(fn: unknown, options: { hidden?: boolean } = {}): void {
  const f = expectFunction(fn, 'reenter') as (k: Kernel, point: string, kind: ExceptionKind) => unknown;
  const cases: [string, ExceptionKind][] = options.hidden
    ? [
        ['nmi_point_early', 'pf'],
        ['nmi_point_late', 'db'],
      ]
    : [['nmi_point_middle', 'bp']];
  for (const [point, kind] of cases) {
    const k = designKernel('unprotected');
    f(k, point, kind);
    const deliveries = k.machine.log.filter((e) => e.kind === 'deliver' && e.name === 'NMI').length;
    expectTrue(deliveries >= 2, `with ${kind} at ${point}: ${deliveries} NMI(s) delivered; reenter should raise two`);
    k.machine.run({
      until: (m) => m.symbolize(m.rip) === 'do_nmi_return+0' && k.doNmiRuns().length >= 2,
      maxSteps: 3000,
    });
    const runs = k.doNmiRuns();
    expectTrue(
      runs.length >= 2,
      `with ${kind} at ${point}: do_nmi ran ${runs.length} time(s); the second NMI must arrive while the first run is still going`,
    );
    expectTrue(
      runs.some((r) => r.reentered),
      `with ${kind} at ${point}: the second run of do_nmi began after the first finished, so nothing was re-entered (raise the NMI at ${point}, after the exception's IRET)`,
    );
  }
}

// ---- chapter 5: repeat_nmi -----------------------------------------------------------------------

/** ch5-ex1: what the nested NMI writes into the copied frame, as observed on linux-3.3. */
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

export function checkCopiedFrame(answer: unknown): void {
  expectTrue(
    typeof answer === 'object' && answer !== null,
    `copiedAfterNested should be an object { rip, cs, rsp, ss }, got ${describe(answer)}`,
  );
  const a = answer as { rip?: unknown; cs?: unknown; rsp?: unknown; ss?: unknown };
  for (const design of ['linux-3.3', 'rfc-2011']) {
    const t = nestedCopiedFrame(design);
    expectEqual(a.rip, t.rip, `${design}: the copied RIP (a label)`);
    expectEqual(a.cs, t.cs, `${design}: the copied CS (a bigint selector)`);
    expectEqual(
      a.rsp,
      t.rsp,
      `${design}: the copied RSP, as a byte offset from the NMI stack top T (a negative number)`,
    );
    expectEqual(a.ss, t.ss, `${design}: the copied SS (a bigint selector)`);
  }
}

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
  expectEqual(m.raiseNmi(), 'delivered' as NmiOutcome, `${name}: the NMI`);
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

/**
 * NMI arrivals the RFC's two tests must tell apart, each run on `design` and classified by the
 * path the design took. `hidden` adds arrivals from user mode and from the debug stack.
 */
export function nestingCases(design = 'rfc-2011', hidden = false): NestingCase[] {
  const out: NestingCase[] = [];
  const safeNestAt = design === 'rfc-2011' ? 'nmi_restore' : 'nmi_point_middle';
  let k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  out.push(observeArrival(k, 'NMI interrupting kernel code on the task stack'));

  k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, safeNestAt);
  out.push(observeArrival(k, "NMI inside the first NMI, after a breakpoint's IRET"));

  k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, 'irq_return');
  out.push(observeArrival(k, 'NMI after "NMI executing" was cleared, before the final IRET'));

  k = designKernel(design);
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 });
  runTo(k, 'int3', (kk) => !kk.machine.nmiBlocked);
  k.machine.step();
  out.push(observeArrival(k, 'NMI while the first NMI is in its second breakpoint handler, on the debug stack'));

  if (hidden) {
    k = designKernel(design, 'user', LAYOUT.nmiStackTop - 0x80n);
    k.machine.run({ maxSteps: 5 });
    out.push(observeArrival(k, 'NMI from user mode, whose RSP happens to point into the NMI stack'));

    k = designKernel(design, 'debug');
    out.push(observeArrival(k, 'NMI interrupting a breakpoint handler on the debug stack, no NMI running'));
  }
  return out;
}

/** ch5-ex2: `isNested(executing, interruptedRsp, nmiStackTop)` decides as the RFC's entry code does. */
export function checkIsNested(fn: unknown, options: { hidden?: boolean } = {}): void {
  const f = expectFunction(fn, 'isNested') as (executing: bigint, rsp: bigint, top: bigint) => unknown;
  const cases = scenario('building the cases', () => nestingCases('rfc-2011', options.hidden === true));
  for (const c of cases) {
    const got = f(c.executing, c.interruptedRsp, c.nmiStackTop);
    expectTrue(typeof got === 'boolean', `isNested should return true or false, got ${describe(got)}`);
    expectEqual(
      got,
      c.nested,
      `${c.name} (executing = ${c.executing}, interrupted RSP = ${hex(c.interruptedRsp)}, T = ${hex(c.nmiStackTop)}): the RFC ${c.nested ? 'takes it as nested' : 'takes it as a first NMI'}; isNested`,
    );
  }
}

// ---- chapter 7: after 2011 -----------------------------------------------------------------------

/**
 * CVE-2015-3291 on `design`: a user program sets RSP to `userRsp` and makes system calls; an NMI
 * arrives in the syscall gap (kernel CS, user RSP). Returns how many NMIs went unserved.
 */
export function syscallGapNmi(
  design: string,
  userRsp: bigint,
): { unserved: number; runs: number; path: string[]; failure: string | null } {
  const k = designKernel(design, 'syscall', userRsp);
  runTo(k, 'system_call_after_swapgs');
  k.machine.raiseNmi();
  const path = labelsToIret(k);
  k.machine.run({ maxSteps: 600 });
  const f = k.failure();
  return { unserved: k.unservedNmis().length, runs: k.doNmiRuns().length, path, failure: f ? f.message : null };
}

/** ch7-ex1: a user RSP that makes linux-3.3 lose the syscall-gap NMI (and that linux-4.2 survives). */
export function checkSkippedNmi(userRsp: unknown, options: { hidden?: boolean } = {}): void {
  expectTrue(typeof userRsp === 'bigint', `evilRsp should be a bigint address, got ${describe(userRsp)}`);
  const rsp = userRsp as bigint;
  expectTrue(rsp % 8n === 0n, `keep evilRsp 8-byte aligned (got ${hex(rsp)})`);
  const mapped =
    (rsp > LAYOUT.nmiStackTop - BigInt(EXCEPTION_STKSZ) && rsp <= LAYOUT.nmiStackTop) ||
    (rsp > LAYOUT.userStackTop - BigInt(LAYOUT.userStackSize) && rsp <= LAYOUT.userStackTop);
  expectTrue(
    mapped,
    `${hex(rsp)} is neither inside the NMI stack nor the user stack; the harness only maps those for this workload`,
  );
  const old = scenario('linux-3.3', () => syscallGapNmi('linux-3.3', rsp));
  expectTrue(
    old.unserved === 1,
    `on linux-3.3 the NMI took the path ${old.path.join(' -> ')} and was served (${old.runs} do_nmi run); pick an RSP that makes the entry code think it interrupted an NMI`,
  );
  if (options.hidden) {
    const fixed = scenario('linux-4.2', () => syscallGapNmi('linux-4.2', rsp));
    expectEqual(fixed.unserved, 0, 'NMIs lost by linux-4.2 with the same RSP');
    expectEqual(fixed.failure, null, 'linux-4.2 failure');
  }
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

/** ch7-ex2: predictions for the same schedule on the unprotected entry and under FRED. */
export function checkFredPrediction(predicted: unknown): void {
  expectTrue(
    typeof predicted === 'object' && predicted !== null,
    `fredPrediction should be an object, got ${describe(predicted)}`,
  );
  const p = predicted as { unprotected?: unknown; fred?: unknown; fredRuns?: unknown };
  const u = nmiAfterException('unprotected');
  const f = nmiAfterException('fred');
  expectEqual(p.unprotected, u.outcome, "raiseNmi() on the unprotected entry, after the #BP handler's IRET");
  expectEqual(p.fred, f.outcome, "raiseNmi() under FRED, after the #BP handler's ERETS");
  expectEqual(p.fredRuns, f.runs, 'do_nmi runs under FRED once everything has returned');
}

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

/** ch3-ex1: the proposal's premise ("NMI's will stay masked") against the SDM, observed. */
export function checkFaultingIret(unblockedBeforeFault: unknown, nmiInFaultPath: unknown): void {
  const t = faultingIretObserved();
  expectEqual(
    unblockedBeforeFault,
    t.unblockedBeforeFault,
    'NMI blocking ended before the #GP of the faulting IRET was delivered',
  );
  expectEqual(nmiInFaultPath, t.nmiInFaultPath, 'raiseNmi() at the first instruction of the fault path');
}

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
export function checkGsTrap(choice: unknown): void {
  expectTrue(
    typeof choice === 'object' && choice !== null,
    `gsTrap should be an object { workload, at }, got ${describe(choice)}`,
  );
  const c = choice as { workload?: unknown; at?: unknown };
  expectTrue(
    typeof c.workload === 'string' && ['kernel', 'user', 'syscall', 'debug'].indexOf(c.workload) >= 0,
    `gsTrap.workload should be one of 'kernel', 'user', 'syscall', 'debug', got ${describe(c.workload)}`,
  );
  expectTrue(typeof c.at === 'string' && c.at !== '', `gsTrap.at should be a label, got ${describe(c.at)}`);
  const r = scenario(`${c.workload} workload, NMI at ${c.at}`, () =>
    linusNmiAt(c.workload as WorkloadId, c.at as string),
  );
  expectTrue(r.gsWasUser, `at ${c.at} GS already holds the kernel's per-CPU base, so the entry can read its pointer`);
  expectTrue(
    r.failure !== null,
    `an NMI at ${c.at} was handled (${r.runs} do_nmi run): the entry decided to SWAPGS correctly there. Where is the CPU in kernel mode with the user's GS?`,
  );
}

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

export function checkIretFaultGs(predicted: unknown): void {
  const t = iretFaultGsAfter();
  expectEqual(predicted, t.gs, "the GS base the interrupted kernel code runs with afterwards ('kernel' or 'user')");
}

/**
 * ch4-ex2: `nmiStorm(k)` installs a boundary hook (k.onBoundary) that raises one NMI during every run
 * of do_nmi, at nmi_point_middle. With a #BP in the first run, the reconstruction double-faults;
 * without it, every NMI is latched and served.
 */
export function checkNmiStorm(fn: unknown, options: { hidden?: boolean } = {}): void {
  const f = expectFunction(fn, 'nmiStorm') as (k: Kernel) => unknown;
  const k = designKernel('iret-fault');
  runTo(k, 'kernel_fault_point');
  k.machine.raiseNmi();
  if (!options.hidden) k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  f(k);
  k.machine.run({ maxSteps: options.hidden ? 6000 : 50_000 });
  const failure = k.failure();
  const delivered = k.machine.log.filter((e) => e.kind === 'deliver' && e.name === 'NMI').length;
  const latched = k.machine.log.filter((e) => e.kind === 'nmi-latched').length;
  if (options.hidden) {
    expectEqual(failure, null, 'the failure without the breakpoint (every NMI should wait in the latch)');
    expectTrue(
      k.doNmiRuns().length > 5 && latched > 5,
      `without the breakpoint: ${k.doNmiRuns().length} do_nmi runs and ${latched} latched NMIs; the hook should raise one NMI in every run`,
    );
    return;
  }
  expectTrue(
    delivered > 10,
    `${delivered} NMIs delivered: the hook should raise one NMI in every run of do_nmi (compare k.percpu('nmi_runs') with the last run you saw)`,
  );
  expectTrue(
    failure !== null && failure.message === 'double fault',
    `the storm should end in a double fault; the kernel reports ${failure ? failure.message : 'no failure'}`,
  );
}
