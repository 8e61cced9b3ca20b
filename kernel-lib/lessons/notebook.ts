// Lesson -> Jupyter notebook (nbformat 4.5), byte-for-byte deterministic: keys sorted and indented
// by one space as nbformat itself writes them (so saving in Jupyter gives small diffs), cell ids
// derived from the lesson and the cell's position, no outputs, a trailing newline.
import type { Lesson, LessonCell } from './lesson';
import { exercisesOf } from './lesson';

/** `reference`: the solutions and hidden tests (executed in CI); `student`: starters, no hidden tests. */
export type NotebookVariant = 'reference' | 'student';

export const KERNELSPEC = { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } as const;

export interface NotebookCell {
  cell_type: 'markdown' | 'code';
  id: string;
  metadata: Record<string, unknown>;
  source: string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: 4;
  nbformat_minor: 5;
}

/** Cell role recorded in `metadata.nmi_lab`, which the grader reads. */
export type CellRole = 'exercise' | 'check' | 'hidden';

/** The first line of every exercise cell: lets the grader find a cell whose metadata was lost. */
export function exerciseMarker(id: string): string {
  return `// exercise ${id}`;
}
export const EXERCISE_MARKER = /^\/\/ exercise ([A-Za-z0-9_-]+)/;

function lines(text: string): string[] {
  // nbformat's multiline string: a list of lines, each but the last ending in "\n".
  if (text === '') return [];
  const parts = text.split('\n');
  return parts.map((p, i) => (i < parts.length - 1 ? `${p}\n` : p)).filter((p) => p !== '');
}

function markdownCell(id: string, text: string): NotebookCell {
  return { cell_type: 'markdown', id, metadata: {}, source: lines(text) };
}

function codeCell(id: string, text: string, role?: { role: CellRole; exercise: string }): NotebookCell {
  const metadata: Record<string, unknown> = role ? { nmi_lab: role, tags: [role.role] } : {};
  return { cell_type: 'code', id, metadata, source: lines(text), outputs: [], execution_count: null };
}

function header(lesson: Lesson, variant: NotebookVariant): string {
  const { chapter, title, goals } = lesson.meta;
  const out = [`# Chapter ${chapter}. ${title}`, '', '**Learning goals**', '', ...goals.map((g) => `- ${g}`)];
  const n = exercisesOf(lesson).length;
  if (variant === 'student' && n > 0) {
    out.push(
      '',
      `This is the exercise version. Each of the ${n} exercise cells starts with \`// exercise ID\` and holds a starter: ` +
        'replace it with your code, run it, then run the check cell below it. ' +
        'Submit the saved notebook with `npx nmi-lab grade YOUR.ipynb`.',
    );
  } else if (n > 0) {
    out.push(
      '',
      `This is the reference version, with the solutions of its ${n} exercises. ` +
        `The exercise version is \`notebooks/student/${lesson.slug}.ipynb\`.`,
    );
  }
  out.push('', `*Built from \`${lesson.file}\`; edit the lesson, not this notebook (\`npm run notebooks\`).*`);
  return out.join('\n');
}

function sources(lesson: Lesson): string {
  return ['## Sources', '', ...lesson.meta.sources.map((s) => `- ${s}`)].join('\n');
}

function cellFor(lesson: Lesson, cell: LessonCell, id: string, variant: NotebookVariant): NotebookCell | null {
  switch (cell.kind) {
    case 'markdown':
      return markdownCell(id, cell.source);
    case 'code':
      return codeCell(id, cell.source);
    case 'exercise': {
      const body = variant === 'student' ? cell.starter : cell.solution;
      const note = variant === 'student' ? ': your code here' : ': reference solution';
      return codeCell(id, `${exerciseMarker(cell.id)}${note}\n${body}`, { role: 'exercise', exercise: cell.id });
    }
    case 'check':
      return codeCell(id, cell.source, { role: 'check', exercise: cell.id });
    case 'hidden':
      if (variant === 'student') return null;
      return codeCell(id, `// hidden test for ${cell.id} (not in the exercise version)\n${cell.source}`, {
        role: 'hidden',
        exercise: cell.id,
      });
    default:
      return null;
  }
}

/** Builds the notebook object for one variant of a lesson. */
export function lessonToNotebook(lesson: Lesson, variant: NotebookVariant): Notebook {
  const cells: NotebookCell[] = [markdownCell(`${lesson.slug}-head`, header(lesson, variant))];
  lesson.cells.forEach((cell, i) => {
    // The id depends on the lesson cell's index only, so a cell keeps its id in both variants.
    const nb = cellFor(lesson, cell, `${lesson.slug}-${String(i).padStart(3, '0')}`, variant);
    if (nb) cells.push(nb);
  });
  cells.push(markdownCell(`${lesson.slug}-sources`, sources(lesson)));
  return {
    cells,
    metadata: {
      kernelspec: { ...KERNELSPEC },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
      nmi_lab: {
        chapter: lesson.meta.chapter,
        title: lesson.meta.title,
        lesson: lesson.file,
        variant,
        exercises: exercisesOf(lesson).map((e) => ({ id: e.id, points: e.points })),
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The file text: sorted keys, one-space indent, trailing newline (nbformat's own layout). */
export function serializeNotebook(nb: Notebook | Record<string, unknown>): string {
  return `${JSON.stringify(sortKeys(nb), null, 1)}\n`;
}
