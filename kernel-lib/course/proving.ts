// Chapters 6 (proving it) and 8 (the lab): the explorer seen from a notebook. An outcome map built
// from real runs (one schedule per cell, judged by the explorer's own invariant monitor), a
// counterexample replayed as a trace, and the checks of the two chapters' exercises. Nothing here
// knows an expected answer: every verdict is what the explorer reported for the machine's run.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { buildKernel } from '../harness/kernel';
import type { ExceptionKind, WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import { getDesign, resolveDesign } from '../designs/registry';
import { loadDesignFromSource } from '../harness/design-source';
import { exploreWorkload } from '../explore/explore';
import type { WorkloadReport } from '../explore/report';
import { replaySchedule } from '../explore/replay';
import type { ReplayResult } from '../explore/replay';
import { INVARIANTS } from '../explore/invariants';
import type { InvariantId } from '../explore/invariants';
import { DEFAULT_BOUND, Explorer } from '../explore/search';
import { parseSchedule } from '../explore/schedule';
import { resolveSchedule } from '../explore/resolve';
import type { OutcomePoint } from '../view/plots';
import { CheckFailure, describe, expectList, expectTrue } from './checks';

/** A short name per invariant, for map cells and tables (the colours follow the words). */
const SHORT: Record<InvariantId, string> = {
  'lost-nmi': 'lost NMI',
  'reentrant-handler': 're-entered do_nmi',
  transparency: 'not transparent',
  fault: 'fault',
  termination: 'hang (no return)',
  privilege: 'privilege confusion',
};

/** 'ok', or the short names of the violated invariants in their numbered order, joined by ' + '. */
export function verdictOf(violated: readonly InvariantId[]): string {
  const ids = INVARIANTS.filter((i) => violated.indexOf(i.id) >= 0).map((i) => SHORT[i.id]);
  return ids.length === 0 ? 'ok' : ids.join(' + ');
}

/** The six invariants as a table: number, title, the rule in a sentence or two. */
export function invariantTable(width = 110): string {
  const lines: string[] = [];
  for (const i of INVARIANTS) {
    lines.push(`${i.number}. ${i.title}  [${i.id}]`);
    let line = '   ';
    for (const word of i.rule.split(' ')) {
      if (line.length + word.length + 1 > width) {
        lines.push(line);
        line = '   ';
      }
      line += (line.trim() === '' ? '' : ' ') + word;
    }
    if (line.trim() !== '') lines.push(line);
  }
  return lines.join('\n');
}

/** One line per violation of an explorer report, with the cost of the exploration. */
export function reportText(r: WorkloadReport): string {
  const head =
    `${r.design} / ${r.workload}, depth ${r.depth}, exceptions ${r.exceptions}: ${r.verdict}; ` +
    `${r.schedules.toLocaleString('en-US')} schedules, ${r.runs.toLocaleString('en-US')} runs, ${r.states.toLocaleString('en-US')} states, ${r.ms} ms`;
  return [
    head,
    ...r.violations.map((v) => `  ${v.number} ${v.title}\n      schedule: ${v.schedule}\n      ${v.summary}`),
  ].join('\n');
}

/** One row of an outcome map: the NMI run with no exception, or with one exception at a do_nmi point. */
export interface MapRow {
  kind?: ExceptionKind;
  at?: string;
}

export interface OutcomeMapOptions {
  workload?: WorkloadId;
  /** Rows: default none and a #BP at nmi_point_early. */
  rows?: MapRow[];
  /** Second-NMI arrivals: boundaries 1..to after the first NMI (default 140), every `every`-th (default 1). */
  to?: number;
  every?: number;
  /** Steps after the last event before a run counts as a hang (default 600). */
  maxStepsAfterEvent?: number;
}

function rowName(r: MapRow): string {
  return r.kind === undefined ? 'no exception' : `${r.kind}@${r.at}`;
}

/**
 * A map of outcomes: the first NMI arrives at the workload's steady state (step 0); a row may add
 * one exception at a do_nmi point; a second NMI arrives N instructions later, for each N in range.
 * Each cell is one schedule, resolved against the machine and judged by the explorer's monitor
 * (the same evaluation as `replaySchedule`, on one kernel per row to keep it fast). Arrivals
 * after the episode is over are left out (they start a new episode, which the first column shows).
 */
export function outcomeMap(
  design: string | Design,
  options: OutcomeMapOptions = {},
): { points: OutcomePoint[]; ms: number; schedules: number } {
  const t0 = Date.now();
  const d = resolveDesign(design);
  const workload = options.workload ?? 'kernel';
  const rows = options.rows ?? [{}, { kind: 'bp', at: 'nmi_point_early' }];
  const to = options.to ?? 140;
  const every = Math.max(1, options.every ?? 1);
  const points: OutcomePoint[] = [];
  for (const row of rows) {
    const resolver = buildKernel({ design: d, workload });
    const judge = buildKernel({ design: d, workload });
    const ex = new Explorer(judge, {
      ...DEFAULT_BOUND,
      depth: 1,
      exceptions: 1,
      maxStepsAfterEvent: options.maxStepsAfterEvent ?? 600,
    });
    try {
      let exceptionStep = -1;
      if (row.kind !== undefined) {
        const r = resolveSchedule(resolver, parseSchedule(`nmi@0,${row.kind}@${row.at}`));
        if (r.ok === false) throw new Error(`${d.id}: ${r.error}`);
        exceptionStep = r.schedule.events[1].step;
      }
      for (let n = 1; n <= to; n += every) {
        let text = `nmi@0,nmi@${n}`;
        if (row.kind !== undefined)
          text = n < exceptionStep ? `nmi@0,nmi@${n},${row.kind}@${row.at}` : `nmi@0,${row.kind}@${row.at},nmi@${n}`;
        const r = resolveSchedule(resolver, parseSchedule(text));
        if (r.ok === false) continue;
        const verdict = ex.evaluate(r.schedule.events);
        if (verdict.error !== undefined) continue; // the episode was over before the second NMI
        const ids: InvariantId[] = [];
        for (const v of verdict.violations) if (ids.indexOf(v.invariant) < 0) ids.push(v.invariant);
        points.push({ exceptionPoint: rowName(row), arrival: n, verdict: verdictOf(ids), schedule: text });
      }
    } finally {
      ex.detach();
    }
  }
  return { points, ms: Date.now() - t0, schedules: points.length };
}

/** How many cells of a map have each verdict, as text. */
export function mapCounts(points: readonly OutcomePoint[]): string {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.verdict, (counts.get(p.verdict) ?? 0) + 1);
  return [...counts.entries()].map(([v, c]) => `${v}: ${c}`).join(', ');
}

