// The exhaustive search. From the workload's steady state, every schedule within the bound is one
// path through a tree: at each instruction boundary an NMI may arrive, or (at an exception point)
// an exception may be raised, or nothing happens. The search is a depth-first walk that runs each
// path once and branches off it:
//
//   explore(start, budget):
//     run from `start` with no further events (the leaf), recording every boundary, checking the
//     invariants as it goes, until the episode is over (back in the interrupted code, nothing
//     pending), a failure, the step budget, or a state already explored;
//     then for every recorded boundary and every event allowed there: restore `start`, run to that
//     boundary, raise the event, snapshot, explore(that, budget - 1).
//
// States are hashed at every boundary where a branch is possible and after every logged event
// (delivery, IRET, ...); runs with no events left hash only where it pays (see LEAF_LEARN). A state
// seen before with the same budget has the same futures: the search stops there and counts the
// schedules it already counted under it (so "schedules" is the exact number of schedules within
// the bound, explored or proven equivalent). Depth-first order tries events at earlier boundaries
// first, so the first schedule found for an invariant with the fewest events is also the one with
// the earliest points.
import type { BoundaryHook, Machine, MachineSnapshot } from '../machine/machine';
import { Vector } from '../isa/faults';
import type { Kernel, ExceptionKind } from '../harness/kernel';
import { LAYOUT, PERCPU, DEBUG_STKSZ, THREAD_SIZE } from '../harness/layout';
import { INVARIANT_CHECKS, INVARIANTS, InvariantId } from './invariants';
import type { InvariantChecks, Judge, RunStop } from './invariant';
import type { SearchBound } from './bound';
import { LeafPolicy } from './leaf-policy';
import { MonitorState, OpenContext, ContextState, contextDigest, interruptedState, join, readWords } from './monitor';
import type { Insn } from '../isa/insn';
import type { Cpu } from '../machine/cpu';
import { ScheduleEvent, compareSchedules } from './schedule';
import { HashRegion, StateHasher, stateRegions } from './state-hash';
import { StateTable } from './state-table';
import {
  Cursor,
  LATCH,
  OPT_BP,
  OPT_DB,
  OPT_NMI,
  OPT_PF,
  OPTION_KINDS,
  PathEvent,
  RunRecord,
  SubtreeResult,
} from './run-record';
import { emptyObjectArray } from '../machine/object-array';

export interface FoundViolation {
  invariant: InvariantId;
  events: ScheduleEvent[];
  summary: string;
}

export interface SearchStats {
  /** Schedules within the bound: run to their end or proven equivalent to one that was. */
  schedules: number;
  /** Runs actually executed (leaves of the tree that were not cut by a known state). */
  runs: number;
  /** Boundaries where the state was hashed (looked up). */
  visits: number;
  /** Distinct states stored. */
  states: number;
  /** Lookups that found an explored state (the search stopped there). */
  hits: number;
  /** Instructions executed. */
  steps: number;
}

const BIT = {} as Record<InvariantId, number>;
for (const i of INVARIANTS) BIT[i.id] = i.bit;
const KIND_BIT: Record<ExceptionKind, number> = { bp: OPT_BP, db: OPT_DB, pf: OPT_PF };

/**
 * The invariants' checks for one moment of a run, with each one's bit. An invariant reports at most
 * once per run: once it has, its checks are not called again until the next run (a bit test here,
 * instead of each check asking first).
 */
interface ChecksAt {
  checks: InvariantChecks[];
  bits: number[];
}

function checksAt(all: InvariantChecks[], moment: keyof InvariantChecks): ChecksAt {
  const at: ChecksAt = { checks: [], bits: [] };
  all.forEach((c, i) => {
    if (!c[moment]) return;
    at.checks.push(c);
    at.bits.push(INVARIANTS[i].bit);
  });
  return at;
}

/**
 * The exhaustive search over one kernel (design and workload) within a bound. Per subtree it keeps
 * the exact schedule count and the set of invariants violated (a mask: per-invariant counts would
 * cost too much to keep exact through merges), and the first minimal schedule per invariant.
 */
export class Explorer {
  readonly kernel: Kernel;
  readonly machine: Machine;
  readonly bound: SearchBound;
  readonly best = new Map<InvariantId, FoundViolation>();
  readonly stats: SearchStats;

  private readonly regions: HashRegion[];
  /** The stacks an interrupted context's live stack is checked on: top as halves, size. */
  private readonly liveStacks: { topLo: number; topHi: number; size: number }[];
  private readonly hasher: StateHasher;
  private readonly points = new Map<number, { hi: number; kinds: number; cr2: bigint }>();
  /** The registered invariants' checks, and those of them that run at each moment. */
  private readonly checks: InvariantChecks[];
  private readonly lookChecks: ((cpu: Cpu) => boolean)[];
  private readonly boundaryChecks: ChecksAt;
  private readonly eventChecks: ChecksAt;
  private readonly returnChecks: ChecksAt;
  private readonly changeChecks: ChecksAt;
  private readonly endChecks: ChecksAt;
  private readonly stopChecks: ChecksAt;
  private readonly cycleChecks: ChecksAt;
  /** What the invariants see of this explorer (see invariant.ts). */
  private readonly judge: Judge;
  /** The run the invariants' reports go to (the run in progress, or the one finishing). */
  private judged: RunRecord | null = null;
  readonly steadySteps: number;
  private readonly nmiRunsLo: number;
  private readonly nmiRunsHi: number;
  private readonly pointInsns: Insn[] = [];
  /** The design's returns without IRET (DesignManifest.returnsWithoutIret): RET instructions. */
  private readonly returnInsns: Insn[] = [];
  /** OPT_NMI and LATCH as of the last full observe(); slowNext: the next boundary needs a full one. */
  private nmiOpts = 0;
  private slowNext = true;
  /** The run records only the boundaries the full observe() handles (see explore()). */
  private sparse = false;
  private readonly pointKinds: number[] = [];
  /** Which boundaries of a leaf (a run with no events left) hash: see leaf-policy.ts. */
  private readonly leaves: LeafPolicy;
  private memoIndex = new StateTable();
  private memoCount: number[] = [];
  private memoMask: number[] = [];

