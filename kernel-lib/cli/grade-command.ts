// `nmi-lab grade PATH... [--out DIR] [--jobs N] [--json] [--timeout SECONDS] [--isolation auto|bwrap|node]`
import * as os from 'os';
import { GRADE_USAGE } from './usage';
import { formatGradeReport, gradeMany, gradingIsolation } from '../grade/grader';
import type { GradeReport } from '../grade/grader';
import { findSubmissions, writeGradebook } from '../grade/gradebook';
import { parseArgs, positiveInt, UsageError } from './args';
import type { CliIo } from './io';

export const GRADE_HELP = `usage: ${GRADE_USAGE}

Grades course notebooks against the lessons' checks and hidden tests. PATH is a notebook, a folder
(every .ipynb below it) or a glob ('class/*.ipynb'). Submissions are graded in parallel (--jobs,
default the number of cores), each in a sandbox (Node's permission model, and bubblewrap where it
can create namespaces; --isolation node uses the permission model alone).

  --out DIR       write DIR/gradebook.csv and DIR/feedback/STUDENT.md (default with more than one
                  submission: ./grades)
  --json          print the reports as JSON (an object for one file, else an array)
  --timeout S     time limit for a submission's cells, and again for each exercise (default 10)

Every file named gets a row, with a reason when it cannot be graded.
exit status: 0 graded, 2 usage or nothing to grade (or a single file that is not a course notebook)
`;

export async function gradeCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(GRADE_HELP);
    return 0;
  }
  const args = parseArgs(argv, ['timeout', 'out', 'jobs', 'isolation'], ['json']);
  if (args.positionals.length === 0) throw new UsageError(`usage: ${GRADE_USAGE}`);
  const timeout = args.options.has('timeout') ? positiveInt(args.options.get('timeout') as string, '--timeout') : 10;
  const jobs = args.options.has('jobs') ? positiveInt(args.options.get('jobs') as string, '--jobs') : os.cpus().length;
  const isolation = (args.options.get('isolation') ?? 'auto') as 'auto' | 'bwrap' | 'node';
  if (!['auto', 'bwrap', 'node'].includes(isolation))
    throw new UsageError(`--isolation must be auto, bwrap or node, not '${isolation}'`);
  if (isolation === 'bwrap' && gradingIsolation().mode !== 'bwrap')
    throw new UsageError(`--isolation bwrap: ${gradingIsolation().reason}`);
  const { files, unmatched } = findSubmissions(args.positionals);
  for (const u of unmatched) io.err(`nmi-lab grade: ${u}: no notebooks found\n`);
  if (files.length === 0) {
    io.err('nmi-lab grade: nothing to grade\n');
    return 2;
  }
  const single = files.length === 1 && args.positionals.length === 1 && !args.options.has('out');
  const json = args.flags.has('json');
  const reports: GradeReport[] = await gradeMany(files, {
    timeoutMs: timeout * 1000,
    concurrency: jobs,
    isolation,
    onReport: (r) => {
      if (!json) io.out(formatGradeReport(r));
    },
  });
  if (json) io.out(`${JSON.stringify(single ? reports[0] : reports)}\n`);
  if (!single) {
    const dir = args.options.get('out') ?? 'grades';
    const { csv, feedback } = writeGradebook(dir, reports);
    io.err(
      `nmi-lab grade: ${reports.length} submission(s) graded; gradebook ${csv}, ${feedback.length} feedback file(s) in ${dir}/feedback\n`,
    );
  }
  const isolationNote = gradingIsolation();
  if (isolation === 'auto' && isolationNote.reason) io.err(`nmi-lab grade: ${isolationNote.reason}\n`);
  return single && reports[0].lesson === null ? 2 : 0;
}
