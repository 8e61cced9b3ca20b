// nmi-lab grade: reference notebooks score full marks, exercise versions score 0 with reasons, and
// broken or hostile submissions get a score and a reason, never a crash or a hang of the grader.
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { gradeNotebookFile, gradeNotebookText, GradeReport } from '../../kernel-lib/grade/grader';
import { main } from '../../kernel-lib/cli/main';

jest.setTimeout(120_000);

const read = (rel: string) => fs.readFileSync(path.join(PROJECT_ROOT, rel), 'utf8');
const STUDENT0 = read('notebooks/student/00-tour.ipynb');

/** The student notebook with exercise `id`'s cell replaced by `code` (as a learner would edit it). */
function submit(id: string, code: string, base = STUDENT0): string {
  const nb = JSON.parse(base);
  const cell = nb.cells.find(
    (c: { metadata: { nmi_lab?: { exercise?: string; role?: string } } }) =>
      c.metadata.nmi_lab?.role === 'exercise' && c.metadata.nmi_lab.exercise === id,
  );
  cell.source = [`// exercise ${id}: your code here\n`, code];
  return JSON.stringify(nb);
}

function grade(text: string, timeoutMs = 10_000): Promise<GradeReport> {
  return gradeNotebookText(text, 'submission.ipynb', { timeoutMs });
}

function ex(r: GradeReport, id: string) {
  return r.exercises.find((e) => e.id === id)!;
}

const SOLUTION_2 = 'function interruptedRip(m: Machine): bigint { return m.readU64(m.reg("rsp")); }';

test('the reference notebooks score full marks', async () => {
  for (const rel of ['notebooks/00-tour.ipynb', 'notebooks/01-nmi-delivery.ipynb']) {
    const r = await gradeNotebookFile(path.join(PROJECT_ROOT, rel));
    expect(r.problems).toEqual([]);
    expect(r.exercises.map((e) => e.reason)).toEqual(r.exercises.map((e) => `all ${e.total} checks pass`));
    expect(r.score).toBe(r.maxScore);
  }
});

