// Random sampling of schedules, for bounds too large to explore exhaustively (say linux-3.3 at
// depth 4, some 5×10^8 runs). Each sample is one random path down the same tree the exhaustive
// search walks: the first event at a random root boundary, then, while the bound allows and a
// coin says go on, another event at a random boundary where one may arrive in the run so far.
// Every sample is checked against every invariant by replaying it from the steady state
// (Explorer.evaluate, the verdict `nmi-lab replay` prints). Sampling finds violations; it
// proves nothing clean: its report says how many distinct schedules it tried, never "all".
import { buildKernel, WORKLOADS } from '../harness/kernel';
import type { WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import { resolveDesign } from '../designs/registry';
import { INVARIANTS, InvariantId } from './invariants';
import { DEFAULT_BOUND } from './bound';
import { Explorer, FoundViolation } from './search';
import { Schedule, ScheduleEvent, compareSchedules, formatScheduleSteps } from './schedule';
import { labelSchedule } from './resolve';
import { userRspsFor, ViolationReport } from './report';

export interface SampleOptions {
  design: string | Design;
  workload?: WorkloadId;
  /** Most NMIs per schedule (default 2). */
  depth?: number;
  /** Most exceptions per schedule (default 1). */
  exceptions?: number;
  /** Schedules to draw per workload. */
  samples: number;
  /** Seed of the pseudo-random choices: the same seed draws the same schedules (default 1). */
  seed?: number;
  maxStepsAfterEvent?: number;
  userRsps?: bigint[];
}

export interface SampleReport {
  design: string;
  workload: WorkloadId;
  mode: 'sampled';
  depth: number;
  exceptions: number;
  seed: number;
  /** Schedules drawn, and how many of them were distinct. */
  samples: number;
  distinct: number;
  /** 'violated' when a sample broke an invariant; 'none found' is not a proof. */
  verdict: 'violated' | 'none found';
  steps: number;
  ms: number;
  userRsps: string[];
  violations: ViolationReport[];
}

/** Chance of adding another event while the bound allows one (so 1, 2, 3... events all occur). */
const GO_ON = 0.75;

/** Samples per workload above which sampling asks for confirmation (a typo, not a plan). */
export const MAX_SAMPLES = 1_000_000;

/** A small seeded generator (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))];
}

interface Variant {
  userRsp: bigint | undefined;
  explorer: Explorer;
  first: ScheduleEvent[];
}

/** Draw `samples` random schedules on one workload and check each. */
export function sampleWorkload(o: SampleOptions & { workload: WorkloadId }): SampleReport {
  const t0 = Date.now();
  const design = resolveDesign(o.design);
  if (!Number.isSafeInteger(o.samples) || o.samples <= 0)
    throw new Error(`samples must be a positive integer, not ${o.samples}`);
  if (o.samples > MAX_SAMPLES)
    throw new Error(
      `${o.samples} samples is more than ${MAX_SAMPLES.toLocaleString('en-US')} per workload: explore exhaustively instead, or sample in batches`,
    );
  const depth = o.depth ?? DEFAULT_BOUND.depth;
  const exceptions = o.exceptions ?? DEFAULT_BOUND.exceptions;
  const seed = o.seed ?? 1;
  const bound = { depth, exceptions, maxStepsAfterEvent: o.maxStepsAfterEvent ?? DEFAULT_BOUND.maxStepsAfterEvent };
  const variants: Variant[] = userRspsFor(o.workload, o.userRsps).map((userRsp) => {
    const explorer = new Explorer(buildKernel({ design, workload: o.workload, userRsp }), bound);
    return { userRsp, explorer, first: explorer.firstEvents() };
  });
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const best = new Map<InvariantId, { violation: FoundViolation; userRsp?: bigint }>();
  let steps = 0;
  try {
    for (let s = 0; s < o.samples; s++) {
      const v = pick(variants, random);
      const events: ScheduleEvent[] = [];
      let choices = v.first;
      let nmis = 0;
      let excs = 0;
      let verdict: ReturnType<Explorer['evaluate']> | null = null;
      while (choices.length > 0 && (events.length === 0 || random() < GO_ON)) {
        const e = pick(choices, random);
        events.push(e);
        if (e.kind === 'nmi') nmis++;
        else excs++;
        verdict = v.explorer.evaluate(events, { nmis: depth - nmis, exceptions: exceptions - excs });
        // Each check replays the schedule from the steady state.
        steps += v.explorer.machine.steps - v.explorer.kernel.steadyState.machine.cpu.steps;
        if (verdict.error !== undefined)
          throw new Error(`sampling drew a schedule its own replay rejects: ${verdict.error}`);
        choices = verdict.next;
      }
      if (verdict === null) break; // the workload offers no first event at all
      seen.add(`${v.userRsp ?? ''}|${formatScheduleSteps({ events })}`);
      for (const found of verdict.violations) {
        const old = best.get(found.invariant);
        if (old === undefined || compareSchedules(found.events, old.violation.events) < 0)
          best.set(found.invariant, { violation: found, userRsp: v.userRsp });
      }
    }
  } finally {
    for (const v of variants) v.explorer.detach();
  }
  const violations: ViolationReport[] = [];
  for (const info of INVARIANTS) {
    const b = best.get(info.id);
    if (b === undefined) continue;
    const schedule: Schedule = { userRsp: b.userRsp, events: b.violation.events };
    violations.push({
      invariant: info.id,
      number: info.number,
      title: info.title,
      schedule: labelSchedule(buildKernel({ design, workload: o.workload, userRsp: b.userRsp }), schedule),
      scheduleSteps: formatScheduleSteps(schedule),
      events: schedule.events,
      ...(b.userRsp !== undefined ? { userRsp: b.userRsp } : {}),
      summary: b.violation.summary,
    });
  }
  return {
    design: design.id,
    workload: o.workload,
    mode: 'sampled',
    depth,
    exceptions,
    seed,
    samples: o.samples,
    distinct: seen.size,
    verdict: violations.length > 0 ? 'violated' : 'none found',
    steps,
    ms: Date.now() - t0,
    userRsps: variants.map((v) => (v.userRsp === undefined ? 'default' : `0x${v.userRsp.toString(16)}`)),
    violations,
  };
}

/** Sample every workload (or the one given). */
export function sampleDesign(o: SampleOptions): SampleReport[] {
  const workloads = o.workload !== undefined ? [o.workload] : [...WORKLOADS];
  return workloads.map((workload) => sampleWorkload({ ...o, workload }));
}
