// `nmi-lab replay DESIGN --schedule '...' [--workload W] [--json] [--source FILE.S]`
import { REPLAY_USAGE } from './usage';
import { replaySchedule } from '../explore';
import { traceToText } from '../view/trace-render';
import { stacksToText } from '../view/stack-render';
import { parseArgs, UsageError } from './args';
import { designArg, workloadArg } from './explore-command';
import type { CliIo } from './io';

export function replayCommand(argv: string[], io: CliIo): number {
  const args = parseArgs(argv, ['workload', 'schedule', 'source', 'stacks-at'], ['json']);
  const design = designArg(args, io, REPLAY_USAGE);
  if (design === null) return 2;
  const schedule = args.options.get('schedule');
  if (schedule === undefined) throw new UsageError(`usage: ${REPLAY_USAGE}`);
  const workload = workloadArg(args.options.get('workload')) ?? 'kernel';
  const json = args.flags.has('json');
  const stacksAt = (args.options.get('stacks-at') ?? '')
    .split(',')
    .filter((x) => x !== '')
    .map((x) => {
      if (!/^\d+$/.test(x))
        throw new UsageError(`--stacks-at takes step numbers (as in the trace's first column), not '${x}'`);
      return Number(x);
    });
  const r = replaySchedule({ design, workload, schedule, trace: !json, stacksAt: json ? [] : stacksAt });
  if (r.schedule === undefined) {
    io.err(`nmi-lab: ${r.error}\n`);
    return 2;
  }
  if (json) {
    io.out(
      `${JSON.stringify({ schedule: r.label, ok: r.ok, error: r.error, end: r.end, violations: r.violations.map((v) => ({ invariant: v.invariant, summary: v.summary })) })}\n`,
    );
  } else {
    const out: string[] = [];
    if (r.trace)
      out.push(
        traceToText(r.trace, {
          title: `${typeof design === 'string' ? design : design.id} / ${workload}: ${r.label}`,
          maxRows: 1000,
        }),
      );
    for (const s of r.stacks ?? []) out.push(`\nstacks at step ${s.step}:\n${stacksToText(s.diagrams)}`);
    const missing = stacksAt.filter((n) => !(r.stacks ?? []).some((s) => s.step === n));
    if (missing.length > 0) out.push(`note: no boundary at step ${missing.join(', ')} in this replay`);
    if (r.error) out.push(`note: ${r.error}`);
    out.push(r.violations.length === 0 ? 'verdict: no invariant violated' : 'verdict:');
    for (const v of r.violations) out.push(`  [${v.number}] ${v.title}: ${v.summary}`);
    io.out(`${out.join('\n')}\n`);
  }
  return r.violations.length > 0 ? 1 : r.ok ? 0 : 2;
}
