// Every wrong answer listed next to the hidden tests (kernel-lib/grade/wrong-answers.ts) is
// rejected: by the notebook's check() when it is marked 'visible', and always by the grader, whose
// hidden check catches the ones marked 'hidden' (the visible check passes those). The reference
// solutions get full marks (grader.test.ts).
import * as fs from 'fs';
import * as path from 'path';
import { checkResult } from '../../kernel-lib/course/checks';
import { gradeMany } from '../../kernel-lib/grade/grader';
import type { GradeReport } from '../../kernel-lib/grade/grader';
import { WRONG_ANSWERS } from '../../kernel-lib/grade/wrong-answers';
import { readLessons } from '../../kernel-lib/lessons/course-tree';
import { exercisesOf } from '../../kernel-lib/lessons/lesson';
import { definitionsOf, reference, scratchRoot, withExercise } from './submissions';

jest.setTimeout(900_000);

const lessons = readLessons();

interface Variant {
  file: string;
  /** exercise id -> the wrong answer placed in it */
  wrong: Map<string, { name: string; caughtBy: 'visible' | 'hidden' }>;
}

test('every exercise has wrong answers listed, each with a test', () => {
  for (const l of lessons)
    for (const e of exercisesOf(l))
      expect({ id: e.id, n: (WRONG_ANSWERS[e.id] ?? []).length > 0 }).toEqual({ id: e.id, n: true });
});

test.each(lessons.map((l) => [l.slug]))(
  "the notebook's check() of %s rejects the wrong answers marked visible",
  async (slug) => {
    const lesson = lessons.find((l) => l.slug === slug)!;
    const base = reference(slug);
    const verdicts: string[] = [];
    for (const e of exercisesOf(lesson)) {
      for (const w of WRONG_ANSWERS[e.id] ?? []) {
        const defs = await definitionsOf(withExercise(base, e.id, w.cell));
        const r = await checkResult(e.id, defs);
        verdicts.push(`${e.id} / ${w.name}: ${r.ok ? 'pass' : 'not yet'}`);
        const expected = w.caughtBy === 'visible' ? 'not yet' : 'pass';
        expect(`${e.id} / ${w.name}: ${r.ok ? 'pass' : 'not yet'}`).toBe(`${e.id} / ${w.name}: ${expected}`);
        if (!r.ok) expect(r.message).not.toMatch(/expected .*, got /);
      }
    }
    expect(verdicts.length).toBeGreaterThan(0);
  },
);

test('the grader rejects every wrong answer, through the hidden check when the visible one passes it', async () => {
  const { dir, cleanup } = scratchRoot();
  try {
    const variants: Variant[] = [];
    for (const l of lessons) {
      const exercises = exercisesOf(l);
      const most = Math.max(0, ...exercises.map((e) => (WRONG_ANSWERS[e.id] ?? []).length));
      for (let k = 0; k < most; k++) {
        let text = reference(l.slug);
        const wrong = new Map<string, { name: string; caughtBy: 'visible' | 'hidden' }>();
        for (const e of exercises) {
          const w = (WRONG_ANSWERS[e.id] ?? [])[k];
          if (!w) continue;
          text = withExercise(text, e.id, w.cell);
          wrong.set(e.id, w);
        }
        const file = path.join(dir, `${l.slug}-wrong-${k}.ipynb`);
        fs.writeFileSync(file, text);
        variants.push({ file, wrong });
      }
    }
    const reports: GradeReport[] = await gradeMany(
      variants.map((v) => v.file),
      { concurrency: 2, scratchRoot: path.join(dir, 'scratch') },
    );
    const problems: string[] = [];
    reports.forEach((r, i) => {
      for (const g of r.exercises) {
        const w = variants[i].wrong.get(g.id);
        if (!w) {
          if (g.score !== g.points)
            problems.push(`${g.id} reference solution in ${path.basename(r.submission)}: ${g.reason}`);
          continue;
        }
        if (g.score >= g.points) problems.push(`${g.id} / ${w.name}: full marks`);
        const visible = g.checks.find((c) => c.check === 'visible');
        const hidden = g.checks.find((c) => c.check === 'hidden');
        if (w.caughtBy === 'hidden' && (!visible?.ok || !hidden || hidden.ok))
          problems.push(
            `${g.id} / ${w.name}: expected the visible check to pass and the hidden one to fail: ${g.reason}`,
          );
        if (w.caughtBy === 'visible' && visible?.ok) problems.push(`${g.id} / ${w.name}: the visible check passed`);
        if (/expected .*, got /.test(g.reason))
          problems.push(`${g.id} / ${w.name}: the reason gives the answer away: ${g.reason}`);
      }
    });
    expect(problems).toEqual([]);
  } finally {
    cleanup();
  }
});