test('the exercise version scores 0, with the failing check and its hint as the reason', async () => {
  const r = await grade(STUDENT0);
  expect(r.score).toBe(0);
  expect(r.maxScore).toBe(2);
  expect(ex(r, 'ch0-ex1').reason).toMatch(/RAX at hlt: expected 55 \(0x37\), got 0 \(0x0\) \(hint: Count RCX/);
  expect(ex(r, 'ch0-ex2').reason).toMatch(/interruptedRip: expected 0xffffffff81000000, got 0/);
});

test('partial credit: visible check passes, hidden one fails', async () => {
  const r = await grade(submit('ch0-ex1', 'const sumSource = ".text\\n_start:\\n movq $55, %rax\\n hlt\\n";'));
  expect(ex(r, 'ch0-ex1')).toMatchObject({ passed: 1, total: 2, score: 0.5 });
  expect(ex(r, 'ch0-ex1').reason).toMatch(/the exercise asks for a loop/);
});

test('each exercise is graded on its own: a broken ex1 does not sink ex2', async () => {
  const text = submit('ch0-ex2', SOLUTION_2, submit('ch0-ex1', 'const sumSource = ;'));
  const r = await grade(text);
  expect(ex(r, 'ch0-ex1')).toMatchObject({ score: 0 });
  expect(ex(r, 'ch0-ex1').reason).toMatch(/^syntax error in the exercise cell, line 2: Expression expected/);
  expect(ex(r, 'ch0-ex2')).toMatchObject({ score: 1, passed: 2 });
});

test('hostile submissions: endless loop, throw, process.exit, huge output, memory hog', async () => {
  const cases: [string, string, RegExp][] = [
    [
      'loop',
      'while (true) {}\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /stopped after 3 s: the code did not finish/,
    ],
    [
      'throw',
      'throw new Error("nope");\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /stopped with an error before all checks ran: Error: nope/,
    ],
    [
      'exit',
      'process.exit(0);\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /process\.exit\(0\) was called/,
    ],
    [
      'endless output',
      'for (;;) console.log("x".repeat(10000));\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /printed far too much output|did not finish/,
    ],
    [
      'memory',
      'const hog: number[][] = []; for (;;) hog.push(new Array(1e6).fill(1));\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /ran out of memory|ended before the checks finished/,
    ],
    [
      'exit inside the function',
      'function interruptedRip(m: Machine): bigint { process.exit(3); return 0n; }',
      /your code threw Error: process\.exit\(3\) was called/,
    ],
    [
      'kill',
      'process.kill(process.pid, "SIGKILL");\nfunction interruptedRip(m: Machine): bigint { return 0n; }',
      /ended before the checks finished \(exit code null, signal SIGKILL\)/,
    ],
  ];
  const started = Date.now();
  // One at a time: the limit is wall-clock time, and 2 cores shared by 14 children would blur it.
  const reports: GradeReport[] = [];
  for (const [, code] of cases) reports.push(await grade(submit('ch0-ex2', code), 3000));
  reports.forEach((r, i) => {
    const g = ex(r, 'ch0-ex2');
    expect({ name: cases[i][0], score: g.score }).toEqual({ name: cases[i][0], score: 0 });
    expect(g.reason).toMatch(cases[i][2]);
  });
  expect(Date.now() - started).toBeLessThan(60_000);
});

test('30 MB of output from otherwise correct code: graded on the checks, the output is not kept', async () => {
  const r = await grade(
    submit('ch0-ex2', `for (let i = 0; i < 3000; i++) console.log("x".repeat(10000));\n${SOLUTION_2}`),
  );
  expect(ex(r, 'ch0-ex2')).toMatchObject({ score: 1, reason: 'all 2 checks pass' });
});

test('missing cells, a notebook without metadata, not a notebook, another lesson', async () => {
  const nb = JSON.parse(STUDENT0);
  nb.cells = nb.cells.filter(
    (c: { metadata: { nmi_lab?: { exercise?: string } } }) => c.metadata.nmi_lab?.exercise !== 'ch0-ex1',
  );
  const missing = await grade(JSON.stringify(nb));
  expect(ex(missing, 'ch0-ex1').reason).toBe(
    'no exercise cell for ch0-ex1 (its first line should be `// exercise ch0-ex1`)',
  );

  // Metadata stripped (cells pasted into a fresh notebook): found by the `// exercise ID` line.
  const bare = JSON.parse(submit('ch0-ex2', SOLUTION_2));
  delete bare.metadata.nmi_lab;
  for (const c of bare.cells) c.metadata = {};
  const r = await grade(JSON.stringify(bare));
  expect(r.lesson).toBe('lessons/00-tour.md');
  expect(ex(r, 'ch0-ex2').score).toBe(1);

  expect((await grade('{ not json')).problems[0]).toMatch(/^not a notebook: the file is not JSON/);
  expect((await grade('{"cells": []}')).problems).toEqual([
    'cannot tell which lesson this is: no nmi_lab metadata and no `// exercise ID` cells',
  ]);
  expect((await grade('[1,2]')).problems).toEqual(['not a notebook: no "cells" list']);
});

test('nmi-lab grade: text and --json; exit 2 for what is not a course notebook', async () => {
  let out = '';
  let err = '';
  const io = {
    out: (t: string) => {
      out += t;
    },
    err: (t: string) => {
      err += t;
    },
  };
  expect(await main(['grade', path.join(PROJECT_ROOT, 'notebooks/00-tour.ipynb')], io)).toBe(0);
  expect(out).toMatch(/ch0-ex1 +1 \/ 1 +all 2 checks pass/);
  expect(out).toMatch(/total +2 \/ 2/);
  out = '';
  expect(await main(['grade', path.join(PROJECT_ROOT, 'notebooks/student/00-tour.ipynb'), '--json'], io)).toBe(0);
  expect(JSON.parse(out)).toMatchObject({ score: 0, maxScore: 2, lesson: 'lessons/00-tour.md' });
  out = '';
  expect(await main(['grade', '/nonexistent.ipynb'], io)).toBe(2);
  expect(out).toMatch(/cannot read \/nonexistent.ipynb: ENOENT/);
  expect(await main(['grade'], io)).toBe(2);
  expect(err).toMatch(/usage: nmi-lab grade/);
});
