// buildKernel: assemble a design with the harness kernel, set up a Machine the way Linux 3.x sets
// up a CPU (IDT, TSS with IST stacks, per-CPU data behind GS, SYSCALL MSRs), run a workload to its
// steady state and hand back a Kernel: the machine, a snapshot of that instant, and the
// observations the scenarios and the explorer need (do_nmi runs, exception points, failures).
import { assemble, AssemblyError } from '../asm';
import type { Diagnostic, Program } from '../asm/program';
import { Vector } from '../isa/faults';
import { Machine, MachineSnapshot, BoundaryHook } from '../machine/machine';
import type { MachineEvent } from '../machine/event-log';
import { Gate } from '../machine/descriptors';
import { designBehaviourKey, Design } from '../designs/manifest';
import { resolveDesign } from '../designs/registry';
import { readHarnessSources } from './files';
import { harnessSymbols, harnessLayout, IST, LAYOUT, OOPS_REASONS, PERCPU, PercpuVar } from './layout';
import type { HarnessLayout, StackLayout } from './layout';

export type WorkloadId = 'kernel' | 'user' | 'syscall' | 'debug';
export const WORKLOADS: readonly WorkloadId[] = ['kernel', 'user', 'syscall', 'debug'];

/** Where each workload starts, and the label that marks its steady state. */
const WORKLOAD_SETUP: Record<WorkloadId, { entry: string; steady: string; mode: 'kernel' | 'user'; describe: string }> =
  {
    kernel: {
      entry: 'kernel_workload',
      steady: 'kernel_loop',
      mode: 'kernel',
      describe: 'kernel code on the task kernel stack',
    },
    user: {
      entry: 'user_workload',
      steady: 'user_loop',
      mode: 'user',
      describe: 'user code that never touches its stack',
    },
    syscall: {
      entry: 'syscall_workload',
      steady: 'syscall_loop',
      mode: 'user',
      describe: 'user code making system calls in a loop',
    },
    debug: {
      entry: 'debug_workload',
      steady: 'do_int3_work',
      mode: 'kernel',
      describe: 'a #BP handler running on the debug stack',
    },
  };

export type ExceptionKind = 'bp' | 'db' | 'pf';

/** A place where a schedule may raise an exception. */
export interface ExceptionPoint {
  label: string;
  address: bigint;
  /** do_nmi points are in the NMI handler body; workload points in the interrupted code. */
  in: 'do_nmi' | 'workload';
  kinds: readonly ExceptionKind[];
}

/** An exception to raise when execution reaches `at`, once. */
export interface ArmedException {
  /** A label (e.g. 'nmi_point_early') or an address. */
  at: string | bigint;
  kind: ExceptionKind;
  /** Only in this run of do_nmi (1-based; compared with the nmi_runs counter); any run if absent. */
  run?: number;
  /** CR2 for a page fault (default: LAYOUT.nmiFaultAddress, or workloadFaultAddress at a workload point). */
  cr2?: bigint;
}

/** One run of do_nmi, as observed at its first instruction. */
export interface DoNmiRun {
  /** 1-based, in order of starting. */
  run: number;
  /** Instructions retired before do_nmi's first instruction (the event log's `step` scale). */
  step: number;
  /** Index into machine.log at that moment (events before it happened before the run). */
  logIndex: number;
  /** Ordinal (1-based) of the latest NMI delivered through the IDT before this run: the NMI it serves. */
  nmi: number;
  /** RSP at do_nmi entry (which stack the handler runs on). */
  rsp: bigint;
  /** Another run had started and not finished (the handler was re-entered). */
  reentered: boolean;
}

export interface KernelFailure {
  kind: 'oops' | 'shutdown';
  message: string;
  /** For an oops: the RIP the failing exception reported (or the workload loop). */
  rip?: bigint;
  where?: string | null;
}

export interface KernelSnapshot {
  readonly machine: MachineSnapshot;
  readonly runs: number;
  readonly pending: PendingRun | null;
  readonly arms: ArmState[];
}

interface PendingRun {
  step: number;
  logIndex: number;
  counter: bigint;
  rsp: bigint;
}

interface ArmState {
  address: bigint;
  lo: number;
  hi: number;
  kind: ExceptionKind;
  run?: number;
  cr2: bigint;
  fired: boolean;
}

