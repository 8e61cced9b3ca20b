// The stepper behind the page: one harness kernel, a schedule of events the user raised, and a
// position in the run (instructions retired since the workload's steady state, the same count a
// schedule's `KIND@STEP` uses). Everything the page shows is a function of (design, workload, user
// RSP, schedule, step), which is why a URL can hold it: going to a step restores the nearest
// snapshot before it and runs forward, raising the schedule's events at their boundaries on the
// way. Stepping back is the same thing one step earlier.
import {
  applyEvent,
  buildKernel,
  formatScheduleSteps,
  nmiStackSpec,
  parseSchedule,
  repeatClassifier,
  resolveSchedule,
  TraceRecorder,
} from './library';
import type {
  Design,
  ExceptionKind,
  Kernel,
  Machine,
  ScheduleEvent,
  ScheduleEventKind,
  Trace,
  WorkloadId,
} from './library';

export interface SessionOptions {
  design: Design;
  workload: WorkloadId;
  /** The user RSP of the `user` and `syscall` workloads (undefined: the harness default). */
  userRsp?: bigint;
}

/** The outcome of an action, in words for the status line. */
export interface ActionResult {
  ok: boolean;
  message: string;
}

interface Checkpoint {
  step: number;
  /** Events applied at that point (a prefix of the schedule). */
  applied: number;
  snap: ReturnType<Kernel['snapshot']>;
}

/** Most steps one "run to" or "next event" may take before it stops and says so. */
export const RUN_BUDGET = 100_000;
/** Most steps a URL or a replay may ask to go to. */
export const MAX_STEP = 1_000_000;
/** A snapshot is kept at least every this many steps of single-stepping (stepping back replays from it). */
const CHECKPOINT_EVERY = 64;

const EXCEPTION_NAMES: Record<ExceptionKind, string> = { bp: '#BP', db: '#DB', pf: '#PF' };

export class Session {
  readonly kernel: Kernel;
  readonly design: Design;
  readonly workload: WorkloadId;
  readonly userRsp: bigint | undefined;
  private events: ScheduleEvent[] = [];
  private applied = 0;
  private readonly steady: number;
  private checkpoints: Checkpoint[] = [];

  constructor(o: SessionOptions) {
    this.design = o.design;
    this.workload = o.workload;
    this.userRsp = o.userRsp;
    this.kernel = buildKernel({ design: o.design, workload: o.workload, userRsp: o.userRsp });
    this.steady = this.kernel.machine.steps;
    this.kernel.onBoundary((m) => this.applyDue(m));
    this.checkpoints.push({ step: 0, applied: 0, snap: this.kernel.snapshot() });
  }

  get machine(): Machine {
    return this.kernel.machine;
  }

  /** Instructions retired since the steady state. */
  get step(): number {
    return this.machine.steps - this.steady;
  }

  /** The schedule: every event raised so far, including those after the current step. */
  get schedule(): readonly ScheduleEvent[] {
    return this.events;
  }

  /** How many of the schedule's events have happened at the current position. */
  get eventsApplied(): number {
    return this.applied;
  }

  /** The schedule in the `nmi-lab replay` form (`rsp=...,nmi@12,bp@40`). */
  scheduleText(): string {
    return formatScheduleSteps({ userRsp: this.userRsp, events: this.events });
  }

  /**
   * Set the schedule from its text (step or label form, as `nmi-lab replay` takes it) and go to
   * `step` (default: the last event). The user RSP is the workload's; `rsp=` in the text must agree.
   */
  loadSchedule(text: string, step?: number): ActionResult {
    let parsed;
    try {
      parsed = parseSchedule(text);
    } catch (e) {
      return { ok: false, message: `schedule: ${(e as Error).message}` };
    }
    if (parsed.userRsp !== this.userRsp)
      return { ok: false, message: 'schedule: its rsp= is not the user RSP this workload runs with' };
    // Resolving runs this kernel: with no events of its own, the stepper's hook stays quiet.
    this.events = [];
    this.applied = 0;
    const r = resolveSchedule(this.kernel, parsed);
    if (r.ok === false) {
      this.setEvents([]);
      return { ok: false, message: `schedule: ${r.error}` };
    }
    this.setEvents(r.schedule.events);
    const last = this.events.length > 0 ? this.events[this.events.length - 1].step : 0;
    return this.goTo(step ?? last);
  }

