// The explorer's public face: explore a design on its workloads within a bound, in this thread or
// on a pool of workers. Everything reported comes from running the design; nothing is looked up.
import { assembleDesign, buildKernel, WORKLOADS } from '../harness/kernel';
import type { Kernel, WorkloadId } from '../harness/kernel';
import { EXCEPTION_STKSZ, LAYOUT } from '../harness/layout';
import type { Design } from '../designs/manifest';
import { resolveDesign } from '../designs/registry';
import { INVARIANTS, InvariantId } from './invariants';
import { DEFAULT_BOUND } from './bound';
import type { SearchBound } from './bound';
import { Explorer } from './search';
import { Schedule, ScheduleEvent, compareSchedules, formatScheduleSteps } from './schedule';
import { exploreShare, ShareResult, ShareTask, WorkerPrime } from './shares';
import { userRspsFor, ViolationReport, WorkloadReport } from './report';

export type { ViolationReport, WorkloadReport } from './report';
import { createPool, TimedResult } from './pool';

export interface ExploreOptions {
  /** A shipped design's id, or a Design (loadDesignFromSource). */
  design: string | Design;
  /** One workload, or all of them (default). */
  workload?: WorkloadId;
  /** Most NMIs per episode (default 2). */
  depth?: number;
  /** Most exceptions the schedule raises per episode (default 1). */
  exceptions?: number;
  /** Steps after the last event before a run counts as a hang (default 5000). */
  maxStepsAfterEvent?: number;
  /**
   * User RSPs tried for the user-mode workloads (the user controls RSP): default the user stack
   * top and an address inside the NMI stack (CVE-2015-3291's trick).
   */
  userRsps?: bigint[];
  /** Worker threads (default: 0, in this thread; the CLI uses one per core). */
  workers?: number;
  /** Explore even when the estimate is above `limitRuns`. */
  force?: boolean;
  /** Refuse above this many estimated runs (default 12,000,000: depth 3 runs, depth 4 is refused). */
  limitRuns?: number;
}

export interface Estimate {
  workload: WorkloadId;
  firstEventPoints: number;
  episodeBoundaries: number;
  estimatedSchedules: number;
  estimatedRuns: number;
}

export class ExploreRefused extends Error {
  constructor(
    readonly estimates: Estimate[],
    limit: number,
  ) {
    super(
      `the bound is too large: about ${Math.round(estimates.reduce((a, e) => a + e.estimatedRuns, 0)).toLocaleString('en-US')} runs estimated (limit ${limit.toLocaleString('en-US')}); lower --depth or --exceptions, pass --force, or draw random schedules with --sample N`,
    );
  }
}

function boundOf(o: ExploreOptions): SearchBound {
  return {
    depth: o.depth ?? DEFAULT_BOUND.depth,
    exceptions: o.exceptions ?? DEFAULT_BOUND.exceptions,
    maxStepsAfterEvent: o.maxStepsAfterEvent ?? DEFAULT_BOUND.maxStepsAfterEvent,
  };
}

/** Estimate the work before starting: first-event points x episode length ^ (depth - 1) x exception choices. */
export function estimate(
  design: string | Design,
  workload: WorkloadId,
  o: Omit<ExploreOptions, 'design'> = {},
): Estimate {
  const bound = boundOf({ ...o, design });
  const k = buildKernel({ design: resolveDesign(design), workload });
  const ex = new Explorer(k, bound);
  const root = ex.prepareRoot();
  ex.detach();
  // One undisturbed episode: an NMI at the steady state, until the interrupted code runs again.
  k.reset();
  const m = k.machine;
  m.raiseNmi();
  let boundaries = 0;
  m.run({
    maxSteps: 5000,
    until: () =>
      boundaries++ > 0 && !m.nmiBlocked && m.cpl === k.steadyState.machine.cpu.cpl && m.rip >= 0n && !inHandler(k),
  });
  const L = Math.max(boundaries, 10);
  const X = k.exceptionPoints.filter((p) => p.in === 'do_nmi').reduce((a, p) => a + p.kinds.length, 0);
  const variants = userRspsFor(workload, o.userRsps).length;
  const schedules = variants * root.branches * Math.pow(L, bound.depth - 1) * Math.pow(1 + X, bound.exceptions);
  // Latched NMIs and explored states cut most runs short: about one run in six (measured on linux-3.3).
  return {
    workload,
    firstEventPoints: root.branches,
    episodeBoundaries: L,
    estimatedSchedules: schedules,
    estimatedRuns: schedules / 6,
  };
}

function inHandler(k: Kernel): boolean {
  const rsp = k.machine.reg('rsp');
  return rsp <= LAYOUT.nmiStackTop && rsp > LAYOUT.nmiStackTop - BigInt(EXCEPTION_STKSZ);
}

function toEvents(v: ShareResult['violations'][number]): ScheduleEvent[] {
  return v.events.map((e) => ({ kind: e.kind, step: e.step, at: BigInt(e.at) }));
}

/** Shares per user-RSP variant when workers explore: several per worker, so that they finish together. */
const SHARES_PER_WORKER = 4;

