// Who is running, and who pushed what: the event contexts a run went through, derived from the
// machine's event log only (a delivery opens a context, an IRET closes the innermost one).
// Stack diagrams use them to colour slots by owner, traces and timelines to name the running context.
import type { Machine } from '../machine/machine';
import type { MachineEvent } from '../machine/event-log';

/** One delivered event (an NMI, an exception, an interrupt) and the handler run it started. */
export interface EventContext {
  /** 1-based, in delivery order. */
  id: number;
  /** The vector's name: 'NMI', '#BP', '#PF', ... */
  name: string;
  vector: number;
  /** Display name: 'NMI #1', 'NMI #2 (nested)', '#BP #1'. The number counts deliveries of this vector. */
  label: string;
  /** Swatch kind: 'nmi', 'nested-nmi', 'bp', 'db', 'df', 'exception'. */
  kind: string;
  /** An NMI delivered while an earlier NMI's handler had not yet returned (whatever blocked or not). */
  nested: boolean;
  /** The step (instructions retired) when it was delivered. */
  step: number;
  /** Where it interrupted (the return RIP in its frame) and the handler it entered. */
  interruptedRip: bigint | undefined;
  handler: bigint | undefined;
  /** The hardware frame: lowest address (the RSP after delivery) and its size (40, or 48 with an error code). */
  frameLo: bigint | undefined;
  frameBytes: number;
  ist: number;
  /** The step of the IRET that closed it, or null while it is running or interrupted. */
  returnedAt: number | null;
  /** The context it interrupted (null: plain kernel or user code). */
  parent: EventContext | null;
}

const FRAME_SLOT_NAMES = ['RIP', 'CS', 'RFLAGS', 'RSP', 'SS'];

/** Slot names of a hardware frame, lowest address first ('error code' first when there is one). */
export function frameSlotNames(ctx: EventContext): string[] {
  return ctx.frameBytes === 48 ? ['error code', ...FRAME_SLOT_NAMES] : FRAME_SLOT_NAMES;
}

function kindOf(name: string, nested: boolean): string {
  if (name === 'NMI') return nested ? 'nested-nmi' : 'nmi';
  if (name === '#BP') return 'bp';
  if (name === '#DB') return 'db';
  if (name === '#DF') return 'df';
  return 'exception';
}

/** The result of replaying an event log: every context, and those still open at its end. */
export interface ContextHistory {
  contexts: EventContext[];
  /** Open contexts at the end of the log, outermost first. */
  active: EventContext[];
}

/** Replays an event log incrementally (a trace recorder advances it after every step). */
export class ContextTracker {
  readonly contexts: EventContext[] = [];
  /** Open contexts, outermost first. */
  readonly active: EventContext[] = [];
  private readonly perVector = new Map<number, number>();
  private seen = 0;

  /** Process the log entries not seen yet (up to `length`); returns the deliveries among them. */
  advance(log: readonly MachineEvent[], length: number = log.length): EventContext[] {
    const delivered: EventContext[] = [];
    for (; this.seen < length; this.seen++) {
      const e = log[this.seen];
      if (e.kind === 'deliver') {
        const ctx = this.open(e);
        delivered.push(ctx);
      } else if (e.kind === 'iret') {
        const ctx = this.active.pop();
        if (ctx) ctx.returnedAt = e.step;
      }
    }
    return delivered;
  }

  private open(e: MachineEvent): EventContext {
    const vector = e.vector ?? -1;
    const name = e.name ?? `vector ${vector}`;
    const n = (this.perVector.get(vector) ?? 0) + 1;
    this.perVector.set(vector, n);
    const active = this.active;
    const nested = name === 'NMI' && active.some((c) => c.name === 'NMI');
    const ctx: EventContext = {
      id: this.contexts.length + 1,
      name,
      vector,
      label: `${name} #${n}${nested ? ' (nested)' : ''}`,
      kind: kindOf(name, nested),
      nested,
      step: e.step,
      interruptedRip: e.rip,
      handler: e.toRip,
      frameLo: e.toRsp,
      frameBytes: e.errorCode !== undefined ? 48 : 40,
      ist: e.ist ?? 0,
      returnedAt: null,
      parent: active.length > 0 ? active[active.length - 1] : null,
    };
    this.contexts.push(ctx);
    active.push(ctx);
    return ctx;
  }
}

/** Replay an event log (or its first `length` events) into contexts. */
export function eventContexts(log: readonly MachineEvent[], length: number = log.length): ContextHistory {
  const t = new ContextTracker();
  t.advance(log, length);
  return { contexts: t.contexts, active: t.active };
}

/**
 * The interrupted RSP recorded in a context's hardware frame, read from live memory; null if
 * unreadable or if a later delivery pushed its own frame over it (a nested NMI on the same IST).
 */
export function interruptedRsp(m: Machine, ctx: EventContext, contexts?: readonly EventContext[]): bigint | null {
  if (ctx.frameLo === undefined) return null;
  if (contexts) {
    const lo = ctx.frameLo;
    const hi = lo + BigInt(ctx.frameBytes);
    for (const later of contexts) {
      if (later.id <= ctx.id || later.frameLo === undefined) continue;
      if (later.frameLo < hi && later.frameLo + BigInt(later.frameBytes) > lo) return null;
    }
  }
  const slot = ctx.frameLo + BigInt(ctx.frameBytes - 16);
  return m.memory.peekU64(slot);
}

/**
 * Names a context from the machine state, for labels the event log cannot know (a design's
 * `repeat_nmi` path runs after an IRET, in no event's context). Return null to keep the default.
 * `symbol` is the symbolized RIP ('repeat_nmi+0x8'), `base` the default name.
 */
export type ContextClassifier = (info: {
  rip: bigint;
  symbol: string | null;
  base: string;
  baseKind: string;
  cpl: number;
  m: Machine;
}) => string | { label: string; kind: string } | null;

/** A classifier that names RIP ranges: `{ repeat: ['repeat_nmi', 'end_repeat_nmi'] }` (end exclusive). */
export function classifyByLabels(
  m: Machine,
  ranges: Record<string, [string, string]>,
  kind = 'repeat',
): ContextClassifier {
  const resolved = Object.keys(ranges).map((label) => ({
    label,
    lo: m.symbol(ranges[label][0]),
    hi: m.symbol(ranges[label][1]),
  }));
  return ({ rip }) => {
    for (const r of resolved) if (rip >= r.lo && rip < r.hi) return { label: r.label, kind };
    return null;
  };
}

/** The running context's name and swatch kind: the innermost open event, else 'kernel' or 'user'. */
export function currentContext(
  m: Machine,
  active: readonly EventContext[],
  classify?: ContextClassifier,
): { label: string; kind: string } {
  const top = active.length > 0 ? active[active.length - 1] : null;
  const base = top ? top.label : m.cpl === 3 ? 'user' : 'kernel';
  const baseKind = top ? top.kind : m.cpl === 3 ? 'user' : 'kernel';
  if (classify) {
    const rip = m.rip;
    const named = classify({ rip, symbol: m.symbolize(rip), base, baseKind, cpl: m.cpl, m });
    if (typeof named === 'string') return { label: named, kind: baseKind };
    if (named) return named;
  }
  return { label: base, kind: baseKind };
}
