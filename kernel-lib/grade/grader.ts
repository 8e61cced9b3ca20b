// The classroom grader: a submitted notebook's exercise cells are run against the lesson's checks,
// visible and hidden, each exercise in a fresh Node child process with a time limit, a heap limit
// and an output cap. A broken or hostile submission gets a score and a reason, never a crash or a
// hang of the grader.
//
// Why a child Node process running the cells compiled by the TypeScript compiler, and not a tslab
// kernel: a kernel costs 7-8 s to start (per exercise, to keep them independent), needs Jupyter
// installed where grading happens, and tslab aborts every cell after a failing one. A child process
// starts in a fraction of a second, can be killed as a whole process group, and its limits are
// plain Node options. The cost: cells are transpiled without type checking, so a submission with
// a type error that still runs is graded on what it does (tslab would refuse to run it).
//
// What the child runs for exercise X: the lesson's own code cells in order, with the *reference
// solution* for every other exercise and the *submitted* cell for X, then X's check and hidden
// cells, all taken from the lesson (never from the submission, whose check cells may be edited).
// Each exercise is thus graded on its own. This is a grader for a course, not a security sandbox:
// submitted code runs with the grader's user rights (run it in a container for untrusted classes).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { PROJECT_ROOT, readLessons } from '../lessons/course-tree';
import type { CheckResult } from '../course/checks';
import { REPORTER_KEY } from '../course/checks';
import type { Lesson, LessonCell } from '../lessons/lesson';
import { exercisesOf } from '../lessons/lesson';
import { EXERCISE_MARKER } from '../lessons/notebook';

export interface ExerciseGrade {
  id: string;
  points: number;
  /** points x (checks passed / checks), rounded to two decimals. */
  score: number;
  passed: number;
  total: number;
  /** Why this score, for the learner: all checks pass, the first failing check and its hint, or what went wrong. */
  reason: string;
  checks: CheckResult[];
  seconds: number;
}

export interface GradeReport {
  submission: string;
  lesson: string | null;
  chapter: number | null;
  title: string | null;
  score: number;
  maxScore: number;
  exercises: ExerciseGrade[];
  /** Problems with the submission as a whole (not a notebook, unknown lesson). */
  problems: string[];
}

export interface GradeOptions {
  root?: string;
  /** Per-exercise wall-clock limit (default 10 s). */
  timeoutMs?: number;
  /** V8 heap limit of each child (default 256 MiB). */
  memoryMb?: number;
  /** Output kept per child for the report (default 64 KiB); more than 100x this is noted in the reason of a run that timed out. */
  outputCap?: number;
  /** Exercises graded at once (default 2). */
  concurrency?: number;
  /** Lessons to grade against (default: read from root/lessons). */
  lessons?: Lesson[];
}

