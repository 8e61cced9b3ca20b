// npm run course [-- NOTEBOOK.ipynb ...] [--json] [--jobs N]
// Executes every reference notebook (default: notebooks/*.ipynb) headless with the tslab kernel,
// two at a time, writing executed copies and HTML to dist/notebooks/. Exit 1 on any cell error or
// stderr output, with the cause printed. --json prints one object (timings for the benchmark).
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { formatRun, runNotebooks } from './runner';

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  let jobs = 2;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') continue;
    if (argv[i] === '--jobs') {
      jobs = Number(argv[++i]);
      if (!Number.isInteger(jobs) || jobs < 1) {
        process.stderr.write('course: --jobs needs a positive whole number\n');
        return 2;
      }
      continue;
    }
    if (argv[i].startsWith('--')) {
      process.stderr.write(
        `course: unknown option ${argv[i]}\nusage: npm run course [-- NOTEBOOK.ipynb ...] [--json] [--jobs N]\n`,
      );
      return 2;
    }
    files.push(argv[i]);
  }
  const notebooks =
    files.length > 0
      ? files
      : fs
          .readdirSync(path.join(PROJECT_ROOT, 'notebooks'))
          .filter((f) => f.endsWith('.ipynb'))
          .sort()
          .map((f) => `notebooks/${f}`);
  const started = Date.now();
  const runs = await runNotebooks(notebooks, {
    concurrency: jobs,
    onResult: json ? undefined : (r) => process.stdout.write(`${formatRun(r)}\n`),
  });
  const total = (Date.now() - started) / 1000;
  const failed = runs.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        course_s: Number(total.toFixed(2)),
        jobs,
        ok: failed.length === 0,
        notebooks: runs.map((r) => ({
          notebook: r.notebook,
          ok: r.ok,
          kernel_s: r.seconds,
          wall_s: Number(r.wallSeconds.toFixed(2)),
          problems: r.problems,
        })),
      })}\n`,
    );
  } else {
    process.stdout.write(
      `${runs.length - failed.length}/${runs.length} notebooks ran clean in ${total.toFixed(1)} s (${jobs} at a time); output in dist/notebooks/\n`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`course: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 2;
  },
);