  // The run in progress (observe mode) or null (replaying to a branch point).
  private run: RunRecord | null = null;
  private mon: MonitorState = MonitorState.EMPTY;
  private logSeen = 0;
  private nLeft = 0;
  private eLeft = 0;
  private path: PathEvent[] = emptyObjectArray();
  private startAddressLo = 0;
  private startAddressHi = 0;

  constructor(kernel: Kernel, bound: SearchBound) {
    this.kernel = kernel;
    this.machine = kernel.machine;
    this.bound = bound;
    this.leaves = new LeafPolicy(bound.leafHashing ?? 'adaptive');
    const m = this.machine;
    kernel.reset();
    this.steadySteps = m.steps;
    const nmiRuns = LAYOUT.percpuBase + BigInt(PERCPU.nmi_runs);
    this.nmiRunsLo = Number(nmiRuns & 0xffffffffn) | 0;
    this.nmiRunsHi = Number(nmiRuns >> 32n) | 0;
    for (const p of kernel.exceptionPoints) {
      let kinds = 0;
      for (const k of p.kinds) kinds |= KIND_BIT[k];
      const a = BigInt.asUintN(64, p.address);
      // The point's instruction object, as the CPU will have it in `cur` there (not insnAt(), which
      // at CPL 3 hands out a faulting stand-in for kernel code).
      const insn = m.memory.pageFor(a)?.code?.[Number(a & 0xfffn)] as Insn | undefined;
      if (insn === undefined) throw new Error(`explorer: no instruction at exception point ${p.label}`);
      this.pointInsns.push(insn);
      this.pointKinds.push(kinds);
      this.points.set(Number(a & 0xffffffffn) | 0, {
        hi: Number(a >> 32n) | 0,
        kinds,
        cr2: p.in === 'workload' ? LAYOUT.workloadFaultAddress : LAYOUT.nmiFaultAddress,
      });
    }
    this.checks = INVARIANT_CHECKS.map((inv) => inv.checks(kernel));
    this.lookChecks = this.checks.flatMap((c) => (c.needsLook ? [c.needsLook] : []));
    this.boundaryChecks = checksAt(this.checks, 'atBoundary');
    this.eventChecks = checksAt(this.checks, 'atEvent');
    this.returnChecks = checksAt(this.checks, 'atReturn');
    this.changeChecks = checksAt(this.checks, 'atChange');
    this.endChecks = checksAt(this.checks, 'atEpisodeEnd');
    this.stopChecks = checksAt(this.checks, 'atStop');
    this.cycleChecks = checksAt(this.checks, 'atCycle');
    this.judge = this.makeJudge();
    for (const label of kernel.design.returnsWithoutIret) {
      const a = BigInt.asUintN(64, m.symbol(label));
      const insn = m.memory.pageFor(a)?.code?.[Number(a & 0xfffn)] as Insn | undefined;
      if (insn === undefined) throw new Error(`explorer: no instruction at ${label} (returnsWithoutIret)`);
      this.returnInsns.push(insn);
    }
    // The live stacks the monitor copies at each delivery (for invariant 3), from this kernel's layout.
    const L = kernel.layout;
    this.liveStacks = (
      [
        [L.kernelStackTop, THREAD_SIZE],
        [L.debugStackTop, DEBUG_STKSZ],
        [L.userStackTop, L.userStackSize],
      ] as [bigint, number][]
    ).map(([top, size]) => ({ topLo: Number(top & 0xffffffffn) | 0, topHi: Number(top >> 32n) | 0, size }));
    // The memory that decides the future: every writable page (see stateRegions).
    this.regions = stateRegions(m);
    this.hasher = new StateHasher(m, this.regions, kernel.steadyState.machine.memory);
    // Room for every slot a deep path writes, so that checkpoints stay valid (about 4 MiB).
    m.memory.setJournalCapacity(bound.journalEntries ?? 1 << 17);
    this.stats = { schedules: 0, runs: 0, visits: 0, states: 0, hits: 0, steps: 0 };
    // The explorer's hook replaces the kernel's (whose do_nmi bookkeeping it does not need; it
    // reads the guest's own counters), and replays run with no hook at all: detach() puts the
    // kernel's back.
    this.kernelHook = m.boundaryHook;
    this.steadyMachine = kernel.steadyState.machine;
    this.hookFn = (mm) => {
      const r = this.run;
      if (r === null) return;
      // The quick path inline: most boundaries log nothing and need only a few checks.
      if (
        !this.slowNext &&
        mm.cpu.log.length === this.logSeen &&
        !r.root &&
        mm.cpu.lastRetStep !== mm.cpu.steps - 1 &&
        this.observeQuick(mm, r)
      )
        return;
      this.observe(mm, false);
    };
    m.onBoundary(this.hookFn);
  }

