// Exercise checks for the course notebooks. A lesson's check cell is one call, `check('ch2-ex1')`:
// it looks up the exercise, takes the names the exercise cell defined, turns them into an answer
// and judges it, then shows *Pass* or *Not yet* with what is wrong and a hint.
//
// An exercise (defineExercise) is two halves, so that the grader can split them across processes:
// - answer(defs, probe): runs on the learner's side. It turns the learner's definitions into data
//   (a value, what a function returned for a probe, or the events a function raised on a machine);
// - judge(answer, case): runs on the judge's side. It computes what is right from the machine, in
//   its own machines, and throws CheckFailure with a message that says what is wrong with the
//   answer and where to look, never what the right answer is.
// The notebook runs both here, on the exercise's visible cases; the grader runs answer() in a
// sandboxed process and judge() in its own, on the visible cases and hidden ones the learner's
// process cannot read (kernel-lib/grade/). Both go through encodeAnswer/decodeAnswer, so both judge
// the same data.
//
// Inside a tslab kernel, check() reads the learner's definitions from tslab's own table (so the
// check cell compiles even when the exercise cell did not), notices when the cell run just before
// it failed (a type error: tslab never ran it) and says so, and shows its result once, as one
// output with an HTML and a text form (the text is what nbconvert and the course runner read).
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { decodeAnswer, encodeAnswer, Opaque } from './answers';
import type { Json } from './answers';

/** One check's outcome. */
export interface CheckResult {
  id: string;
  ok: boolean;
  /** What was checked (pass) or what went wrong (fail), in the learner's terms. */
  message: string;
  hint?: string;
}

/** A failed expectation: its message is what the learner sees. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** The learner's definitions, by name (what the exercise cell declared). */
export type Definitions = Record<string, unknown>;

/** An exercise: see the header comment. `C` is a case of its checks. */
export interface Exercise<C = unknown> {
  id: string;
  /** What a pass shows. */
  title: string;
  /** Where to look when it fails; never the answer. */
  hint: string;
  /** The names the exercise cell defines, which answer() reads. */
  names: readonly string[];
  /** The visible check's cases (run by check() in the notebook, and by the grader). */
  cases: readonly C[];
  /** What the learner's code is given for a case (plain data); absent: nothing (a value exercise). */
  probe?(c: C): Json;
  /** Learner's side: the answer for one probe, from the definitions. Throws CheckFailure for a malformed one. */
  answer(defs: Definitions, probe: unknown): unknown;
  /** Judge's side: throws CheckFailure when the answer is wrong for this case. */
  judge(answer: unknown, c: C): void | Promise<void>;
}

const registry = new Map<string, Exercise<unknown>>();

/** Registers an exercise (each chapter's module does it for its own). */
export function defineExercise<C>(e: Exercise<C>): Exercise<C> {
  registry.set(e.id, e as Exercise<unknown>);
  return e;
}

/** The exercise with this id; every chapter's exercises are loaded on first use. */
export function exerciseById(id: string): Exercise<unknown> | undefined {
  loadExercises();
  return registry.get(id);
}

