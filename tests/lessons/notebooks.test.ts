// The committed notebooks are built artefacts of lessons/*.md: this fails when one is out of date.
import { readLessons, staleNotebooks } from '../../kernel-lib/lessons/course-tree';
import { exercisesOf } from '../../kernel-lib/lessons/lesson';

test('every committed notebook matches its lesson (run `npm run notebooks` and commit)', () => {
  expect(staleNotebooks()).toEqual({ outdated: [], orphaned: [] });
});

test('every chapter has learning goals, sources and at least two exercises', () => {
  const lessons = readLessons();
  expect(lessons.map((l) => l.meta.chapter)).toEqual(expect.arrayContaining([0, 1]));
  for (const l of lessons) {
    expect(l.meta.goals.length).toBeGreaterThan(0);
    expect(l.meta.sources.length).toBeGreaterThan(0);
    expect(exercisesOf(l).length).toBeGreaterThanOrEqual(2);
  }
});
