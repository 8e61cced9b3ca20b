// The machine's public face: load programs, step and run with a budget, raise or inject events at
// instruction boundaries, breakpoints, a boundary hook, snapshots, and the event log.
import type { Diagnostic, Program, SymbolInfo } from '../asm/program';
import { CpuFault, Vector, vectorName } from '../isa/faults';
import { FLAG_NAMES, TF } from '../isa/flags';
import { Insn } from '../isa/insn';
import { compileInstruction } from '../isa/semantics';
import { Cpu } from './cpu';
import { CpuState } from './cpu-state';
import { deliverEvent, EventSource, shutdown } from './delivery';
import { LINUX_FRED_LEVELS } from './fred';
import { Gate, GATE_SIZE, SELECTORS, TSS_RSP0, TSS_SIZE, encodeGate, tssIstOffset } from './descriptors';
import type { MachineEvent } from './event-log';
import { Memory, MemorySnapshot, PageFlags, joinU64, pageNumberOf, splitU64 } from './memory';
import { emptyObjectArray } from './object-array';

export const GPR_NAMES = [
  'rax',
  'rcx',
  'rdx',
  'rbx',
  'rsp',
  'rbp',
  'rsi',
  'rdi',
  'r8',
  'r9',
  'r10',
  'r11',
  'r12',
  'r13',
  'r14',
  'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

export const DEFAULT_MAX_STEPS = 1_000_000;

/** A hook that delivers an event at every boundary it sees would never let an instruction run. */
const MAX_BOUNDARY_REVISITS = 64;

export type StopReason =
  | 'hlt' // halted with nothing to deliver
  | 'budget' // the step budget ran out
  | 'shutdown' // triple fault
  | 'breakpoint' // about to execute an instruction with a breakpoint
  | 'until' // reached the `until` address or predicate
  | 'hook'; // the boundary hook asked to stop

export interface RunOptions {
  /** Step budget for this call (default 1,000,000): guest code never hangs the host. */
  maxSteps?: number;
  /** Stop before executing the instruction at this label or address, or when the predicate holds. */
  until?: string | bigint | ((m: Machine) => boolean);
}

export interface RunResult {
  stop: StopReason;
  /** Instructions executed (or attempted: a faulting attempt counts) in this call. */
  steps: number;
  message: string;
}

export type BoundaryHook = (m: Machine) => void;

export type InjectedEvent = { type: 'nmi' } | { type: 'exception'; vector: number; errorCode?: number; cr2?: bigint };

export type NmiOutcome = 'delivered' | 'latched' | 'collapsed' | 'shutdown';

export interface LoadOptions {
  /** Page flags per section (defaults: `.text` read-only, other sections writable; all supervisor). */
  sections?: Record<string, Partial<PageFlags>>;
}

// A snapshot and a checkpoint have the same fields in the same order (each with null for the
// other's), so that code taking either (restoreAllButMemory) sees one hidden class, not two.
/** Everything needed to come back to this instant. */
export interface MachineCheckpoint {
  readonly memory: null;
  readonly mark: { position: number; epoch: number };
  readonly cpu: CpuState;
  readonly logLength: number;
  readonly injected: InjectedEvent[];
  readonly hookCur: Insn | null;
  readonly hookSteps: number;
}

export interface MachineSnapshot {
  readonly memory: MemorySnapshot;
  readonly mark: null;
  readonly cpu: CpuState;
  readonly logLength: number;
  readonly injected: InjectedEvent[];
  /** Whether the boundary hook has already seen the boundary the snapshot was taken at. */
  readonly hookCur: Insn | null;
  readonly hookSteps: number;
}

const NO_EVENTS: InjectedEvent[] = emptyObjectArray();

/** A program that assembled but uses a form the machine does not model. */
export class LoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(
      `cannot load program:\n${diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}: ${d.text}`).join('\n')}`,
    );
  }
}

/** A run's result; the message is composed only when read (symbolising costs more than a short run). */
class Outcome implements RunResult {
  private text: string | null = null;
  private readonly ripLo: number;
  private readonly ripHi: number;
  constructor(
    private readonly machine: Machine,
    readonly stop: StopReason,
    readonly steps: number,
    private readonly max: number,
  ) {
    this.ripLo = machine.cpu.cur.lo;
    this.ripHi = machine.cpu.cur.hi;
  }
  get message(): string {
    if (this.text === null) this.text = this.machine.describeStop(this.stop, this.max, joinU64(this.ripLo, this.ripHi));
    return this.text;
  }
  toJSON() {
    return { stop: this.stop, steps: this.steps, message: this.message };
  }
}

export class Machine {
  readonly memory = new Memory();
  readonly cpu = new Cpu(this.memory);
  readonly symbols = new Map<string, SymbolInfo>();
  private readonly insns: Insn[] = emptyObjectArray();
  private sortedLabels: { address: bigint; name: string }[] | null = null;
  private hook: BoundaryHook | null = null;
  private injected: InjectedEvent[] = emptyObjectArray();
  private stopRequested: string | null = null;
  // The boundary the hook was last called at, so that it is called once per boundary.
  private hookCur: Insn | null = null;
  private hookSteps = -1;

  // ---- setup -------------------------------------------------------------------------------

  /** Map pages (zeroed) for [address, address + size). */
  map(address: bigint, size: number, flags: Partial<PageFlags> = {}): this {
    this.memory.map(address, size, { writable: flags.writable ?? true, user: flags.user ?? false });
    return this;
  }

  /** Load an assembled program: map and fill its sections, compile and link its instructions. */
  load(program: Program, options: LoadOptions = {}): this {
    for (const section of program.sections) {
      if (section.bytes.length === 0) continue;
      const flags = options.sections?.[section.name] ?? {};
      const writable = flags.writable ?? section.name !== '.text';
      this.memory.map(section.address, section.bytes.length, { writable, user: flags.user ?? false });
      this.memory.poke(section.address, section.bytes);
    }
    const problems: Diagnostic[] = [];
    for (const ins of program.instructions) {
      const next = BigInt.asUintN(64, ins.address + BigInt(ins.length));
      let exec;
      try {
        exec = compileInstruction(ins, next);
      } catch (e) {
        problems.push({ ...ins.loc, severity: 'error', message: (e as Error).message, text: ins.text });
        continue;
      }
      const [lo, hi] = splitU64(ins.address);
      const [nLo, nHi] = splitU64(next);
      const insn = new Insn(lo, hi, nLo, nHi, ins, exec);
      const page = this.memory.pageFor(ins.address);
      if (!page) {
        problems.push({ ...ins.loc, severity: 'error', message: 'instruction at an unmapped address', text: ins.text });
        continue;
      }
      if (page.code === null) page.code = [];
      page.code[Number(BigInt.asUintN(64, ins.address) & 0xfffn)] = insn;
      this.insns.push(insn);
    }
    if (problems.length > 0) throw new LoadError(problems);
    for (const [name, sym] of program.symbols) this.symbols.set(name, sym);
    this.sortedLabels = null;
    this.link();
    return this;
  }

  /**
   * Resolve fall-through and direct-branch successors to objects, so the step loop follows
   * pointers. Only links within the same privilege (user/supervisor page): crossing it needs the
   * fetch check, which insnAt() does at run time.
   */
  private link(): void {
    const pageUser = (lo: number, hi: number) => this.memory.pages.get((hi >>> 0) * 1048576 + (lo >>> 12))?.user;
    const codeAt = (lo: number, hi: number): Insn | null => {
      const page = this.memory.pages.get((hi >>> 0) * 1048576 + (lo >>> 12));
      const found = page?.code?.[lo & 0xfff];
      return (found as Insn | undefined) ?? null;
    };
    for (const insn of this.insns) {
      const user = pageUser(insn.lo, insn.hi);
      if (insn.next === null && pageUser(insn.nextLo, insn.nextHi) === user)
        insn.next = codeAt(insn.nextLo, insn.nextHi);
      const t = insn.src?.operands[0];
      if (insn.target === null && t && t.kind === 'target') {
        const [tLo, tHi] = splitU64(t.address);
        if (pageUser(tLo, tHi) === user) insn.target = codeAt(tLo, tHi);
      }
    }
  }

  /** Write an IDT of gates at `base` (mapped if needed) and load IDTR with all 256 vectors. */
  installIdt(
    base: bigint,
    gates: Record<number, Omit<Gate, 'selector' | 'present'> & Partial<Pick<Gate, 'selector' | 'present'>>>,
  ): this {
    const size = 256 * GATE_SIZE;
    if (!this.memory.pageFor(base)) this.map(base, size, { writable: true });
    this.memory.poke(base, new Uint8Array(size));
    for (const [vector, g] of Object.entries(gates)) {
      const gate: Gate = { selector: SELECTORS.KERNEL_CS, present: true, ...g };
      this.memory.poke(base + BigInt(Number(vector) * GATE_SIZE), encodeGate(gate));
    }
    this.cpu.idtBase = base;
    this.cpu.idtLimit = size - 1;
    return this;
  }

  setGate(
    vector: number,
    gate: Omit<Gate, 'selector' | 'present'> & Partial<Pick<Gate, 'selector' | 'present'>>,
  ): this {
    const full: Gate = { selector: SELECTORS.KERNEL_CS, present: true, ...gate };
    this.memory.poke(this.cpu.idtBase + BigInt(vector * GATE_SIZE), encodeGate(full));
    return this;
  }

  /** Write a 64-bit TSS at `base` (mapped if needed) with RSP0 and IST1..7, and load TR. */
  installTss(base: bigint, tss: { rsp0?: bigint; ist?: Record<number, bigint> }): this {
    if (!this.memory.pageFor(base)) this.map(base, TSS_SIZE, { writable: true });
    this.memory.poke(base, new Uint8Array(TSS_SIZE));
    this.cpu.trBase = base;
    if (tss.rsp0 !== undefined) this.memory.pokeU64(base + BigInt(TSS_RSP0), tss.rsp0);
    for (const [n, top] of Object.entries(tss.ist ?? {}))
      this.memory.pokeU64(base + BigInt(tssIstOffset(Number(n))), top);
    return this;
  }

  /**
   * Switch event delivery to FRED (fred.ts): events enter at `entry` (+256 from ring 0), stack
   * levels per vector (default Linux's: #DB 1, NMI 2, #DF 3), and a stack top per level.
   */
  enableFred(config: {
    entry: string | bigint;
    stacks: Partial<Record<0 | 1 | 2 | 3, bigint>>;
    levels?: Record<number, number>;
  }): this {
    const cpu = this.cpu;
    cpu.fred = true;
    cpu.csl = 0;
    cpu.fredEntry = this.resolve(config.entry);
    for (const [level, top] of Object.entries(config.stacks)) cpu.fredRsp[Number(level)] = splitU64(top as bigint);
    cpu.fredLevels = { ...(config.levels ?? LINUX_FRED_LEVELS) };
    return this;
  }

  // ---- state -------------------------------------------------------------------------------

  reg(name: GprName | 'rip' | 'rflags'): bigint {
    if (name === 'rip') return this.cpu.rip;
    if (name === 'rflags') return BigInt(this.cpu.readRflags() >>> 0);
    return this.cpu.getReg(gprIndex(name));
  }

  setReg(name: GprName | 'rip' | 'rflags', value: bigint): this {
    if (name === 'rip') this.cpu.jumpTo(value);
    else if (name === 'rflags') this.cpu.writeRflags(Number(BigInt.asUintN(32, value)));
    else this.cpu.setReg(gprIndex(name), value);
    if (name === 'rflags' && (this.cpu.flagsOther & TF) !== 0) this.cpu.attention = 1;
    return this;
  }

  registers(): Record<GprName, bigint> {
    const out = {} as Record<GprName, bigint>;
    GPR_NAMES.forEach((name, i) => {
      out[name] = this.cpu.getReg(i);
    });
    return out;
  }

  get rip(): bigint {
    return this.cpu.rip;
  }

  get rflags(): bigint {
    return BigInt(this.cpu.readRflags() >>> 0);
  }

  flag(name: keyof typeof FLAG_NAMES | string): boolean {
    const bit = FLAG_NAMES[name.toLowerCase()];
    if (bit === undefined) throw new Error(`unknown flag '${name}' (known: ${Object.keys(FLAG_NAMES).join(', ')})`);
    return (this.cpu.readRflags() & bit) !== 0;
  }

  get cpl(): number {
    return this.cpu.cpl;
  }

  get nmiBlocked(): boolean {
    return this.cpu.nmiBlocked;
  }

  get nmiPending(): boolean {
    return this.cpu.nmiPending;
  }

  get halted(): boolean {
    return this.cpu.halted;
  }

  get shutdownReason(): string | null {
    return this.cpu.shutdownReason;
  }

  get steps(): number {
    return this.cpu.steps;
  }

  get log(): readonly MachineEvent[] {
    return this.cpu.log;
  }

  /** Set CPL-3 or CPL-0 segment state directly (for starting a workload in user mode). */
  setMode(mode: 'kernel' | 'user'): this {
    const user = mode === 'user';
    this.cpu.cpl = user ? 3 : 0;
    this.cpu.cs = user ? SELECTORS.USER_CS : SELECTORS.KERNEL_CS;
    this.cpu.ss = user ? SELECTORS.USER_DS : SELECTORS.KERNEL_DS;
    return this;
  }

  symbol(name: string): bigint {
    const sym = this.symbols.get(name);
    if (!sym) throw new Error(`unknown symbol '${name}'`);
    return sym.value;
  }

  /** `repeat_nmi+0x8` style name for a code or data address, or null when no label precedes it. */
  symbolize(address: bigint): string | null {
    if (this.sortedLabels === null) {
      this.sortedLabels = [...this.symbols.values()]
        .filter((s) => s.section !== null)
        .map((s) => ({ address: BigInt.asUintN(64, s.value), name: s.name }))
        .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : 1));
    }
    const a = BigInt.asUintN(64, address);
    const labels = this.sortedLabels;
    let lo = 0;
    let hi = labels.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (labels[mid].address <= a) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return null;
    // Prefer the first name at that address when several labels share it.
    let i = best;
    while (i > 0 && labels[i - 1].address === labels[best].address) i--;
    const off = a - labels[i].address;
    if (off > 0x10000n) return null;
    return off === 0n ? `${labels[i].name}+0` : `${labels[i].name}+0x${off.toString(16)}`;
  }

  /** The assembled instruction at an address (or at RIP), if any. */
  instructionAt(address: bigint = this.rip) {
    const [lo, hi] = splitU64(address);
    return this.cpu.insnAt(lo, hi).src;
  }

  readU64(address: bigint): bigint {
    const v = this.memory.peekU64(address);
    if (v === null) throw new Error(`address 0x${BigInt.asUintN(64, address).toString(16)} is not mapped`);
    return v;
  }

  writeU64(address: bigint, value: bigint): this {
    this.memory.pokeU64(address, value);
    return this;
  }

  readBytes(address: bigint, length: number): Uint8Array {
    const b = this.memory.peek(address, length);
    if (b === null) throw new Error(`[0x${BigInt.asUintN(64, address).toString(16)}, +${length}) is not fully mapped`);
    return b;
  }

  // ---- breakpoints and hooks -----------------------------------------------------------------

  private resolve(where: string | bigint): bigint {
    return typeof where === 'string' ? this.symbol(where) : where;
  }

  addBreakpoint(where: string | bigint): this {
    this.codeAt(this.resolve(where)).breakpoint = true;
    return this;
  }

  removeBreakpoint(where: string | bigint): this {
    this.codeAt(this.resolve(where)).breakpoint = false;
    return this;
  }

  private codeAt(address: bigint): Insn {
    const page = this.memory.pageFor(address);
    const insn = page?.code?.[Number(BigInt.asUintN(64, address) & 0xfffn)] as Insn | undefined;
    if (!insn) throw new Error(`no instruction at 0x${BigInt.asUintN(64, address).toString(16)}`);
    return insn;
  }

  /**
   * Call `hook` at every instruction boundary, before the instruction executes (null removes it).
   * A new hook is called at the current boundary too, unless `skipCurrent` says this boundary has
   * been seen (a tool swapping hooks mid-run, e.g. the explorer, which replays without one).
   */
  onBoundary(hook: BoundaryHook | null, options: { skipCurrent?: boolean } = {}): this {
    this.hook = hook;
    if (options.skipCurrent) {
      this.hookCur = this.cpu.cur;
      this.hookSteps = this.cpu.steps;
    } else this.hookCur = null; // a new hook has seen no boundary yet
    return this;
  }

  /**
   * Where the boundary hook is called: 'every' boundary (the default), or only where something
   * may have changed besides straight-line execution: at the first boundary of a run() or step()
   * sequence, and after an event was logged, raised or injected, or control went to an address
   * looked up at run time (a return, an indirect jump, IRET, SYSRET, an event delivery, a jump
   * across user/kernel pages). Between those, code runs at full speed; a tool that only needs to
   * see events (the explorer's leaf runs) sets 'changes'. Not part of snapshots.
   */
  get hookScope(): 'every' | 'changes' {
    return this.cpu.attentionOnChange ? 'changes' : 'every';
  }

  set hookScope(scope: 'every' | 'changes') {
    this.cpu.attentionOnChange = scope === 'changes';
  }

  /** The hook installed with onBoundary (so a tool can chain to it and put it back). */
  get boundaryHook(): BoundaryHook | null {
    return this.hook;
  }

  /** From a hook: stop the current run at this boundary. */
  requestStop(reason = 'stopped by hook'): void {
    this.stopRequested = reason;
    this.cpu.attention = 1;
  }

  // ---- events --------------------------------------------------------------------------------

  /**
   * An NMI arrives now, at this instruction boundary. Delivered at once unless NMIs are blocked
   * (SDM 6.7.1); then it sets the one pending bit, or merges into it if already set.
   */
  raiseNmi(): NmiOutcome {
    const cpu = this.cpu;
    cpu.event('nmi-raised').at(cpu.cur.lo, cpu.cur.hi);
    if (!cpu.nmiBlocked && cpu.attention !== 0) this.serviceBoundary(); // higher-priority events first (SDM 6.9)
    if (cpu.shutdownReason !== null) return 'shutdown';
    if (cpu.nmiBlocked) {
      if (cpu.nmiPending) {
        cpu.event('nmi-collapsed').at(cpu.cur.lo, cpu.cur.hi);
        return 'collapsed';
      }
      cpu.nmiPending = true;
      cpu.event('nmi-latched').at(cpu.cur.lo, cpu.cur.hi);
      return 'latched';
    }
    return this.deliverNmi() ? 'delivered' : 'shutdown';
  }

  /** Queue an event for the next instruction boundary. */
  inject(event: InjectedEvent): this {
    this.injected.push(event);
    this.cpu.attention = 1;
    return this;
  }

  private deliverNmi(): boolean {
    const cpu = this.cpu;
    cpu.nmiBlocked = true;
    cpu.event('nmi-blocked').at(cpu.cur.lo, cpu.cur.hi);
    return deliverEvent(cpu, {
      vector: Vector.NMI,
      errorCode: 0,
      source: 'nmi',
      returnLo: cpu.cur.lo,
      returnHi: cpu.cur.hi,
    });
  }

  /**
   * Deliver what is due at this boundary, in SDM 6.9 priority order: a single-step trap from the
   * previous instruction, then injected exceptions, then NMIs (latched or injected). Returns a
   * stop reason when the machine cannot go on.
   */
  private serviceBoundary(): StopReason | null {
    const cpu = this.cpu;
    for (let guard = 0; guard < 64; guard++) {
      if (cpu.shutdownReason !== null) return 'shutdown';
      if (cpu.debugTrapPending) {
        cpu.debugTrapPending = false;
        deliverEvent(cpu, {
          vector: Vector.DB,
          errorCode: 0,
          source: 'trap',
          returnLo: cpu.cur.lo,
          returnHi: cpu.cur.hi,
        });
        continue;
      }
      if (this.injected.length > 0) {
        const ev = this.injected.shift() as InjectedEvent;
        if (ev.type === 'nmi') {
          this.raiseNmi();
        } else {
          if (ev.vector === Vector.PF && ev.cr2 !== undefined) [cpu.cr2Lo, cpu.cr2Hi] = splitU64(ev.cr2);
          const logged = cpu.event('fault').at(cpu.cur.lo, cpu.cur.hi);
          logged.vector = ev.vector;
          logged.name = vectorName(ev.vector);
          logged.detail = 'injected';
          deliverEvent(cpu, {
            vector: ev.vector,
            errorCode: ev.errorCode ?? 0,
            source: 'fault',
            returnLo: cpu.cur.lo,
            returnHi: cpu.cur.hi,
          });
        }
        continue;
      }
      if (cpu.nmiPending && !cpu.nmiBlocked) {
        cpu.nmiPending = false;
        cpu.event('nmi-latch-consumed').at(cpu.cur.lo, cpu.cur.hi);
        this.deliverNmi();
        continue;
      }
      break;
    }
    cpu.attention = 0;
    if (cpu.shutdownReason !== null) return 'shutdown';
    if (this.stopRequested !== null) return 'hook';
    if (cpu.halted) {
      cpu.attention = 1;
      return 'hlt';
    }
    if ((cpu.flagsOther & TF) !== 0) cpu.attention = 1;
    return null;
  }

  /** An instruction raised an exception: record it and deliver it. */
  private takeFault(e: unknown, insn: Insn): void {
    if (!(e instanceof CpuFault)) {
      const where = insn.src
        ? `${insn.src.loc.file}:${insn.src.loc.line}: ${insn.src.text}`
        : `0x${insn.address.toString(16)}`;
      throw new Error(`internal error executing ${where}: ${(e as Error)?.stack ?? e}`);
    }
    const cpu = this.cpu;
    const returnLo = e.trap ? insn.nextLo : insn.lo;
    const returnHi = e.trap ? insn.nextHi : insn.hi;
    if (e.vector === Vector.PF) {
      cpu.cr2Lo = e.addrLo;
      cpu.cr2Hi = e.addrHi;
    }
    const logged = cpu.event('fault').at(insn.lo, insn.hi);
    logged.vector = e.vector;
    logged.name = vectorName(e.vector);
    logged.errorCode = e.errorCode;
    logged.detail = e.reason;
    if (e.vector === Vector.PF) logged.withCr2(e.addrLo, e.addrHi);
    const source: EventSource = e.vector === Vector.BP ? 'software' : e.trap ? 'trap' : 'fault';
    deliverEvent(cpu, { vector: e.vector, errorCode: e.errorCode, source, returnLo, returnHi });
  }

  // ---- stepping --------------------------------------------------------------------------------

  /**
   * Deliver what is due at this boundary, call the hook, then execute one instruction.
   * Returns null normally, or why the machine cannot step ('hlt', 'shutdown', 'hook').
   */
  step(): StopReason | null {
    const cpu = this.cpu;
    for (let revisits = 0; ; revisits++) {
      const changed = cpu.attention !== 0;
      if (changed) {
        const stop = this.serviceBoundary();
        if (stop !== null) return this.settle(stop);
      }
      const hook = this.hook;
      if (hook === null || (this.hookCur === cpu.cur && this.hookSteps === cpu.steps)) break;
      if (cpu.attentionOnChange && !changed && this.hookCur !== null) break; // hookScope 'changes'
      const before = cpu.cur;
      this.hookCur = before;
      this.hookSteps = cpu.steps;
      hook(this);
      if (cpu.attention === 0 && cpu.cur === before) break;
      if (revisits >= MAX_BOUNDARY_REVISITS) return 'hook';
    }
    this.execute(cpu.cur);
    return null;
  }

  private execute(insn: Insn): void {
    const cpu = this.cpu;
    const tf = cpu.flagsOther & TF;
    try {
      cpu.cur = insn.exec(cpu, insn);
      if (tf !== 0) {
        // Single-step: #DB after an instruction that began with TF set (SDM 17.3.1.4).
        cpu.debugTrapPending = true;
        cpu.attention = 1;
      }
    } catch (e) {
      this.takeFault(e, insn);
    }
    cpu.steps++;
  }

  private settle(stop: StopReason): StopReason {
    if (stop === 'hook') this.stopRequested = null;
    return stop;
  }

  /** Run until a stop condition; never longer than the step budget. */
  run(options: RunOptions = {}): RunResult {
    const cpu = this.cpu;
    const max = options.maxSteps ?? DEFAULT_MAX_STEPS;
    let untilLo = 0;
    let untilHi = 0;
    let untilAddress = false;
    let untilPredicate: ((m: Machine) => boolean) | null = null;
    if (typeof options.until === 'function') untilPredicate = options.until;
    else if (options.until !== undefined) {
      [untilLo, untilHi] = splitU64(this.resolve(options.until));
      untilAddress = true;
    }
    const hook = this.hook;
    const start = cpu.steps;
    const limit = start + max;
    let first = true;
    let revisits = 0;
    let stop: StopReason;
    // Two loops. The outer one handles one boundary at a time with every check: pending events,
    // the hook (once per boundary), until, breakpoints, the budget, single-stepping. The inner
    // one is the hot path: while nothing needs attention it only calls the hook and executes.
    // Anything unusual (a delivery, TF, a hook that raised an event, a stop condition) sets
    // `attention` or trips a check and drops back to the outer loop.
    outer: for (;;) {
      const changed = cpu.attention !== 0;
      if (changed) {
        const s = this.serviceBoundary();
        if (s !== null) {
          stop = this.settle(s);
          break;
        }
      }
      if (
        hook !== null &&
        (this.hookCur !== cpu.cur || this.hookSteps !== cpu.steps) &&
        (changed || first || !cpu.attentionOnChange)
      ) {
        this.hookCur = cpu.cur;
        this.hookSteps = cpu.steps;
        hook(this);
        if (cpu.attention !== 0) {
          // The hook raised or injected something: a delivery opens a new boundary.
          if (++revisits > MAX_BOUNDARY_REVISITS) {
            stop = this.settle('hook');
            break;
          }
          continue;
        }
      }
      revisits = 0;
      let insn = cpu.cur;
      if (untilAddress && insn.lo === untilLo && insn.hi === untilHi) {
        stop = 'until';
        break;
      }
      if (untilPredicate !== null && untilPredicate(this)) {
        stop = 'until';
        break;
      }
      if (insn.breakpoint && !first) {
        stop = 'breakpoint';
        break;
      }
      if (cpu.steps >= limit) {
        stop = 'budget';
        break;
      }
      first = false;
      this.execute(insn);
      if (untilPredicate !== null) continue;
      while (cpu.attention === 0) {
        insn = cpu.cur;
        if (hook !== null && !cpu.attentionOnChange) {
          hook(this);
          if (cpu.attention !== 0 || cpu.cur !== insn) {
            this.hookCur = insn; // the hook has seen this boundary (the outer loop must not call it again)
            this.hookSteps = cpu.steps;
            continue outer;
          }
        }
        if (insn.breakpoint || (untilAddress && insn.lo === untilLo && insn.hi === untilHi) || cpu.steps >= limit) {
          this.hookCur = insn;
          this.hookSteps = cpu.steps;
          continue outer;
        }
        try {
          cpu.cur = insn.exec(cpu, insn);
        } catch (e) {
          this.takeFault(e, insn);
        }
        cpu.steps++;
      }
    }
    return new Outcome(this, stop, cpu.steps - start, max);
  }

  /** Why a run stopped, in words. */
  describeStop(stop: StopReason, max: number, rip: bigint = this.rip): string {
    const at = () => this.symbolize(rip) ?? `0x${rip.toString(16)}`;
    switch (stop) {
      case 'hlt':
        return `halted at ${at()}`;
      case 'budget':
        return `step budget of ${max} exhausted at ${at()} (the guest may be looping)`;
      case 'shutdown':
        return `shutdown: ${this.cpu.shutdownReason}`;
      case 'breakpoint':
        return `breakpoint at ${at()}`;
      case 'until':
        return `reached ${at()}`;
      default:
        return 'stopped by the boundary hook';
    }
  }

  // ---- snapshots -------------------------------------------------------------------------------

  /** Capture the whole machine. Costs O(pages written since the previous snapshot). */
  snapshot(): MachineSnapshot {
    return {
      memory: this.memory.snapshot(),
      mark: null,
      cpu: new CpuState(this.cpu),
      logLength: this.cpu.log.length,
      injected: this.injected.length === 0 ? NO_EVENTS : this.injected.slice(),
      hookCur: this.hookCur,
      hookSteps: this.hookSteps,
    };
  }

  /** Return to a snapshot (the event log is cut back to its length then). */
  restore(s: MachineSnapshot): this {
    this.memory.restore(s.memory);
    this.restoreAllButMemory(s);
    return this;
  }

  /** The CPU, the log, pending injections and the hook's place, from a snapshot or checkpoint. */
  private restoreAllButMemory(s: MachineSnapshot | MachineCheckpoint): void {
    s.cpu.applyTo(this.cpu);
    const log = this.cpu.log;
    while (log.length > s.logLength) log.pop(); // cheaper than assigning length for a few entries
    if (s.injected.length === 0) {
      if (this.injected.length !== 0) this.injected.length = 0;
    } else this.injected = s.injected.slice();
    this.stopRequested = null;
    this.hookCur = s.hookCur;
    this.hookSteps = s.hookSteps;
  }

  /**
   * A cheap point to come back to with rewind(): the CPU's state and a mark in the memory's write
   * journal. Only while every write since the last snapshot or restore is journaled (null
   * otherwise); Memory.setJournalCapacity() makes room for long runs.
   */
  checkpoint(): MachineCheckpoint | null {
    const mark = this.memory.journalMark();
    if (mark === null) return null;
    return {
      memory: null,
      mark,
      cpu: new CpuState(this.cpu),
      logLength: this.cpu.log.length,
      injected: this.injected.length === 0 ? NO_EVENTS : this.injected.slice(),
      hookCur: this.hookCur,
      hookSteps: this.hookSteps,
    };
  }

  /**
   * Back to a checkpoint by undoing the writes journaled since (cost: those writes). False, and
   * nothing changed, when it no longer applies (a snapshot or restore since, or the journal
   * overflowed): restore a snapshot instead.
   */
  rewind(c: MachineCheckpoint): boolean {
    if (!this.memory.undoTo(c.mark)) return false;
    this.restoreAllButMemory(c);
    return true;
  }

  /** Stop the machine as a shutdown would (used by tests and designs that model fatal paths). */
  forceShutdown(reason: string): void {
    shutdown(this.cpu, reason);
  }
}

export function gprIndex(name: string): number {
  const i = (GPR_NAMES as readonly string[]).indexOf(name);
  if (i < 0) throw new Error(`unknown register '${name}' (known: ${GPR_NAMES.join(', ')}, rip, rflags)`);
  return i;
}

export { pageNumberOf };
