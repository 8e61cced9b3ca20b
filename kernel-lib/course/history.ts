// The demonstrations of the history chapters, as library functions the lessons call and the tests
// check: what a nested NMI overwrites on the unprotected entry (chapter 2), the #GP staircase of
// the iret-fault reconstruction in each stack layout (chapter 4), Linux 3.3's nmi_idt_table
// companion with and without it (chapter 7), and the ingredients of CVE-2015-5157 (chapter 7).
// Every result is read from the machine; nothing here decides an outcome.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { buildKernel, Kernel } from '../harness/kernel';
import { getDesign } from '../designs/registry';
import type { Design, HarnessOptions } from '../designs/manifest';
import { EXCEPTION_STKSZ, PT_REGS, regionAt } from '../harness/layout';
import type { HarnessLayout, StackLayout } from '../harness/layout';
import { Vector } from '../isa/faults';
import type { NmiOutcome } from '../machine/machine';
import type { KernelFailure } from '../harness/kernel';
import { labelsToIret, runTo, ScenarioError } from './story';

function designOf(design: string | Design): Design {
  return typeof design === 'string' ? getDesign(design) : design;
}

/** A design with some harness options changed; its id says which (e.g. 'linux-3.3+no-nmi-idt-table'). */
export function withHarness(design: string | Design, options: HarnessOptions, tag: string): Design {
  const d = designOf(design);
  return { ...d, id: `${d.id}+${tag}`, harness: { ...d.harness, ...options } };
}

/** A design run with the other stack layout (harness/layout.ts): 'contiguous' (Linux 3.x) or 'guard-pages'. */
export function withStackLayout(design: string | Design, stackLayout: StackLayout): Design {
  return withHarness(design, { stackLayout }, stackLayout);
}

/** A design with Linux 3.3's nmi_idt_table companion in do_nmi switched on or off. */
export function withNmiIdtTable(design: string | Design, on: boolean): Design {
  return withHarness(design, { nmiIdtTable: on }, on ? 'nmi-idt-table' : 'no-nmi-idt-table');
}

// ---- chapter 2: what a nested NMI overwrites ---------------------------------------------------

/** The words of the NMI stack from T - bytes up to T, lowest address first. */
export function nmiStackWords(k: Kernel, bytes = 256): bigint[] {
  const out: bigint[] = [];
  for (let a = k.nmiStackTop - BigInt(bytes); a < k.nmiStackTop; a += 8n) out.push(k.machine.readU64(a));
  return out;
}

/** One NMI stack word that changed: where (T + offset), what the manifest calls it, before and after. */
export interface OverwrittenSlot {
  offset: number;
  name: string;
  before: bigint;
  after: bigint;
}

const REGISTER_AT: Record<number, string> = {};
for (const [name, offset] of Object.entries(PT_REGS)) if (offset < PT_REGS.ORIG_RAX) REGISTER_AT[offset] = name;

/** The manifest's name for the NMI stack word at T + offset, with pt_regs' registers by name. */
export function slotName(design: Design, offset: number): string {
  for (const s of design.stack) {
    if (offset < s.offset || offset >= s.offset + s.size) continue;
    if (s.size === 8) return s.name;
    const reg = REGISTER_AT[offset - s.offset];
    return s.group === 'pt_regs' && reg !== undefined ? `pt_regs ${reg.toLowerCase()}` : s.name;
  }
  const lowest = design.stack.length > 0 ? design.stack[design.stack.length - 1].offset : 0;
  return offset < lowest ? "below pt_regs: do_nmi's frame" : 'unnamed';
}

/** The words of the NMI stack that differ from `before` (taken by nmiStackWords with the same size). */
export function overwrittenSlots(k: Kernel, before: bigint[]): OverwrittenSlot[] {
  const after = nmiStackWords(k, before.length * 8);
  const out: OverwrittenSlot[] = [];
  for (let i = after.length - 1; i >= 0; i--) {
    if (after[i] === before[i]) continue;
    const offset = -8 * (before.length - i);
    out.push({ offset, name: slotName(k.design, offset), before: before[i], after: after[i] });
  }
  return out;
}

// ---- chapter 4: the #GP staircase in each stack layout ------------------------------------------

/** Where an NMI stream ended and what it wrote, read from the machine (see nmiStream). */
export interface StaircaseResult {
  stackLayout: StackLayout;
  /** NMIs raised by the stream (one per do_nmi run) and #GP frames delivered. */
  nmis: number;
  gpFrames: number;
  /** The lowest RSP a #GP delivery left, and the region it is in. */
  lowestGp: bigint;
  /** For each region the #GP frames reached, in the order reached: how many landed there. */
  reached: { region: string; gpFrames: number }[];
  /** Bytes of each stack other than the NMI stack that differ from before the stream. */
  overwritten: { region: string; bytes: number }[];
  /** The page fault that ended the descent (its CR2 and region: null when unmapped), if any. */
  pageFault: { cr2: bigint; region: string | null } | null;
  /** Where the double fault's frame went, if one was delivered. */
  doubleFault: { rsp: bigint; region: string | null } | null;
  failure: KernelFailure | null;
  steps: number;
}