  /** Replace the schedule with resolved events (as the explorer reports them). */
  setEvents(events: readonly ScheduleEvent[]): void {
    this.events = events.map((e) => ({ ...e }));
    this.checkpoints = this.checkpoints.filter((c) => c.step === 0 && c.applied === 0);
    this.kernel.restore(this.checkpoints[0].snap);
    this.applied = 0;
    this.settle();
  }

  // ---- moving --------------------------------------------------------------------------------

  /** Go to a step: restore the nearest snapshot at or before it, then run forward. */
  goTo(step: number): ActionResult {
    if (!Number.isSafeInteger(step) || step < 0) return { ok: false, message: `step ${step}: steps count from 0` };
    if (step > MAX_STEP) return { ok: false, message: `step ${step} is beyond the playground's limit of ${MAX_STEP}` };
    let cp = this.checkpoints[0];
    for (const c of this.checkpoints) if (c.step <= step && c.step >= cp.step) cp = c;
    this.kernel.restore(cp.snap);
    this.applied = cp.applied;
    this.settle();
    if (step > cp.step) {
      const r = this.machine.run({ maxSteps: step - cp.step });
      this.settle();
      if (this.step < step) {
        this.remember();
        return { ok: false, message: `stopped at step ${this.step}: ${r.message}` };
      }
    }
    this.remember();
    return { ok: true, message: `step ${this.step}` };
  }

  /** One instruction. */
  stepForward(): ActionResult {
    const m = this.machine;
    if (m.shutdownReason !== null) return { ok: false, message: `the machine is shut down: ${m.shutdownReason}` };
    const stop = m.step();
    this.settle();
    this.remember();
    if (stop !== null) return { ok: false, message: m.describeStop(stop, 1) };
    return { ok: true, message: `step ${this.step}` };
  }

  /** Back one instruction (to the state after the previous step's events). */
  stepBack(): ActionResult {
    if (this.step === 0) return { ok: false, message: 'already at the steady state (step 0)' };
    return this.goTo(this.step - 1);
  }

  /** Run until RIP is at `label` (not counting where it is now). */
  runTo(label: string, budget = RUN_BUDGET): ActionResult {
    let at: bigint;
    try {
      at = this.machine.symbol(label);
    } catch {
      return { ok: false, message: `run to: no label '${label}' in this program` };
    }
    return this.runToAddress(at, label, budget);
  }

  /** Run until RIP is at `at` (not counting where it is now); `name` says where in messages. */
  runToAddress(at: bigint, name: string, budget = RUN_BUDGET): ActionResult {
    const m = this.machine;
    const start = m.steps;
    const r = m.run({ until: (mm) => mm.steps > start && mm.rip === at, maxSteps: budget });
    this.settle();
    this.remember();
    if (r.stop === 'until') return { ok: true, message: `reached ${name} at step ${this.step}` };
    if (r.stop === 'budget')
      return {
        ok: false,
        message: `${name} not reached within ${budget.toLocaleString('en-US')} steps; stopped at ${this.kernel.where()} (step ${this.step})`,
      };
    return { ok: false, message: `stopped before ${name}: ${r.message}` };
  }

  /** Run until the machine logs something: a delivery, an IRET, NMI blocking changes, a fault. */
  runToNextEvent(budget = RUN_BUDGET): ActionResult {
    const m = this.machine;
    const before = m.log.length;
    const r = m.run({ until: (mm) => mm.log.length > before, maxSteps: budget });
    this.settle();
    this.remember();
    if (r.stop === 'until' || m.log.length > before) return { ok: true, message: `event at step ${this.step}` };
    if (r.stop === 'budget')
      return {
        ok: false,
        message: `no event within ${budget.toLocaleString('en-US')} steps; stopped at ${this.kernel.where()} (step ${this.step})`,
      };
    return { ok: false, message: r.message };
  }

  // ---- events --------------------------------------------------------------------------------

