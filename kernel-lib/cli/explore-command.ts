// `nmi-lab explore DESIGN [--workload W] [--depth N] [--exceptions N] [--json] [--force] [--workers N] [--sample N [--seed S]]`
// DESIGN is a shipped id or a listing of your own (design-args.ts).
import { KernelSetupError, WORKLOADS } from '../harness/kernel';
import type { WorkloadId } from '../harness/kernel';
import { exploreDesign, defaultWorkers, ExploreRefused, sampleDesign, WorkloadReport } from '../explore';
import type { SampleReport } from '../explore';
import { parseArgs, positiveInt, UsageError } from './args';
import { EXPLORE_USAGE } from './usage';
import { DESIGN_OPTIONS, DesignChoice, designArg } from './design-args';
import type { CliIo } from './io';

/** More worker threads than this is a typo, not a plan (the machine has a few cores). */
const MAX_WORKERS = 64;

/** The replay command for a violation, as it must be typed to run as printed. */
export function replayHint(
  choice: DesignChoice,
  workload: string,
  schedule: string,
  maxStepsAfterEvent: number | undefined,
): string {
  const steps = maxStepsAfterEvent !== undefined ? ` --max-steps ${maxStepsAfterEvent}` : '';
  return `nmi-lab replay ${choice.words} --workload ${workload}${steps} --schedule '${schedule.replace(/'/g, `'\\''`)}'`;
}

export function workloadArg(text: string | undefined): WorkloadId | undefined {
  if (text === undefined) return undefined;
  if (!(WORKLOADS as readonly string[]).includes(text))
    throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')}, not '${text}'`);
  return text as WorkloadId;
}

function jsonOf(r: WorkloadReport) {
  return {
    design: r.design,
    workload: r.workload,
    depth: r.depth,
    schedules: r.schedules,
    states: r.states,
    ms: r.ms,
    violations: r.violations.map((v) => ({ invariant: v.invariant, schedule: v.schedule, summary: v.summary })),
    verdict: r.verdict,
    exceptions: r.exceptions,
    runs: r.runs,
    dedupRatio: r.dedupRatio,
    steps: r.steps,
  };
}

function sampleJsonOf(r: SampleReport) {
  return {
    design: r.design,
    workload: r.workload,
    depth: r.depth,
    schedules: r.distinct,
    states: null,
    ms: r.ms,
    violations: r.violations.map((v) => ({ invariant: v.invariant, schedule: v.schedule, summary: v.summary })),
    mode: r.mode,
    samples: r.samples,
    seed: r.seed,
    verdict: r.verdict,
    exceptions: r.exceptions,
    steps: r.steps,
  };
}

