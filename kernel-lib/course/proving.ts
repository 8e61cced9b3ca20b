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
import { DEFAULT_BOUND } from '../explore/bound';
import { Explorer } from '../explore/search';
import { parseSchedule } from '../explore/schedule';
import { resolveSchedule } from '../explore/resolve';
import type { OutcomePoint } from '../view/plots';
import { CheckFailure, defineExercise, describe, expectArray, expectRecord, expectString, expectTrue } from './checks';
import { breakTheDesign } from './break-design';

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

// ---- chapter 6's exercises ---------------------------------------------------------------------

function replayOf(design: string, schedule: string, workload: WorkloadId = 'kernel'): ReplayResult {
  return replaySchedule({ design, workload, schedule, maxStepsAfterEvent: 1500 });
}

/** One ch6-ex1 case: the design the schedule is replayed on, and what it must show there. */
export interface ReentryCase {
  design: string;
  /** 'reentry': invariant 2 must be broken; 'clean': no invariant at all. */
  expect: 'reentry' | 'clean';
}

/**
 * ch6-ex1: a schedule that re-enters do_nmi on `unprotected` (kernel workload) through a debug
 * trap (#DB), not the breakpoint the page's counterexample uses. Hidden: later designs survive it.
 */
export const DB_REENTRY_EXERCISE = defineExercise<ReentryCase>({
  id: 'ch6-ex1',
  title: 'the schedule re-enters do_nmi on the unprotected entry through a #DB',
  hint: 'NMIs stay blocked until an IRET: which event in do_nmi ends with one? Schedules read KIND@WHERE, and do_nmi’s exception points take db too.',
  names: ['dbReentry'],
  cases: [{ design: 'unprotected', expect: 'reentry' }],
  answer: (defs) => defs.dbReentry,
  judge(answer, c) {
    const s = expectString(answer, 'dbReentry');
    let parsed;
    try {
      parsed = parseSchedule(s);
    } catch (e) {
      throw new CheckFailure(`dbReentry is not a schedule: ${(e as Error).message}`);
    }
    const kinds = parsed.events.map((e) => e.kind);
    expectTrue(kinds.indexOf('db') >= 0, 'dbReentry has no db event: the exercise asks for a debug trap in do_nmi');
    expectTrue(kinds.indexOf('bp') < 0, 'dbReentry has a bp event: use a debug trap (db), not a breakpoint');
    const r = replayOf(c.design, s);
    if (r.schedule === undefined) throw new CheckFailure(`the schedule does not replay on ${c.design}: ${r.error}`);
    const found = r.violations.map((v) => v.number);
    if (c.expect === 'reentry')
      expectTrue(
        r.violations.some((v) => v.invariant === 'reentrant-handler'),
        `on ${c.design} the schedule breaks ${found.length === 0 ? 'nothing' : `invariant ${found.join(', ')}`}, not invariant 2: do_nmi must begin again while its first run is still going`,
      );
    else
      expectTrue(
        found.length === 0,
        `${c.design} breaks invariant ${found.join(', ')} on the same schedule: keep to what re-enters the unprotected entry and nothing else (no page fault)`,
      );
  },
});

/** A design on a workload, for ch6-ex2: one NMI, at most one exception in do_nmi. */
export const CR2_TARGETS = ['unprotected/user', 'linux-3.3/kernel', 'rfc-2011/user'] as const;

/** The invariant numbers the explorer reports for one NMI plus at most one exception in do_nmi. */
export async function oneExceptionVerdicts(
  targets: readonly string[] = CR2_TARGETS,
  workers = 0,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const t of targets) {
    const [design, workload] = t.split('/') as [string, WorkloadId];
    const r = await exploreWorkload({ design, workload, depth: 1, exceptions: 1, maxStepsAfterEvent: 600, workers });
    out[t] = r.violations.map((v) => v.number).sort((a, b) => a - b);
  }
  return out;
}

