// A class of 30 generated submissions of one chapter (right, wrong, mixed, hostile, broken files)
// and the time `nmi-lab grade` takes to grade it into a gradebook, in a fresh process each run, as
// an instructor would run it. Used by tests/grade/class.test.ts (the rows) and by the benchmark
// (`npm run bench`, or `tsx bench/grading.ts [--runs N] [--chapter SLUG] [--json]`).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { WRONG_ANSWERS } from '../kernel-lib/grade/wrong-answers';
import { readLessons } from '../kernel-lib/lessons/course-tree';
import { exercisesOf } from '../kernel-lib/lessons/lesson';

const ROOT = path.join(__dirname, '..');

/** What a generated submission should score: per exercise, full marks, or less than full. */
export interface Expected {
  file: string;
  student: string;
  /** Exercise id -> 'full' | 'less' (a wrong answer, a starter, a hostile cell). */
  exercises: Record<string, 'full' | 'less'>;
  /** A file that is not a gradable notebook: its row has no lesson and a note. */
  broken?: boolean;
}

type Cell = {
  cell_type: string;
  source: string[] | string;
  metadata: { nmi_lab?: { exercise?: string; role?: string } };
};

function setCell(nb: { cells: Cell[] }, id: string, code: string): void {
  const cell = nb.cells.find((c) => c.metadata.nmi_lab?.role === 'exercise' && c.metadata.nmi_lab.exercise === id);
  if (!cell) throw new Error(`no exercise cell ${id}`);
  cell.source = [`// exercise ${id}: your code here\n`, code];
}

const HOSTILE = [
  'while (true) {}',
  "process.mainModule.require('fs').writeSync(3, JSON.stringify({ type: 'check', result: { ok: true } }) + '\\n');",
  "try { process.mainModule.require('fs').writeFileSync(process.cwd() + '/../x', 'x'); } catch {}",
  "try { process.mainModule.require('child_process').spawn('sleep', ['100'], { detached: true }).unref(); } catch {}",
];