function regionName(layout: HarnessLayout, address: bigint): string | null {
  return regionAt(layout, address)?.describe ?? null;
}

/**
 * The iret-fault scenario of chapter 4: a first NMI, a breakpoint in its do_nmi, and then one NMI
 * during every run of do_nmi (at nmi_point_middle), like a busy perf counter. Runs until the
 * kernel halts or `maxSteps`, and reports where the #GP frames went.
 */
export function nmiStream(design: string | Design = 'iret-fault', maxSteps = 400_000): StaircaseResult {
  const k = buildKernel({ design: designOf(design), workload: 'kernel' });
  const m = k.machine;
  const L = k.layout;
  const watched = L.regions.filter((r) => r.top !== undefined && r.name !== 'nmi-stack' && r.user !== true);
  const before = watched.map((r) => m.readBytes(r.base, r.size));
  runTo(k, 'kernel_fault_point');
  m.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  const middle = m.symbol('nmi_point_middle');
  let lastRun = -1n;
  let nmis = 1;
  k.onBoundary((mm) => {
    if (mm.rip !== middle) return;
    const run = k.percpu('nmi_runs');
    if (run === lastRun) return;
    lastRun = run;
    nmis++;
    mm.raiseNmi();
  });
  const r = m.run({ until: (mm) => mm.halted, maxSteps });
  k.onBoundary(null);
  const gps = m.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.GP && e.toRsp !== undefined);
  const reached: { region: string; gpFrames: number }[] = [];
  for (const e of gps) {
    const name = regionName(L, e.toRsp!) ?? 'unmapped';
    const last = reached[reached.length - 1];
    if (last !== undefined && last.region === name) last.gpFrames++;
    else reached.push({ region: name, gpFrames: 1 });
  }
  const overwritten = watched.map((reg, i) => {
    const now = m.readBytes(reg.base, reg.size);
    let bytes = 0;
    for (let j = 0; j < now.length; j++) if (now[j] !== before[i][j]) bytes++;
    return { region: reg.describe, bytes };
  });
  const pf = m.log.filter((e) => e.kind === 'fault' && e.vector === Vector.PF).pop();
  const df = m.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.DF).pop();
  let lowest = k.nmiStackTop;
  for (const e of gps) if (e.toRsp! < lowest) lowest = e.toRsp!;
  return {
    stackLayout: L.stackLayout,
    nmis,
    gpFrames: gps.length,
    lowestGp: lowest,
    reached,
    overwritten: overwritten.filter((o) => o.bytes > 0),
    pageFault: pf?.cr2 !== undefined ? { cr2: pf.cr2, region: regionName(L, pf.cr2) } : null,
    doubleFault: df?.toRsp !== undefined ? { rsp: df.toRsp, region: regionName(L, df.toRsp) } : null,
    failure: k.failure(),
    steps: r.steps,
  };
}

// ---- chapter 7: nmi_idt_table ------------------------------------------------------------------

/** What became of a breakpoint inside an NMI that interrupted a #BP handler on the debug stack. */
export interface DebugStackNmiResult {
  design: string;
  /** The stack the NMI's own #BP frame landed on. */
  breakpointStack: string | null;
  /** The interrupted #BP handler's hardware frame (debug stack top - 40): overwritten? */
  outerFrameOverwritten: boolean;
  /** Where the interrupted #BP handler's frame says to return, afterwards. */
  outerFrameReturnsTo: string;
  /** Did the workload's breakpoint loop come round again, and the kernel's state afterwards. */
  workloadResumed: boolean;
  failure: KernelFailure | null;
}

/**
 * The case Linux 3.3's nmi_idt_table is for: the `debug` workload hits a breakpoint (its #BP
 * frame at the top of the debug stack), an NMI arrives at the #BP handler's first instruction,
 * and do_nmi itself hits a breakpoint. Without the companion that #BP goes through IST4 again and
 * its frame lands on the interrupted handler's frame; with it, do_nmi has loaded nmi_idt_table,
 * whose #BP gate has no IST, and the frame goes on the NMI stack.
 */
