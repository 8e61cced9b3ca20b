// Chapters 6 and 8: the explorer-backed checks. Reference answers (taken from the lessons'
// solution cells where they are listings) pass, typical wrong answers fail. Explorations run in
// worker threads: jest's module sandbox slows the step loop a lot.
import * as fs from 'fs';
import * as path from 'path';
import { runCheck } from '../../kernel-lib/course/checks';
import {
  checkClosedHole,
  checkCr2Verdicts,
  checkPlainEntry,
  checkReentrySchedule,
  COPY_AND_DROP,
  outcomeMap,
  verdictOf,
  withDoNmiLatch,
} from '../../kernel-lib/course/proving';
import { replaySchedule } from '../../kernel-lib';

const quiet = async <T>(f: () => T | Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await f();
  } finally {
    console.log = log;
  }
};
const passes = async (test: () => void | Promise<void>) =>
  (await quiet(() => runCheck('t', test as () => Promise<void>))).ok;

/** The listing in a lesson's solution cell `const NAME: string = `...`;`. */
function solutionListing(lesson: string, id: string, name: string): string {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'lessons', lesson), 'utf8');
  const cell = new RegExp('```ts solution id=' + id + '\\n([\\s\\S]*?)\\n```').exec(text);
  if (!cell) throw new Error(`no solution cell ${id} in ${lesson}`);
  const lit = new RegExp('const ' + name + ': string = `([\\s\\S]*?)`;').exec(cell[1]);
  if (!lit) throw new Error(`no listing ${name} in the solution of ${id}`);
  return lit[1];
}

test('chapter 6, exercise 1: a schedule that re-enters do_nmi on unprotected, survived by linux-3.6', async () => {
  expect(
    await passes(() => checkReentrySchedule('nmi@0, bp@nmi_point_early, nmi@nmi_point_middle', { hidden: true })),
  ).toBe(true);
  expect(await passes(() => checkReentrySchedule('nmi@0, nmi@nmi+0, bp@nmi_point_early', { hidden: true }))).toBe(true);
  expect(await passes(() => checkReentrySchedule('nmi@0'))).toBe(false); // one NMI cannot nest
  expect(await passes(() => checkReentrySchedule('nmi@0, nmi@5'))).toBe(false); // latched, served after
  expect(await passes(() => checkReentrySchedule('nmi@0, bp@nowhere'))).toBe(false);
  // A page fault re-enters unprotected too, but linux-3.6's CR2 save makes it survive: the hidden test passes.
  expect(
    await passes(() => checkReentrySchedule('nmi@0, pf@nmi_point_early, nmi@nmi_point_middle', { hidden: true })),
  ).toBe(true);
}, 60000);

test('chapter 6, exercise 2: CR2 verdicts at depth 1 with one exception', async () => {
  expect(
    await passes(() => checkCr2Verdicts({ unprotected: [3], 'linux-3.3': [3], 'linux-3.6': [] }, { workers: 1 })),
  ).toBe(true);
  expect(
    await passes(() => checkCr2Verdicts({ unprotected: [2, 3], 'linux-3.3': [3], 'linux-3.6': [] }, { workers: 1 })),
  ).toBe(false);
  expect(
    await passes(() => checkCr2Verdicts({ unprotected: [3], 'linux-3.3': [3], 'linux-3.6': [3] }, { workers: 1 })),
  ).toBe(false);
  expect(
    await passes(() => checkCr2Verdicts({ unprotected: [], 'linux-3.3': [], 'linux-3.6': [] }, { workers: 1 })),
  ).toBe(false);
}, 120000);

test('chapter 8, exercise 1: the plain entry is clean at depth 1; an entry without do_nmi is not', async () => {
  const plain = solutionListing('08-lab.md', 'ch8-ex1', 'plainSource');
  expect(await passes(() => checkPlainEntry(plain, { workers: 1 }))).toBe(true);
  expect(await passes(() => checkPlainEntry(plain, { hidden: true, workers: 1 }))).toBe(true);
  expect(await passes(() => checkPlainEntry('ENTRY(nmi)\n\tiretq\nEND(nmi)\n', { workers: 1 }))).toBe(false); // invariant 1
  // Registers not restored (do_nmi clobbers the C scratch registers): invariant 3.
  expect(await passes(() => checkPlainEntry(plain.replace(/RESTORE_ALL 8/, 'addq $16*8, %rsp'), { workers: 1 }))).toBe(
    false,
  );
  expect(await passes(() => checkPlainEntry('ENTRY(nmi)\n\tmovq %rax\nEND(nmi)\n', { workers: 1 }))).toBe(false); // does not assemble
}, 120000);

test("chapter 8, exercise 2: the RSP test closes copy-and-drop's exit-path hole; the original does not pass", async () => {
  const fixed = solutionListing('08-lab.md', 'ch8-ex2', 'fixedSource');
  expect(await passes(() => checkClosedHole(fixed, { workers: 2 }))).toBe(true);
  expect(await passes(() => checkClosedHole(COPY_AND_DROP, { workers: 2 }))).toBe(false); // termination
  const plain = solutionListing('08-lab.md', 'ch8-ex1', 'plainSource');
  expect(await passes(() => checkClosedHole(plain, { workers: 2 }))).toBe(false); // re-entered, hangs
}, 180000);

test('outcome maps and the do_nmi guard say what the chapters claim', () => {
  expect(verdictOf([])).toBe('ok');
  expect(verdictOf(['termination', 'reentrant-handler'])).toBe('re-entered do_nmi + hang (no return)');
  const map = outcomeMap('unprotected', { to: 12 });
  expect(map.points.filter((p) => p.exceptionPoint === 'no exception').every((p) => p.verdict === 'ok')).toBe(true);
  expect(
    map.points.filter((p) => p.exceptionPoint === 'bp@nmi_point_early').every((p) => /re-entered/.test(p.verdict)),
  ).toBe(true);
  const user = 'nmi@user_loop+0,nmi@nmi+0,bp@nmi_point_early+0';
  const on = replaySchedule({
    design: withDoNmiLatch('linux-4.2', true),
    workload: 'user',
    schedule: user,
    maxStepsAfterEvent: 600,
  });
  const off = replaySchedule({
    design: withDoNmiLatch('linux-4.2', false),
    workload: 'user',
    schedule: user,
    maxStepsAfterEvent: 600,
  });
  expect(on.violations).toEqual([]);
  expect(off.violations.map((v) => v.invariant)).toContain('reentrant-handler');
}, 120000);