/** Writes 30 submissions of chapter `slug` into `dir`; returns what each should score. */
export function makeClass(dir: string, slug = '05-repeat-nmi'): Expected[] {
  const lesson = readLessons(ROOT).find((l) => l.slug === slug);
  if (!lesson) throw new Error(`no lesson ${slug}`);
  const ids = exercisesOf(lesson).map((e) => e.id);
  const reference = fs.readFileSync(path.join(ROOT, 'notebooks', `${slug}.ipynb`), 'utf8');
  const starter = fs.readFileSync(path.join(ROOT, 'notebooks', 'student', `${slug}.ipynb`), 'utf8');
  fs.mkdirSync(dir, { recursive: true });
  const out: Expected[] = [];
  const write = (n: number, nb: unknown, exercises: Record<string, 'full' | 'less'>, named: boolean) => {
    const student = `student-${String(n).padStart(2, '0')}`;
    const file = path.join(dir, named ? `${student}.ipynb` : `submission-${n}.ipynb`);
    const o = nb as { metadata: { nmi_lab?: Record<string, unknown> } };
    if (!named) o.metadata.nmi_lab = { ...(o.metadata.nmi_lab ?? {}), student };
    fs.writeFileSync(file, JSON.stringify(o));
    out.push({ file, student, exercises });
  };
  let n = 1;
  // 8 right: the reference solutions (every other one answered in a cell added below the starter).
  for (let i = 0; i < 8; i++, n++) {
    const nb = JSON.parse(i % 2 ? starter : reference);
    if (i % 2) {
      const ref = JSON.parse(reference) as { cells: Cell[] };
      for (const id of ids) {
        const src = ref.cells.find(
          (c) => c.metadata.nmi_lab?.exercise === id && c.metadata.nmi_lab.role === 'exercise',
        )!;
        const at = (nb.cells as Cell[]).findIndex(
          (c) => c.metadata.nmi_lab?.exercise === id && c.metadata.nmi_lab.role === 'exercise',
        );
        const body = (Array.isArray(src.source) ? src.source.join('') : src.source).split('\n').slice(1).join('\n');
        nb.cells.splice(at + 1, 0, {
          cell_type: 'code',
          id: `mine-${id}`,
          metadata: {},
          source: [body],
          outputs: [],
          execution_count: null,
        });
      }
    }
    write(n, nb, Object.fromEntries(ids.map((id) => [id, 'full'])), i % 3 === 0);
  }
  // 8 wrong: every exercise with one of its listed wrong answers.
  for (let i = 0; i < 8; i++, n++) {
    const nb = JSON.parse(reference);
    for (const id of ids) {
      const wrong = WRONG_ANSWERS[id] ?? [];
      if (wrong.length > 0) setCell(nb, id, wrong[i % wrong.length].cell);
    }
    write(
      n,
      nb,
      Object.fromEntries(ids.map((id) => [id, (WRONG_ANSWERS[id] ?? []).length > 0 ? 'less' : 'full'])),
      i % 2 === 0,
    );
  }
  // 8 mixed: some right, some wrong, some left as the starter.
  for (let i = 0; i < 8; i++, n++) {
    const nb = JSON.parse(reference);
    const exercises: Record<string, 'full' | 'less'> = {};
    ids.forEach((id, j) => {
      const pick = (i + j) % 3;
      const wrong = WRONG_ANSWERS[id] ?? [];
      if (pick === 1 && wrong.length > 0) {
        setCell(nb, id, wrong[(i + j) % wrong.length].cell);
        exercises[id] = 'less';
      } else if (pick === 2) {
        const st = (JSON.parse(starter) as { cells: Cell[] }).cells.find(
          (c) => c.metadata.nmi_lab?.exercise === id && c.metadata.nmi_lab.role === 'exercise',
        )!;
        setCell(nb, id, (Array.isArray(st.source) ? st.source.join('') : st.source).split('\n').slice(1).join('\n'));
        exercises[id] = 'less';
      } else exercises[id] = 'full';
    });
    write(n, nb, exercises, i % 2 === 1);
  }
  // 4 hostile: the first exercise's cell does something it should not, then gives a wrong answer.
  for (let i = 0; i < 4; i++, n++) {
    const nb = JSON.parse(reference);
    const wrong = WRONG_ANSWERS[ids[0]]?.[0];
    setCell(nb, ids[0], `${HOSTILE[i]}\n${wrong ? wrong.cell : ''}`);
    // An endless loop in a cell stops every exercise of that notebook, as it would in Jupyter.
    const exercises = Object.fromEntries(ids.map((id, j) => [id, j === 0 || i === 0 ? 'less' : 'full'])) as Record<
      string,
      'full' | 'less'
    >;
    write(n, nb, exercises, true);
  }
  // 2 broken files: cut short, and not a notebook at all.
  const cut = path.join(dir, `student-${n}.ipynb`);
  fs.writeFileSync(cut, reference.slice(0, reference.length >> 1));
  out.push({ file: cut, student: `student-${n}`, exercises: {}, broken: true });
  n++;
  const junk = path.join(dir, `student-${n}.ipynb`);
  fs.writeFileSync(junk, 'my answers are in the email');
  out.push({ file: junk, student: `student-${n}`, exercises: {}, broken: true });
  return out;
}

/** Grades `dir` with the command, in a fresh process; returns the wall time in seconds. */
export function gradeClassOnce(dir: string, outDir: string, jobs = 2): number {
  const t = process.hrtime.bigint();
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'bin', 'nmi-lab.js'), 'grade', dir, '--out', outDir, '--jobs', String(jobs)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 1 << 24,
    },
  );
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The class's grading time: `runs` runs, each a fresh process and a fresh class folder. */
export function classGradingSeconds(slug = '05-repeat-nmi', runs = 3): { median: number; runs: number[] } {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-class-'));
    try {
      makeClass(path.join(base, 'class'), slug);
      times.push(Math.round(gradeClassOnce(path.join(base, 'class'), path.join(base, 'grades')) * 10) / 10);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  }
  return { median: median(times), runs: times };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 3;
  const slug = argv.includes('--chapter') ? argv[argv.indexOf('--chapter') + 1] : '05-repeat-nmi';
  const r = classGradingSeconds(slug, argv.includes('--runs') ? runs : 3);
  if (argv.includes('--json'))
    process.stdout.write(`${JSON.stringify({ chapter: slug, grade_class30_s: r.median, runs: r.runs })}\n`);
  else process.stdout.write(`30 submissions of ${slug}, 2 jobs: median ${r.median} s (runs: ${r.runs.join(', ')} s)\n`);
}
