// Helpers for the grader's tests: submissions built from the committed notebooks, a learner's
// exercise cells evaluated in this process (as the notebook's check() sees them), and a scratch
// root that the tests own.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import * as lib from '../../kernel-lib';
import * as course from '../../kernel-lib/course';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { submissionProgram } from '../../kernel-lib/grade/grader';

export const read = (rel: string): string => fs.readFileSync(path.join(PROJECT_ROOT, rel), 'utf8');

type Cell = {
  cell_type: string;
  source: string[] | string;
  metadata: { nmi_lab?: { exercise?: string; role?: string } };
};

/** A notebook (text) with exercise `id`'s cell replaced by `code`, as a learner would edit it. */
export function withExercise(base: string, id: string, code: string): string {
  const nb = JSON.parse(base) as { cells: Cell[] };
  const cell = nb.cells.find((c) => c.metadata.nmi_lab?.role === 'exercise' && c.metadata.nmi_lab.exercise === id);
  if (!cell) throw new Error(`no exercise cell ${id}`);
  cell.source = [`// exercise ${id}: your code here\n`, code];
  return JSON.stringify(nb);
}

/** The reference notebook of a lesson slug, and the student one. */
export const reference = (slug: string): string => read(`notebooks/${slug}.ipynb`);
export const student = (slug: string): string => read(`notebooks/student/${slug}.ipynb`);

/** Runs a submission's program in this process (no sandbox) and returns its definitions by name. */
export async function definitionsOf(text: string): Promise<Record<string, unknown>> {
  const { program } = submissionProgram(text);
  const fn = vm.runInThisContext(program) as (h: unknown) => Promise<Record<string, () => unknown>>;
  const log = console.log;
  console.log = () => undefined;
  try {
    const getters = await fn({
      import: (name: string) => (name === 'nmi-lab' ? lib : name === 'nmi-lab/course' ? course : { display: {} }),
      cell: async (_i: number, body: () => Promise<void>) => {
        try {
          await body();
        } catch {
          // as in a notebook: the cell stops, the next ones run
        }
      },
    });
    const out: Record<string, unknown> = {};
    for (const [k, g] of Object.entries(getters)) out[k] = g();
    return out;
  } finally {
    console.log = log;
  }
}

/** A scratch root for one test file, removed by the returned cleanup. */
export function scratchRoot(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.homedir(), '.cache', 'nmi-lab-test-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
