// The classroom grader: a submitted notebook is graded as it would run top to bottom, its answers
// are judged by the grader, and nothing the submission does can change its score but its answers.
//
// 1. The submission's code cells are sorted out: its exercise cells (by metadata, else by their
//    `// exercise ID` first line), the cells a learner added, the lesson's demonstration cells, and
//    the check cells (skipped: the grader judges, not the submission). Exercise and added cells run
//    in notebook order after the lesson's set-up cells (those with imports), as the learner ran them:
//    a later definition of a name replaces an earlier one. The demonstration cells are left out
//    unless a cell uses a name one of them defines (then those cells run too). An exercise defined in
//    more than one cell, or redefined by an added cell, is graded as the notebook would run it (the
//    last definition wins) and the report warns about it.
// 2. One sandboxed process (sandbox.ts, runner/runner.ts) runs those cells and answers every
//    exercise's probes: the learner's definitions turned into data by the exercise's answer(), the
//    same code the notebook's check() uses. A process that hangs in one exercise is replaced for the
//    exercises after it.
// 3. The answers are judged in the grader's process (judge-pool.ts), each exercise on its visible
//    cases and on hidden ones (hidden.ts) the learner's process cannot read. An exercise scores
//    points x (checks passed / checks).
import * as fs from 'fs';
import * as os from 'os';
import { exerciseById } from '../course/checks';
import type { CheckResult } from '../course/checks';
import { PROJECT_ROOT, readLessons } from '../lessons/course-tree';
import type { Lesson } from '../lessons/lesson';
import { exercisesOf } from '../lessons/lesson';
import { EXERCISE_MARKER } from '../lessons/notebook';
import { compileCell, composeProgram } from './cells';
import type { CompiledCell, ProgramCell } from './cells';
import { JudgePool } from './judge-pool';
import { casesOf, checksOf, probeOf } from './judge';
import type { AnswerEntry, CheckName, CheckVerdict } from './judge';
import { BUILD_DIR, isolationInfo, runInSandbox } from './sandbox';
import type { Isolation, SandboxRun } from './sandbox';

export interface ExerciseGrade {
  id: string;
  points: number;
  /** points x (checks passed / checks), rounded to two decimals. */
  score: number;
  passed: number;
  total: number;
  /** Why this score, for the learner: the checks pass, or the first failing check's message, or what went wrong. */
  reason: string;
  /** The hint of the exercise, shown with a failure. */
  hint: string;
  checks: (CheckResult & { check: CheckName })[];
  seconds: number;
}

export interface GradeReport {
  submission: string;
  /** The student: notebook metadata (nmi_lab.student, or a name/email field), else the file name. */
  student: string;
  lesson: string | null;
  chapter: number | null;
  title: string | null;
  score: number;
  maxScore: number;
  exercises: ExerciseGrade[];
  /** Why the submission as a whole could not be graded (not a notebook, unknown lesson, unreadable). */
  problems: string[];
  /** What the learner should know but did not cost points: duplicated exercise cells, a cell that does not compile. */
  warnings: string[];
  /** When it was graded (ISO 8601). */
  gradedAt: string;
  /** The sandbox used for this submission's code. */
  isolation: Isolation | null;
}