/** Every exercise, in id order. */
export function allExercises(): Exercise<unknown>[] {
  loadExercises();
  return [...registry.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

let loaded = false;
function loadExercises(): void {
  if (loaded) return;
  loaded = true;
  // Loaded here rather than imported at the top: the chapter modules import this one.
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./exercises');
  require('./design-exercises');
  require('./proving');
  /* eslint-enable @typescript-eslint/no-require-imports */
}

// ---- expectations ------------------------------------------------------------------------------

/** Renders a value for a message: small bigints in decimal and hex, large ones (addresses) in hex, the rest as JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') {
    const hex = `0x${BigInt.asUintN(64, value).toString(16)}`;
    return value >= 0n && value < 0x10000n ? `${value}n (${hex})` : hex;
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (value instanceof Opaque) return value.what;
  try {
    const text =
      JSON.stringify(value, (_k, v) =>
        typeof v === 'bigint' ? `0x${BigInt.asUintN(64, v).toString(16)}` : v instanceof Opaque ? v.what : v,
      ) ?? String(value);
    return text.length > 300 ? `${text.slice(0, 300)}...` : text;
  } catch {
    return String(value);
  }
}

/** Fails the check with `message` unless `condition` holds. */
export function expectTrue(condition: unknown, message: string): void {
  if (!condition) throw new CheckFailure(message);
}

/** Fails unless `value` is defined (not undefined or null): the usual state of an unfinished exercise. */
export function expectDefined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new CheckFailure(`${what} is not set yet`);
  return value;
}

/** Fails unless `value` is a bigint; a number gets its own message (bigints are written `16n`). */
export function expectBigint(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value))
      throw new CheckFailure(
        `${what} should be a bigint, but it is the number ${value}: write it ${value}n, with the n suffix`,
      );
    throw new CheckFailure(
      `${what} should be a bigint, but it is a number (${value}): a JavaScript number cannot hold a 64-bit value exactly, so keep it a bigint (m.readU64 and m.reg return bigints)`,
    );
  }
  throw new CheckFailure(`${what} should be a bigint, got ${describe(value)}`);
}

/** Fails unless `value` is a (finite) number; a bigint gets its own message. */
export function expectNumber(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint')
    throw new CheckFailure(`${what} should be a plain number, but it is the bigint ${value}n: drop the n suffix`);
  throw new CheckFailure(`${what} should be a number, got ${describe(value)}`);
}

/** Fails unless `value` is a string. */
export function expectString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  throw new CheckFailure(`${what} should be a string, got ${describe(value)}`);
}

/** Fails unless `value` is true or false. */
export function expectBoolean(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new CheckFailure(`${what} should be true or false, got ${describe(value)}`);
}