export interface BuildKernelOptions {
  /** A shipped design's id, or a Design (e.g. from loadDesignFromSource). */
  design: string | Design;
  /** The interrupted context (default 'kernel'). */
  workload?: WorkloadId;
  /** User RSP for the `user` and `syscall` workloads (default: the top of the user stack). */
  userRsp?: bigint;
}

let harnessText: { prelude: string; kernel: string } | null = null;

/** The harness sources: the prelude every design gets, and the kernel around the design. */
export function harnessSources(): { prelude: string; kernel: string } {
  if (harnessText === null) {
    harnessText = readHarnessSources();
  }
  return harnessText;
}

/** Labels from the source contract: `nmi` is required, the rest the views and explorer understand. */
export const REQUIRED_LABELS = ['nmi'] as const;
export const KNOWN_LABELS = [
  'nmi',
  'first_nmi',
  'nested_nmi',
  'nested_nmi_out',
  'restart_nmi',
  'repeat_nmi',
  'end_repeat_nmi',
  'nmi_swapgs',
  'nmi_restore',
] as const;

/**
 * The kernel around a design could not be brought to its workload's steady state (a listing that
 * breaks the harness code, say): a fact about the design, not a fault of NMI Lab.
 */
export class KernelSetupError extends Error {}

export type AssembleDesignResult =
  { ok: true; program: Program; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

const programCache = new Map<string, AssembleDesignResult>();

/**
 * Give this thread a design's assembled program made elsewhere (a worker thread gets it from the
 * thread that started it: assembling again would cost each worker its first 80 ms, cold).
 */
export function primeAssembledDesign(design: Design, result: AssembleDesignResult): void {
  programCache.set(designBehaviourKey(design), result);
}

/** Assemble a design together with the harness (cached by listing text and options). */
export function assembleDesign(design: Design): AssembleDesignResult {
  const key = designBehaviourKey(design);
  const cached = programCache.get(key);
  if (cached) return cached;
  const { prelude, kernel } = harnessSources();
  const defines: Record<string, string> = {};
  if (design.harness.nmiIdtTable) defines.CONFIG_NMI_IDT_TABLE = '1';
  if (design.harness.fred === true) defines.CONFIG_FRED = '1';
  if (design.harness.doNmiLatch === true) defines.CONFIG_DO_NMI_LATCH = '1';
  if (design.harness.doNmiCr2 === true) defines.CONFIG_DO_NMI_CR2 = '1';
  const r = assemble({
    files: [
      { name: 'harness/prelude.h', text: prelude },
      { name: 'harness/kernel.S', text: kernel },
      // The design starts in .text. A file of its own for that, so the listing's line numbers stay its own.
      { name: 'harness/design-section.S', text: '\t.text\n' },
      { name: design.fileName, text: design.text },
    ],
    includes: { 'nmi-lab.h': prelude, 'prelude.h': prelude },
    defines,
    symbols: harnessSymbols(),
    sectionBases: {
      '.text': LAYOUT.textBase,
      '.data': LAYOUT.dataBase,
      '.user': LAYOUT.userTextBase,
      '.udata': LAYOUT.userDataBase,
    },
  });
  let result: AssembleDesignResult;
  if (r.ok === false) result = { ok: false, errors: r.errors, warnings: r.warnings };
  else {
    const missing = REQUIRED_LABELS.filter((l) => r.program.symbols.get(l)?.section !== '.text');
    if (missing.length > 0) {
      const loc = { file: design.fileName, line: 1, column: 1, text: '' };
      result = {
        ok: false,
        warnings: r.warnings,
        errors: missing.map((l) => ({
          ...loc,
          severity: 'error' as const,
          message: `a design must define the label '${l}' in .text (the NMI gate's handler)`,
        })),
      };
    } else {
      const badGates = Object.entries(design.harness.gates ?? {}).filter(
        ([, label]) => r.program.symbols.get(label)?.section !== '.text',
      );
      if (badGates.length > 0) {
        const loc = { file: design.fileName, line: 1, column: 1, text: '' };
        result = {
          ok: false,
          warnings: r.warnings,
          errors: badGates.map(([v, l]) => ({
            ...loc,
            severity: 'error' as const,
            message: `harness.gates: vector ${v} names '${l}', which is not a label in .text`,
          })),
        };
      } else {
        const loc = { file: design.fileName, line: 1, column: 1, text: '' };
        const labelErrors = [
          ...(design.returnsWithoutIret ?? [])
            .filter((label) => !labelsRet(r.program, label))
            .map((l) => `returnsWithoutIret: '${l}' must be a label in .text on a ret instruction`),
          ...(design.intendedFaults ?? [])
            .filter((f) => r.program.symbols.get(f.at)?.section !== '.text')
            .map((f) => `intendedFaults: '${f.at}' is not a label in .text`),
        ];
        if (labelErrors.length > 0) {
          result = {
            ok: false,
            warnings: r.warnings,
            errors: labelErrors.map((message) => ({ ...loc, severity: 'error' as const, message })),
          };
        } else result = { ok: true, program: r.program, warnings: r.warnings };
      }
    }
  }
  programCache.set(key, result);
  return result;
}

/** Whether `label` is a .text label whose instruction is a RET. */
function labelsRet(program: Program, label: string): boolean {
  const s = program.symbols.get(label);
  if (s === undefined || s.section !== '.text') return false;
  return program.instructions.find((i) => i.address === s.value)?.op === 'ret';
}

/** The exception points every kernel has (the workload ones only where that workload runs). */
function exceptionPointsFor(m: Machine, workload: WorkloadId): ExceptionPoint[] {
  const all: ExceptionKind[] = ['bp', 'db', 'pf'];
  const points: ExceptionPoint[] = ['nmi_point_early', 'nmi_point_middle', 'nmi_point_late'].map((label) => ({
    label,
    address: m.symbol(label),
    in: 'do_nmi' as const,
    kinds: all,
  }));
  if (workload === 'kernel')
    points.push({
      label: 'kernel_fault_point',
      address: m.symbol('kernel_fault_point'),
      in: 'workload',
      kinds: ['pf'],
    });
  return points;
}

function split(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

/**
 * A harness kernel with one design and one workload, at the workload's steady state.
 * Use kernel.onBoundary (not machine.onBoundary, which would replace the kernel's own hook).
 */
export class Kernel {
  readonly machine: Machine;
  readonly design: Design;
  readonly workload: WorkloadId;
  readonly program: Program;
  readonly exceptionPoints: readonly ExceptionPoint[];
  /** The instant the workload reached its steady state; reset() returns here. */
  readonly steadyState: KernelSnapshot;
  /** Where this kernel's stacks and tables are (its design's stack layout; harness/layout.ts). */
  readonly layout: HarnessLayout;

  private runs: DoNmiRun[] = [];
  private pending: PendingRun | null = null;
  private arms: ArmState[] = [];
  private userHook: BoundaryHook | null = null;
  private readonly doNmiLo: number;
  private readonly doNmiHi: number;
  private readonly nmiRunsAddress: bigint;
  private readonly inProgressAddress: bigint;

  constructor(program: Program, design: Design, workload: WorkloadId, userRsp?: bigint) {
    this.program = program;
    this.design = design;
    this.workload = workload;
    const m = new Machine();
    this.machine = m;
    this.layout = harnessLayout(stackLayoutOf(design));
    m.load(program, {
      sections: { '.user': { user: true, writable: false }, '.udata': { user: true, writable: true } },
    });
    setUpCpu(m, design, this.layout);
    // A run begins at do_nmi_body: with Linux 4.2's guard, do_nmi itself may just latch and return.
    [this.doNmiLo, this.doNmiHi] = split(m.symbol('do_nmi_body'));
    this.nmiRunsAddress = LAYOUT.percpuBase + BigInt(PERCPU.nmi_runs);
    this.inProgressAddress = LAYOUT.percpuBase + BigInt(PERCPU.nmi_in_progress);
    this.exceptionPoints = exceptionPointsFor(m, workload);
    m.onBoundary((mm) => this.boundary(mm));

    const setup = WORKLOAD_SETUP[workload];
    m.setMode(setup.mode);
    if (setup.mode === 'user') {
      m.cpu.gsBase = LAYOUT.userGsBase;
      m.cpu.kernelGsBase = LAYOUT.percpuBase;
      m.setReg('rsp', userRsp ?? LAYOUT.userStackTop);
    } else {
      m.cpu.gsBase = LAYOUT.percpuBase;
      m.cpu.kernelGsBase = LAYOUT.userGsBase;
      // Some depth on the task stack, as if called from deeper kernel code.
      m.setReg('rsp', LAYOUT.kernelStackTop - 0x200n);
    }
    m.setReg('rflags', 0x202n); // IF set: a normal context
    m.setReg('rip', m.symbol(setup.entry));
    const r = m.run({ until: setup.steady, maxSteps: 10_000 });
    if (r.stop !== 'until')
      throw new KernelSetupError(`workload '${workload}' did not reach ${setup.steady}: ${r.message}`);
    this.steadyState = this.snapshot();
  }

  // ---- the boundary hook -----------------------------------------------------------------------

  /** Chain a boundary hook of your own (called first at every boundary; null removes it). */
  onBoundary(hook: BoundaryHook | null): this {
    this.userHook = hook;
    return this;
  }

  private boundary(m: Machine): void {
    const cpu = m.cpu;
    const before = cpu.cur;
    if (this.userHook !== null) {
      this.userHook(m);
      if (cpu.cur !== before) return; // an event was delivered: the machine revisits the boundary
    }
    if (this.pending !== null) this.settlePending();
    const lo = before.lo;
    const hi = before.hi;
    if (this.arms.length > 0) {
      for (const a of this.arms) {
        if (a.fired || a.lo !== lo || a.hi !== hi) continue;
        if (a.run !== undefined && m.memory.peekU64(this.nmiRunsAddress) !== BigInt(a.run)) continue;
        a.fired = true;
        m.inject(injectedFor(a));
        return;
      }
    }
    if (lo === this.doNmiLo && hi === this.doNmiHi && cpu.attention === 0) {
      // do_nmi's first instruction is about to run, unless the run stops here; settlePending()
      // confirms it at the next boundary by the step count and the guest's own run counter.
      if (this.pending === null || this.pending.step !== m.steps) {
        this.pending = {
          step: m.steps,
          logIndex: m.log.length,
          counter: m.memory.peekU64(this.nmiRunsAddress) ?? 0n,
          rsp: m.reg('rsp'),
        };
      }
    }
  }

  /** Commit (or drop) the run whose first instruction was due at the last recorded boundary. */
  private settlePending(): void {
    const p = this.pending;
    const m = this.machine;
    if (p === null || m.steps === p.step) return;
    this.pending = null;
    if (m.steps !== p.step + 1) return;
    const counter = m.memory.peekU64(this.nmiRunsAddress) ?? 0n;
    if (counter !== p.counter + 1n) return;
    let nmi = 0;
    const log = m.log;
    for (let i = 0; i < p.logIndex; i++) if (log[i].kind === 'deliver' && log[i].vector === Vector.NMI) nmi++;
    // One instruction into do_nmi this run has not yet raised nmi_in_progress: a non-zero value
    // means an earlier run is still open.
    const inProgress = m.memory.peekU64(this.inProgressAddress) ?? 0n;
    this.runs.push({
      run: Number(counter),
      step: p.step,
      logIndex: p.logIndex,
      nmi,
      rsp: p.rsp,
      reentered: inProgress !== 0n,
    });
  }

  // ---- schedules -------------------------------------------------------------------------------

  /** Raise an exception when execution reaches a label (once; see ArmedException). */
  armException(a: ArmedException): this {
    const address = typeof a.at === 'string' ? this.machine.symbol(a.at) : a.at;
    const point = this.exceptionPoints.find((p) => p.address === address);
    const cr2 = a.cr2 ?? (point?.in === 'workload' ? LAYOUT.workloadFaultAddress : LAYOUT.nmiFaultAddress);
    const [lo, hi] = split(address);
    this.arms.push({ address, lo, hi, kind: a.kind, run: a.run, cr2, fired: false });
    return this;
  }

  /** Forget every armed exception (fired or not). */
  disarm(): this {
    this.arms = [];
    return this;
  }

  // ---- observations ----------------------------------------------------------------------------

  get nmiStackTop(): bigint {
    return this.layout.nmiStackTop;
  }

  get debugStackTop(): bigint {
    return this.layout.debugStackTop;
  }

  get kernelStackTop(): bigint {
    return this.layout.kernelStackTop;
  }

  /** The runs of do_nmi so far, in order. */
  doNmiRuns(): readonly DoNmiRun[] {
    this.settlePending();
    return this.runs;
  }

  /** A per-CPU variable of the harness (e.g. 'nmi_runs'). */
  percpu(name: PercpuVar): bigint {
    return this.machine.readU64(LAYOUT.percpuBase + BigInt(PERCPU[name]));
  }

  /** A 64-bit harness global by label (e.g. 'workload_iterations', 'pf_count'). */
  global(name: string): bigint {
    return this.machine.readU64(this.machine.symbol(name));
  }

  /** The NMI stack slot at T + offset (offset < 0). */
  nmiStackSlot(offset: number): bigint {
    return this.machine.readU64(this.layout.nmiStackTop + BigInt(offset));
  }

  /** Page faults the handler fixed up, oldest first (the last 8): the CR2 it read and the faulting RIP. */
  pageFaults(): { cr2: bigint; rip: bigint }[] {
    const count = Number(this.global('pf_count'));
    const base = this.machine.symbol('pf_log');
    const out: { cr2: bigint; rip: bigint }[] = [];
    for (let i = Math.max(0, count - 8); i < count; i++) {
      const at = base + BigInt((i % 8) * 16);
      out.push({ cr2: this.machine.readU64(at), rip: this.machine.readU64(at + 8n) });
    }
    return out;
  }

  /** NMI deliveries (through the IDT) after which no do_nmi run began: NMIs the design lost. */
  unservedNmis(): MachineEvent[] {
    const runs = this.doNmiRuns();
    const last = runs.length > 0 ? runs[runs.length - 1].logIndex : 0;
    const log = this.machine.log;
    const out: MachineEvent[] = [];
    for (let i = last; i < log.length; i++)
      if (log[i].kind === 'deliver' && log[i].vector === Vector.NMI) out.push(log[i]);
    return out;
  }

  /** Why the kernel has stopped working, or null: an oops recorded by die(), or a triple fault. */
  failure(): KernelFailure | null {
    const m = this.machine;
    if (m.shutdownReason !== null) return { kind: 'shutdown', message: m.shutdownReason };
    const reason = Number(this.global('oops_reason'));
    if (reason === 0) return null;
    const rip = this.global('oops_ip');
    return { kind: 'oops', message: OOPS_REASONS[reason] ?? `oops ${reason}`, rip, where: m.symbolize(rip) };
  }

  // ---- snapshots -------------------------------------------------------------------------------

  snapshot(): KernelSnapshot {
    return {
      machine: this.machine.snapshot(),
      runs: this.runs.length,
      pending: this.pending,
      arms: this.arms.map((a) => ({ ...a })),
    };
  }

  restore(s: KernelSnapshot): this {
    this.machine.restore(s.machine);
    this.runs.length = s.runs;
    this.pending = s.pending;
    this.arms = s.arms.map((a) => ({ ...a }));
    return this;
  }

  /** Back to the steady state, with no exceptions armed. */
  reset(): this {
    return this.restore(this.steadyState);
  }

  /** Where the machine is, as a label: 'repeat_nmi+0x8'. */
  where(address: bigint = this.machine.rip): string {
    return this.machine.symbolize(address) ?? `0x${BigInt.asUintN(64, address).toString(16)}`;
  }
}

function injectedFor(a: ArmState): { type: 'exception'; vector: number; errorCode?: number; cr2?: bigint } {
  switch (a.kind) {
    case 'bp':
      return { type: 'exception', vector: Vector.BP };
    case 'db':
      return { type: 'exception', vector: Vector.DB };
    default:
      return { type: 'exception', vector: Vector.PF, errorCode: 0, cr2: a.cr2 }; // supervisor read, not present
  }
}

/** A design's stack layout: its own choice (harness.stackLayout), else guard pages under FRED, else Linux 3.x's. */
export function stackLayoutOf(design: Design): StackLayout {
  return design.harness.stackLayout ?? (design.harness.fred === true ? 'guard-pages' : 'contiguous');
}

/**
 * Stacks, per-CPU data, IDTs, TSS and MSRs, as Linux 3.x sets up a CPU: the regions of `layout`,
 * and the IST indexes of 3.x trap_init() (#SS 1, #DF 2, NMI 3, #DB and #BP 4, #MC 5; harness/layout.ts).
 * A design may replace exception gates' handlers (harness.gates) and may ask for FRED
 * (harness.fred): then events are delivered the FRED way, with Linux's stack levels
 * (arch/x86/kernel/fred.c: #DB 1, NMI and #MC 2, #DF 3) on the same stacks the IDT's IST entries
 * name, and enter at fred_entrypoint_user (+256 from ring 0, kernel.S).
 */
function setUpCpu(m: Machine, design: Design, L: HarnessLayout): void {
  for (const r of L.regions) {
    if (r.name === 'idt' || r.name === 'nmi-idt') continue; // installIdt maps its own page
    m.map(r.base, r.size, r.user === true ? { user: true } : {});
  }

  const gates = (debugIst: number): Record<number, Omit<Gate, 'selector' | 'present'>> => {
    const g = (label: string, ist: number, dpl: 0 | 3 = 0) => ({
      handler: m.symbol(label),
      ist,
      type: 'interrupt' as const,
      dpl,
    });
    const table: Record<number, Omit<Gate, 'selector' | 'present'>> = {};
    for (let v = 0; v < 32; v++) table[v] = g('unexpected_exception', 0);
    table[Vector.DB] = g('debug', debugIst);
    table[Vector.NMI] = g('nmi', IST.NMI);
    table[Vector.BP] = g('int3', debugIst, 3);
    table[Vector.UD] = g('invalid_op', 0);
    table[Vector.DF] = g('double_fault', IST.DF);
    table[Vector.NP] = g('segment_not_present', 0);
    table[Vector.SS] = g('stack_segment', IST.SS);
    table[Vector.GP] = g('general_protection', 0);
    table[Vector.PF] = g('page_fault', 0);
    table[18] = g('unexpected_exception', IST.MCE); // #MC (vector 18): never raised here
    for (const [vector, label] of Object.entries(design.harness.gates ?? {})) {
      table[Number(vector)] = { ...table[Number(vector)], handler: m.symbol(label) };
    }
    return table;
  };
  // Linux 3.3's nmi_idt_table: a copy of the IDT whose #DB/#BP gates do not switch stacks.
  m.installIdt(L.nmiIdtBase, gates(0));
  m.installIdt(L.idtBase, gates(IST.DEBUG)); // loaded last: IDTR points here
  m.installTss(L.percpuBase + BigInt(PERCPU.init_tss), {
    rsp0: L.kernelStackTop,
    ist: {
      [IST.SS]: L.stackFaultStackTop,
      [IST.DF]: L.doubleFaultStackTop,
      [IST.NMI]: L.nmiStackTop,
      [IST.DEBUG]: L.debugStackTop,
      [IST.MCE]: L.machineCheckStackTop,
    },
  });
  const pc = (name: PercpuVar, v: bigint) => m.writeU64(L.percpuBase + BigInt(PERCPU[name]), v);
  pc('percpu_self', L.percpuBase);
  pc('kernel_stack', L.kernelStackTop);
  pc('cpu_current_top_of_stack', L.kernelStackTop);
  pc('debug_stack_addr', L.debugStackTop);
  m.cpu.lstar = m.symbol('system_call');
  if (design.harness.fred === true) {
    m.enableFred({
      entry: 'fred_entrypoint_user',
      stacks: { 0: L.kernelStackTop, 1: L.debugStackTop, 2: L.nmiStackTop, 3: L.doubleFaultStackTop },
    });
  }
}

/** Assemble (cached) and build a kernel at its workload's steady state. Throws AssemblyError. */
export function buildKernel(options: BuildKernelOptions): Kernel {
  const design = resolveDesign(options.design);
  const r = assembleDesign(design);
  if (r.ok === false) throw new AssemblyError(r.errors);
  return new Kernel(r.program, design, options.workload ?? 'kernel', options.userRsp);
}