  private readonly kernelHook: BoundaryHook | null;
  private readonly hookFn: BoundaryHook;
  private readonly steadyMachine: MachineSnapshot;

  /** Observe from here on (this boundary counts as seen: the run record starts at the next one). */
  private hookOn(): void {
    this.machine.onBoundary(this.hookFn, { skipCurrent: true });
    // A RET just before this boundary was seen by whoever observed it (or by nobody, replaying).
    this.machine.cpu.lastRetStep = -1;
  }

  // ---- the root: one period of the undisturbed workload -----------------------------------------

  /**
   * The boundaries of one period of the workload (from the steady state until it is back there),
   * where the first event of a schedule may arrive; also learns the faults the workload raises by
   * itself. Returns the number of root branches (boundary, event) pairs.
   */
  private rootRun: RunRecord | null = null;

  prepareRoot(): { branches: number; periodSteps: number } {
    const k = this.kernel;
    const m = this.machine;
    k.reset();
    this.hookOn();
    this.startAddressLo = m.cpu.cur.lo;
    this.startAddressHi = m.cpu.cur.hi;
    const r = new RunRecord(m.steps, true);
    this.nLeft = this.bound.depth;
    this.eLeft = this.bound.exceptions;
    this.mon = MonitorState.EMPTY;
    this.logSeen = m.log.length;
    this.run = r;
    this.slowNext = true;
    this.sparse = false;
    this.observe(m, true);
    m.run({ maxSteps: 100_000 });
    this.run = null;
    if (r.end !== 'period') throw new Error(`the ${k.workload} workload did not come back to its steady state`);
    const period = m.cpu.log.slice(this.kernel.steadyState.machine.logLength);
    for (const c of this.checks) c.learnWorkload?.(period);
    this.rootRun = r;
    let branches = 0;
    for (const o of r.opts) for (const { bit } of OPTION_KINDS) if (o & bit) branches++;
    return { branches, periodSteps: m.steps - r.startSteps };
  }

  /** The root branches as (boundary index, option bit), in search order. */
  rootBranches(): { index: number; bit: number }[] {
    const r = this.rootRun;
    if (r === null) throw new Error('prepareRoot() first');
    const out: { index: number; bit: number }[] = [];
    r.opts.forEach((o, index) => {
      for (const { bit } of OPTION_KINDS) if (o & bit) out.push({ index, bit });
    });
    return out;
  }

  /** The events a run's boundaries allow, as schedule events, in boundary order. */
  private eventsOf(r: RunRecord): ScheduleEvent[] {
    const out: ScheduleEvent[] = [];
    r.opts.forEach((o, i) => {
      for (const { bit, kind } of OPTION_KINDS) {
        if (o & bit) out.push({ kind, step: r.steps[i] - this.steadySteps, at: join(r.insn[i].lo, r.insn[i].hi) });
      }
    });
    return out;
  }

  /** Where a schedule's first event may arrive: every root branch, as a schedule event. */
  firstEvents(): ScheduleEvent[] {
    if (this.rootRun === null) this.prepareRoot();
    return this.eventsOf(this.rootRun as RunRecord);
  }

  /** Explore the given root branches (all by default); adds the empty schedule when asked. */
  exploreRoot(which?: readonly { index: number; bit: number }[], includeEmpty = true): void {
    if (this.rootRun === null) this.prepareRoot();
    const r = this.rootRun as RunRecord;
    const list = which ?? this.rootBranches();
    if (includeEmpty) this.stats.schedules += 1;
    this.machine.onBoundary(null);
    this.machine.restore(this.steadyMachine);
    const cursor = this.cursorHere();
    for (const b of list) {
      const c = this.branch(r, b.index, b.bit, this.bound.depth, this.bound.exceptions, cursor, false);
      this.stats.schedules += c.count;
    }
    this.stats.states = this.memoIndex.size;
  }

  // ---- the walk ------------------------------------------------------------------------------

  /** A cursor at the machine's current boundary (see Cursor). */
  private cursorHere(): Cursor {
    const m = this.machine;
    return { checkpoint: m.checkpoint(), steps: m.steps, insn: m.cpu.cur, here: true };
  }

  /**
   * Bring the machine to the boundary after `steps` instructions at `insn`, a boundary of the run
   * the cursor walks (at or after the cursor), and move the cursor there. Normally: rewind to the
   * cursor's checkpoint and run forward. When the checkpoint no longer applies (the write journal
   * overflowed, or a deeper level had to restore): replay the path from the steady state.
   */
  private moveTo(cursor: Cursor, steps: number, insn: Insn): void {
    const m = this.machine;
    m.onBoundary(null);
    if (cursor.here && cursor.steps === steps && cursor.insn === insn) return;
    if (cursor.here || (cursor.checkpoint !== null && m.rewind(cursor.checkpoint))) {
      this.runToBoundary(steps, insn.lo, insn.hi);
    } else {
      this.replayTo(steps, insn.lo, insn.hi);
    }
    cursor.checkpoint = m.checkpoint();
    cursor.steps = steps;
    cursor.insn = insn;
    cursor.here = true;
  }