interface SubmittedCell {
  source: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function cellSource(cell: unknown): string | null {
  if (!cell || typeof cell !== 'object') return null;
  const src = (cell as { source?: unknown }).source;
  if (typeof src === 'string') return src;
  if (Array.isArray(src) && src.every((s) => typeof s === 'string')) return src.join('');
  return null;
}

/** Finds the exercise cells of a submission: by cell metadata, else by the `// exercise ID` first line. */
export function submittedExercises(nb: unknown): Map<string, SubmittedCell> {
  const found = new Map<string, SubmittedCell>();
  const cells = nb && typeof nb === 'object' ? (nb as { cells?: unknown }).cells : undefined;
  if (!Array.isArray(cells)) return found;
  for (const cell of cells) {
    if (!cell || typeof cell !== 'object' || (cell as { cell_type?: unknown }).cell_type !== 'code') continue;
    const source = cellSource(cell);
    if (source === null) continue;
    const meta = (cell as { metadata?: { nmi_lab?: { role?: unknown; exercise?: unknown } } }).metadata?.nmi_lab;
    let id: string | null = null;
    if (meta && meta.role === 'exercise' && typeof meta.exercise === 'string') id = meta.exercise;
    else {
      const m = EXERCISE_MARKER.exec(source.trimStart());
      if (m) id = m[1];
    }
    // The first cell wins: a duplicated cell does not replace the one in place.
    if (id !== null && !found.has(id)) found.set(id, { source });
  }
  return found;
}

function lessonFor(nb: unknown, submitted: Map<string, SubmittedCell>, lessons: Lesson[]): Lesson | null {
  const meta =
    nb && typeof nb === 'object'
      ? (nb as { metadata?: { nmi_lab?: { lesson?: unknown } } }).metadata?.nmi_lab
      : undefined;
  if (meta && typeof meta.lesson === 'string') {
    const byFile = lessons.find((l) => l.file === meta.lesson);
    if (byFile) return byFile;
  }
  // Metadata lost (e.g. the cells were pasted into a new notebook): the lesson with most exercise ids.
  let best: Lesson | null = null;
  let bestCount = 0;
  for (const l of lessons) {
    const n = exercisesOf(l).filter((e) => submitted.has(e.id)).length;
    if (n > bestCount) {
      best = l;
      bestCount = n;
    }
  }
  return best;
}

/** Syntax errors of one cell, as `line L: message` strings (cells may use top-level await). */
export function syntaxErrors(source: string): string[] {
  const out = ts.transpileModule(source, {
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: 'cell.ts',
  });
  return (out.diagnostics ?? []).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

/**
 * Joins cells into one CommonJS script: their imports hoisted to the top, everything else inside one
 * async function (cells may use top-level await), which the child awaits.
 */
export function composeProgram(cells: string[]): string {
  const imports: string[] = [];
  const body: string[] = [];
  cells.forEach((cell, i) => {
    const sf = ts.createSourceFile(`cell${i}.ts`, cell, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    let rest = '';
    let last = 0;
    for (const st of sf.statements) {
      if (ts.isImportDeclaration(st) || ts.isImportEqualsDeclaration(st)) {
        rest += cell.slice(last, st.getFullStart());
        imports.push(cell.slice(st.getStart(sf), st.getEnd()));
        last = st.getEnd();
      }
    }
    rest += cell.slice(last);
    body.push(`// ---- cell ${i}\n${rest}`);
  });
  const source = `${imports.join('\n')}\nexport const __done = (async () => {\n${body.join('\n')}\n})();\n`;
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: 'submission.ts',
  }).outputText;
}

/** The cells run for exercise `id`: see the header comment. */
function cellsFor(lesson: Lesson, id: string, submitted: string): { cells: string[]; checks: number } {
  let last = -1;
  lesson.cells.forEach((c, i) => {
    if ((c.kind === 'check' || c.kind === 'hidden' || c.kind === 'exercise') && c.id === id) last = i;
  });
  const cells: string[] = [];
  let checks = 0;
  lesson.cells.slice(0, last + 1).forEach((c: LessonCell) => {
    if (c.kind === 'code') cells.push(c.source);
    else if (c.kind === 'exercise') cells.push(c.id === id ? submitted : c.solution);
    else if ((c.kind === 'check' || c.kind === 'hidden') && c.id === id) {
      cells.push(c.source);
      checks++;
    }
  });
  return { cells, checks };
}

function childScript(root: string, program: string): string {
  // The child reports on file descriptor 3, one JSON object per line; stdout and stderr are the
  // learner's. process.exit is replaced so that calling it is reported as what it is.
  return `'use strict';
const __fs = require('fs');
const __report = (o) => { try { __fs.writeSync(3, JSON.stringify(o) + '\\n'); } catch (e) { /* parent gone */ } };
globalThis[${JSON.stringify(REPORTER_KEY)}] = { report: (r) => __report({ type: 'check', result: r }) };
const __exit = process.exit.bind(process);
process.exit = (code) => { throw new Error('process.exit(' + (code === undefined ? '' : code) + ') was called'); };
process.on('uncaughtException', (e) => { __report({ type: 'error', message: 'uncaught: ' + (e && e.stack || e) }); __exit(1); });
process.on('unhandledRejection', (e) => { __report({ type: 'error', message: 'unhandled rejection: ' + (e && e.stack || e) }); __exit(1); });
const __require = require('module').createRequire(${JSON.stringify(path.join(root, 'notebooks', 'grader.js'))});
const __exports = {};
(function (require, exports, module) {
${program}
})(__require, __exports, { exports: __exports });
Promise.resolve(__exports.__done).then(
  () => { __report({ type: 'done' }); __exit(0); },
  (e) => { __report({ type: 'error', message: String(e && e.stack || e) }); __exit(1); },
);
`;
}

interface ChildOutcome {
  checks: CheckResult[];
  done: boolean;
  error: string | null;
  timedOut: boolean;
  outputFlood: boolean;
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  seconds: number;
}

function runChild(
  script: string,
  options: Required<Pick<GradeOptions, 'timeoutMs' | 'memoryMb' | 'outputCap'>>,
): Promise<ChildOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-grade-'));
  const file = path.join(dir, 'exercise.js');
  fs.writeFileSync(file, script);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${options.memoryMb}`, '--stack-size=2000', file], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout kills anything it started too
      env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_ENV: 'grading' },
    });
    const out: ChildOutcome = {
      checks: [],
      done: false,
      error: null,
      timedOut: false,
      outputFlood: false,
      exitCode: null,
      signal: null,
      stderr: '',
      seconds: 0,
    };
    let printed = 0;
    let reportBuffer = '';
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    // Output is counted and dropped (stderr's first outputCap bytes are kept for the report), so
    // a flood costs the parent nothing but reading. It does not stop the child: killing it there
    // made a correct exercise that prints a lot pass or fail by how the two processes raced. An
    // endless print loop ends at the time limit like any endless loop, and the reason says it printed.
    const onOutput = (keep: boolean) => (d: Buffer) => {
      printed += d.length;
      if (keep && out.stderr.length < options.outputCap)
        out.stderr += d.toString('utf8').slice(0, options.outputCap - out.stderr.length);
      if (printed > options.outputCap * 100) out.outputFlood = true;
    };
    child.stdout!.on('data', onOutput(false));
    child.stderr!.on('data', onOutput(true));
    const reports = child.stdio[3] as NodeJS.ReadableStream;
    reports.on('data', (d: Buffer) => {
      reportBuffer += d.toString('utf8');
      if (reportBuffer.length > 4 * 1024 * 1024) reportBuffer = reportBuffer.slice(-1024 * 1024);
      let nl: number;
      while ((nl = reportBuffer.indexOf('\n')) >= 0) {
        const line = reportBuffer.slice(0, nl);
        reportBuffer = reportBuffer.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as { type: string; result?: CheckResult; message?: string };
          if (msg.type === 'check' && msg.result) out.checks.push(msg.result);
          else if (msg.type === 'done') out.done = true;
          else if (msg.type === 'error' && out.error === null) out.error = String(msg.message);
        } catch {
          // not a report line
        }
      }
    });
    const timer = setTimeout(() => {
      out.timedOut = true;
      kill();
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out.exitCode = code;
      out.signal = signal;
      out.seconds = (Date.now() - started) / 1000;
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(out);
    });
  });
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

function reasonFor(
  id: string,
  o: ChildOutcome,
  passed: number,
  total: number,
  options: { timeoutMs: number; memoryMb: number },
): string {
  const mine = o.checks.filter((c) => c.id === id);
  const failed = mine.find((c) => !c.ok);
  if (o.timedOut && o.outputFlood)
    return `stopped after ${options.timeoutMs / 1000} s: the code did not finish and printed far too much output; ${passed}/${total} checks passed before that`;
  if (o.timedOut)
    return `stopped after ${options.timeoutMs / 1000} s: the code did not finish (an endless loop?); ${passed}/${total} checks passed before that`;
  if (/heap out of memory|Allocation failed/i.test(o.stderr))
    return `stopped: the code ran out of memory (limit ${options.memoryMb} MiB)`;
  if (failed) return `${failed.message}${failed.hint ? ` (hint: ${failed.hint})` : ''}`;
  if (o.error) return `the program stopped with an error before all checks ran: ${firstLine(o.error)}`;
  if (!o.done)
    return `the process ended before the checks finished (exit code ${o.exitCode}${o.signal ? `, signal ${o.signal}` : ''})${o.stderr ? `: ${firstLine(o.stderr)}` : ''}`;
  if (passed === total) return `all ${total} checks pass`;
  return `${passed}/${total} checks ran and passed`;
}

async function gradeExercise(
  lesson: Lesson,
  ex: { id: string; points: number },
  submitted: SubmittedCell | undefined,
  root: string,
  options: Required<Pick<GradeOptions, 'timeoutMs' | 'memoryMb' | 'outputCap'>>,
): Promise<ExerciseGrade> {
  const base = { id: ex.id, points: ex.points, checks: [] as CheckResult[], seconds: 0 };
  if (!submitted) {
    const total = cellsFor(lesson, ex.id, '').checks;
    return {
      ...base,
      score: 0,
      passed: 0,
      total,
      reason: `no exercise cell for ${ex.id} (its first line should be \`// exercise ${ex.id}\`)`,
    };
  }
  const { cells, checks: total } = cellsFor(lesson, ex.id, submitted.source);
  const syntax = syntaxErrors(submitted.source);
  if (syntax.length > 0)
    return { ...base, score: 0, passed: 0, total, reason: `syntax error in the exercise cell, ${syntax[0]}` };
  let program: string;
  try {
    program = composeProgram(cells);
  } catch (e) {
    return { ...base, score: 0, passed: 0, total, reason: `the cell could not be compiled: ${(e as Error).message}` };
  }
  const o = await runChild(childScript(root, program), options);
  const mine = o.checks.filter((c) => c.id === ex.id);
  const passed = Math.min(total, mine.filter((c) => c.ok).length);
  const score = total === 0 ? 0 : round2((ex.points * passed) / total);
  return {
    ...base,
    score,
    passed,
    total,
    checks: mine,
    seconds: o.seconds,
    reason: reasonFor(ex.id, o, passed, total, options),
  };
}