// ---- exercise 6.1: a schedule that re-enters do_nmi --------------------------------------------

function replayOf(design: string, schedule: string): ReplayResult {
  return replaySchedule({ design, workload: 'kernel', schedule, maxStepsAfterEvent: 1500 });
}

/** ch6-ex1: `schedule` replayed on `unprotected` (kernel workload) re-enters do_nmi; hidden: linux-3.6 (which saves CR2) survives it. */
export function checkReentrySchedule(schedule: unknown, options: { hidden?: boolean } = {}): void {
  expectTrue(
    typeof schedule === 'string' && schedule.trim() !== '',
    `reentry should be a schedule string such as 'nmi@0,nmi@5', got ${describe(schedule)}`,
  );
  const s = schedule as string;
  const u = replayOf('unprotected', s);
  if (u.error !== undefined && u.schedule === undefined)
    throw new CheckFailure(`the schedule does not replay on unprotected: ${u.error}`);
  const found = u.violations.map((v) => v.invariant);
  expectTrue(
    found.indexOf('reentrant-handler') >= 0,
    `on unprotected the schedule ${u.label ?? s} breaks ${found.length === 0 ? 'nothing' : found.join(', ')}${u.error ? ` (${u.error})` : ''}; do_nmi must begin again while its first run is still going`,
  );
  if (options.hidden) {
    const f = replayOf('linux-3.6', s);
    expectTrue(f.schedule !== undefined, `the schedule does not replay on linux-3.6: ${f.error}`);
    expectList(
      f.violations.map((v) => `${v.number} ${v.title}`),
      [],
      `invariants linux-3.6 breaks on ${f.label}`,
    );
  }
}