  /** Why an event of this kind cannot be raised here, or null when it can. */
  cannotRaise(kind: ScheduleEventKind): string | null {
    const m = this.machine;
    if (m.shutdownReason !== null) return `the machine is shut down: ${m.shutdownReason}`;
    if (kind === 'nmi') return null;
    const points = this.kernel.exceptionPoints.filter((p) => (p.kinds as readonly string[]).includes(kind));
    if (points.some((p) => p.address === m.rip)) return null;
    return `${EXCEPTION_NAMES[kind]} is raised at an exception point, as in the explorer's schedules: ${points.map((p) => p.label).join(', ')} (now at ${this.kernel.where()})`;
  }

  /**
   * Raise an event at the current boundary. Events after this position are dropped first (a new
   * past has a new future), and the result says how many.
   */
  raise(kind: ScheduleEventKind): ActionResult {
    const why = this.cannotRaise(kind);
    if (why !== null) return { ok: false, message: why };
    const m = this.machine;
    const dropped = this.dropLaterEvents();
    const e: ScheduleEvent = { kind, step: this.step, at: m.rip };
    this.events.push(e);
    this.applied++;
    const outcome = kind === 'nmi' ? m.raiseNmi() : (applyEvent(this.kernel, kind), 'raised');
    this.settle();
    this.remember(true);
    const name = kind === 'nmi' ? 'NMI' : EXCEPTION_NAMES[kind];
    const later = dropped > 0 ? ` (${dropped} later event${dropped === 1 ? '' : 's'} dropped)` : '';
    return { ok: true, message: `${name} at step ${e.step}: ${outcome}${later}` };
  }

  /** Forget the events after the current position; returns how many. */
  dropLaterEvents(): number {
    const dropped = this.events.length - this.applied;
    if (dropped > 0) {
      this.events.length = this.applied;
      const here = this.step;
      this.checkpoints = this.checkpoints.filter(
        (c) => c.step < here || (c.step === here && c.applied <= this.applied),
      );
    }
    return dropped;
  }

  // ---- recording -----------------------------------------------------------------------------

  /**
   * A trace of the run from step `from` to step `to` (the timeline's data), recorded the way the
   * course records one (the NMI stack watched, repeat_nmi named by the course's classifier), with
   * steps counted from the steady state as everywhere on the page. The session is back where it
   * was afterwards.
   */
  recordTrace(from: number, to: number): Trace {
    const here = this.step;
    if (from === 0) {
      // From the steady state itself, so that the recording sees the events due at step 0 arrive.
      this.kernel.restore(this.checkpoints[0].snap);
      this.applied = 0;
    } else this.goTo(from);
    const k = this.kernel;
    const recorder = new TraceRecorder(k.machine, {
      watch: [nmiStackSpec(k)],
      classify: repeatClassifier(k),
      keep: to - from + 16,
    });
    let trace: Trace;
    try {
      trace = recorder.run({ maxSteps: Math.max(0, to - this.step) });
    } finally {
      recorder.detach();
    }
    this.goTo(here);
    const base = this.steady;
    return {
      ...trace,
      steps: trace.steps.map((t) => ({
        ...t,
        step: t.step - base,
        events: t.events.map((e) => ({ ...e, step: e.step - base })),
      })),
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The boundary hook: raise the schedule's next events when they are due here. */
  private applyDue(m: Machine): void {
    const step = m.steps - this.steady;
    while (this.applied < this.events.length) {
      const e = this.events[this.applied];
      if (e.step !== step || e.at !== m.rip) return;
      this.applied++;
      const rip = m.rip;
      applyEvent(this.kernel, e.kind);
      if (m.rip !== rip) return; // delivered: the machine calls the hook again at the new boundary
    }
  }

  /**
   * Finish the current boundary: raise what is due here (a restored snapshot's boundary has been
   * seen by the hook already) and deliver injected exceptions now, so that the views show the
   * frame they push (a run of zero steps services the boundary).
   */
  private settle(): void {
    this.applyDue(this.machine);
    this.machine.run({ maxSteps: 0 });
  }

  /** Keep a snapshot here if the last one is far back, or if `always`. */
  private remember(always = false): void {
    const step = this.step;
    let nearest = -Infinity;
    for (const c of this.checkpoints) if (c.step <= step && c.step > nearest) nearest = c.step;
    if (!always && step - nearest < CHECKPOINT_EVERY) return;
    this.checkpoints.push({ step, applied: this.applied, snap: this.kernel.snapshot() });
  }
}
