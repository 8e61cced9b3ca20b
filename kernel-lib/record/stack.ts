// The stack diagram model: what one stack looks like at one moment, read from live memory.
// Renderers (stack-render.ts) turn it into text or HTML; nothing here formats for display.
//
// A row per 8-byte slot, from the stack top down: address, offset below the top, value (with its
// symbol when it is a code address), a label (the design's annotation, or the hardware frame a
// delivery pushed there), the owner (which event wrote it: the frame's delivery, or the handler that
// was running, from the event log or from a trace's recorded writes), the RSP markers, and whether
// it changed since a previous capture.
import type { Machine } from '../machine/machine';
import { eventContexts, frameSlotNames, interruptedRsp } from './contexts';
import type { EventContext } from './contexts';

/**
 * A design's name for slots of a stack, e.g. `{ offset: 48, label: 'saved %rdx' }` or
 * `{ offset: 64, label: ['Saved SS', 'Saved Return RSP', ...], group: 'Saved frame' }`.
 */
export interface StackAnnotation {
  /** Bytes below the stack top of the first (highest) slot: 8 (or -8, counted from the top) is the slot at top-8. */
  offset?: number;
  /** Or the first slot's absolute address. */
  address?: bigint;
  /** One label per slot, highest address first; or one label for `slots` slots. */
  label: string | string[];
  /** How many slots a single label covers (default: the number of labels, or 1). */
  slots?: number;
  /** The box these slots are drawn in ("Saved frame"); default: the label when it is a single one. */
  group?: string;
  /** Who owns these slots when neither the event log nor a trace says (e.g. 'NMI handler'). */
  owner?: string;
}

/** Which stack to draw. */
export interface StackSpec {
  /** 'NMI stack (IST 3)'. */
  name: string;
  /** The address just above the first slot (the IST or RSP0 value). */
  top: bigint;
  /** Bytes the stack spans below the top (default 4096): RSP in [top-size, top] is "on this stack". */
  size?: number;
  annotations?: StackAnnotation[];
  /** Most rows to draw (default 40). */
  maxRows?: number;
  /** Least rows to draw (default 6). */
  minRows?: number;
}

/** Who wrote a slot. */
export interface SlotOwner {
  /** 'NMI #2 (nested)', or an annotation's owner. */
  label: string;
  /** Swatch kind (see html.ts): 'nmi', 'nested-nmi', 'bp', 'annotation', ... */
  kind: string;
  /** 'frame': pushed by the CPU on delivery; 'data': written by the handler; 'annotation': from the design. */
  role: 'frame' | 'data' | 'annotation';
  /** The step it was written at, when known (from a trace). */
  step?: number;
  /** The owning context has returned: these bytes are left-overs. */
  stale?: boolean;
}

export interface DiagramSlot {
  address: bigint;
  /** Bytes below the top (8 for the highest slot). */
  offset: number;
  /** null when the page is not mapped. */
  value: bigint | null;
  /** `repeat_nmi+0` when the value is the address of an assembled instruction. */
  symbol: string | null;
  label: string | null;
  group: string | null;
  owner: SlotOwner | null;
  /** Value differs from the previous capture (false when there is none). */
  changed: boolean;
  previous?: bigint | null;
  /** Markers pointing at this slot: 'RSP', 'RSP when NMI #2 (nested) arrived'. */
  markers: string[];
  /** Below the current RSP (free space), when RSP is on this stack. */
  free: boolean;
}

export interface StackDiagram {
  name: string;
  top: bigint;
  /** Instructions retired when captured. */
  step: number;
  /** The current RSP when it is on this stack, else null. */
  rsp: bigint | null;
  slots: DiagramSlot[];
  /** Slots between the last row and RSP that did not fit (maxRows). */
  clipped: number;
  /** Owners appearing in the slots, in order of first appearance (for a legend). */
  owners: SlotOwner[];
  /** Whether a previous capture was compared against. */
  compared: boolean;
  /** Raw values from the top down (at least maxRows slots), for comparing with later captures. */
  values: (bigint | null)[];
  /** A caption, e.g. 'before NMI #2'. */
  caption?: string;
}

/** Recorded writes, by slot address (a trace recorder fills this; see trace.ts). */
export type SlotWrites = ReadonlyMap<bigint, { step: number; label: string; kind: string }>;

export interface CaptureOptions {
  /** An earlier capture of the same stack: slots whose value differs are marked changed. */
  previous?: StackDiagram | null;
  /** Who wrote each slot, as a trace recorded it; overrides the event-log estimate. */
  writes?: SlotWrites;
  caption?: string;
}