  /**
   * Back to the steady state and through the events of the current path again, to the boundary
   * after `steps` instructions at lo:hi. Only the steady state is ever restored: restoring the
   * snapshot last restored only undoes a short write journal, far cheaper than keeping a snapshot
   * per branch point (each would copy pages and make later restores rebuild the page map).
   */
  private replayTo(steps: number, lo: number, hi: number): void {
    const m = this.machine;
    m.onBoundary(null);
    m.restore(this.steadyMachine);
    const path = this.path;
    for (let i = 0; i < path.length; i++) {
      const e = path[i];
      this.runToBoundary(this.steadySteps + e.step, e.lo, e.hi);
      this.apply(e.bit, m);
    }
    this.runToBoundary(steps, lo, hi);
  }

  /** Run to the boundary after `steps` instructions (run(0) still delivers an injected event). */
  private runToBoundary(steps: number, lo: number, hi: number): void {
    const m = this.machine;
    const cpu = m.cpu;
    if (cpu.steps !== steps || cpu.cur.lo !== lo || cpu.cur.hi !== hi) {
      const before = cpu.steps;
      m.run({ maxSteps: steps - cpu.steps });
      this.stats.steps += cpu.steps - before;
    }
    if (cpu.cur.lo !== lo || cpu.cur.hi !== hi || cpu.steps !== steps) {
      throw new Error(
        `explorer: replay diverged at step ${steps - this.steadySteps} (expected a boundary at ${this.where(join(lo, hi))}, at ${this.where(m.rip)})`,
      );
    }
  }

  private apply(bit: number, m: Machine): void {
    if (bit === OPT_NMI) {
      m.raiseNmi();
      return;
    }
    const p = this.points.get(m.cpu.cur.lo)!;
    if (bit === OPT_BP) m.inject({ type: 'exception', vector: Vector.BP });
    else if (bit === OPT_DB) m.inject({ type: 'exception', vector: Vector.DB });
    else m.inject({ type: 'exception', vector: Vector.PF, errorCode: 0, cr2: p.cr2 });
  }