/** --sample: random schedules within the bound, checked one by one; says so in every line. */
function sampleCommand(
  o: {
    choice: DesignChoice;
    workload?: WorkloadId;
    depth: number;
    exceptions: number;
    samples: number;
    seed: number;
    maxStepsAfterEvent?: number;
    json: boolean;
  },
  io: CliIo,
): number {
  let reports: SampleReport[];
  try {
    reports = sampleDesign({ ...o, design: o.choice.design });
  } catch (e) {
    if (e instanceof KernelSetupError || (e instanceof Error && /unknown design|samples/.test(e.message))) {
      io.err(`nmi-lab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o.json) {
    const out = o.workload !== undefined ? sampleJsonOf(reports[0]) : reports.map(sampleJsonOf);
    io.out(`${JSON.stringify(out)}\n`);
  } else {
    const lines: string[] = [];
    for (const r of reports) {
      lines.push(
        `${r.design} / ${r.workload} (depth ${r.depth}, exceptions ${r.exceptions}): ${r.verdict === 'violated' ? 'VIOLATED' : 'no violation found'} in ${r.samples.toLocaleString('en-US')} random schedules (seed ${r.seed})`,
      );
      lines.push(
        `  ${r.distinct.toLocaleString('en-US')} distinct schedules, not all of them: sampling is not a proof; ${r.steps.toLocaleString('en-US')} steps, ${r.ms} ms (user RSPs: ${r.userRsps.join(', ')})`,
      );
      for (const v of r.violations) {
        lines.push(`  [${v.number}] ${v.title}: ${v.summary}`);
        lines.push(`      ${replayHint(o.choice, r.workload, v.schedule, o.maxStepsAfterEvent)}`);
      }
    }
    io.out(`${lines.join('\n')}\n`);
  }
  return reports.some((r) => r.verdict === 'violated') ? 1 : 0;
}

export async function exploreCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(
    argv,
    ['workload', 'depth', 'exceptions', 'workers', 'max-steps', 'sample', 'seed', ...DESIGN_OPTIONS],
    ['json', 'force'],
  );
  const choice = designArg(args, io, EXPLORE_USAGE);
  if (choice === null) return 2;
  const design = choice.design;
  const workload = workloadArg(args.options.get('workload'));
  const depth = args.options.has('depth') ? positiveInt(args.options.get('depth') as string, '--depth') : 2;
  const exceptions = args.options.has('exceptions') ? Number(args.options.get('exceptions')) : 1;
  if (!/^\d+$/.test(args.options.get('exceptions') ?? '1') || !Number.isSafeInteger(exceptions))
    throw new UsageError(`--exceptions must be 0 or more, not '${args.options.get('exceptions')}'`);
  const workers = args.options.has('workers') ? Number(args.options.get('workers')) : defaultWorkers();
  if (!/^\d+$/.test(args.options.get('workers') ?? '0') || workers > MAX_WORKERS)
    throw new UsageError(
      `--workers must be 0 (explore in this thread) to ${MAX_WORKERS}, not '${args.options.get('workers')}'`,
    );
  const maxStepsAfterEvent = args.options.has('max-steps')
    ? positiveInt(args.options.get('max-steps') as string, '--max-steps')
    : undefined;
  if (args.options.has('seed') && !args.options.has('sample')) throw new UsageError('--seed goes with --sample N');
  if (args.options.has('sample')) {
    const samples = positiveInt(args.options.get('sample') as string, '--sample');
    const seed = args.options.has('seed') ? Number(args.options.get('seed')) : 1;
    if (!Number.isSafeInteger(seed))
      throw new UsageError(`--seed must be an integer, not '${args.options.get('seed')}'`);
    return sampleCommand(
      { choice, workload, depth, exceptions, samples, seed, maxStepsAfterEvent, json: args.flags.has('json') },
      io,
    );
  }
  let reports: WorkloadReport[];
  try {
    reports = await exploreDesign({
      design,
      workload,
      depth,
      exceptions,
      workers,
      force: args.flags.has('force'),
      maxStepsAfterEvent,
    });
  } catch (e) {
    if (e instanceof ExploreRefused) {
      io.err(`nmi-lab: ${e.message}\n`);
      for (const est of e.estimates)
        io.err(
          `  ${est.workload}: ${est.firstEventPoints} first-event points, ~${est.episodeBoundaries} boundaries per episode, ~${Math.round(est.estimatedSchedules).toLocaleString('en-US')} schedules\n`,
        );
      return 2;
    }
    if (e instanceof KernelSetupError || (e instanceof Error && /unknown design/.test(e.message))) {
      io.err(`nmi-lab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args.flags.has('json')) {
    const out = workload !== undefined ? jsonOf(reports[0]) : reports.map(jsonOf);
    io.out(`${JSON.stringify(out)}\n`);
  } else {
    const lines: string[] = [];
    for (const r of reports) {
      lines.push(
        `${r.design} / ${r.workload} (depth ${r.depth}, exceptions ${r.exceptions}): ${r.verdict === 'clean' ? 'CLEAN' : 'VIOLATED'}`,
      );
      lines.push(
        `  ${r.schedules.toLocaleString('en-US')} schedules, ${r.runs.toLocaleString('en-US')} runs, ${r.states.toLocaleString('en-US')} distinct states, dedup ratio ${r.dedupRatio}, ${r.steps.toLocaleString('en-US')} steps, ${r.ms} ms (user RSPs: ${r.userRsps.join(', ')})`,
      );
      for (const v of r.violations) {
        lines.push(`  [${v.number}] ${v.title}: ${v.summary}`);
        lines.push(`      ${replayHint(choice, r.workload, v.schedule, maxStepsAfterEvent)}`);
      }
    }
    io.out(`${lines.join('\n')}\n`);
  }
  return reports.some((r) => r.verdict !== 'clean') ? 1 : 0;
}
