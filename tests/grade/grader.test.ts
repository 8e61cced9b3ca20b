// nmi-lab grade: reference notebooks score full marks, exercise versions score 0 with reasons,
// what the grader scores is what the notebook ran (a later definition wins, with a warning), odd
// files get a row with a reason, and the command grades files, folders and globs into a gradebook.
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { gradeMany, gradeNotebookText, GradeReport } from '../../kernel-lib/grade/grader';
import { csvField, findSubmissions, gradebookCsv } from '../../kernel-lib/grade/gradebook';
import { main } from '../../kernel-lib/cli/main';
import { reference, scratchRoot, student, withExercise } from './submissions';

jest.setTimeout(600_000);

let scratch: { dir: string; cleanup: () => void };
beforeAll(() => {
  scratch = scratchRoot();
});
afterAll(() => scratch.cleanup());

function grade(text: string, timeoutMs = 10_000): Promise<GradeReport> {
  return gradeNotebookText(text, 'submission.ipynb', { timeoutMs, scratchRoot: path.join(scratch.dir, 's') });
}

const ex = (r: GradeReport, id: string) => r.exercises.find((e) => e.id === id)!;

const SOLUTION_2 = 'function interruptedRsp(m: Machine): bigint { return m.readU64(LAB.nmiStackTop - 16n); }';

test('every reference notebook scores full marks; every exercise version scores 0 with a reason for each exercise', async () => {
  const dir = path.join(PROJECT_ROOT, 'notebooks');
  const refs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const files = [...refs.map((f) => path.join(dir, f)), ...refs.map((f) => path.join(dir, 'student', f))];
  const reports = await gradeMany(files, { concurrency: 2, scratchRoot: path.join(scratch.dir, 'all') });
  for (const r of reports.slice(0, refs.length)) {
    expect({ file: r.submission, problems: r.problems, warnings: r.warnings }).toEqual({
      file: r.submission,
      problems: [],
      warnings: [],
    });
    expect({ file: r.submission, reasons: r.exercises.map((e) => e.reason) }).toEqual({
      file: r.submission,
      reasons: r.exercises.map((e) => (e.total === 1 ? 'the check passes' : 'both checks pass')),
    });
    expect(r.score).toBe(r.maxScore);
  }
  for (const r of reports.slice(refs.length)) {
    expect(r.score).toBe(0);
    for (const e of r.exercises) {
      expect(e.reason).not.toBe('');
      expect(e.reason).not.toMatch(/expected .*, got /);
    }
  }
  expect(reports[0].isolation).toMatch(/^(bwrap|node)$/);
});

test('partial credit: the visible check passes, the hidden one does not', async () => {
  const r = await grade(
    withExercise(
      student('00-tour'),
      'ch0-ex1',
      'const sumSource = `.text\n_start:\n movq %rdi, %rcx\n xorq %rax, %rax\n1:\n addq %rcx, %rax\n decq %rcx\n jnz 1b\n hlt\n`;',
    ),
  );
  expect(ex(r, 'ch0-ex1')).toMatchObject({ passed: 1, total: 2, score: 0.5 });
  expect(ex(r, 'ch0-ex1').reason).toMatch(
    /^with N = 0 in RDI the program did not reach hlt.*\(the hidden check; 1 of 2 checks pass\)$/,
  );
});

test('a compile error or a throw in one exercise cell does not sink the others', async () => {
  const text = withExercise(withExercise(student('00-tour'), 'ch0-ex1', 'const sumSource = ;'), 'ch0-ex2', SOLUTION_2);
  const r = await grade(text);
  expect(ex(r, 'ch0-ex1')).toMatchObject({ score: 0 });
  expect(ex(r, 'ch0-ex1').reason).toMatch(
    /^the exercise cell did not run: cell \d+ does not compile: line 2: Unexpected ";"/,
  );
  expect(ex(r, 'ch0-ex2')).toMatchObject({ score: 1 });
  const thrown = await grade(
    withExercise(student('00-tour'), 'ch0-ex2', `throw new TypeError("oops");\n${SOLUTION_2}`),
  );
  expect(ex(thrown, 'ch0-ex2').reason).toMatch(/^the exercise cell stopped with an error: TypeError: oops/);
});