interface Label {
  label: string;
  group: string | null;
  owner?: string;
}

function annotationLabels(spec: StackSpec): Map<bigint, Label> {
  const out = new Map<bigint, Label>();
  for (const a of spec.annotations ?? []) {
    const labels = Array.isArray(a.label) ? a.label : [a.label];
    const count = a.slots ?? labels.length;
    const first = a.address !== undefined ? a.address : spec.top - BigInt(Math.abs(a.offset ?? 8));
    const group = a.group ?? (labels.length === 1 ? labels[0] : null);
    for (let i = 0; i < count; i++) {
      const label = labels.length === 1 ? labels[0] : (labels[i] ?? labels[labels.length - 1]);
      out.set(first - BigInt(8 * i), { label, group, owner: a.owner });
    }
  }
  return out;
}

const MASK = 0xfffffffffffffff8n;

/**
 * Ownership from the event log: each delivery owns the frame it pushed (a later delivery to the same
 * place takes over); each context still running owns the slots between its frame and where it was
 * interrupted (or the current RSP for the innermost one).
 */
function ownersFromLog(
  m: Machine,
  spec: StackSpec,
  lo: bigint,
  contexts: EventContext[],
  active: EventContext[],
): Map<bigint, SlotOwner> {
  const owners = new Map<bigint, SlotOwner>();
  const hi = spec.top;
  const onStack = (a: bigint) => a >= lo && a < hi;
  for (const ctx of contexts) {
    if (ctx.frameLo === undefined) continue;
    for (let i = 0; i < ctx.frameBytes / 8; i++) {
      const a = ctx.frameLo + BigInt(8 * i);
      if (onStack(a))
        owners.set(a, {
          label: ctx.label,
          kind: ctx.kind,
          role: 'frame',
          stale: ctx.returnedAt !== null,
          step: ctx.step + 1,
        });
    }
  }
  const rsp = m.reg('rsp');
  for (let i = 0; i < active.length; i++) {
    const ctx = active[i];
    if (ctx.frameLo === undefined || !onStack(ctx.frameLo)) continue;
    const inner = active[i + 1];
    let bottom: bigint | null = inner ? interruptedRsp(m, inner, contexts) : rsp;
    if (bottom === null || bottom > ctx.frameLo || bottom < ctx.frameLo - BigInt(spec.size ?? 4096)) continue;
    bottom &= MASK;
    for (let a = bottom; a < ctx.frameLo; a += 8n) {
      if (onStack(a)) owners.set(a, { label: ctx.label, kind: ctx.kind, role: 'data' });
    }
  }
  return owners;
}

