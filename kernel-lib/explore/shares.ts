// The explorer's unit of work: one share of a workload's root branches, explored on a kernel of
// its own. Plain data in and out, so that a share runs the same in this thread, in a Node worker
// thread (pool.ts, worker.ts) or anywhere else the library runs.
import { buildKernel, primeAssembledDesign } from '../harness/kernel';
import type { AssembleDesignResult, WorkloadId } from '../harness/kernel';
import { designBehaviourKey, Design } from '../designs/manifest';
import type { InvariantId } from './invariants';
import type { SearchBound } from './bound';
import { Explorer, FoundViolation } from './search';
import type { ScheduleEvent } from './schedule';
import { labelSchedule } from './resolve';

/** What one share of the root branches found (plain data: crosses worker threads). */
export interface ShareResult {
  schedules: number;
  runs: number;
  visits: number;
  states: number;
  hits: number;
  steps: number;
  violations: {
    invariant: InvariantId;
    events: { kind: ScheduleEvent['kind']; step: number; at: string }[];
    summary: string;
    /** The schedule by labels (labelSchedule), worked out where it was found. */
    label: string;
  }[];
}

export interface ShareTask {
  design: Design;
  workload: WorkloadId;
  userRsp?: string;
  bound: SearchBound;
  index: number;
  of: number;
}

function explorerFor(t: ShareTask): Explorer {
  const k = buildKernel({
    design: t.design,
    workload: t.workload,
    userRsp: t.userRsp === undefined ? undefined : BigInt(t.userRsp),
  });
  const ex = new Explorer(k, t.bound);
  ex.prepareRoot();
  return ex;
}

// Labels of violations already labelled (an explorer keeps its best ones from share to share).
const labels = new WeakMap<FoundViolation, string>();

/**
 * The violation's schedule by labels. Worked out by the explorer that found it, on its own kernel
 * and with its code warm: the main thread would build a kernel per workload, cold, for each report.
 */
function labelOf(ex: Explorer, v: FoundViolation, userRsp: bigint | undefined): string {
  let label = labels.get(v);
  if (label === undefined) {
    label = ex.withKernel((k) => labelSchedule(k, { userRsp, events: v.events }));
    labels.set(v, label);
  }
  return label;
}

/** Explore the task's share of root branches with `ex`; what it adds to the explorer's counts. */
function runShare(ex: Explorer, t: ShareTask): ShareResult {
  const before = { ...ex.stats };
  ex.exploreRoot(
    ex.rootBranches().filter((_, i) => i % t.of === t.index),
    t.index === 0,
  );
  const s = ex.stats;
  const rsp = t.userRsp === undefined ? undefined : BigInt(t.userRsp);
  return {
    schedules: s.schedules - before.schedules,
    runs: s.runs - before.runs,
    visits: s.visits - before.visits,
    states: s.states - before.states,
    hits: s.hits - before.hits,
    steps: s.steps - before.steps,
    violations: [...ex.best.values()].map((v) => ({
      invariant: v.invariant,
      summary: v.summary,
      events: v.events.map((e) => ({ kind: e.kind, step: e.step, at: e.at.toString() })),
      label: labelOf(ex, v, rsp),
    })),
  };
}

/** Explore every `of`-th root branch starting at `index`, on a fresh explorer. */
export function exploreShare(t: ShareTask): ShareResult {
  const ex = explorerFor(t);
  try {
    return runShare(ex, t);
  } finally {
    ex.detach();
  }
}

// A worker keeps the explorer of the workload it is on, so that its next share of the same
// workload starts warm and finds the states its earlier shares stored.
let cached: { key: string; explorer: Explorer } | null = null;

/** exploreShare() for pool workers: reuses the explorer of the previous task when it is for the same workload. */
export function exploreShareCached(t: ShareTask): ShareResult {
  const key = JSON.stringify([designBehaviourKey(t.design), t.workload, t.userRsp ?? null, t.bound]);
  if (cached === null || cached.key !== key) {
    cached?.explorer.detach();
    cached = { key, explorer: explorerFor(t) };
  }
  return runShare(cached.explorer, t);
}

/** What a worker is sent before its tasks: the design's program, assembled by the main thread. */
export interface WorkerPrime {
  design: Design;
  assembled: AssembleDesignResult;
}

export function primeWorker(p: WorkerPrime): void {
  primeAssembledDesign(p.design, p.assembled);
}