// ---- exercise 6.2: CR2 -----------------------------------------------------------------------

export const CR2_DESIGNS = ['unprotected', 'linux-3.3', 'linux-3.6'] as const;

/** The invariant numbers the explorer reports for one NMI plus at most one exception in do_nmi (kernel workload). */
export async function oneExceptionVerdicts(
  designs: readonly string[] = CR2_DESIGNS,
  workers = 0,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const d of designs) {
    const r = await exploreWorkload({
      design: d,
      workload: 'kernel',
      depth: 1,
      exceptions: 1,
      maxStepsAfterEvent: 600,
      workers,
    });
    out[d] = r.violations.map((v) => v.number).sort((a, b) => a - b);
  }
  return out;
}

/** ch6-ex2: the invariant numbers predicted per design, against the explorer's verdicts. */
export async function checkCr2Verdicts(predicted: unknown, options: { workers?: number } = {}): Promise<void> {
  expectTrue(
    typeof predicted === 'object' && predicted !== null,
    `cr2Verdicts should be an object of lists, got ${describe(predicted)}`,
  );
  const p = predicted as Record<string, unknown>;
  const truth = await oneExceptionVerdicts(CR2_DESIGNS, options.workers ?? 0);
  for (const d of CR2_DESIGNS) {
    expectTrue(Array.isArray(p[d]), `cr2Verdicts['${d}'] should be a list of invariant numbers, got ${describe(p[d])}`);
    const given = (p[d] as unknown[]).map(Number).sort((a, b) => a - b);
    expectList(given, truth[d], `the invariants the explorer reports for ${d}`);
  }
}

// ---- chapter 8: the lab ----------------------------------------------------------------------

/**
 * The worked example of kernel-lib/designs/README.md ("copy-and-drop"): a flag and a copy of the
 * return frame on the NMI stack; a nested NMI returns at once. The lab's starting point.
 */
export const COPY_AND_DROP = `/* copy-and-drop: safe but lossy. T = NMI stack top. */
ENTRY(nmi)
	pushq %rdx			/* T-48: scratch */
	cmpl $1, -8(%rsp)		/* T-56: "in NMI" flag set? */
	je nested_nmi
first_nmi:
	movq (%rsp), %rdx
	pushq $1			/* T-56 := 1 */
	.rept 5
	pushq 6*8(%rsp)			/* T-64 .. T-96: copy of the hardware frame */
	.endr
	pushq $-1			/* orig_rax */
	ALLOC_PT_GPREGS_ON_STACK
	call save_paranoid
	movq %rsp, %rdi
	call do_nmi
	testl %ebx, %ebx
	jnz nmi_restore
	SWAPGS
nmi_restore:
	RESTORE_ALL 8			/* RSP at the copy */
	movq $0, 5*8(%rsp)		/* flag := 0 */
	INTERRUPT_RETURN		/* through the copy, which no NMI overwrites */
nested_nmi:
	/* The hardware frame at T-40 is this NMI's own: return through it. The NMI is dropped. */
	popq %rdx
nested_nmi_out:
	INTERRUPT_RETURN
END(nmi)
`;

/** Assemble a learner's listing, turning assembly errors into a check failure that lists them. */
export function labDesign(source: unknown, id = 'my-design'): Design {
  expectTrue(
    typeof source === 'string' && source.trim() !== '',
    `the design should be a string holding the listing, got ${describe(source)}`,
  );
  try {
    return loadDesignFromSource(source as string, { id, title: id });
  } catch (e) {
    throw new CheckFailure(`the listing does not assemble:\n${(e as Error).message}`);
  }
}

