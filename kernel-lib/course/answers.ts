// Answers as data. An exercise's answer is what the learner's code produced, turned into plain
// data that can cross a process boundary: the grader runs learner code in a sandboxed process that
// only *produces* answers, and judges them in its own process (kernel-lib/grade/). The notebook's
// check() goes through the same two steps in one process, so both see the same thing.
//
// - encodeAnswer/decodeAnswer: JSON with tags, so bigints stay bigints (a number where a bigint is
//   expected must be reported as such) and a function or a machine stays "a function", not `{}`.
// - recordActions/replayActions: a learner's function that drives a machine (raises NMIs, arms
//   exceptions, runs) is recorded as the events it caused, at the boundary where it caused them.
//   The judge replays those events on a fresh machine of its own and looks at the result there: a
//   learner's code can patch its own machine, but not the one the judge replays on.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import type { ArmedException, ExceptionKind, Kernel } from '../harness/kernel';
import type { InjectedEvent, Machine, NmiOutcome } from '../machine/machine';

/** Plain JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What decodeAnswer gives for a value that has no data form (a function, a Machine, undefined, NaN). */
export class Opaque {
  constructor(readonly what: string) {}
  toString(): string {
    return this.what;
  }
}

const MAX_DEPTH = 12;
const MAX_ITEMS = 10_000;

function opaqueName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'number') return String(v); // NaN, Infinity
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  const name = ctor && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
  return `a ${name} object`;
}

/**
 * Any value as tagged JSON: `{"$":"bigint","v":"-96"}`, `{"$":"array","v":[...]}`,
 * `{"$":"object","v":{...}}`, `{"$":"opaque","v":"a function"}`; strings, finite numbers, booleans
 * and null as themselves. Deep or huge values are cut (an opaque marker says so).
 */
export function encodeAnswer(value: unknown): Json {
  let items = 0;
  const enc = (v: unknown, depth: number): Json => {
    if (++items > MAX_ITEMS) return { $: 'opaque', v: 'a value too large to grade' };
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $: 'opaque', v: String(v) };
    if (typeof v === 'bigint') return { $: 'bigint', v: v.toString() };
    if (typeof v !== 'object') return { $: 'opaque', v: opaqueName(v) };
    if (depth >= MAX_DEPTH) return { $: 'opaque', v: 'a value nested too deeply to grade' };
    if (Array.isArray(v)) return { $: 'array', v: v.map((x) => enc(x, depth + 1)) };
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { $: 'opaque', v: opaqueName(v) };
    const out: { [key: string]: Json } = {};
    for (const k of Object.keys(v)) out[k] = enc((v as Record<string, unknown>)[k], depth + 1);
    return { $: 'object', v: out };
  };
  return enc(value, 0);
}

/** The inverse of encodeAnswer. Malformed input (not produced by encodeAnswer) decodes to an Opaque. */
export function decodeAnswer(json: unknown): unknown {
  const dec = (j: unknown, depth: number): unknown => {
    if (j === null || typeof j === 'boolean' || typeof j === 'string' || typeof j === 'number') return j;
    if (depth > MAX_DEPTH + 1 || typeof j !== 'object' || Array.isArray(j)) return new Opaque('a malformed answer');
    const t = j as { $?: unknown; v?: unknown };
    if (t.$ === 'bigint' && typeof t.v === 'string' && /^-?\d{1,80}$/.test(t.v)) return BigInt(t.v);
    if (t.$ === 'array' && Array.isArray(t.v)) return t.v.map((x) => dec(x, depth + 1));
    if (t.$ === 'object' && t.v !== null && typeof t.v === 'object' && !Array.isArray(t.v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(t.v)) {
        if (k === '__proto__') continue;
        out[k] = dec((t.v as Record<string, unknown>)[k], depth + 1);
      }
      return out;
    }
    if (t.$ === 'opaque' && typeof t.v === 'string') {
      if (t.v === 'undefined') return undefined;
      return new Opaque(t.v.slice(0, 200));
    }
    return new Opaque('a malformed answer');
  };
  return dec(json, 0);
}

// ---- recording what a function did to a machine ------------------------------------------------

/** Where an action happened: the boundary visit, told apart by steps, RIP and the log's length. */
export interface ActionAt {
  steps: number;
  rip: string;
  log: number;
}

/** One thing a learner's code did to a machine: the only effects a replay reproduces. */
export type Action =
  | (ActionAt & { op: 'nmi' })
  | (ActionAt & { op: 'inject'; vector: number; errorCode?: number; cr2?: string })
  | (ActionAt & { op: 'arm'; at: string; kind: ExceptionKind; run?: number; cr2?: string })
  | (ActionAt & { op: 'disarm' });

/** A recorded run: the actions in order, and where the machine was when the function returned. */
export interface Recording {
  actions: Action[];
  end: ActionAt;
}

const MAX_ACTIONS = 5_000;

function here(m: Machine): ActionAt {
  return { steps: m.steps, rip: m.rip.toString(16), log: m.log.length };
}

/**
 * Records, until `stop()`, the events raised on `m` (and armed on `k`, when given): NMIs,
 * injected exceptions, armed and disarmed exceptions, each with the boundary it happened at. The
 * instance methods are wrapped (the prototype's stay as they are); on a kernel, exceptions are
 * recorded as armed, not as injected. Anything else the code does to
 * the machine, such as writing registers or memory, is not recorded and a replay does not repeat it.
 */