export interface GradeOptions {
  root?: string;
  /** Time limit for the submission's cells, and again for each exercise's answers (default 10 s). */
  timeoutMs?: number;
  /** V8 heap limit of the learner's process (default 256 MiB). */
  memoryMb?: number;
  /** Output kept per process for the report (default 64 KiB). */
  outputCap?: number;
  /** Lessons to grade against (default: read from root/lessons). */
  lessons?: Lesson[];
  /** 'auto' (default: bubblewrap when it works), 'bwrap' or 'node'. */
  isolation?: 'auto' | Isolation;
  /** Where scratch folders are made (default: a per-user cache folder, see sandbox.ts). */
  scratchRoot?: string;
  /** Judges to share (gradeMany passes one pool to all submissions). */
  judges?: JudgePool;
  /** Time limit of one judgement (default 120 s). */
  judgeTimeoutMs?: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// ---- reading a submission ------------------------------------------------------------------------

function cellSource(cell: unknown): string | null {
  if (!cell || typeof cell !== 'object') return null;
  const src = (cell as { source?: unknown }).source;
  if (typeof src === 'string') return src;
  if (Array.isArray(src) && src.every((s) => typeof s === 'string')) return src.join('');
  return null;
}

type CellKind = 'exercise' | 'check' | 'setup' | 'demo' | 'added';

interface SubmittedCell {
  /** Position among the notebook's cells (0-based). */
  index: number;
  kind: CellKind;
  source: string;
  /** For an exercise cell: its id. */
  exercise?: string;
}

const CHECK_CALL = /^\s*(?:await\s+)?check\(\s*['"]([A-Za-z0-9_-]+)['"]/;

/** The submission's code cells, sorted out against the lesson (see the header comment). */
export function classifyCells(nb: unknown, lesson: Lesson | null): SubmittedCell[] {
  const cells = nb && typeof nb === 'object' ? (nb as { cells?: unknown }).cells : undefined;
  if (!Array.isArray(cells)) return [];
  const lessonCode = new Map<string, 'setup' | 'demo'>();
  const lessonIds = new Map<string, 'setup' | 'demo'>();
  if (lesson) {
    lesson.cells.forEach((c, i) => {
      if (c.kind !== 'code') return;
      const kind = /^\s*import\s/m.test(c.source) ? 'setup' : 'demo';
      lessonCode.set(c.source.trim(), kind);
      lessonIds.set(`${lesson.slug}-${String(i).padStart(3, '0')}`, kind);
    });
  }
  const out: SubmittedCell[] = [];
  cells.forEach((cell, index) => {
    if (!cell || typeof cell !== 'object' || (cell as { cell_type?: unknown }).cell_type !== 'code') return;
    const source = cellSource(cell);
    if (source === null) return;
    const meta = (cell as { metadata?: { nmi_lab?: { role?: unknown; exercise?: unknown } } }).metadata?.nmi_lab;
    const marker = EXERCISE_MARKER.exec(source.trimStart());
    if (marker) out.push({ index, kind: 'exercise', source, exercise: marker[1] });
    else if (meta && meta.role === 'exercise' && typeof meta.exercise === 'string')
      out.push({ index, kind: 'exercise', source, exercise: meta.exercise });
    else if ((meta && (meta.role === 'check' || meta.role === 'hidden')) || CHECK_CALL.test(source))
      out.push({ index, kind: 'check', source });
    else {
      const id = (cell as { id?: unknown }).id;
      const byId = typeof id === 'string' ? lessonIds.get(id) : undefined;
      const bySource = lessonCode.get(source.trim());
      // A lesson cell the learner edited is theirs now; one kept as it was is the lesson's.
      const kind = bySource ?? (byId === 'setup' ? 'setup' : 'added');
      out.push({ index, kind, source });
    }
  });
  return out;
}

function lessonFor(nb: unknown, cells: SubmittedCell[], lessons: Lesson[]): Lesson | null {
  const meta =
    nb && typeof nb === 'object'
      ? (nb as { metadata?: { nmi_lab?: { lesson?: unknown } } }).metadata?.nmi_lab
      : undefined;
  if (meta && typeof meta.lesson === 'string') {
    const byFile = lessons.find((l) => l.file === meta.lesson);
    if (byFile) return byFile;
  }
  // Metadata lost (e.g. the cells were pasted into a new notebook): the lesson with most exercise ids.
  const ids = new Set(cells.filter((c) => c.kind === 'exercise').map((c) => c.exercise));
  let best: Lesson | null = null;
  let bestCount = 0;
  for (const l of lessons) {
    const n = exercisesOf(l).filter((e) => ids.has(e.id)).length;
    if (n > bestCount) {
      best = l;
      bestCount = n;
    }
  }
  return best;
}

/** The student's name: notebook metadata, else the file name without its extension. */
export function studentOf(nb: unknown, submission: string): string {
  const meta = nb && typeof nb === 'object' ? (nb as { metadata?: Record<string, unknown> }).metadata : undefined;
  const nmi = meta?.nmi_lab as Record<string, unknown> | undefined;
  for (const v of [nmi?.student, meta?.student, (meta?.authors as { name?: unknown }[] | undefined)?.[0]?.name]) {
    if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 200);
  }
  const base = submission.split(/[\\/]/).pop() ?? submission;
  return base.replace(/\.[A-Za-z0-9]{1,8}$/, '');
}

// ---- the program -----------------------------------------------------------------------------------

interface Plan {
  program: string;
  /** Cells that did not compile: exercise cells by exercise id, others as warnings. */
  broken: Map<string, string>;
  warnings: string[];
  /** Cells included (notebook indexes), for messages. */
  included: number[];
  demoIncluded: boolean;
}

function compileAll(cells: SubmittedCell[]): Map<number, CompiledCell> {
  const out = new Map<number, CompiledCell>();
  for (const c of cells) if (c.kind !== 'check') out.set(c.index, compileCell(c.source));
  return out;
}

/**
 * Which cells run: set-up, exercise and added cells in order, plus the demonstration cells that
 * define a name another included cell mentions (and, in turn, what those need).
 */
function planProgram(cells: SubmittedCell[], compiled: Map<number, CompiledCell>, withDemos: boolean): Plan {
  const broken = new Map<string, string>();
  const warnings: string[] = [];
  const chosen = new Set<number>();
  for (const c of cells) if (c.kind === 'setup' || c.kind === 'exercise' || c.kind === 'added') chosen.add(c.index);
  let demoIncluded = false;
  if (withDemos) {
    // Close over names: a demonstration cell joins when an included cell mentions a name it declares.
    let grew = true;
    while (grew) {
      grew = false;
      const mentioned = new Set<string>();
      const declared = new Set<string>();
      for (const i of chosen) {
        const cc = compiled.get(i);
        if (cc && cc.ok) {
          cc.mentions.forEach((n) => mentioned.add(n));
          cc.declares.forEach((n) => declared.add(n));
        }
      }
      for (const c of cells) {
        if (c.kind !== 'demo' || chosen.has(c.index)) continue;
        const cc = compiled.get(c.index);
        if (cc && cc.ok && cc.declares.some((n) => mentioned.has(n) && !declared.has(n))) {
          chosen.add(c.index);
          demoIncluded = true;
          grew = true;
        }
      }
    }
  }
  const program: ProgramCell[] = [];
  const included: number[] = [];
  for (const c of cells) {
    if (!chosen.has(c.index)) continue;
    const cc = compiled.get(c.index) as CompiledCell;
    if (!cc.ok) {
      if (c.kind === 'exercise' && c.exercise)
        broken.set(c.exercise, `cell ${c.index + 1} does not compile: ${cc.error}`);
      else warnings.push(`cell ${c.index + 1} does not compile and was skipped: ${cc.error}`);
      continue;
    }
    program.push({ index: c.index, cell: cc });
    included.push(c.index);
  }
  return { program: composeProgram(program), broken, warnings, included, demoIncluded };
}

/** Warnings about exercises defined more than once, or redefined by an added cell. */
function duplicateWarnings(cells: SubmittedCell[], compiled: Map<number, CompiledCell>, ids: string[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const e = exerciseById(id);
    if (!e) continue;
    const defining = cells.filter((c) => {
      if (c.kind === 'exercise') return c.exercise === id;
      if (c.kind !== 'added') return false;
      const cc = compiled.get(c.index);
      return !!cc && cc.ok && cc.declares.some((n) => e.names.indexOf(n) >= 0);
    });
    if (defining.length > 1) {
      const last = defining[defining.length - 1];
      out.push(
        `${id} is defined in ${defining.length} cells (${defining.map((c) => `cell ${c.index + 1}${c.kind === 'added' ? ' (an added cell)' : ''}`).join(', ')}): graded as the notebook runs top to bottom, so the last one, cell ${last.index + 1}, decides`,
      );
    }
  }
  return out;
}

/**
 * The program the grader would run for a submission (for tests and tools): the cells sorted out,
 * compiled and joined, with the demonstration cells the others need when `withDemos`.
 */
export function submissionProgram(
  text: string,
  lessons: Lesson[] = readLessons(PROJECT_ROOT),
  withDemos = true,
): { program: string; lesson: Lesson | null; warnings: string[] } {
  const nb = JSON.parse(text) as unknown;
  const lesson = lessonFor(nb, classifyCells(nb, null), lessons);
  const cells = classifyCells(nb, lesson);
  const plan = planProgram(cells, compileAll(cells), withDemos);
  return { program: plan.program, lesson, warnings: plan.warnings };
}

// ---- running and judging --------------------------------------------------------------------------

interface ExercisePlan {
  id: string;
  points: number;
  probes: { probe: unknown; key: string }[];
  checks: CheckName[];
}

function planExercise(id: string, points: number): ExercisePlan {
  const e = exerciseById(id);
  if (!e) return { id, points, probes: [], checks: ['visible'] };
  const checks = checksOf(e);
  const probes: { probe: unknown; key: string }[] = [];
  for (const check of checks)
    for (const c of casesOf(e, check)) {
      const p = probeOf(e, c);
      if (!probes.some((q) => q.key === p.key)) probes.push(p);
    }
  return { id, points, probes, checks };
}

interface Answers {
  entries: Record<string, AnswerEntry>;
  /** Why the exercise has no (or not all) answers. */
  missing: string | null;
  seconds: number;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** Why a run ended before answering `exercise`, in the learner's terms. */
function stopReason(run: SandboxRun, timeoutS: number, memoryMb: number, running: number | null): string {
  const flood = run.outputFlood ? `, and it printed ${(run.printed / 1048576).toFixed(1)} MiB of output` : '';
  if (run.timedOut && running !== null)
    return `stopped after ${timeoutS} s: cell ${running + 1} did not finish (an endless loop?)${flood}`;
  if (run.timedOut) return `stopped after ${timeoutS} s: the code did not finish (an endless loop?)${flood}`;
  if (
    /heap out of memory|Allocation failed|Array buffer allocation failed|Invalid array length|ERR_MEMORY/i.test(
      run.stderr,
    )
  )
    return `stopped: the code ran out of memory (limit ${memoryMb} MiB)${flood}`;
  const fatal = run.messages.find((m) => m.type === 'fatal');
  if (fatal) return `the program stopped: ${String(fatal.error)}`;
  return `the process ended before answering (exit code ${run.exitCode}${run.signal ? `, signal ${run.signal}` : ''})${run.stderr ? `: ${firstLine(run.stderr)}` : ''}`;
}

/** Runs the program for `plans` (in one process; a new one after a hang), collecting answers. */
async function answerAll(
  program: string,
  plans: ExercisePlan[],
  options: Required<Pick<GradeOptions, 'timeoutMs' | 'memoryMb' | 'outputCap'>> & GradeOptions,
): Promise<{ answers: Map<string, Answers>; cellErrors: Map<number, string>; isolation: Isolation | null }> {
  const answers = new Map<string, Answers>();
  const cellErrors = new Map<number, string>();
  let todo = plans.filter((p) => p.probes.length > 0);
  let isolation: Isolation | null = null;
  for (let attempt = 0; todo.length > 0 && attempt <= plans.length; attempt++) {
    const run = await runInSandbox(
      { build: BUILD_DIR, program, exercises: todo.map((p) => ({ id: p.id, probes: p.probes.map((q) => q.probe) })) },
      {
        timeoutMs: options.timeoutMs,
        memoryMb: options.memoryMb,
        outputCap: options.outputCap,
        phases: todo.length,
        isolation: options.isolation,
        scratchRoot: options.scratchRoot,
      },
    );
    isolation = run.isolation;
    let current: string | null = null;
    let running: number | null = null;
    const ended = new Set<string>();
    for (const m of run.messages) {
      if (m.type === 'running' && typeof m.index === 'number') running = m.index;
      else if (m.type === 'cell' && typeof m.index === 'number') {
        running = null;
        if (m.ok === false && attempt === 0) cellErrors.set(m.index, String(m.error));
      } else if (m.type === 'begin' && typeof m.exercise === 'string') current = m.exercise;
      else if (m.type === 'end' && typeof m.exercise === 'string') {
        ended.add(m.exercise);
        current = null;
      } else if (m.type === 'answer' && typeof m.exercise === 'string' && typeof m.index === 'number') {
        const plan = todo.find((p) => p.id === m.exercise);
        const probe = plan?.probes[m.index];
        if (!plan || !probe) continue;
        const a = answers.get(plan.id) ?? { entries: {}, missing: null, seconds: run.seconds };
        if (!(probe.key in a.entries))
          a.entries[probe.key] = {
            answer: m.answer as AnswerEntry['answer'],
            failure: typeof m.failure === 'string' ? m.failure : undefined,
            error: typeof m.error === 'string' ? m.error : undefined,
          };
        answers.set(plan.id, a);
      }
    }
    const reason = stopReason(run, Math.round(options.timeoutMs / 1000), options.memoryMb, running);
    const begun = run.messages.some((m) => m.type === 'begin');
    const next: ExercisePlan[] = [];
    for (const p of todo) {
      if (ended.has(p.id)) continue;
      if (!begun || p.id === current) {
        // It died in the cells (every exercise shares them), or while answering this exercise.
        const a = answers.get(p.id) ?? { entries: {}, missing: null, seconds: run.seconds };
        a.missing = reason;
        answers.set(p.id, a);
        continue;
      }
      next.push(p); // not reached: try again in a fresh process
    }
    todo = next;
  }
  return { answers, cellErrors, isolation };
}

function reasonFor(grade: ExerciseGrade): string {
  if (grade.total === 0) return 'this exercise has no check';
  if (grade.passed === grade.total)
    return grade.total === 1
      ? 'the check passes'
      : grade.total === 2
        ? 'both checks pass'
        : `all ${grade.total} checks pass`;
  const failed = grade.checks.find((c) => !c.ok);
  const which =
    grade.total > 1 && failed ? ` (the ${failed.check} check; ${grade.passed} of ${grade.total} checks pass)` : '';
  return `${failed ? failed.message : 'not graded'}${which}`;
}

/** Grades a submission given as notebook text. `submission` names it in the report. */
export async function gradeNotebookText(
  text: string,
  submission: string,
  options: GradeOptions = {},
): Promise<GradeReport> {
  const root = options.root ?? PROJECT_ROOT;
  const limits = {
    ...options,
    timeoutMs: options.timeoutMs ?? 10_000,
    memoryMb: options.memoryMb ?? 256,
    outputCap: options.outputCap ?? 64 * 1024,
  };
  const report: GradeReport = {
    submission,
    student: studentOf(null, submission),
    lesson: null,
    chapter: null,
    title: null,
    score: 0,
    maxScore: 0,
    exercises: [],
    problems: [],
    warnings: [],
    gradedAt: new Date().toISOString(),
    isolation: null,
  };
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    report.problems.push(
      text.trim() === ''
        ? 'not a notebook: the file is empty'
        : `not a notebook: the file is not JSON, or is cut short (${(e as Error).message})`,
    );
    return report;
  }
  report.student = studentOf(nb, submission);
  if (!nb || typeof nb !== 'object' || !Array.isArray((nb as { cells?: unknown }).cells)) {
    report.problems.push('not a notebook: no "cells" list');
    return report;
  }
  const lessons = options.lessons ?? readLessons(root);
  const lesson = lessonFor(nb, classifyCells(nb, null), lessons);
  if (!lesson) {
    report.problems.push('cannot tell which lesson this is: no nmi_lab metadata and no `// exercise ID` cells');
    return report;
  }
  report.lesson = lesson.file;
  report.chapter = lesson.meta.chapter;
  report.title = lesson.meta.title;
  const exercises = exercisesOf(lesson);
  report.maxScore = exercises.reduce((s, e) => s + e.points, 0);
  const cells = classifyCells(nb, lesson);
  const compiled = compileAll(cells);
  report.warnings.push(
    ...duplicateWarnings(
      cells,
      compiled,
      exercises.map((e) => e.id),
    ),
  );
  const foreign = cells.filter((c) => c.kind === 'exercise' && !exercises.some((e) => e.id === c.exercise));
  for (const c of foreign)
    report.warnings.push(`cell ${c.index + 1} is marked as exercise ${c.exercise}, which is not in ${lesson.file}`);
  const plans = exercises.map((e) => planExercise(e.id, e.points));
  const hasCell = (id: string): boolean => {
    const e = exerciseById(id);
    return cells.some(
      (c) =>
        (c.kind === 'exercise' && c.exercise === id) ||
        (c.kind === 'added' &&
          !!e &&
          (() => {
            const cc = compiled.get(c.index);
            return !!cc && cc.ok && cc.declares.some((n) => e.names.indexOf(n) >= 0);
          })()),
    );
  };
  let plan = planProgram(cells, compiled, false);
  let run = await answerAll(plan.program, plans, limits);
  // A cell used a name a demonstration cell defines: grade again with those cells, as the notebook had them.
  const undefinedNames = [
    ...run.cellErrors.values(),
    ...[...run.answers.values()].flatMap((a) => Object.values(a.entries).map((x) => x.error ?? '')),
  ]
    .map((m) => /ReferenceError: ([\w$]+) is not defined/.exec(m)?.[1])
    .filter((n): n is string => !!n);
  if (
    undefinedNames.length > 0 &&
    cells.some((c) => {
      const cc = compiled.get(c.index);
      return c.kind === 'demo' && !!cc && cc.ok && cc.declares.some((n) => undefinedNames.indexOf(n) >= 0);
    })
  ) {
    plan = planProgram(cells, compiled, true);
    run = await answerAll(plan.program, plans, limits);
  }
  report.isolation = run.isolation;
  report.warnings.push(...plan.warnings);
  for (const [index, error] of run.cellErrors) {
    const c = cells.find((x) => x.index === index);
    if (c && c.kind !== 'exercise') report.warnings.push(`cell ${index + 1} stopped with an error: ${error}`);
  }
  const pool = options.judges ?? new JudgePool(1, options.judgeTimeoutMs ?? 120_000);
  try {
    report.exercises = await Promise.all(
      plans.map(async (p): Promise<ExerciseGrade> => {
        const e = exerciseById(p.id);
        const base = {
          id: p.id,
          points: p.points,
          hint: e?.hint ?? '',
          total: p.checks.length,
          seconds: 0,
        };
        const fail = (reason: string): ExerciseGrade => ({
          ...base,
          score: 0,
          passed: 0,
          checks: p.checks.map((check) => ({ id: p.id, check, ok: false, message: reason, hint: e?.hint })),
          reason,
        });
        if (!e) return fail(`the grader has no exercise ${p.id}`);
        if (!hasCell(p.id))
          return fail(`no exercise cell for ${p.id} (its first line should be \`// exercise ${p.id}\`)`);
        const broken = plan.broken.get(p.id);
        if (broken) return fail(`the exercise cell did not run: ${broken}`);
        const exerciseCell = [...cells].reverse().find((c) => c.kind === 'exercise' && c.exercise === p.id);
        const cellError = exerciseCell ? run.cellErrors.get(exerciseCell.index) : undefined;
        // As the notebook's check says after a failed cell: the exercise cell did not run to its end.
        if (cellError) return fail(`the exercise cell stopped with an error: ${cellError}`);
        const a = run.answers.get(p.id) ?? { entries: {}, missing: 'the process ended before answering', seconds: 0 };
        const missing = a.missing ?? 'the process ended before answering';
        const verdicts: CheckVerdict[] = await Promise.all(
          p.checks.map((check) => pool.judge({ exercise: p.id, check, answers: a.entries, missing })),
        );
        const passed = verdicts.filter((v) => v.ok).length;
        const grade: ExerciseGrade = {
          ...base,
          score: round2((p.points * passed) / p.checks.length),
          passed,
          seconds: a.seconds,
          checks: verdicts.map((v) => ({
            id: p.id,
            check: v.check,
            ok: v.ok,
            message: v.message,
            hint: v.ok ? undefined : e.hint,
          })),
          reason: '',
        };
        grade.reason = reasonFor(grade);
        return grade;
      }),
    );
  } finally {
    if (!options.judges) await pool.close();
  }
  report.score = round2(report.exercises.reduce((s, g) => s + g.score, 0));
  return report;
}

/** Grades a submitted notebook file. A missing, unreadable or odd file is a report problem, not a throw. */
export async function gradeNotebookFile(file: string, options: GradeOptions = {}): Promise<GradeReport> {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a regular file' });
    if (st.size > 64 * 1024 * 1024) throw Object.assign(new Error('too large'), { code: 'larger than 64 MiB' });
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return {
      submission: file,
      student: studentOf(null, file),
      lesson: null,
      chapter: null,
      title: null,
      score: 0,
      maxScore: 0,
      exercises: [],
      problems: [`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`],
      warnings: [],
      gradedAt: new Date().toISOString(),
      isolation: null,
    };
  }
  return gradeNotebookText(text, file, options);
}

/** Grades many submissions, `concurrency` at a time (default: the number of cores), sharing the judges. */
export async function gradeMany(
  files: string[],
  options: GradeOptions & { concurrency?: number; onReport?: (r: GradeReport) => void } = {},
): Promise<GradeReport[]> {
  const concurrency = Math.max(1, options.concurrency ?? os.cpus().length);
  const judges = options.judges ?? new JudgePool(concurrency, options.judgeTimeoutMs ?? 120_000);
  const reports: GradeReport[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      reports[i] = await gradeNotebookFile(files[i], { ...options, judges });
      options.onReport?.(reports[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, files.length)) }, worker));
  } finally {
    if (!options.judges) await judges.close();
  }
  return reports;
}

/** The report as text for a terminal. */
export function formatGradeReport(r: GradeReport): string {
  const head = r.lesson ? `chapter ${r.chapter}, ${r.title} (${r.lesson})` : 'not graded';
  const lines = [`${r.submission}: ${head}${r.student ? ` [${r.student}]` : ''}`];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  for (const g of r.exercises)
    lines.push(`  ${g.id.padEnd(10)} ${String(g.score).padStart(5)} / ${g.points}   ${g.reason}`);
  if (r.lesson) lines.push(`  total      ${String(r.score).padStart(5)} / ${r.maxScore}`);
  return `${lines.join('\n')}\n`;
}

/** Which sandbox submissions get here, and why not bubblewrap when it is not. */
export function gradingIsolation(): { mode: Isolation; reason: string | null } {
  return isolationInfo();
}