/** ch6-ex2: the invariant numbers predicted for three design/workload pairs, against the explorer. */
export const CR2_EXERCISE = defineExercise<null>({
  id: 'ch6-ex2',
  title: 'the predictions match the explorer',
  hint: 'With one NMI nothing can nest. Which contexts does invariant 3 compare CR2 for (see "What is modelled")? And chapter 5 showed what the RFC does with an NMI from user mode whose RSP points into the NMI stack.',
  names: ['verdicts'],
  cases: [null],
  answer: (defs) => defs.verdicts,
  async judge(answer) {
    const p = expectRecord(answer, 'verdicts');
    const truth = await oneExceptionVerdicts(CR2_TARGETS);
    for (const t of CR2_TARGETS) {
      const list = expectArray(p[t], `verdicts['${t}']`);
      const given = list.map((x) => (typeof x === 'bigint' ? Number(x) : x));
      for (const g of given)
        expectTrue(
          typeof g === 'number' && Number.isInteger(g) && g >= 1 && g <= 6,
          `verdicts['${t}'] should list invariant numbers (1 to 6), got ${describe(g)}`,
        );
      const extra = given.filter((g) => truth[t].indexOf(g as number) < 0);
      expectTrue(extra.length === 0, `${t}: the explorer does not report invariant ${extra.join(', ')} there`);
      const missing = truth[t].filter((n) => given.indexOf(n) < 0);
      expectTrue(missing.length === 0, `${t}: the explorer reports more invariants than the ones you listed`);
    }
  },
});

/** ch6-ex3: linux-3.3 without its CS check; the learner says what the explorer will find. */
export const NO_CS_CHECK_EXERCISE = breakTheDesign({
  id: 'ch6-ex3',
  design: 'linux-3.3',
  protection: 'CS check (the cmpl of __KERNEL_CS and its jne)',
  touches: [/__KERNEL_CS,\s*16\(%rsp\)/, /^\s*jne\s+first_nmi/],
  workload: 'user',
  depth: 1,
  exceptions: 0,
  name: 'noCsCheck',
  title: 'the explorer finds what removing the CS check costs, on the schedule you gave',
  hint: 'Without it, what decides whether an NMI from user mode is nested? The user controls its RSP; a schedule may start with rsp=ADDR (chapter 6, "CVE-2015-3291, found rather than constructed").',
});

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

/** One ch8-ex1 case: the workloads explored (one NMI, no exception). */
export interface PlainCase {
  workloads: WorkloadId[];
}

/** ch8-ex1: a plain entry that handles one NMI at a time correctly: clean at depth 1 without exceptions. */
export const PLAIN_ENTRY_EXERCISE = defineExercise<PlainCase>({
  id: 'ch8-ex1',
  title: 'one NMI on the kernel workload: no invariant broken',
  hint: 'Invariant 1 wants a do_nmi run; invariant 3 wants every register back. What does save_paranoid leave in %ebx?',
  names: ['plainSource'],
  cases: [{ workloads: ['kernel'] }],
  answer: (defs) => defs.plainSource,
  async judge(answer, c) {
    const d = labDesign(answer, 'plain-entry');
    for (const w of c.workloads) {
      const r = await judge(d, w, 1, 0);
      expectTrue(r.violations.length === 0, `on the ${w} workload the explorer reports: ${violationLines(r)}`);
    }
  },
});

/**
 * ch8-ex2: copy-and-drop with its hole closed. On the kernel workload at depth 2 with one
 * exception, the explorer may still report the NMIs the design drops by intent (invariant 1) and
 * CR2 changed by a page fault in do_nmi (invariant 3, when its summary names cr2); nothing else.
 */
export const CLOSED_HOLE_EXERCISE = defineExercise<null>({
  id: 'ch8-ex2',
  title: 'no hang, no re-entry, no fault at depth 2 with one exception',
  hint: 'Where is the interrupted RSP when the NMI arrives between "flag := 0" and the IRET? Compare it with T.',
  names: ['fixedSource'],
  cases: [null],
  answer: (defs) => defs.fixedSource,
  async judge(answer) {
    const d = labDesign(answer, 'copy-and-drop-fixed');
    const r = await judge(d, 'kernel', 2, 1);
    const other = r.violations.filter(
      (v) => !(v.invariant === 'lost-nmi' || (v.invariant === 'transparency' && /cr2/.test(v.summary))),
    );
    expectTrue(
      other.length === 0,
      `the explorer still reports: ${other.map((v) => `${v.number} ${v.title}: ${v.schedule} (${v.summary})`).join('; ')}`,
    );
    const plain = await judge(d, 'kernel', 1, 0);
    expectTrue(plain.violations.length === 0, `a single NMI is no longer handled correctly: ${violationLines(plain)}`);
  },
});

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