test('what the notebook ran is what is graded: a later definition wins, and the report says so', async () => {
  // A learner leaves the starter and writes the answer in a new cell below it.
  const nb = JSON.parse(student('00-tour'));
  const at = nb.cells.findIndex(
    (c: { metadata: { nmi_lab?: { exercise?: string } } }) => c.metadata.nmi_lab?.exercise === 'ch0-ex2',
  );
  nb.cells.splice(at + 1, 0, {
    cell_type: 'code',
    id: 'mine',
    metadata: {},
    source: [SOLUTION_2],
    outputs: [],
    execution_count: 3,
  });
  const below = await grade(JSON.stringify(nb));
  expect(ex(below, 'ch0-ex2').score).toBe(1);
  expect(below.warnings.join('\n')).toMatch(
    /ch0-ex2 is defined in 2 cells .*an added cell.*the last one, cell \d+, decides/,
  );

  // A pasted copy of the exercise cell, solved, after the original starter.
  const copy = JSON.parse(student('00-tour'));
  const cell = JSON.parse(JSON.stringify(copy.cells[at]));
  cell.source = ['// exercise ch0-ex2: your code here\n', SOLUTION_2];
  cell.id = 'copy';
  copy.cells.splice(at + 1, 0, cell);
  const pasted = await grade(JSON.stringify(copy));
  expect(ex(pasted, 'ch0-ex2').score).toBe(1);
  expect(pasted.warnings.join('\n')).toMatch(/ch0-ex2 is defined in 2 cells/);

  // The other way round: the solved copy above, the starter below it, as a notebook run would leave it.
  const first = JSON.parse(student('00-tour'));
  first.cells.splice(at, 0, cell);
  const later = await grade(JSON.stringify(first));
  expect(ex(later, 'ch0-ex2').score).toBe(0);
});

test('a cell that uses a name from a lesson cell is graded with that cell, as in the notebook', async () => {
  // Chapter 1's reference solution uses NMI_TOP and KSTACK_TOP from the lesson's set-up of the IDT.
  const r = await grade(reference('01-nmi-delivery'));
  expect(ex(r, 'ch1-ex1').score).toBe(1);
});

test('missing cells, a notebook without metadata, not a notebook, cut short, another lesson', async () => {
  const nb = JSON.parse(student('00-tour'));
  nb.cells = nb.cells.filter(
    (c: { metadata: { nmi_lab?: { exercise?: string } } }) => c.metadata.nmi_lab?.exercise !== 'ch0-ex1',
  );
  const missing = await grade(JSON.stringify(nb));
  expect(ex(missing, 'ch0-ex1').reason).toBe(
    'no exercise cell for ch0-ex1 (its first line should be `// exercise ch0-ex1`)',
  );

  // Metadata stripped (cells pasted into a fresh notebook): found by the `// exercise ID` line.
  const bare = JSON.parse(withExercise(student('00-tour'), 'ch0-ex2', SOLUTION_2));
  delete bare.metadata.nmi_lab;
  for (const c of bare.cells) c.metadata = {};
  const r = await grade(JSON.stringify(bare));
  expect(r.lesson).toBe('lessons/00-tour.md');
  expect(ex(r, 'ch0-ex2').score).toBe(1);

  expect((await grade('{ not json')).problems[0]).toMatch(/^not a notebook: the file is not JSON, or is cut short/);
  expect((await grade(student('00-tour').slice(0, 2000))).problems[0]).toMatch(/cut short/);
  expect((await grade('')).problems).toEqual(['not a notebook: the file is empty']);
  expect((await grade('{"cells": []}')).problems).toEqual([
    'cannot tell which lesson this is: no nmi_lab metadata and no `// exercise ID` cells',
  ]);
  expect((await grade('[1,2]')).problems).toEqual(['not a notebook: no "cells" list']);
});

