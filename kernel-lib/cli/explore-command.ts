// `nmi-lab explore DESIGN [--workload W] [--depth N] [--exceptions N] [--json] [--source FILE.S] [--force] [--workers N] [--sample N [--seed S]]`
import { EXPLORE_USAGE } from './usage';
import * as fs from 'fs';
import { formatDiagnostic } from '../asm';
import { checkDesignSource } from '../harness/design-source';
import { WORKLOADS } from '../harness/kernel';
import type { WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import { exploreDesign, defaultWorkers, ExploreRefused, sampleDesign, WorkloadReport } from '../explore';
import type { SampleReport } from '../explore';
import { parseArgs, positiveInt, UsageError } from './args';
import type { CliIo } from './io';

/** Read a design from the command line: a shipped id, or --source FILE.S. Errors go to stderr. */
export function designArg(
  args: { positionals: string[]; options: Map<string, string> },
  io: CliIo,
  usage: string,
): Design | string | null {
  const source = args.options.get('source');
  if (source !== undefined) {
    if (args.positionals.length > 1) throw new UsageError(`usage: ${usage}`);
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (e) {
      io.err(`nmi-lab: cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return null;
    }
    const id =
      (source.split('/').pop() ?? 'my-design')
        .replace(/\.S$/i, '')
        .toLowerCase()
        .replace(/[^a-z0-9.-]/g, '-') || 'my-design';
    const r = checkDesignSource(text, { id, listing: source });
    if (r.ok === false) {
      for (const d of r.errors) io.err(`${formatDiagnostic(d)}\n`);
      return null;
    }
    return r.design;
  }
  if (args.positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  return args.positionals[0];
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
    design: Design | string;
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
    reports = sampleDesign(o);
  } catch (e) {
    if (e instanceof Error && /unknown design|samples/.test(e.message)) {
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
        lines.push(`      nmi-lab replay ${r.design} --workload ${r.workload} --schedule '${v.schedule}'`);
      }
    }
    io.out(`${lines.join('\n')}\n`);
  }
  return reports.some((r) => r.verdict === 'violated') ? 1 : 0;
}

export async function exploreCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(
    argv,
    ['workload', 'depth', 'exceptions', 'workers', 'source', 'max-steps', 'sample', 'seed'],
    ['json', 'force'],
  );
  const design = designArg(args, io, EXPLORE_USAGE);
  if (design === null) return 2;
  const workload = workloadArg(args.options.get('workload'));
  const depth = args.options.has('depth') ? positiveInt(args.options.get('depth') as string, '--depth') : 2;
  const exceptions = args.options.has('exceptions') ? Number(args.options.get('exceptions')) : 1;
  if (!Number.isInteger(exceptions) || exceptions < 0) throw new UsageError('--exceptions must be 0 or more');
  const workers = args.options.has('workers') ? Number(args.options.get('workers')) : defaultWorkers();
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
      { design, workload, depth, exceptions, samples, seed, maxStepsAfterEvent, json: args.flags.has('json') },
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
    if (e instanceof Error && /unknown design/.test(e.message)) {
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
        lines.push(`      nmi-lab replay ${r.design} --workload ${r.workload} --schedule '${v.schedule}'`);
      }
    }
    io.out(`${lines.join('\n')}\n`);
  }
  return reports.some((r) => r.verdict !== 'clean') ? 1 : 0;
}
