// Exercise checks for the course notebooks: `check(id, test, { hint })` runs a small test of the
// learner's code and shows pass or fail, with a hint, as HTML (in a tslab kernel) and as text.
//
// The same function serves three places, so a lesson's check cell is written once:
// - a notebook opened by a learner: the result is shown, nothing is thrown, the notebook goes on;
// - the course runner (`npm run course`), which sets NMI_LAB_STRICT_CHECKS=1: a failed check is also
//   written to stderr, which the runner counts as a failure (the reference solutions must pass);
// - the grader's child process, which installs a reporter on globalThis: every result is sent to it.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).

/** One check's outcome. */
export interface CheckResult {
  id: string;
  ok: boolean;
  /** What was checked (pass) or what went wrong (fail), in the learner's terms. */
  message: string;
  hint?: string;
}

export interface CheckOptions {
  /** Shown when the check fails: where to look, not the answer. */
  hint?: string;
  /** What the check tests, shown with a pass. */
  title?: string;
}

/** A failed expectation inside a check: its message is what the learner sees. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** The grader's child process installs this (see grader.ts); notebooks never do. */
export interface CheckReporter {
  report(result: CheckResult): void;
}
export const REPORTER_KEY = '__nmiLabCheckReporter__';

/** Renders a value for a message: small bigints in decimal and hex, large ones (addresses) in hex, the rest as JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') {
    const hex = `0x${BigInt.asUintN(64, value).toString(16)}`;
    return value >= 0n && value < 0x10000n ? `${value} (${hex})` : hex;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  try {
    return (
      JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `0x${BigInt.asUintN(64, v).toString(16)}` : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}

/** Fails the check with `message` unless `condition` holds. */
export function expectTrue(condition: unknown, message: string): void {
  if (!condition) throw new CheckFailure(message);
}

/** Fails unless `actual === expected` (bigints compared by value); `what` names the quantity. */
export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new CheckFailure(`${what}: expected ${describe(expected)}, got ${describe(actual)}`);
}

/** Fails unless `value` is defined (not undefined or null): the usual state of an unfinished exercise. */
export function expectDefined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new CheckFailure(`${what} is not set yet`);
  return value;
}

/** Fails unless two lists hold equal items in the same order. */
export function expectList<T>(actual: readonly T[] | undefined | null, expected: readonly T[], what: string): void {
  if (!Array.isArray(actual)) throw new CheckFailure(`${what}: expected a list, got ${describe(actual)}`);
  const same = actual.length === expected.length && actual.every((v, i) => v === expected[i]);
  if (!same) throw new CheckFailure(`${what}: expected ${describe(expected)}, got ${describe(actual)}`);
}

function resultOf(id: string, error: unknown, options: CheckOptions): CheckResult {
  if (error === undefined) return { id, ok: true, message: options.title ?? 'all expectations hold' };
  const message =
    error instanceof CheckFailure
      ? error.message
      : `your code threw ${error instanceof Error ? `${error.name}: ${error.message}` : describe(error)}`;
  return { id, ok: false, message, hint: options.hint };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The text form of a result (also what the grader prints). */
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

/**
 * Shows a result: HTML through tslab's display when running in a tslab kernel, and always a text
 * line on stdout (the text is what nbconvert, the grader and a terminal see).
 */
export function showCheckResult(r: CheckResult): void {
  const g = globalThis as Record<string, unknown>;
  const reporter = g[REPORTER_KEY] as CheckReporter | undefined;
  if (reporter) reporter.report(r);
  if (g.__tslab__ !== undefined) {
    try {
      // Loaded lazily: outside a kernel, tslab (and its bundled compiler) is never required.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tslab = require('tslab') as { display: { html(s: string): void } };
      tslab.display.html(formatCheckHtml(r));
    } catch {
      // Not inside a running cell (e.g. called from a timer): the text line below still shows.
    }
  }
  console.log(formatCheckText(r));
  if (!r.ok && typeof process !== 'undefined' && process.env.NMI_LAB_STRICT_CHECKS === '1') {
    process.stderr.write(`check ${r.id} failed: ${r.message}\n`);
  }
}

/**
 * Runs one check of exercise `id` and shows the result (what a lesson's check cell calls; it
 * returns nothing so that tslab does not echo a value under the result). `test` throws (usually
 * through the expect helpers) to fail; anything it throws becomes a failure message, never an
 * uncaught error, so a learner's broken code cannot stop the notebook here.
 */
export function check(id: string, test: () => void, options?: CheckOptions): void;
export function check(id: string, test: () => Promise<void>, options?: CheckOptions): Promise<void>;
export function check(id: string, test: () => void | Promise<void>, options: CheckOptions = {}): void | Promise<void> {
  const r = runCheck(id, test as () => void, options);
  if (r instanceof Promise) return r.then(() => undefined);
}

/** `check`, returning the result (or a promise of it when `test` is async). */
export function runCheck(id: string, test: () => void, options?: CheckOptions): CheckResult;
export function runCheck(id: string, test: () => Promise<void>, options?: CheckOptions): Promise<CheckResult>;
export function runCheck(
  id: string,
  test: () => void | Promise<void>,
  options: CheckOptions = {},
): CheckResult | Promise<CheckResult> {
  const finish = (error: unknown): CheckResult => {
    const r = resultOf(id, error, options);
    showCheckResult(r);
    return r;
  };
  let pending: void | Promise<void>;
  try {
    pending = test();
  } catch (e) {
    return finish(e === undefined ? new CheckFailure('the test threw undefined') : e);
  }
  if (pending && typeof (pending as Promise<void>).then === 'function') {
    return (pending as Promise<void>).then(
      () => finish(undefined),
      (e) => finish(e === undefined ? new CheckFailure('the test rejected') : e),
    );
  }
  return finish(undefined);
}