/** The shares a workload's exploration is cut into: one per user-RSP variant, or several per worker. */
function sharesOf(o: ExploreOptions, workload: WorkloadId, parallel: boolean): ShareTask[] {
  const design = resolveDesign(o.design);
  const bound = boundOf(o);
  const tasks: ShareTask[] = [];
  for (const rsp of userRspsFor(workload, o.userRsps)) {
    const of = parallel ? Math.max(1, o.workers ?? 1) * SHARES_PER_WORKER : 1;
    for (let i = 0; i < of; i++)
      tasks.push({ design, workload, userRsp: rsp === undefined ? undefined : rsp.toString(), bound, index: i, of });
  }
  return tasks;
}

/** One workload's report from its shares' results. */
function reportOf(
  o: ExploreOptions,
  workload: WorkloadId,
  tasks: readonly ShareTask[],
  results: readonly ShareResult[],
  ms: number,
): WorkloadReport {
  const design = resolveDesign(o.design);
  const bound = boundOf(o);
  const total: ShareResult = { schedules: 0, runs: 0, visits: 0, states: 0, hits: 0, steps: 0, violations: [] };
  const best = new Map<InvariantId, { v: ShareResult['violations'][number]; rsp?: bigint }>();
  results.forEach((r, i) => {
    const rsp = tasks[i].userRsp === undefined ? undefined : BigInt(tasks[i].userRsp as string);
    total.schedules += r.schedules;
    total.runs += r.runs;
    total.visits += r.visits;
    total.states += r.states;
    total.hits += r.hits;
    total.steps += r.steps;
    for (const v of r.violations) {
      const old = best.get(v.invariant);
      if (old === undefined || compareSchedules(toEvents(v), toEvents(old.v)) < 0) best.set(v.invariant, { v, rsp });
    }
  });
  const violations: ViolationReport[] = [];
  for (const info of INVARIANTS) {
    const b = best.get(info.id);
    if (b === undefined) continue;
    const schedule: Schedule = { userRsp: b.rsp, events: toEvents(b.v) };
    violations.push({
      invariant: info.id,
      number: info.number,
      title: info.title,
      schedule: b.v.label,
      scheduleSteps: formatScheduleSteps(schedule),
      events: schedule.events,
      ...(b.rsp !== undefined ? { userRsp: b.rsp } : {}),
      summary: b.v.summary,
    });
  }
  return {
    design: design.id,
    workload,
    depth: bound.depth,
    exceptions: bound.exceptions,
    verdict: violations.length === 0 ? 'clean' : 'violated',
    schedules: total.schedules,
    states: total.states,
    runs: total.runs,
    dedupRatio: total.states === 0 ? 1 : Number((total.visits / total.states).toFixed(3)),
    schedulesPerRun: total.runs === 0 ? 1 : Number((total.schedules / total.runs).toFixed(2)),
    steps: total.steps,
    ms,
    userRsps: userRspsFor(workload, o.userRsps).map((r) => (r === undefined ? 'default' : `0x${r.toString(16)}`)),
    violations,
  };
}

/** Explore one workload (all its user-RSP variants), on `workers` threads (0: this one). */
export async function exploreWorkload(o: ExploreOptions & { workload: WorkloadId }): Promise<WorkloadReport> {
  return (await exploreDesign({ ...o, force: true }))[0];
}

/** Explore a design on one workload or all; throws ExploreRefused when the bound is too large. */
export async function exploreDesign(o: ExploreOptions): Promise<WorkloadReport[]> {
  const workloads = o.workload !== undefined ? [o.workload] : [...WORKLOADS];
  if (!o.force) {
    // linux-3.3 at depth 3 (estimated 5.8 million runs, 11.6 million in fact) takes 30-45 s on
    // two cores; at depth 4 the estimate is about 530 million, hours.
    const limit = o.limitRuns ?? 12_000_000;
    const estimates = workloads.map((w) => estimate(o.design, w, o));
    if (estimates.reduce((a, e) => a + e.estimatedRuns, 0) > limit) throw new ExploreRefused(estimates, limit);
  }
  const workers = Math.max(0, o.workers ?? 0);
  if (workers === 0) {
    return workloads.map((w) => {
      const t0 = Date.now();
      const tasks = sharesOf(o, w, false);
      const results = tasks.map(exploreShare);
      return reportOf(o, w, tasks, results, Date.now() - t0);
    });
  }
  // Every workload's shares in one queue on one pool: workers stay warm from one workload to the
  // next and none waits for the last share of a workload. A workload's time is from its first
  // share taken to its last one finished.
  const perWorkload = workloads.map((w) => sharesOf(o, w, true));
  const pool = createPool(workers);
  let timed: TimedResult[];
  try {
    // Assemble here while the workers start, once for all of them (and for the reports' labels).
    const design = resolveDesign(o.design);
    pool.broadcast({ prime: { design, assembled: assembleDesign(design) } satisfies WorkerPrime });
    timed = await pool.run(perWorkload.flat());
  } catch (e) {
    await pool.close();
    throw e;
  }
  // The workers wind down while the reports are written.
  const closing = pool.close();
  let at = 0;
  const reports = workloads.map((w, i) => {
    const tasks = perWorkload[i];
    const mine = timed.slice(at, at + tasks.length);
    at += tasks.length;
    const ms = Math.max(...mine.map((t) => t.finished)) - Math.min(...mine.map((t) => t.started));
    return reportOf(
      o,
      w,
      tasks,
      mine.map((t) => t.result),
      ms,
    );
  });
  await closing;
  return reports;
}
