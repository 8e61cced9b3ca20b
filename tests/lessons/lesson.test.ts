// Lesson conventions (lessons/README.md) and the notebook format (nbformat 4.5, deterministic).
import { exercisesOf, LessonError, parseLesson } from '../../kernel-lib/lessons/lesson';
import { lessonToNotebook, serializeNotebook } from '../../kernel-lib/lessons/notebook';

const LESSON = `---
chapter: 7
title: "A test lesson"
goals:
  - learn one thing
sources:
  - Intel SDM vol. 3, 6.7.1
---

Intro text.

\`\`\`ts
const a = 1;
\`\`\`

Shown, not run:

\`\`\`ts norun
m.run();
\`\`\`

\`\`\`asm
not a cell: only ts fences become cells
\`\`\`

<!-- cell -->

Second markdown cell.

\`\`\`ts exercise id=t-ex1 points=3
const answer = 0;
\`\`\`
\`\`\`ts solution id=t-ex1
const answer = 42;
\`\`\`

\`\`\`ts check id=t-ex1
check('t-ex1', () => expectEqual(answer, 42, 'answer'));
\`\`\`

\`\`\`ts hidden id=t-ex1
check('t-ex1', () => expectTrue(answer > 0, 'positive'));
\`\`\`

- a list with a fence inside stays Markdown:

  \`\`\`ts
  not a cell
  \`\`\`
`;

describe('parseLesson', () => {
  const lesson = parseLesson(LESSON, 'lessons/07-test.md');

  test('front matter', () => {
    expect(lesson.slug).toBe('07-test');
    expect(lesson.meta).toEqual({
      chapter: 7,
      title: 'A test lesson',
      goals: ['learn one thing'],
      sources: ['Intel SDM vol. 3, 6.7.1'],
    });
  });

  test('cells: ts fences are code, norun and other languages stay Markdown, <!-- cell --> splits', () => {
    expect(lesson.cells.map((c) => c.kind)).toEqual([
      'markdown',
      'code',
      'markdown',
      'markdown',
      'exercise',
      'check',
      'hidden',
      'markdown',
    ]);
    const md = lesson.cells[2];
    expect(md.kind === 'markdown' && md.source).toContain('```ts\nm.run();\n```');
    expect(md.kind === 'markdown' && md.source).toContain('```asm');
    expect(lesson.cells[1]).toMatchObject({ kind: 'code', source: 'const a = 1;', line: 12 });
    expect(lesson.cells[7].kind === 'markdown' && lesson.cells[7].source).toContain('not a cell');
  });

  test('exercise, solution, check and hidden are tied by id', () => {
    expect(exercisesOf(lesson)).toEqual([
      {
        kind: 'exercise',
        id: 't-ex1',
        starter: 'const answer = 0;',
        solution: 'const answer = 42;',
        points: 3,
        line: LESSON.split('\n').indexOf('```ts exercise id=t-ex1 points=3') + 1,
      },
    ]);
  });

  const broken: [string, string, RegExp][] = [
    ['no front matter', '# hi\n', /:1: a lesson starts with front matter/],
    ['unknown key', LESSON.replace('chapter: 7', 'chapter: 7\ncolour: red'), /unknown front matter key 'colour'/],
    ['exercise without id', LESSON.replace('exercise id=t-ex1 points=3', 'exercise'), /a exercise fence needs id=NAME/],
    [
      'solution not right after',
      LESSON.replace('```\n```ts solution', '```\n\ntext\n\n```ts solution'),
      /exercise t-ex1 must be followed immediately/,
    ],
    [
      'check without exercise',
      LESSON.replace('```ts check id=t-ex1', '```ts check id=nope'),
      /check nope comes before \(or without\) its exercise/,
    ],
    [
      'exercise without check',
      LESSON.replace('```ts check id=t-ex1', '```ts'),
      /exercise t-ex1 has no ```ts check id=t-ex1 fence/,
    ],
    ['unknown fence word', LESSON.replace('```ts norun', '```ts norunn'), /:18: unknown fence word 'norunn'/],
    ['bad points', LESSON.replace('points=3', 'points=x'), /points must be a positive whole number/],
  ];
  test.each(broken)('reports %s with file:line', (_name, text, message) => {
    expect(() => parseLesson(text, 'lessons/07-test.md')).toThrow(LessonError);
    expect(() => parseLesson(text, 'lessons/07-test.md')).toThrow(message);
  });
});

describe('lessonToNotebook', () => {
  const lesson = parseLesson(LESSON, 'lessons/07-test.md');
  const ref = lessonToNotebook(lesson, 'reference');
  const student = lessonToNotebook(lesson, 'student');

  test('nbformat 4.5 with the tslab kernelspec and no outputs', () => {
    expect(ref.nbformat).toBe(4);
    expect(ref.nbformat_minor).toBe(5);
    expect(ref.metadata.kernelspec).toEqual({ name: 'tslab', display_name: 'TypeScript', language: 'typescript' });
    for (const c of ref.cells) {
      expect(c.id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
      if (c.cell_type === 'code') {
        expect(c.outputs).toEqual([]);
        expect(c.execution_count).toBeNull();
      }
    }
  });

  test('reference: solutions and hidden tests; student: starters, the check, no hidden test', () => {
    const refText = serializeNotebook(ref);
    const studentText = serializeNotebook(student);
    expect(refText).toContain('const answer = 42;');
    expect(refText).toContain('expectTrue(answer > 0');
    expect(studentText).not.toContain('const answer = 42;');
    expect(studentText).not.toContain('expectTrue(answer > 0');
    expect(studentText).toContain('const answer = 0;');
    expect(studentText).toContain("check('t-ex1', () => expectEqual(answer, 42, 'answer'));");
    const ex = student.cells.find((c) => (c.metadata.nmi_lab as { role?: string } | undefined)?.role === 'exercise')!;
    expect(ex.source[0]).toBe('// exercise t-ex1: your code here\n');
    expect(ex.metadata).toEqual({ nmi_lab: { role: 'exercise', exercise: 't-ex1' }, tags: ['exercise'] });
  });

  test('cell ids depend on the lesson position only, so both variants share them', () => {
    const refIds = ref.cells.map((c) => c.id);
    const studentIds = student.cells.map((c) => c.id);
    expect(new Set(refIds).size).toBe(refIds.length);
    expect(studentIds.every((id) => refIds.includes(id))).toBe(true);
    expect(refIds[0]).toBe('07-test-head');
    expect(refIds[refIds.length - 1]).toBe('07-test-sources');
  });

  test('serialisation is deterministic: sorted keys, one-space indent, trailing newline', () => {
    const a = serializeNotebook(lessonToNotebook(parseLesson(LESSON, 'lessons/07-test.md'), 'reference'));
    const b = serializeNotebook(lessonToNotebook(parseLesson(LESSON, 'lessons/07-test.md'), 'reference'));
    expect(a).toBe(b);
    expect(a.endsWith('}\n')).toBe(true);
    expect(a.startsWith('{\n "cells": [')).toBe(true);
    const keys = Object.keys(JSON.parse(a));
    expect(keys).toEqual([...keys].sort());
  });
});
