// Schedules against a kernel: resolve the string form to boundaries (step counts and RIPs), name
// resolved events by label with occurrence counts, and record a step-through trace of one (data:
// the views render it).
import type { Kernel } from '../harness/kernel';
import { LAYOUT } from '../harness/layout';
import { Vector } from '../isa/faults';
import type { Machine } from '../machine/machine';
import { TraceRecorder } from '../record/trace';
import { captureStacks } from '../record/stack';
import type { StackDiagram } from '../record/stack';
import type { Trace } from '../record/trace';
import { ParsedSchedule, Schedule, ScheduleEvent, formatScheduleLabels } from './schedule';

const MAX_STEPS_TO_EVENT = 20_000;

/** Raise a schedule event at the current boundary (the harness's CR2 conventions for #PF). */
export function applyEvent(k: Kernel, kind: ScheduleEvent['kind']): void {
  const m = k.machine;
  if (kind === 'nmi') {
    m.raiseNmi();
    return;
  }
  if (kind === 'bp') m.inject({ type: 'exception', vector: Vector.BP });
  else if (kind === 'db') m.inject({ type: 'exception', vector: Vector.DB });
  else {
    const p = k.exceptionPoints.find((x) => x.address === m.rip);
    m.inject({
      type: 'exception',
      vector: Vector.PF,
      errorCode: 0,
      cr2: p?.in === 'workload' ? LAYOUT.workloadFaultAddress : LAYOUT.nmiFaultAddress,
    });
  }
}

function isExceptionPoint(k: Kernel, kind: ScheduleEvent['kind'], address: bigint): boolean {
  return k.exceptionPoints.some((p) => p.address === address && (p.kinds as readonly string[]).includes(kind));
}

/**
 * Turn a parsed schedule into events at concrete boundaries by running the kernel from its steady
 * state (the kernel is left after the last event). Errors say which item could not be placed.
 */
export function resolveSchedule(
  k: Kernel,
  parsed: ParsedSchedule,
): { ok: true; schedule: Schedule } | { ok: false; error: string } {
  const m = k.machine;
  k.reset();
  const steady = m.steps;
  const events: ScheduleEvent[] = [];
  let prevSteps = -1;
  let prevRip = -1n;
  for (const p of parsed.events) {
    if (p.where.type === 'step') {
      const target = steady + p.where.step;
      if (target < m.steps)
        return {
          ok: false,
          error: `'${p.text}': step ${p.where.step} is before the previous event (step ${m.steps - steady})`,
        };
      m.run({ maxSteps: target - m.steps });
      if (m.steps !== target)
        return {
          ok: false,
          error: `'${p.text}': the machine stopped at step ${m.steps - steady} (${k.failure()?.message ?? 'halted'})`,
        };
    } else {
      let address: bigint;
      try {
        address = m.symbol(p.where.label) + p.where.offset;
      } catch {
        return { ok: false, error: `'${p.text}': unknown label '${p.where.label}'` };
      }
      let seen = 0;
      const want = p.where.occurrence;
      const ps = prevSteps;
      const pr = prevRip;
      const hit = (mm: Machine) => {
        if (mm.steps === ps && mm.rip === pr) return false; // the previous event's own boundary
        if (mm.rip !== address) return false;
        seen++;
        return seen === want;
      };
      {
        // run() tests `until` at the boundary it starts at too.
        const r = m.run({ until: hit, maxSteps: MAX_STEPS_TO_EVENT });
        if (r.stop !== 'until')
          return {
            ok: false,
            error: `'${p.text}': execution did not reach ${p.where.label}${p.where.offset ? `+0x${p.where.offset.toString(16)}` : ''} (occurrence ${want}) within ${MAX_STEPS_TO_EVENT} steps (${r.message})`,
          };
      }
    }
    if (p.kind !== 'nmi' && !isExceptionPoint(k, p.kind, m.rip)) {
      return {
        ok: false,
        error: `'${p.text}': ${k.where()} is not an exception point for ${p.kind} (points: ${k.exceptionPoints.map((x) => `${x.label} (${x.kinds.join('/')})`).join(', ')})`,
      };
    }
    events.push({ kind: p.kind, step: m.steps - steady, at: m.rip });
    prevSteps = m.steps;
    prevRip = m.rip;
    applyEvent(k, p.kind);
  }
  return { ok: true, schedule: { userRsp: parsed.userRsp, events } };
}

/** The label form of resolved events, with `#K` where an address recurs between two events. */
export function labelSchedule(k: Kernel, schedule: Schedule): string {
  const m = k.machine;
  k.reset();
  const steady = m.steps;
  const counts: number[] = [];
  let prevSteps = -1;
  let prevRip = -1n;
  for (const e of schedule.events) {
    let seen = 0;
    const ps = prevSteps;
    const pr = prevRip;
    const target = steady + e.step;
    const visit = (mm: Machine) => {
      if (!(mm.steps === ps && mm.rip === pr) && mm.rip === e.at) seen++;
      return mm.steps === target && mm.rip === e.at;
    };
    m.run({ until: visit, maxSteps: Math.max(1, target - m.steps + 1) });
    counts.push(Math.max(1, seen));
    prevSteps = m.steps;
    prevRip = m.rip;
    applyEvent(k, e.kind);
  }
  return formatScheduleLabels(schedule, m, (i) => counts[i]);
}

/** The stacks at one step of a replay (step counted from the steady state, as in schedules). */
export interface StacksAtStep {
  step: number;
  diagrams: StackDiagram[];
}

/**
 * A step-through trace of a resolved schedule, from the steady state until `maxSteps` after the
 * last event (or a stop). Uses the trace recorder, which chains to the kernel's own boundary hook
 * while it records.
 */
export function traceSchedule(
  k: Kernel,
  schedule: Schedule,
  maxStepsAfter = 600,
  /** Steps (counted from the steady state, as in schedules) at which to draw the stacks. */
  stacksAt: number[] = [],
  stacksOut: StacksAtStep[] = [],
): Trace {
  const m = k.machine;
  k.reset();
  const steady = m.steps;
  let next = 0;
  const specs = [
    { name: 'NMI stack (IST 3)', top: k.layout.nmiStackTop, maxRows: 24 },
    { name: 'debug stack (IST 4)', top: k.layout.debugStackTop, maxRows: 12 },
    { name: 'kernel stack', top: k.kernelStackTop, maxRows: 12 },
  ];
  const hook = (mm: Machine) => {
    const at = mm.steps - steady;
    if (stacksAt.includes(at) && !stacksOut.some((s) => s.step === at)) {
      stacksOut.push({ step: at, diagrams: captureStacks(mm, specs, { caption: `step ${at}` }) });
    }
    const e = schedule.events[next];
    if (e !== undefined && mm.steps === steady + e.step && mm.rip === e.at) {
      next++;
      applyEvent(k, e.kind);
    }
  };
  const watch = [
    { name: 'NMI stack', top: k.layout.nmiStackTop, bytes: 320 },
    { name: 'debug stack', top: k.layout.debugStackTop, bytes: 256 },
  ];
  const recorder = new TraceRecorder(m, { hook, watch, keep: 5000 });
  try {
    const last = schedule.events.length > 0 ? schedule.events[schedule.events.length - 1].step : 0;
    return recorder.run({ maxSteps: last + maxStepsAfter });
  } finally {
    recorder.detach();
  }
}
