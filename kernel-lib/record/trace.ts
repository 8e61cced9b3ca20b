// A step-through recorder: drives the machine one step() at a time and keeps, per step, the
// instruction that ran, the registers and watched memory it changed, the events at that boundary
// and during it, the running context, and the NMI blocking/latch state. Traces feed the trace
// table, the timeline plot, and stack diagrams' "who wrote this slot".
import type { BoundaryHook, Machine, StopReason } from '../machine/machine';
import { GPR_NAMES } from '../machine/machine';
import type { MachineEvent } from '../machine/event-log';
import { ContextTracker, currentContext } from './contexts';
import type { ContextClassifier, EventContext } from './contexts';
import type { SlotWrites, StackSpec } from './stack';

/** Memory a trace compares after every step: `bytes` below a stack top (default 512). */
export interface WatchedStack {
  name: string;
  top: bigint;
  bytes?: number;
}

export interface RegisterChange {
  name: string;
  before: bigint;
  after: bigint;
}

export interface MemoryChange {
  address: bigint;
  /** Where, for people: 'NMI stack T-48'. */
  where: string;
  before: bigint | null;
  after: bigint | null;
}

export interface TraceStep {
  /** Instructions retired after this step (Machine.steps). */
  step: number;
  /** The instruction that ran (after any delivery at this boundary). */
  rip: bigint;
  where: string;
  text: string;
  /** 'file.S:12', when the assembler recorded it. */
  source: string | null;
  /** The context it ran in ('kernel', 'NMI #1', 'repeat', ...) and its swatch kind. */
  context: string;
  contextKind: string;
  regs: RegisterChange[];
  mem: MemoryChange[];
  /** Events logged at this boundary and by this instruction (plain objects). */
  events: MachineEvent[];
  /** State after the step. */
  nmiBlocked: boolean;
  nmiPending: boolean;
  cpl: number;
}

export interface TraceOptions {
  /** Stacks to diff after every step (StackSpecs work: name and top). */
  watch?: readonly (WatchedStack | StackSpec)[];
  /** Your boundary logic (raise an NMI at a label...): the recorder installs it for you. */
  hook?: BoundaryHook;
  /** Names contexts the event log cannot (e.g. the repeat_nmi path). */
  classify?: ContextClassifier;
  /** Most steps kept (older ones are dropped first); default 20,000. */
  keep?: number;
}

export interface Trace {
  steps: TraceStep[];
  /** Every event context delivered during the recording. */
  contexts: EventContext[];
  /** Why recording stopped ('hlt', 'budget', 'until', 'shutdown', ...). */
  stop: string;
  /** Steps dropped from the front because of maxSteps. */
  dropped: number;
  watched: WatchedStack[];
}

const REG_NAMES: readonly string[] = [...GPR_NAMES, 'rflags'];

function regsOf(m: Machine): bigint[] {
  const r = m.registers() as Record<string, bigint>;
  const out = GPR_NAMES.map((n) => r[n]);
  out.push(m.rflags);
  return out;
}

function plain(e: MachineEvent): MachineEvent {
  const j = (e as { toJSON?: () => MachineEvent }).toJSON;
  return j ? j.call(e) : { ...e };
}

export class TraceRecorder {
  readonly steps: TraceStep[] = [];
  /** Who last wrote each watched slot (a stack diagram's `writes` option). */
  readonly writes = new Map<bigint, { step: number; label: string; kind: string }>();
  readonly tracker = new ContextTracker();
  readonly watched: WatchedStack[];
  dropped = 0;
  private readonly memories: (Uint8Array | null)[];
  private readonly keep: number;
  private hookRip: bigint | null = null;
  private previous: BoundaryHook | null = null;
  private hookContext: { label: string; kind: string } | null = null;
  private hookLogLength = 0;

  constructor(
    readonly m: Machine,
    private readonly options: TraceOptions = {},
  ) {
    this.watched = (options.watch ?? []).map((w) => ({
      name: w.name,
      top: w.top,
      bytes: (w as WatchedStack).bytes ?? 512,
    }));
    this.memories = this.watched.map((w) => this.read(w));
    this.keep = options.keep ?? 20000;
    this.tracker.advance(m.log);
    const user = options.hook;
    // Chain to the hook already installed (a harness Kernel keeps its armed exceptions and run
    // records there); detach() puts it back.
    const previous = m.boundaryHook;
    this.previous = previous;
    m.onBoundary((mm) => {
      const before = mm.cpu.cur;
      if (user) user(mm);
      // An event the caller's hook delivered opens a new boundary: the machine calls us again.
      if (previous !== null && mm.cpu.cur === before) previous(mm);
      // Called again after a hook-raised event is delivered: the last call names the instruction.
      this.hookLogLength = mm.log.length;
      this.tracker.advance(mm.log);
      this.hookRip = mm.rip;
      this.hookContext = currentContext(mm, this.tracker.active, this.options.classify);
    });
  }

