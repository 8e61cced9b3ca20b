// Replay one schedule: resolve it on the design's kernel, judge it against every invariant, and
// record what happened (a trace and stack captures: data, which the CLI and the views render).
import { buildKernel } from '../harness/kernel';
import type { WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import type { Trace } from '../record/trace';
import { resolveDesign } from '../designs/registry';
import type { ViolationReport } from './report';
import { InvariantId, invariantInfo } from './invariants';
import { DEFAULT_BOUND } from './bound';
import { Explorer, FoundViolation } from './search';
import { Schedule, formatScheduleSteps, parseSchedule, ScheduleSyntaxError } from './schedule';
import { labelSchedule, resolveSchedule, StacksAtStep, traceSchedule } from './resolve';

export interface ReplayResult {
  ok: boolean;
  error?: string;
  schedule?: Schedule;
  /** The schedule in label form. */
  label?: string;
  violations: ViolationReport[];
  end?: string;
  trace?: Trace;
  /** Stack diagrams (NMI, debug and kernel stacks) at the steps asked for with `stacksAt`. */
  stacks?: StacksAtStep[];
}

/** Replay one schedule string: resolve it, check every invariant on it, and record a trace. */
export function replaySchedule(o: {
  design: string | Design;
  workload?: WorkloadId;
  schedule: string;
  trace?: boolean;
  maxStepsAfterEvent?: number;
  stacksAt?: number[];
}): ReplayResult {
  const design = resolveDesign(o.design);
  const workload = o.workload ?? 'kernel';
  let parsed;
  try {
    parsed = parseSchedule(o.schedule);
  } catch (e) {
    if (e instanceof ScheduleSyntaxError) return { ok: false, error: e.message, violations: [] };
    throw e;
  }
  const k = buildKernel({ design, workload, userRsp: parsed.userRsp });
  const resolved = resolveSchedule(k, parsed);
  if (resolved.ok === false) return { ok: false, error: resolved.error, violations: [] };
  const schedule = resolved.schedule;
  const ex = new Explorer(k, {
    ...DEFAULT_BOUND,
    depth: 1,
    exceptions: 1,
    maxStepsAfterEvent: o.maxStepsAfterEvent ?? DEFAULT_BOUND.maxStepsAfterEvent,
  });
  const verdict = ex.evaluate(schedule.events);
  ex.detach();
  const seen = new Set<InvariantId>();
  const violations: ViolationReport[] = [];
  for (const v of verdict.violations as FoundViolation[]) {
    if (seen.has(v.invariant)) continue;
    seen.add(v.invariant);
    const info = invariantInfo(v.invariant);
    violations.push({
      invariant: v.invariant,
      number: info.number,
      title: info.title,
      schedule: '',
      scheduleSteps: formatScheduleSteps(schedule),
      events: schedule.events,
      summary: v.summary,
    });
  }
  violations.sort((a, b) => a.number - b.number);
  const label = labelSchedule(k, schedule);
  for (const v of violations) v.schedule = label;
  let trace: Trace | undefined;
  const stacks: StacksAtStep[] = [];
  if (o.trace || (o.stacksAt !== undefined && o.stacksAt.length > 0)) {
    trace = traceSchedule(
      buildKernel({ design, workload, userRsp: parsed.userRsp }),
      schedule,
      600,
      o.stacksAt ?? [],
      stacks,
    );
  }
  return {
    ok: verdict.error === undefined,
    ...(verdict.error ? { error: verdict.error } : {}),
    schedule,
    label,
    violations,
    end: verdict.end,
    trace,
    stacks,
  };
}