export function recordActions(m: Machine, k?: Kernel): { actions: Action[]; stop(): Recording } {
  const actions: Action[] = [];
  const push = (a: Action) => {
    if (actions.length < MAX_ACTIONS) actions.push(a);
  };
  const raise = m.raiseNmi;
  const inject = m.inject;
  const mm = m as unknown as Record<string, unknown>;
  mm.raiseNmi = function (this: Machine): NmiOutcome {
    push({ ...here(m), op: 'nmi' });
    return raise.call(m);
  };
  // On a kernel, exceptions come from armException (the kernel injects them itself when an arm
  // fires): only the arms are recorded, and a replay arms them again.
  if (!k)
    mm.inject = function (this: Machine, event: InjectedEvent): Machine {
      if (event && event.type === 'nmi') push({ ...here(m), op: 'nmi' });
      else if (event && event.type === 'exception')
        push({
          ...here(m),
          op: 'inject',
          vector: event.vector,
          errorCode: event.errorCode,
          cr2: event.cr2 === undefined ? undefined : event.cr2.toString(16),
        });
      return inject.call(m, event);
    };
  let kk: Record<string, unknown> | null = null;
  if (k) {
    const arm = k.armException;
    const disarm = k.disarm;
    kk = k as unknown as Record<string, unknown>;
    kk.armException = function (a: ArmedException): Kernel {
      const at = typeof a.at === 'bigint' ? a.at.toString(16) : String(a.at);
      push({
        ...here(m),
        op: 'arm',
        at: typeof a.at === 'bigint' ? `0x${at}` : at,
        kind: a.kind,
        run: a.run,
        cr2: a.cr2 === undefined ? undefined : a.cr2.toString(16),
      });
      return arm.call(k, a);
    };
    kk.disarm = function (): Kernel {
      push({ ...here(m), op: 'disarm' });
      return disarm.call(k);
    };
  }
  return {
    actions,
    stop(): Recording {
      delete mm.raiseNmi;
      delete mm.inject;
      if (kk) {
        delete kk.armException;
        delete kk.disarm;
      }
      return { actions: actions.slice(), end: here(m) };
    },
  };
}

/** Calls `fn` with recordActions on: its result and the recording (rethrows what `fn` throws). */
export function withRecording<T>(m: Machine, k: Kernel | undefined, fn: () => T): { result: T; recording: Recording } {
  const rec = recordActions(m, k);
  let recording: Recording | null = null;
  try {
    const result = fn();
    recording = rec.stop();
    return { result, recording };
  } finally {
    if (recording === null) rec.stop();
  }
}

/** What a replay observed: the outcome of each NMI action (in order), and whether it got to the end. */
export interface ReplayOutcome {
  outcomes: NmiOutcome[];
  /** The replay reached the recorded end: same steps, RIP and log length. */
  reachedEnd: boolean;
  /** Actions that never found their boundary (the replay went elsewhere). */
  unplaced: number;
}

function sameBoundary(m: Machine, at: ActionAt): boolean {
  return m.steps === at.steps && m.log.length === at.log && m.rip.toString(16) === at.rip;
}

function apply(m: Machine, k: Kernel | undefined, a: Action, outcomes: NmiOutcome[]): void {
  if (a.op === 'nmi') outcomes.push(m.raiseNmi());
  else if (a.op === 'inject')
    m.inject({
      type: 'exception',
      vector: a.vector,
      errorCode: a.errorCode,
      cr2: a.cr2 === undefined ? undefined : BigInt(`0x${a.cr2}`),
    });
  else if (a.op === 'arm' && k)
    k.armException({
      at: a.at.startsWith('0x') ? BigInt(a.at) : a.at,
      kind: a.kind,
      run: a.run,
      cr2: a.cr2 === undefined ? undefined : BigInt(`0x${a.cr2}`),
    });
  else if (a.op === 'disarm' && k) k.disarm();
}

/**
 * Replays a recording on a fresh machine (or kernel) in the state the recorded one started in:
 * runs it, applying each action at the boundary visit where it was recorded, up to the recorded
 * end (or `maxSteps` beyond the start). Deterministic: the same recording gives the same machine.
 */
export function replayActions(
  m: Machine,
  rec: Recording,
  k?: Kernel,
  maxSteps = 200_000,
  onAction?: (a: Action) => void,
): ReplayOutcome {
  const outcomes: NmiOutcome[] = [];
  const actions = rec.actions;
  let next = 0;
  const applyDue = () => {
    while (next < actions.length && sameBoundary(m, actions[next])) {
      if (onAction) onAction(actions[next]);
      apply(m, k, actions[next++], outcomes);
    }
  };
  const done = () => next >= actions.length && sameBoundary(m, rec.end);
  // The hook sees every boundary visit, before `until`: an action recorded there is applied there.
  if (k) k.onBoundary(applyDue);
  else m.onBoundary(applyDue);
  try {
    applyDue();
    const budget = Math.min(maxSteps, rec.end.steps - m.steps + 1);
    if (!done() && budget > 0) m.run({ until: (mm) => done() || mm.steps > rec.end.steps, maxSteps: budget });
  } finally {
    if (k) k.onBoundary(null);
    else m.onBoundary(null);
  }
  return { outcomes, reachedEnd: done(), unplaced: actions.length - next };
}