test('the gradebook: files, folders and globs; a row for everything; CSV fields that spreadsheets cannot run', async () => {
  const dir = path.join(scratch.dir, 'class');
  fs.mkdirSync(path.join(dir, 'late', '.ipynb_checkpoints'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ada.ipynb'), reference('00-tour'));
  fs.writeFileSync(path.join(dir, 'late', 'bob.ipynb'), student('00-tour'));
  fs.writeFileSync(path.join(dir, 'late', '.ipynb_checkpoints', 'bob-checkpoint.ipynb'), student('00-tour'));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a notebook');
  expect(findSubmissions([dir]).files.map((f) => path.relative(dir, f))).toEqual([
    'ada.ipynb',
    path.join('late', 'bob.ipynb'),
  ]);
  expect(findSubmissions([path.join(dir, '*.ipynb')]).files.map((f) => path.basename(f))).toEqual(['ada.ipynb']);
  expect(findSubmissions([path.join(dir, '**', '*.ipynb')]).files.map((f) => path.basename(f))).toEqual([
    'ada.ipynb',
    'bob.ipynb',
  ]);
  expect(findSubmissions([path.join(dir, 'none-*.ipynb')]).unmatched).toHaveLength(1);
  expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  expect(csvField('plain')).toBe('plain');

  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const grades = path.join(scratch.dir, 'grades');
  const code = await main(['grade', dir, path.join(dir, 'notes.txt'), '--out', grades, '--jobs', '2'], io);
  expect(code).toBe(0);
  const csv = fs.readFileSync(path.join(grades, 'gradebook.csv'), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('student,submission,lesson,ch0-ex1,ch0-ex2,total,max,graded_at,note');
  expect(csv).toHaveLength(4);
  expect(csv[1]).toMatch(/^ada,.*ada\.ipynb,lessons\/00-tour\.md,1,1,2,2,\d{4}-\d\d-\d\dT/);
  expect(csv[2]).toMatch(/^bob,.*bob\.ipynb,lessons\/00-tour\.md,0,0,0,2,/);
  expect(csv[3]).toMatch(/^notes,.*notes\.txt,,,,0,0,.*not a notebook: the file is not JSON/);
  const feedback = fs.readdirSync(path.join(grades, 'feedback')).sort();
  expect(feedback).toEqual(['ada.md', 'bob.md', 'notes.md']);
  const bob = fs.readFileSync(path.join(grades, 'feedback', 'bob.md'), 'utf8');
  expect(bob).toMatch(/^# Feedback: bob\n/);
  expect(bob).toMatch(/## ch0-ex1: not yet \(0 \/ 1\)/);
  expect(bob).toMatch(/\*Hint:\* Use RDI as the counter/);
  expect(err).toMatch(/3 submission\(s\) graded; gradebook/);
  expect(gradebookCsv([])).toBe('student,submission,lesson,total,max,graded_at,note\n');
});

test('nmi-lab grade: text, --json, --help; exit 2 for nothing to grade or a single file that is not a course notebook', async () => {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  expect(await main(['grade', '--help'], io)).toBe(0);
  expect(out).toMatch(/^usage: nmi-lab grade PATH\.\.\./);
  expect(out).toMatch(/--out DIR/);
  out = '';
  expect(await main(['grade', path.join(PROJECT_ROOT, 'notebooks/00-tour.ipynb')], io)).toBe(0);
  expect(out).toMatch(/ch0-ex1 +1 \/ 1 +both checks pass/);
  expect(out).toMatch(/total +2 \/ 2/);
  out = '';
  expect(await main(['grade', path.join(PROJECT_ROOT, 'notebooks/student/00-tour.ipynb'), '--json'], io)).toBe(0);
  expect(JSON.parse(out)).toMatchObject({ score: 0, maxScore: 2, lesson: 'lessons/00-tour.md', student: '00-tour' });
  out = '';
  expect(await main(['grade', '/nonexistent.ipynb'], io)).toBe(2);
  expect(out).toMatch(/cannot read \/nonexistent.ipynb: ENOENT/);
  expect(await main(['grade', path.join(scratch.dir, 'nothing-*.ipynb')], io)).toBe(2);
  expect(err).toMatch(/no notebooks found/);
  expect(await main(['grade'], io)).toBe(2);
  expect(err).toMatch(/usage: nmi-lab grade/);
  expect(await main(['grade', 'x.ipynb', '--isolation', 'chroot'], io)).toBe(2);
});
