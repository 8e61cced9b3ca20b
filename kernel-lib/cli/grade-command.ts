// `nmi-lab grade SUBMISSION.ipynb [--json] [--timeout SECONDS]`
import { GRADE_USAGE } from './usage';
import { formatGradeReport, gradeNotebookFile } from '../grade/grader';
import { parseArgs, positiveInt, UsageError } from './args';
import type { CliIo } from './io';

export async function gradeCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['timeout'], ['json']);
  if (args.positionals.length !== 1) throw new UsageError(`usage: ${GRADE_USAGE}`);
  const timeout = args.options.has('timeout') ? positiveInt(args.options.get('timeout') as string, '--timeout') : 10;
  const report = await gradeNotebookFile(args.positionals[0], { timeoutMs: timeout * 1000 });
  if (args.flags.has('json')) io.out(`${JSON.stringify(report)}\n`);
  else io.out(formatGradeReport(report));
  return report.lesson === null ? 2 : 0;
}