  /**
   * Run one schedule with every check on, no branching: the verdict `nmi-lab replay` prints. The
   * events must be resolved (step counts and RIPs from a run of this kernel).
   */
  evaluate(
    events: readonly ScheduleEvent[],
    /** Events the schedule may still add after its last one: the run then lists where they may arrive. */
    left: { nmis: number; exceptions: number } = { nmis: 0, exceptions: 0 },
  ): { violations: FoundViolation[]; end: string; error?: string; next: ScheduleEvent[] } {
    const m = this.machine;
    const k = this.kernel;
    if (this.rootRun === null) this.prepareRoot();
    k.reset();
    this.hookOn();
    this.path = emptyObjectArray();
    this.collected = [];
    this.evaluating = true;
    this.mon = MonitorState.EMPTY;
    this.nLeft = 0;
    this.eLeft = 0;
    let end = 'quiescent';
    let error: string | undefined;
    try {
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const target = this.steadySteps + e.step;
        if (i > 0) {
          const r = new RunRecord(m.steps, false);
          this.run = r;
          this.slowNext = true;
          this.sparse = false;
          const res = m.run({ maxSteps: Math.max(0, target - m.steps) });
          this.run = null;
          if (res.stop === 'hook') {
            error = `the episode was over (${r.end}) before event ${i + 1} (${e.kind}@${e.step}): a schedule's events all belong to one NMI episode`;
            end = r.end;
            break;
          }
          if (res.stop !== 'budget') {
            this.finishRun(r, res.stop);
            end = r.end;
            error = `the machine stopped (${res.stop}) before event ${i + 1}`;
            break;
          }
        } else if (m.steps !== target || m.rip !== e.at) {
          m.run({ maxSteps: Math.max(0, target - m.steps) });
        }
        if (m.steps !== target || m.rip !== e.at) {
          error = `event ${i + 1} (${e.kind}@${e.step}) expects the boundary at ${this.where(e.at)}, but the machine is at ${this.where(m.rip)} (step ${m.steps - this.steadySteps})`;
          break;
        }
        const bit = OPTION_KINDS.find((o) => o.kind === e.kind)!.bit;
        if (bit !== OPT_NMI && this.points.get(m.cpu.cur.lo)?.hi !== m.cpu.cur.hi) {
          error = `event ${i + 1}: ${this.where(e.at)} is not an exception point (${this.kernel.exceptionPoints.map((p) => p.label).join(', ')})`;
          break;
        }
        this.logSeen = m.log.length;
        this.apply(bit, m);
        this.path.push({ ...e, bit, lo: m.cpu.cur.lo, hi: m.cpu.cur.hi });
      }
      const next: ScheduleEvent[] = [];
      if (error === undefined) {
        const r = new RunRecord(m.steps, false);
        this.run = r;
        this.slowNext = true;
        this.sparse = false;
        this.nLeft = left.nmis;
        this.eLeft = left.exceptions;
        const res = m.run({ maxSteps: this.bound.maxStepsAfterEvent });
        this.run = null;
        if (res.stop !== 'hook') this.finishRun(r, res.stop);
        end = r.end;
        if (events.length > 0) next.push(...this.eventsOf(r));
      }
      return { violations: this.collected, end, ...(error !== undefined ? { error } : {}), next };
    } finally {
      this.run = null;
      this.evaluating = false;
      this.collected = null;
      this.path = emptyObjectArray();
    }
  }

  private evaluating = false;
  private collected: FoundViolation[] | null = null;

  /** Go to boundary `index` of run `r` (walked by `cursor`), raise the option there, explore what follows. */
  private branch(
    r: RunRecord,
    index: number,
    bit: number,
    nLeft: number,
    eLeft: number,
    cursor: Cursor,
    keepSuffixes: boolean,
  ): SubtreeResult {
    const m = this.machine;
    this.moveTo(cursor, r.steps[index], r.insn[index]);
    cursor.here = false; // the event and what follows it move the machine away
    const kind = OPTION_KINDS.find((o) => o.bit === bit)!.kind;
    const event: PathEvent = {
      kind,
      step: m.steps - this.steadySteps,
      at: m.rip,
      bit,
      lo: m.cpu.cur.lo,
      hi: m.cpu.cur.hi,
    };
    const logFrom = m.log.length; // the event's own log entries are the child's to read
    this.hookOn();
    this.apply(bit, m);
    this.path.push(event);
    const result = this.explore(
      r.mon[index],
      bit === OPT_NMI ? nLeft - 1 : nLeft,
      bit === OPT_NMI ? eLeft : eLeft - 1,
      logFrom,
      keepSuffixes,
    );
    this.path.pop();
    return result;
  }

  /** Run on from here with no further event (the leaf), then branch off every boundary it passed. */
  private explore(
    mon: MonitorState,
    nLeft: number,
    eLeft: number,
    logFrom: number,
    keepSuffixes: boolean,
  ): SubtreeResult {
    const m = this.machine;
    const r = new RunRecord(m.steps, false);
    // The branches are taken walking this run again from its start (hook off), not replaying the
    // whole path for each. A leaf with no options left needs no checkpoint.
    const cursor: Cursor =
      nLeft > 0 || eLeft > 0 ? this.cursorHere() : { checkpoint: null, steps: -1, insn: null, here: false };
    cursor.here = false;
    this.nLeft = nLeft;
    this.eLeft = eLeft;
    this.mon = mon;
    this.logSeen = logFrom;
    this.run = r;
    this.slowNext = true;
    // A run with no events left to raise has no branches: only its hashed boundaries (which get
    // memo slots) and violations need recording, unless it is a latch run, whose boundaries
    // latchIndex() lines up with its parent's.
    this.sparse = nLeft === 0 && eLeft === 0 && !keepSuffixes;
    this.leaves.startLeaf();
    this.stats.runs++;
    const before = m.steps;
    const res = m.run({ maxSteps: this.bound.maxStepsAfterEvent });
    m.hookScope = 'every';
    this.stats.steps += m.steps - before;
    this.run = null;
    if (res.stop !== 'hook') this.finishRun(r, res.stop);

    // Branches, in boundary order.
    const n = r.opts.length;
    // What the branches found, by boundary: a short list (most boundaries of a run branch nowhere
    // or are counted through the latch run), not arrays as long as the run.
    const at: number[] = [];
    const counts: number[] = [];
    const masks: number[] = [];
    const note = (i: number, count: number, mask: number) => {
      const last = at.length - 1;
      if (last >= 0 && at[last] === i) {
        counts[last] += count;
        masks[last] |= mask;
      } else {
        at.push(i);
        counts.push(count);
        masks.push(mask);
      }
    };
    // A latched NMI changes nothing but the latch bit until NMIs are unblocked: latching at a later
    // boundary of the same blocked stretch reaches a state the first latch's run passes through, so
    // its schedules are that run's from there on (counted, not run again).
    let latchRun: SubtreeResult | null = null;
    let latchAt = -1;
    for (let i = 0; i < n; i++) {
      const o = r.opts[i];
      if ((o & ~LATCH) === 0) {
        latchRun = null;
        continue;
      }
      for (let bit = OPT_NMI; bit <= OPT_PF; bit <<= 1) {
        if ((o & bit) === 0) continue;
        if (bit === OPT_NMI && (o & LATCH) !== 0) {
          const j = latchRun === null ? -1 : this.latchIndex(r, latchAt, i, latchRun.run);
          if (latchRun !== null && j >= 0) {
            note(i, (latchRun.suffixCount as number[])[j], (latchRun.suffixMask as number[])[j]);
            this.stats.hits++;
            continue;
          }
          latchRun = this.branch(r, i, bit, nLeft, eLeft, cursor, true);
          latchAt = i;
          note(i, latchRun.count, latchRun.mask);
          continue;
        }
        const c = this.branch(r, i, bit, nLeft, eLeft, cursor, false);
        note(i, c.count, c.mask);
      }
      if ((o & LATCH) === 0) latchRun = null;
    }
    // The leaf (or the explored state the run ran into), then every boundary backwards.
    let count: number;
    let mask: number;
    if (r.end === 'memo') {
      count = this.memoCount[r.tail];
      mask = this.memoMask[r.tail];
    } else {
      count = 1;
      mask = 0;
    }
    // Only a latch run's suffixes are looked up later (latchIndex), so only it keeps them.
    const suffixCount: number[] | null = keepSuffixes ? new Array(n + 1) : null;
    const suffixMask: number[] | null = keepSuffixes ? new Array(n + 1) : null;
    if (suffixCount !== null && suffixMask !== null) {
      suffixCount[n] = count;
      suffixMask[n] = mask;
    }
    const viol = r.violMask;
    let b = at.length - 1;
    for (let i = n - 1; i >= 0; i--) {
      if (b >= 0 && at[b] === i) {
        count += counts[b];
        mask |= masks[b];
        b--;
      }
      if (viol !== null) mask |= viol[i] ?? 0;
      if (suffixCount !== null && suffixMask !== null) {
        suffixCount[i] = count;
        suffixMask[i] = mask;
      }
      const s = r.slot[i];
      if (s >= 0) {
        this.memoCount[s] = count;
        this.memoMask[s] = mask;
      }
    }
    return { count, mask: mask | r.preMask, run: r, suffixCount, suffixMask };
  }

  /**
   * For an NMI latched at boundary `i` of run `r`, the index in `child` (the run of an NMI latched
   * at boundary `from` < i of the same blocked stretch) whose state it reaches, or -1. The child's
   * boundary k is r's boundary from + 1 + k; every boundary between must be latch-only.
   */
  private latchIndex(r: RunRecord, from: number, i: number, child: RunRecord): number {
    // The caller drops the latch run at any boundary without LATCH, so from + 1 .. i all have it.
    const j = i - from; // child index of r's boundary i + 1
    if (i + 1 > r.steps.length) return -1;
    if (i + 1 < r.steps.length) {
      if (j < child.steps.length) return child.steps[j] === r.steps[i + 1] && child.insn[j] === r.insn[i + 1] ? j : -1;
      const next = r.insn[i + 1];
      if (
        j === child.steps.length &&
        child.end === 'memo' &&
        child.endSteps === r.steps[i + 1] &&
        child.endLo === next.lo &&
        child.endHi === next.hi
      )
        return j;
    }
    return -1;
  }

  /** The run stopped by itself (not by the hook): why, and what that means for the invariants. */
  private finishRun(r: RunRecord, stop: string): void {
    const m = this.machine;
    this.judged = r;
    this.processLog(m, r);
    const why: RunStop = stop === 'shutdown' ? 'shutdown' : stop === 'hlt' ? 'hlt' : 'budget';
    r.end = why === 'budget' ? 'budget' : 'failure';
    const at = this.stopChecks;
    for (let i = 0; i < at.checks.length; i++) if ((r.seen & at.bits[i]) === 0) at.checks[i].atStop!(this.judge, why);
  }

  // ---- per boundary ----------------------------------------------------------------------------

  private observe(m: Machine, first: boolean): void {
    const r = this.run as RunRecord;
    this.judged = r;
    const cpu = m.cpu;
    let changed = false;
    if (cpu.lastRetStep === cpu.steps - 1 && !r.root && this.returnInsns.length > 0) {
      const ret = cpu.lastRet;
      cpu.lastRetStep = -1; // seen: the hook may visit this boundary again (an event raised here)
      if (this.returnInsns.includes(ret as Insn)) {
        this.returnWithoutIret(m);
        changed = true;
      }
    }
    if (cpu.log.length !== this.logSeen) {
      this.processLog(m, r);
      changed = true;
    }
    const at = this.boundaryChecks;
    for (let i = 0; i < at.checks.length; i++)
      if ((r.seen & at.bits[i]) === 0) at.checks[i].atBoundary!(this.judge, cpu);
    if (r.root) {
      if (!first && cpu.cur.lo === this.startAddressLo && cpu.cur.hi === this.startAddressHi) {
        r.end = 'period';
        m.requestStop('period');
        return;
      }
    } else {
      const mon = this.mon;
      // do_nmi began (the guest bumped nmi_runs): the NMI waiting for it is served.
      if (mon.unservedRuns >= 0 && this.nmiRuns(m) > mon.unservedRuns) {
        this.mon = MonitorState.of(mon.contexts, -1, -1);
        changed = true;
      }
      if (changed) {
        const at = this.changeChecks;
        for (let i = 0; i < at.checks.length; i++) if ((r.seen & at.bits[i]) === 0) at.checks[i].atChange!(this.judge);
      }
      if (this.mon.contexts.length === 0 && !cpu.nmiBlocked && !cpu.nmiPending) {
        // The episode is over: every event returned, nothing blocked or latched.
        const at = this.endChecks;
        for (let i = 0; i < at.checks.length; i++)
          if ((r.seen & at.bits[i]) === 0) at.checks[i].atEpisodeEnd!(this.judge);
        r.end = 'quiescent';
        m.requestStop('quiescent');
        return;
      }
    }
    // Events allowed here.
    let opts = 0;
    if (this.nLeft > 0 && !(cpu.nmiBlocked && cpu.nmiPending)) opts |= OPT_NMI;
    if (this.eLeft > 0) {
      // At most a handful of points: comparing the instruction objects beats a map lookup.
      const cur = cpu.cur;
      for (let i = 0; i < this.pointInsns.length; i++) {
        if (this.pointInsns[i] === cur) {
          opts |= this.pointKinds[i];
          break;
        }
      }
    }
    let slot = -1;
    // Hash after logged events (where different paths meet again) and where an exception may be raised.
    if (
      !r.root &&
      !this.evaluating &&
      (changed || (opts & ~OPT_NMI) !== 0) &&
      (!this.sparse || this.leaves.hashesHere(cpu.steps - r.startSteps))
    ) {
      this.stats.visits++;
      const key = this.hasher.key(this.mon.digest, this.nLeft * 16 + this.eLeft);
      const found = this.memoIndex.get(key);
      if (this.sparse) this.leaves.looked(found >= 0);
      if (found >= 0) {
        if (this.memoCount[found] < 0) {
          const at = this.cycleChecks;
          for (let i = 0; i < at.checks.length; i++) if ((r.seen & at.bits[i]) === 0) at.checks[i].atCycle!(this.judge);
          r.end = 'cycle';
        } else {
          this.stats.hits++;
          r.end = 'memo';
          r.tail = found;
          r.endSteps = cpu.steps;
          r.endLo = cpu.cur.lo;
          r.endHi = cpu.cur.hi;
        }
        m.requestStop('known state');
        return;
      }
      slot = this.memoCount.length;
      this.memoIndex.set(key, slot);
      this.memoCount.push(-1);
      this.memoMask.push(0);
    }
    // What the fast path reuses until the next logged event (nothing else changes NMI blocking
    // or the latch).
    this.nmiOpts = this.nLeft > 0 && !(cpu.nmiBlocked && cpu.nmiPending) ? OPT_NMI : 0;
    if (this.nmiOpts !== 0 && cpu.nmiBlocked && !cpu.nmiPending) this.nmiOpts |= LATCH;
    this.slowNext = false;
    r.steps.push(cpu.steps);
    r.insn.push(cpu.cur);
    r.mon.push(this.mon);
    r.opts.push(opts | (this.nmiOpts & LATCH));
    r.slot.push(slot);
    // A leaf has no branches to record, and what it checks can only change where the machine
    // logs an event or transfers control: its code runs without the hook in between. The one
    // exception, do_nmi beginning (the guest bumps nmi_runs), is then noticed at the next such
    // boundary, still before the episode can end (which takes an IRET); the monitor's state
    // catches up there, so keys of two leaves still match only if their futures do.
    m.hookScope = this.sparse ? 'changes' : 'every';
  }

  /**
   * The common boundary, when nothing was logged since the last one: the NMI options, the
   * monitor and the episode's state are as they were, so only the per-instruction checks remain.
   * Returns false when the full observe() must look (an invariant to check, an exception point,
   * a do_nmi run beginning).
   */
  private observeQuick(m: Machine, r: RunRecord): boolean {
    const cpu = m.cpu;
    const cur = cpu.cur;
    const look = this.lookChecks;
    for (let i = 0; i < look.length; i++) if (look[i](cpu)) return false;
    const mon = this.mon;
    if (mon.unservedRuns >= 0 && this.nmiRuns(m) > mon.unservedRuns) return false;
    if (this.eLeft > 0) for (let i = 0; i < this.pointInsns.length; i++) if (this.pointInsns[i] === cur) return false;
    if (this.sparse) return true;
    r.steps.push(cpu.steps);
    r.insn.push(cur);
    r.mon.push(mon);
    r.opts.push(this.nmiOpts);
    r.slot.push(-1);
    return true;
  }

  /** The guest's nmi_runs counter (read through the TLB: this is asked at most boundaries of a handler). */
  private nmiRuns(m: Machine): number {
    return m.memory.read32(this.nmiRunsLo, this.nmiRunsHi, 0);
  }

  /** Bring the monitor up to date with the events logged since the last boundary. */
  private processLog(m: Machine, r: RunRecord): void {
    const log = m.cpu.log;
    const end = log.length;
    let contexts: OpenContext[] | null = null;
    let unservedRuns = this.mon.unservedRuns;
    let unservedLog = this.mon.unservedLog;
    // An IRET followed by a delivery in the same batch returned to what that delivery
    // interrupted: its state is computed once, for both.
    let nextState: ContextState | null = null;
    let nextIndex = -1;
    for (let i = this.logSeen; i < end; i++) {
      const e = log[i];
      switch (e.kind) {
        case 'deliver': {
          if (r.root) break;
          const state = nextIndex === i && nextState !== null ? nextState : interruptedState(m, e);
          const words = this.liveStackWords(state);
          const stack = words === 0 ? null : readWords(m, state.regs[8], state.regs[9], words);
          const vector = e.vector ?? 0;
          if (contexts === null) contexts = this.mon.contexts.slice();
          contexts.push({
            vector,
            name: e.name ?? `vector ${vector}`,
            logIndex: i,
            state,
            stackLo: state.regs[8],
            stackHi: state.regs[9],
            stack,
            digest: contextDigest(state, stack, vector),
          });
          if (vector === Vector.NMI) {
            unservedRuns = this.nmiRuns(m);
            unservedLog = i;
          }
          break;
        }
        case 'iret': {
          if (r.root) break;
          let after: ContextState | null = null;
          for (let j = i + 1; j < end; j++) {
            if (log[j].kind === 'deliver') {
              after = interruptedState(m, log[j]);
              nextState = after;
              nextIndex = j;
              break;
            }
          }
          if (contexts === null) contexts = this.mon.contexts.slice();
          this.returnTo(m, contexts, after, 'returned');
          break;
        }
        default:
          break;
      }
      const at = this.eventChecks;
      for (let i = 0; i < at.checks.length; i++) if ((r.seen & at.bits[i]) === 0) at.checks[i].atEvent!(this.judge, e);
    }
    this.logSeen = end;
    if (contexts !== null || unservedRuns !== this.mon.unservedRuns || unservedLog !== this.mon.unservedLog) {
      this.mon = MonitorState.of(contexts ?? this.mon.contexts, unservedRuns, unservedLog);
    }
  }

  /**
   * A return (IRET, or one the design declares) went to `after`, the state a delivery right after
   * it interrupted, or (null) to the CPU as it is now: close the innermost open context with that
   * RIP and CS, and every one opened after it, checking invariant 3 against it. A return that
   * lands in no open context (repeat_nmi's IRET into the entry code, say) closes nothing.
   */
  private returnTo(m: Machine, list: OpenContext[], after: ContextState | null, how: string): void {
    const cpu = m.cpu;
    const toLo = after !== null ? after.ripLo : cpu.cur.lo;
    const toHi = after !== null ? after.ripHi : cpu.cur.hi;
    const toCs = after !== null ? after.cs : cpu.cs;
    for (let c = list.length - 1; c >= 0; c--) {
      const ctx = list[c];
      if (ctx.state.ripLo !== toLo || ctx.state.ripHi !== toHi || ctx.state.cs !== toCs) continue;
      const at = this.returnChecks;
      const r = this.judged as RunRecord;
      for (let i = 0; i < at.checks.length; i++)
        if ((r.seen & at.bits[i]) === 0) at.checks[i].atReturn!(this.judge, ctx, after, how);
      list.length = c;
      return;
    }
  }

  /**
   * The RET just executed is one the design declares a return without IRET: checked and closed
   * like an IRET's return. It comes before anything logged at this boundary (a delivery right
   * after it interrupted the state it returned to).
   */
  private returnWithoutIret(m: Machine): void {
    const log = m.cpu.log;
    let after: ContextState | null = null;
    for (let j = this.logSeen; j < log.length; j++) {
      if (log[j].kind === 'deliver') {
        after = interruptedState(m, log[j]);
        break;
      }
    }
    const contexts = this.mon.contexts.slice();
    this.returnTo(m, contexts, after, 'returned without IRET (ret)');
    if (contexts.length !== this.mon.contexts.length)
      this.mon = MonitorState.of(contexts, this.mon.unservedRuns, this.mon.unservedLog);
  }

  /**
   * The words of the interrupted code's live stack (from RSP up to the top of the stack it is
   * on, at most 1 KiB), or 0 when it is on none of the task, debug or user stacks.
   */
  private liveStackWords(s: ContextState): number {
    const lo = s.regs[8] >>> 0;
    const hi = s.regs[9];
    for (const st of this.liveStacks) {
      // Exact in a double: on any one stack the two addresses differ by a small amount.
      const below = (st.topHi - hi) * 4294967296 + ((st.topLo >>> 0) - lo);
      if (below > 0 && below <= st.size) return (Math.min(below, 1024) >> 2) & ~1;
    }
    return 0;
  }

  // ---- violations ------------------------------------------------------------------------------

  /** What the invariants see of this explorer: the run in progress reports and is asked. */
  private makeJudge(): Judge {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters read this explorer's state as it moves
    const ex = this;
    return {
      machine: ex.machine,
      kernel: ex.kernel,
      bound: ex.bound,
      steadySteps: ex.steadySteps,
      get monitor() {
        return ex.mon;
      },
      get inRoot() {
        return ex.judged !== null && ex.judged.root;
      },
      violation: (id, summary) => ex.violation(ex.judged as RunRecord, id as InvariantId, summary),
      where: (address) => ex.where(address),
    };
  }

  /**
   * Record a violation on the current path. It happened after the last boundary recorded (it is
   * part of that boundary's future, not of the one being looked at), or, before any, it was caused
   * by the event that started the run.
   */
  private violation(r: RunRecord, inv: InvariantId, summary: () => string): void {
    const bit = BIT[inv];
    r.seen |= bit;
    const last = r.steps.length - 1;
    if (last >= 0) {
      if (r.violMask === null) r.violMask = [];
      r.violMask[last] = (r.violMask[last] ?? 0) | bit;
    } else r.preMask |= bit;
    // The words only for a schedule that is kept: most runs of a broken design repeat a violation.
    const events = () => this.path.map((e) => ({ kind: e.kind, step: e.step, at: e.at }));
    if (this.collected !== null) {
      this.collected.push({ invariant: inv, events: events(), summary: summary() });
      return;
    }
    const old = this.best.get(inv);
    if (old === undefined || compareSchedules(this.path, old.events) < 0)
      this.best.set(inv, { invariant: inv, events: events(), summary: summary() });
  }

  where(address: bigint): string {
    return this.machine.symbolize(address) ?? `0x${BigInt.asUintN(64, address).toString(16)}`;
  }

  detach(): void {
    this.machine.hookScope = 'every';
    this.machine.onBoundary(this.kernelHook);
  }

  /**
   * `fn` on this explorer's kernel as a fresh one would run it (the kernel's own hook, every
   * boundary), between explorations: the next exploreRoot() starts from the steady state anyway.
   */
  withKernel<T>(fn: (k: Kernel) => T): T {
    const m = this.machine;
    const scope = m.hookScope;
    const hook = m.boundaryHook;
    this.detach();
    try {
      return fn(this.kernel);
    } finally {
      m.hookScope = scope;
      m.onBoundary(hook);
    }
  }
}
