// npm run notebooks [-- --student | --reference | --check]
// Builds notebooks/*.ipynb (reference) and notebooks/student/*.ipynb (exercise version) from lessons/*.md.
// --student / --reference: write only that variant. --check: write nothing, exit 1 if any is stale.
import { ALL_VARIANTS, staleNotebooks, writeCourse } from '../../kernel-lib/lessons/course-tree';
import { LessonError } from '../../kernel-lib/lessons/lesson';
import type { NotebookVariant } from '../../kernel-lib/lessons/notebook';

function main(argv: string[]): number {
  const known = new Set(['--student', '--reference', '--check']);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) {
    process.stderr.write(
      `notebooks: unknown argument ${unknown.join(' ')}\nusage: npm run notebooks [-- --student | --reference | --check]\n`,
    );
    return 2;
  }
  try {
    if (argv.includes('--check')) {
      const { outdated, orphaned } = staleNotebooks();
      for (const f of outdated) process.stdout.write(`out of date: ${f}\n`);
      for (const f of orphaned) process.stdout.write(`no lesson builds: ${f}\n`);
      if (outdated.length + orphaned.length > 0) {
        process.stdout.write('run `npm run notebooks` and commit the result\n');
        return 1;
      }
      process.stdout.write('notebooks are up to date\n');
      return 0;
    }
    let variants: readonly NotebookVariant[] = ALL_VARIANTS;
    if (argv.includes('--student') && !argv.includes('--reference')) variants = ['student'];
    if (argv.includes('--reference') && !argv.includes('--student')) variants = ['reference'];
    const { written, removed } = writeCourse(undefined, variants);
    for (const f of written) process.stdout.write(`wrote ${f}\n`);
    for (const f of removed) process.stdout.write(`removed ${f} (no lesson builds it)\n`);
    if (written.length + removed.length === 0) process.stdout.write('notebooks are up to date\n');
    return 0;
  } catch (e) {
    if (e instanceof LessonError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
