// `nmi-lab replay DESIGN --schedule '...' [--workload W] [--max-steps N] [--stacks-at STEP,...] [--json]`
// DESIGN is a shipped id or a listing of your own (design-args.ts), as `explore` prints it.
import { replaySchedule } from '../explore';
import { KernelSetupError } from '../harness/kernel';
import { traceToText } from '../view/trace-render';
import { stacksToText } from '../view/stack-render';
import { parseArgs, positiveInt, UsageError } from './args';
import { REPLAY_USAGE } from './usage';
import { DESIGN_OPTIONS, designArg } from './design-args';
import { workloadArg } from './explore-command';
import type { CliIo } from './io';

export function replayCommand(argv: string[], io: CliIo): number {
  const args = parseArgs(argv, ['workload', 'schedule', 'stacks-at', 'max-steps', ...DESIGN_OPTIONS], ['json']);
  const schedule = args.options.get('schedule');
  if (schedule === undefined) throw new UsageError(`replay needs --schedule 'KIND@WHERE,...'`);
  const maxStepsAfterEvent = args.options.has('max-steps')
    ? positiveInt(args.options.get('max-steps') as string, '--max-steps')
    : undefined;
  const choice = designArg(args, io, REPLAY_USAGE);
  if (choice === null) return 2;
  const design = choice.design;
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
  let r: ReturnType<typeof replaySchedule>;
  try {
    r = replaySchedule({
      design,
      workload,
      schedule,
      trace: !json,
      stacksAt: json ? [] : stacksAt,
      maxStepsAfterEvent,
    });
  } catch (e) {
    if (e instanceof KernelSetupError) {
      io.err(`nmi-lab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
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