/** Grades a submission given as notebook text. `submission` names it in the report. */
export async function gradeNotebookText(
  text: string,
  submission: string,
  options: GradeOptions = {},
): Promise<GradeReport> {
  const root = options.root ?? PROJECT_ROOT;
  const limits = {
    timeoutMs: options.timeoutMs ?? 10_000,
    memoryMb: options.memoryMb ?? 256,
    outputCap: options.outputCap ?? 64 * 1024,
  };
  const report: GradeReport = {
    submission,
    lesson: null,
    chapter: null,
    title: null,
    score: 0,
    maxScore: 0,
    exercises: [],
    problems: [],
  };
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    report.problems.push(`not a notebook: the file is not JSON (${(e as Error).message})`);
    return report;
  }
  if (!nb || typeof nb !== 'object' || !Array.isArray((nb as { cells?: unknown }).cells)) {
    report.problems.push('not a notebook: no "cells" list');
    return report;
  }
  const lessons = options.lessons ?? readLessons(root);
  const submitted = submittedExercises(nb);
  const lesson = lessonFor(nb, submitted, lessons);
  if (!lesson) {
    report.problems.push('cannot tell which lesson this is: no nmi_lab metadata and no `// exercise ID` cells');
    return report;
  }
  report.lesson = lesson.file;
  report.chapter = lesson.meta.chapter;
  report.title = lesson.meta.title;
  const exercises = exercisesOf(lesson);
  report.maxScore = exercises.reduce((s, e) => s + e.points, 0);
  const grades: ExerciseGrade[] = new Array(exercises.length);
  let next = 0;
  const worker = async () => {
    while (next < exercises.length) {
      const i = next++;
      grades[i] = await gradeExercise(lesson, exercises[i], submitted.get(exercises[i].id), root, limits);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, exercises.length)) }, worker));
  report.exercises = grades;
  report.score = round2(grades.reduce((s, g) => s + g.score, 0));
  return report;
}

/** Grades a submitted notebook file. A missing or unreadable file is a report problem, not a throw. */
export async function gradeNotebookFile(file: string, options: GradeOptions = {}): Promise<GradeReport> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return {
      submission: file,
      lesson: null,
      chapter: null,
      title: null,
      score: 0,
      maxScore: 0,
      exercises: [],
      problems: [`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`],
    };
  }
  return gradeNotebookText(text, file, options);
}

/** The report as text for a terminal. */
export function formatGradeReport(r: GradeReport): string {
  const lines = [`${r.submission}: ${r.lesson ? `chapter ${r.chapter}, ${r.title} (${r.lesson})` : 'not graded'}`];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const g of r.exercises) {
    lines.push(`  ${g.id.padEnd(10)} ${String(g.score).padStart(5)} / ${g.points}   ${g.reason}`);
  }
  if (r.lesson) lines.push(`  total      ${String(r.score).padStart(5)} / ${r.maxScore}`);
  return `${lines.join('\n')}\n`;
}