export function breakpointInNmiOnDebugStack(design: string | Design, maxSteps = 3000): DebugStackNmiResult {
  const d = designOf(design);
  const k = buildKernel({ design: d, workload: 'debug' });
  const m = k.machine;
  const outer = k.debugStackTop - 40n;
  runTo(k, 'int3', (kk) => kk.machine.reg('rsp') === outer);
  const frameBefore = [0, 1, 2, 3, 4].map((i) => m.readU64(outer + BigInt(8 * i)));
  const iterations = k.global('workload_iterations');
  m.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: Number(k.percpu('nmi_runs')) + 1 });
  const from = m.log.length;
  runTo(k, 'do_nmi_return');
  const bp = m.log.slice(from).find((e) => e.kind === 'deliver' && e.vector === Vector.BP);
  if (bp === undefined) throw new ScenarioError('the breakpoint in do_nmi was not delivered');
  const frameAfter = [0, 1, 2, 3, 4].map((i) => m.readU64(outer + BigInt(8 * i)));
  const returnsTo = frameAfter[0];
  m.run({ until: (mm) => mm.halted || k.global('workload_iterations') > iterations + 1n, maxSteps });
  return {
    design: d.id,
    breakpointStack: regionName(k.layout, bp.toRsp!),
    outerFrameOverwritten: frameAfter.some((w, i) => w !== frameBefore[i]),
    outerFrameReturnsTo: k.where(returnsTo),
    workloadResumed: k.global('workload_iterations') > iterations + 1n,
    failure: k.failure(),
  };
}

// ---- chapter 7: CVE-2015-5157 ------------------------------------------------------------------

/** A five-word interrupt frame as read from memory. */
export interface FrameWords {
  rip: bigint;
  cs: bigint;
  rflags: bigint;
  rsp: bigint;
  ss: bigint;
}

function frameWords(k: Kernel, at: bigint): FrameWords {
  const r = (i: number) => k.machine.readU64(at + BigInt(8 * i));
  return { rip: r(0), cs: r(1), rflags: r(2), rsp: r(3), ss: r(4) };
}

/** The ingredients of CVE-2015-5157, read from one run (see userIretFault). */
export interface UserIretFaultResult {
  design: string;
  /** The stack the #GP of the faulting return-to-user IRET landed on, and its RSP. */
  faultStack: string | null;
  faultRsp: bigint;
  /** NMI blocking when the #GP handler's first instruction is reached. */
  nmiBlockedInFaultHandler: boolean;
  /** A second NMI raised there: what the CPU did with it, and the labels its entry went through. */
  secondNmi: NmiOutcome;
  secondNmiPath: string[];
  /** The frame the faulting IRET used (the one a fix-up would report to user mode), before and after the second NMI. */
  faultedFrameAt: bigint;
  faultedFrameBefore: FrameWords;
  faultedFrameAfter: FrameWords;
  failure: KernelFailure | null;
}

/**
 * The selector NMI Lab puts in the user's SS for this scenario: index 0 of the LDT, RPL 3. The
 * machine has no LDT, so an IRET that loads it raises #GP, as a real CPU does once another thread
 * has removed that LDT entry (the CVE's trigger; modify_ldt is not modelled).
 */
export const LDT_USER_SS = 0x7;

/**
 * An NMI from user mode whose return to user mode faults: the user program runs with an SS that
 * the final IRET rejects (LDT_USER_SS, a stand-in for the CVE's LDT race). The machine then shows
 * where the #GP lands and whether NMIs are blocked there; a second NMI is raised at the #GP
 * handler's first instruction and followed to its IRET. The harness's #GP handler does not run
 * Linux's fix-up (bad_iret, signal delivery); it records an oops, which is where the run ends.
 */
export function userIretFault(design: string | Design): UserIretFaultResult {
  const d = designOf(design);
  const k = buildKernel({ design: d, workload: 'user' });
  const m = k.machine;
  m.cpu.ss = LDT_USER_SS;
  m.raiseNmi();
  runTo(k, 'general_protection', undefined, 5000);
  const rsp = m.reg('rsp'); // error code; then RIP, CS, RFLAGS, RSP, SS of the faulting IRET
  const faultedFrameAt = m.readU64(rsp + 32n);
  const faultedFrameBefore = frameWords(k, faultedFrameAt);
  const nmiBlockedInFaultHandler = m.nmiBlocked;
  const secondNmi = m.raiseNmi();
  const secondNmiPath = secondNmi === 'delivered' ? labelsToIret(k) : [];
  if (secondNmi === 'delivered') m.step(); // the second NMI's IRET
  const faultedFrameAfter = frameWords(k, faultedFrameAt);
  m.run({ until: (mm) => mm.halted, maxSteps: 2000 });
  return {
    design: d.id,
    faultStack: regionName(k.layout, rsp),
    faultRsp: rsp,
    nmiBlockedInFaultHandler,
    secondNmi,
    secondNmiPath,
    faultedFrameAt,
    faultedFrameBefore,
    faultedFrameAfter,
    failure: k.failure(),
  };
}

/** True when `address` lies in the NMI stack of a kernel's layout. */
export function onNmiStack(layout: HarnessLayout, address: bigint): boolean {
  return address <= layout.nmiStackTop && address > layout.nmiStackTop - BigInt(EXCEPTION_STKSZ);
}