/** Capture one stack from the machine's memory now. */
export function captureStack(m: Machine, spec: StackSpec, options: CaptureOptions = {}): StackDiagram {
  const size = BigInt(spec.size ?? 4096);
  const lo = spec.top - size;
  const maxRows = spec.maxRows ?? 40;
  const minRows = spec.minRows ?? 6;
  const { contexts, active } = eventContexts(m.log);
  const labels = annotationLabels(spec);
  const logOwners = ownersFromLog(m, spec, lo, contexts, active);
  const rspNow = m.reg('rsp');
  const rsp = rspNow >= lo && rspNow <= spec.top ? rspNow : null;

  // Markers: the current RSP, and where each open context interrupted code on this stack.
  const markers = new Map<bigint, string[]>();
  const mark = (a: bigint, text: string) => {
    const slot = a & MASK;
    if (slot < lo || slot >= spec.top) return;
    const list = markers.get(slot) ?? [];
    list.push(text);
    markers.set(slot, list);
  };
  if (rsp !== null) mark(rsp, 'RSP');
  for (const ctx of active) {
    const r = interruptedRsp(m, ctx, contexts);
    if (r !== null) mark(r, `RSP when ${ctx.label} arrived`);
  }

  // How deep to draw: down to the lowest thing worth showing, one free slot below RSP.
  let lowest = spec.top - BigInt(8 * minRows);
  const consider = (a: bigint) => {
    if (a >= lo && a < lowest) lowest = a;
  };
  for (const a of labels.keys()) consider(a);
  for (const a of logOwners.keys()) consider(a);
  if (options.writes) for (const a of options.writes.keys()) consider(a);
  for (const a of markers.keys()) consider(a);
  if (rsp !== null && rsp < spec.top) consider((rsp & MASK) - 8n);
  let rows = Number((spec.top - lowest) / 8n);
  let clipped = 0;
  if (rows > maxRows) {
    clipped = rows - maxRows;
    rows = maxRows;
  }

  // Values down to maxRows are kept even when fewer rows are drawn, so that a later capture that
  // draws deeper still knows what those slots held.
  const values: (bigint | null)[] = [];
  for (let i = 0; i < Math.max(rows, maxRows); i++) values.push(m.memory.peekU64(spec.top - BigInt(8 * (i + 1))));
  const previous = new Map<bigint, bigint | null>();
  if (options.previous) {
    const p = options.previous;
    for (let i = 0; i < p.values.length; i++) previous.set(p.top - BigInt(8 * (i + 1)), p.values[i]);
  }

  const slots: DiagramSlot[] = [];
  const ownerList: SlotOwner[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < rows; i++) {
    const address = spec.top - BigInt(8 * (i + 1));
    const value = values[i];
    const insn = value !== null ? m.instructionAt(value) : null;
    const symbol = insn ? m.symbolize(value as bigint) : null;
    const ann = labels.get(address);
    const written = options.writes?.get(address);
    const fromLog = logOwners.get(address);
    let owner: SlotOwner | null = null;
    // The last writer wins: a delivery rewrites its whole frame even where a value did not change,
    // which a trace's value comparison cannot see.
    const frameStep = fromLog?.role === 'frame' ? (fromLog.step ?? -1) : -1;
    if (written && written.step > frameStep)
      owner = {
        label: written.label,
        kind: written.kind,
        role: fromLog?.role === 'frame' && fromLog.label === written.label ? 'frame' : 'data',
        step: written.step,
      };
    else if (fromLog) owner = fromLog;
    else if (ann?.owner) owner = { label: ann.owner, kind: 'annotation', role: 'annotation' };
    let label = ann?.label ?? null;
    let group = ann?.group ?? null;
    if (!label && fromLog?.role === 'frame') {
      const ctx = contexts.filter((c) => c.label === fromLog.label)[0];
      if (ctx && ctx.frameLo !== undefined) {
        const idx = Number((address - ctx.frameLo) / 8n);
        label = `${ctx.name} frame: ${frameSlotNames(ctx)[idx]}`;
        group = `${ctx.label} frame`;
      }
    }
    const prev = previous.has(address) ? previous.get(address) : undefined;
    const changed = prev !== undefined && prev !== value;
    if (owner) {
      const key = `${owner.label}|${owner.kind}`;
      if (!seen.has(key)) {
        seen.add(key);
        ownerList.push({ label: owner.label, kind: owner.kind, role: owner.role, stale: owner.stale });
      }
    }
    slots.push({
      address,
      offset: 8 * (i + 1),
      value,
      symbol,
      label,
      group,
      owner,
      changed,
      previous: options.previous ? (prev === undefined ? null : prev) : undefined,
      markers: markers.get(address) ?? [],
      free: rsp !== null && address < rsp,
    });
  }
  return {
    name: spec.name,
    top: spec.top,
    step: m.steps,
    rsp,
    slots,
    clipped,
    owners: ownerList,
    compared: !!options.previous,
    values,
    caption: options.caption,
  };
}

/** Capture several stacks at once (same moment), each compared with the matching previous capture by name. */
export function captureStacks(
  m: Machine,
  specs: readonly StackSpec[],
  options: { previous?: readonly StackDiagram[]; writes?: SlotWrites; caption?: string } = {},
): StackDiagram[] {
  return specs.map((spec) => {
    const previous = options.previous ? (options.previous.filter((d) => d.name === spec.name)[0] ?? null) : null;
    return captureStack(m, spec, { previous, writes: options.writes, caption: options.caption });
  });
}

/** A before/after pair around whatever `action` does (a step, a run to a label, raising an NMI). */
export function captureAround(
  m: Machine,
  spec: StackSpec,
  action: (m: Machine) => unknown,
  options: { writes?: () => SlotWrites; before?: string; after?: string } = {},
): { before: StackDiagram; after: StackDiagram } {
  const before = captureStack(m, spec, {
    caption: options.before ?? `before (step ${m.steps})`,
    writes: options.writes?.(),
  });
  action(m);
  const after = captureStack(m, spec, {
    previous: before,
    caption: options.after ?? `after (step ${m.steps})`,
    writes: options.writes?.(),
  });
  return { before, after };
}