  private read(w: WatchedStack): Uint8Array | null {
    const bytes = w.bytes ?? 512;
    const data = this.m.memory.peek(w.top - BigInt(bytes), bytes);
    return data ? data.slice() : null;
  }

  /** One step of the machine, recorded. Returns what Machine.step() returns. */
  step(): StopReason | null {
    const m = this.m;
    const before = regsOf(m);
    const logStart = m.log.length;
    this.hookRip = null;
    this.hookContext = null;
    const stop = m.step();
    // (Set by the boundary hook during step(); the cast stops TypeScript narrowing it to null.)
    const rip = this.hookRip as bigint | null;
    if (rip === null) {
      // Nothing executed (halted, shut down, or the hook stopped the machine).
      this.tracker.advance(m.log);
      return stop;
    }
    this.tracker.advance(m.log);
    // A delivery caused by the instruction itself (int3, a fault) pushed its frame for the new context.
    let deliveredDuring = false;
    for (let i = this.hookLogLength; i < m.log.length; i++) if (m.log[i].kind === 'deliver') deliveredDuring = true;
    const ctx = this.hookContext ?? { label: 'kernel', kind: 'kernel' };
    const after = regsOf(m);
    const regs: RegisterChange[] = [];
    for (let i = 0; i < REG_NAMES.length; i++)
      if (before[i] !== after[i]) regs.push({ name: REG_NAMES[i], before: before[i], after: after[i] });
    const owner = deliveredDuring ? currentContext(m, this.tracker.active, this.options.classify) : ctx;
    const mem: MemoryChange[] = [];
    this.watched.forEach((w, wi) => {
      const old = this.memories[wi];
      const now = this.read(w);
      this.memories[wi] = now;
      if (!old || !now) return;
      const base = w.top - BigInt(now.length);
      for (let off = 0; off < now.length; off += 8) {
        let same = true;
        for (let k = 0; k < 8; k++) if (old[off + k] !== now[off + k]) same = false;
        if (same) continue;
        const address = base + BigInt(off);
        mem.push({
          address,
          where: `${w.name} T-${Number(w.top - address)}`,
          before: u64(old, off),
          after: u64(now, off),
        });
        this.writes.set(address, { step: m.steps, label: owner.label, kind: owner.kind });
      }
    });
    mem.sort((a, b) => (a.address > b.address ? -1 : 1));
    const insn = m.instructionAt(rip);
    this.steps.push({
      step: m.steps,
      rip,
      where: m.symbolize(rip) ?? `0x${rip.toString(16)}`,
      text: insn ? insn.text : '(no instruction)',
      source: insn && insn.loc ? `${insn.loc.file}:${insn.loc.line}` : null,
      context: ctx.label,
      contextKind: ctx.kind,
      regs,
      mem,
      events: m.log.slice(logStart).map(plain),
      nmiBlocked: m.nmiBlocked,
      nmiPending: m.nmiPending,
      cpl: m.cpl,
    });
    if (this.steps.length > this.keep) {
      this.steps.shift();
      this.dropped++;
    }
    return stop;
  }

  /** Step until a label/address/predicate, a stop, or the budget (default 10,000 steps). */
  run(options: { until?: string | bigint | ((m: Machine) => boolean); maxSteps?: number } = {}): Trace {
    const m = this.m;
    const max = options.maxSteps ?? 10000;
    const until = options.until;
    const target = typeof until === 'string' ? m.symbol(until) : typeof until === 'bigint' ? until : null;
    let stop = 'budget';
    for (let i = 0; i < max; i++) {
      const s = this.step();
      if (s !== null) {
        stop = s;
        break;
      }
      if (target !== null && m.rip === target) {
        stop = 'until';
        break;
      }
      if (typeof until === 'function' && until(m)) {
        stop = 'until';
        break;
      }
    }
    return this.trace(stop);
  }

  trace(stop = 'stopped'): Trace {
    return { steps: this.steps, contexts: this.tracker.contexts, stop, dropped: this.dropped, watched: this.watched };
  }

  /** Recorded writes, for captureStack's `writes` option. */
  slotWrites(): SlotWrites {
    return this.writes;
  }

  /** Remove the recorder's boundary hook, putting back the one it chained to. */
  detach(): void {
    this.m.onBoundary(this.previous);
  }
}

function u64(b: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[off + k]);
  return v;
}

/** Record a run: `recordTrace(m, { watch: stacks, hook, until: 'repeat_nmi', maxSteps: 2000 })`. */
export function recordTrace(
  m: Machine,
  options: TraceOptions & { until?: string | bigint | ((m: Machine) => boolean); maxSteps?: number },
): Trace {
  const r = new TraceRecorder(m, options);
  try {
    return r.run({ until: options.until, maxSteps: options.maxSteps });
  } finally {
    r.detach();
  }
}