/** Explore a design on one workload within a small bound, returning the report. */
export async function judge(
  design: string | Design,
  workload: WorkloadId,
  depth: number,
  exceptions: number,
  workers = 0,
): Promise<WorkloadReport> {
  return exploreWorkload({ design, workload, depth, exceptions, maxStepsAfterEvent: 600, workers });
}

function violationLines(r: WorkloadReport): string {
  return r.violations.map((v) => `${v.number} ${v.title}: ${v.schedule} (${v.summary})`).join('; ');
}

/** ch8-ex1: a plain entry that handles one NMI at a time correctly: clean at depth 1 without exceptions. */
export async function checkPlainEntry(
  source: unknown,
  options: { hidden?: boolean; workers?: number } = {},
): Promise<void> {
  const d = labDesign(source, 'plain-entry');
  const workloads: WorkloadId[] = options.hidden ? ['user', 'syscall'] : ['kernel'];
  for (const w of workloads) {
    const r = await judge(d, w, 1, 0, options.workers ?? 0);
    expectTrue(r.violations.length === 0, `on the ${w} workload the explorer reports: ${violationLines(r)}`);
  }
}

/**
 * ch8-ex2: copy-and-drop with its hole closed. On the kernel workload at depth 2 with one
 * exception, the explorer may still report the NMIs the design drops by intent (invariant 1) and
 * CR2 changed by a page fault in do_nmi (invariant 3, when its summary names cr2); nothing else.
 */
export async function checkClosedHole(source: unknown, options: { workers?: number } = {}): Promise<void> {
  const d = labDesign(source, 'copy-and-drop-fixed');
  const r = await judge(d, 'kernel', 2, 1, options.workers ?? 0);
  const other = r.violations.filter(
    (v) => !(v.invariant === 'lost-nmi' || (v.invariant === 'transparency' && /cr2/.test(v.summary))),
  );
  expectTrue(
    other.length === 0,
    `the explorer still reports: ${other.map((v) => `${v.number} ${v.title}: ${v.schedule} (${v.summary})`).join('; ')}`,
  );
  const plain = await judge(d, 'kernel', 1, 0, options.workers ?? 0);
  expectTrue(plain.violations.length === 0, `a single NMI is no longer handled correctly: ${violationLines(plain)}`);
}

/**
 * A schedule replayed with a trace, ready for `show`: the rows where something happened (an event,
 * a write on a watched stack) and the label form of the schedule, with the replay's verdicts.
 */
export function counterexample(
  design: string | Design,
  schedule: string,
  options: { workload?: WorkloadId; maxRows?: number; eventsOnly?: boolean } = {},
): {
  replay: ReplayResult;
  view: {
    trace: NonNullable<ReplayResult['trace']>;
    options: {
      symbolize: (a: bigint) => string | null;
      maxRows: number;
      title: string;
      filter?: (s: { events: unknown[] }) => boolean;
    };
  };
} {
  const workload = options.workload ?? 'kernel';
  const replay = replaySchedule({ design, workload, schedule, trace: true, maxStepsAfterEvent: 600 });
  if (replay.trace === undefined) throw new Error(`the schedule does not replay: ${replay.error}`);
  const m = buildKernel({ design: resolveDesign(design), workload }).machine;
  const title = `${typeof design === 'string' ? design : design.id} / ${workload}: ${replay.label}`;
  return {
    replay,
    view: {
      trace: replay.trace,
      options: {
        symbolize: (a: bigint) => m.symbolize(a),
        maxRows: options.maxRows ?? 60,
        title,
        ...(options.eventsOnly === false ? {} : { filter: (s: { events: unknown[] }) => s.events.length > 0 }),
      },
    },
  };
}

/**
 * A shipped design with the harness's do_nmi guard (option doNmiLatch: the C-level NOT_RUNNING /
 * EXECUTING / LATCHED state of arch/x86/kernel/nmi.c) switched on or off, to see what the entry
 * code alone does.
 */
export function withDoNmiLatch(id: string, on: boolean): Design {
  const d = getDesign(id);
  return { ...d, id: `${id}${on ? '+latch' : '-latch'}`, harness: { ...d.harness, doNmiLatch: on } };
}