/** Fails unless `value` is one of `choices`. */
export function expectOneOf<T extends string>(value: unknown, choices: readonly T[], what: string): T {
  if (typeof value === 'string' && (choices as readonly string[]).indexOf(value) >= 0) return value as T;
  throw new CheckFailure(`${what} should be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
}

/** Fails unless `value` is a plain object (a record of fields). */
export function expectRecord(value: unknown, what: string): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Opaque))
    return value as Record<string, unknown>;
  throw new CheckFailure(`${what} should be an object, got ${describe(value)}`);
}

/** Fails unless `value` is a list. */
export function expectArray(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new CheckFailure(`${what} should be a list, got ${describe(value)}`);
}

/** Fails unless `value` is a function (learner's side). */
export function expectFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value === 'function') return value as (...args: never[]) => unknown;
  throw new CheckFailure(`${name} should be a function, got ${describe(value)}`);
}

// ---- running an exercise's check ---------------------------------------------------------------

/** The message for an error thrown by learner code (a CheckFailure keeps its own message). */
export function thrownMessage(e: unknown): string {
  if (e instanceof CheckFailure) return e.message;
  // Duck-typed: an error made in another realm (a vm context) is not an instanceof this one's Error.
  const x = e as { name?: unknown; message?: unknown } | null;
  if (x && typeof x === 'object' && typeof x.name === 'string' && typeof x.message === 'string')
    return `your code threw ${x.name}: ${x.message}`;
  return `your code threw ${describe(e)}`;
}

/** answer() through the data form the grader uses, so the notebook judges what the grader judges. */
export function answerFor(e: Exercise<unknown>, defs: Definitions, probe: unknown): unknown {
  return decodeAnswer(JSON.parse(JSON.stringify(encodeAnswer(e.answer(defs, probe)))));
}

function missingNames(e: Exercise<unknown>, defs: Definitions): string[] {
  return e.names.filter((n) => !(n in defs) || defs[n] === undefined);
}

/**
 * Runs exercise `id`'s visible cases on `defs` (default: the definitions tslab holds) and returns
 * the result, without showing it. Synchronous unless a judge is asynchronous.
 */
export function checkResult(id: string, defs?: Definitions): CheckResult | Promise<CheckResult> {
  const e = exerciseById(id);
  if (!e) return { id, ok: false, message: `there is no exercise '${id}'` };
  const fail = (message: string): CheckResult => ({ id, ok: false, message, hint: e.hint });
  const earlier = defs === undefined ? previousCellFailure() : null;
  const d = defs ?? tslabDefinitions(e.names);
  const missing = missingNames(e, d);
  if (earlier !== null)
    return fail(
      `the cell run before this check did not run to its end, so ${id} was not updated: ${earlier}. Fix that cell and run it again, then this check`,
    );
  if (missing.length > 0)
    return fail(
      `${missing.map((n) => `\`${n}\``).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not defined: run the exercise cell (with no errors) before its check`,
    );
  const answers = new Map<string, unknown>();
  const cases = e.cases;
  const step = (i: number): CheckResult | Promise<CheckResult> => {
    for (; i < cases.length; i++) {
      const c = cases[i];
      const probe = e.probe ? e.probe(c) : null;
      const key = JSON.stringify(probe);
      let answer: unknown;
      try {
        if (!answers.has(key)) answers.set(key, answerFor(e, d, probe));
        answer = answers.get(key);
      } catch (err) {
        return fail(thrownMessage(err));
      }
      let verdict: void | Promise<void>;
      try {
        verdict = e.judge(answer, c);
      } catch (err) {
        return fail(thrownMessage(err));
      }
      if (verdict && typeof (verdict as Promise<void>).then === 'function') {
        const next = i + 1;
        return (verdict as Promise<void>).then(
          () => step(next),
          (err) => fail(thrownMessage(err)),
        );
      }
    }
    return { id, ok: true, message: e.title };
  };
  return step(0);
}

/**
 * The check cell's call: runs exercise `id`'s visible check and shows the result. Returns a
 * promise when the exercise's judge is asynchronous (an exploration); the cell then awaits it.
 * `defs` is for use outside a notebook (tests, scripts); in a notebook the exercise cell's
 * definitions are found by name.
 */
export function check(id: string, defs?: Definitions): void | Promise<void> {
  let r: CheckResult | Promise<CheckResult>;
  try {
    r = checkResult(id, defs);
  } catch (err) {
    r = { id, ok: false, message: thrownMessage(err) };
  }
  if (r instanceof Promise) return r.then(showCheckResult);
  showCheckResult(r);
}

// ---- showing a result --------------------------------------------------------------------------

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The text form of a result: what the grader's feedback, nbconvert and a terminal show. */
export function formatCheckText(r: CheckResult): string {
  if (r.ok) return `PASS ${r.id}: ${r.message}`;
  return `FAIL ${r.id}: ${r.message}${r.hint ? `\n     hint: ${r.hint}` : ''}`;
}

/** The HTML form: inline styles only, so it survives untrusted rendering (Jupyter drops <style> there). */
export function formatCheckHtml(r: CheckResult): string {
  const colour = r.ok ? '#1a7f37' : '#cf222e';
  const background = r.ok ? '#dafbe1' : '#ffebe9';
  const hint = !r.ok && r.hint ? `<div style="margin-top:4px"><b>Hint:</b> ${escapeHtml(r.hint)}</div>` : '';
  return (
    `<div style="border-left:4px solid ${colour};background:${background};padding:6px 10px;margin:4px 0;font-family:sans-serif">` +
    `<b style="color:${colour}">${r.ok ? 'Pass' : 'Not yet'}</b> <code>${escapeHtml(r.id)}</code>: ${escapeHtml(r.message)}${hint}</div>`
  );
}

type DisplayData = (
  data: { data: Record<string, string>; metadata: object; transient: object },
  update: boolean,
) => void;

/** tslab's function that sends one display_data message, when running in a tslab kernel. */
function tslabDisplayData(): DisplayData | null {
  const g = globalThis as Record<string, unknown>;
  if (g.__tslab__ === undefined || typeof require === 'undefined' || !require.cache) return null;
  for (const key of Object.keys(require.cache)) {
    if (!/tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) continue;
    const send = (require.cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof send === 'function') return send as DisplayData;
  }
  return null;
}

/**
 * Shows a result once: inside a tslab kernel as one output carrying both forms (HTML for the page,
 * text for nbconvert and the course runner); elsewhere as the text line on stdout. With
 * NMI_LAB_STRICT_CHECKS=1 (the course runner) a failure also goes to stderr.
 */
export function showCheckResult(r: CheckResult): void {
  let shown = false;
  const send = tslabDisplayData();
  if (send) {
    try {
      send(
        { data: { 'text/html': formatCheckHtml(r), 'text/plain': formatCheckText(r) }, metadata: {}, transient: {} },
        false,
      );
      shown = true;
    } catch {
      // Not inside a running cell: the text line below shows instead.
    }
  }
  if (!shown) console.log(formatCheckText(r));
  if (!r.ok && typeof process !== 'undefined' && process.env.NMI_LAB_STRICT_CHECKS === '1') {
    process.stderr.write(`check ${r.id} failed: ${r.message}\n`);
  }
}

// ---- the notebook's own state (tslab) ------------------------------------------------------------

/** The exercise cell's definitions, from tslab's table of top-level declarations. */
function tslabDefinitions(names: readonly string[]): Definitions {
  const t = (globalThis as { __tslab__?: { exports?: Record<string, unknown> } }).__tslab__;
  const out: Definitions = {};
  if (!t || !t.exports) return out;
  for (const n of names) if (n in t.exports) out[n] = t.exports[n];
  return out;
}

interface CellRecord {
  stderr: string;
  ran: boolean;
  threw: string | null;
}

/**
 * Follows tslab's cells: tslab assigns process.stderr.write afresh at the start of every cell it
 * executes, and runs a cell's code through vm.runInThisContext only if it compiled. Watching both
 * tells, for the cell before a check, whether it compiled, whether it threw, and what it printed on
 * stderr. Installed once, when this module loads in a tslab kernel; elsewhere it does nothing.
 */
const cellLog: CellRecord[] = [];

function installCellTracker(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.__tslab__ === undefined || g.__nmiLabCellTracker__ !== undefined || typeof process === 'undefined') return;
  g.__nmiLabCellTracker__ = true;
  try {
    const stream = process.stderr as unknown as Record<string, unknown>;
    let current = stream.write as (...args: unknown[]) => boolean;
    const record = (chunk: unknown) => {
      const cell = cellLog[cellLog.length - 1];
      if (cell && cell.stderr.length < 4000) cell.stderr += typeof chunk === 'string' ? chunk : String(chunk);
    };
    const wrapped = function (this: unknown, ...args: unknown[]): boolean {
      record(args[0]);
      return current.apply(this, args);
    };
    Object.defineProperty(stream, 'write', {
      configurable: true,
      enumerable: true,
      get: () => wrapped,
      set: (fn: (...args: unknown[]) => boolean) => {
        current = fn;
        cellLog.push({ stderr: '', ran: false, threw: null });
        if (cellLog.length > 50) cellLog.shift();
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vm = require('vm') as { runInThisContext: (...args: unknown[]) => unknown };
    const run = vm.runInThisContext;
    vm.runInThisContext = function (...args: unknown[]): unknown {
      const cell = cellLog[cellLog.length - 1];
      if (cell) cell.ran = true;
      try {
        const out = run.apply(this, args);
        if (cell && out && typeof (out as Promise<unknown>).then === 'function')
          (out as Promise<unknown>).then(undefined, (e: unknown) => {
            cell.threw = thrownMessage(e);
          });
        return out;
      } catch (e) {
        if (cell) cell.threw = thrownMessage(e);
        throw e;
      }
    };
  } catch {
    // Some other kernel layout: checks work without knowing about failed cells.
  }
}

/** Why the cell run just before the current one did not finish, or null (it did, or nothing is known). */
function previousCellFailure(): string | null {
  if (cellLog.length < 2) return null;
  const prev = cellLog[cellLog.length - 2];
  if (prev.threw !== null) return prev.threw;
  if (!prev.ran && prev.stderr.trim() !== '') {
    const text = prev.stderr.trim().split('\n').slice(0, 3).join('; ');
    return `tslab did not run it: ${text.length > 400 ? `${text.slice(0, 400)}...` : text}`;
  }
  return null;
}

installCellTracker();
