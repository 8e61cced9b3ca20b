// Where the harness kernel puts things, and the absolute symbols every design may use. This file is
// the one place that says which memory the harness maps (harnessLayout().regions): the kernel
// maps exactly these regions, and the explorer's state hash and the views read them from here.
import { STACK_LAYOUTS } from '../designs/manifest';
import type { StackLayout } from '../designs/manifest';
import { MSR, SELECTORS, TSS_IST1 } from '../machine/descriptors';

/**
 * Linux 3.x stack sizes (arch/x86/include/asm/page_64_types.h, read in the 3.6 tree; see
 * docs/sources.md): EXCEPTION_STKSZ is one page, the debug stack two (DEBUG_STKSZ).
 */
export const EXCEPTION_STKSZ = 4096;
export const DEBUG_STKSZ = 8192;
/** Linux 3.x THREAD_SIZE was 8 KiB (THREAD_SIZE_ORDER 1); the harness gives the task 16 KiB. */
export const THREAD_SIZE = 16384;

/**
 * The IST indexes of Linux 3.x (page_64_types.h and trap_init() in traps.c): #SS on IST1
 * (STACKFAULT_STACK), #DF on IST2 (DOUBLEFAULT_STACK), NMI on IST3, #DB and #BP on IST4
 * (DEBUG_STACK), #MC on IST5. #GP and #PF have no IST: they push on the current stack.
 */
export const IST = { SS: 1, DF: 2, NMI: 3, DEBUG: 4, MCE: 5 } as const;

/**
 * How the IST stacks lie in memory.
 * - 'contiguous': Linux 3.x and 4.x. The exception stacks are one per-CPU array (cpu/common.c,
 *   exception_stacks), IST1 lowest: #SS, #DF, NMI, debug (two pages), #MC, with nothing between
 *   them. Running off the bottom of the NMI stack writes into the #DF stack, then the #SS stack.
 *   Below the array Linux has other per-CPU data; the harness leaves that page unmapped, which is
 *   where its model ends (a push there is a page fault).
 * - 'guard-pages': every stack has an unmapped page below it, so running off one is a page fault
 *   (during event delivery, a double fault) rather than silent corruption. Linux got guard pages
 *   between its IST stacks in 2019 (the cpu_entry_area series, Linux 5.2; docs/sources.md); FRED
 *   kernels (6.9+) have them. The default for designs with harness.fred.
 */
export { STACK_LAYOUTS } from '../designs/manifest';
export type { StackLayout } from '../designs/manifest';

/**
 * Addresses that do not depend on the stack layout. Addresses are Linux-flavoured (kernel text
 * at 0xffffffff81000000, direct map at 0xffff880000000000, vmalloc at 0xffffc90000000000) so
 * traces read like kernel traces. The NMI stack's top is the same in every layout.
 */
const FIXED = {
  textBase: 0xffffffff81000000n,
  dataBase: 0xffffffff81200000n,
  userTextBase: 0x0000000000400000n,
  userDataBase: 0x0000000000600000n,
  /** The per-CPU area (kernel GS base); the TSS is inside it, as Linux's per-CPU init_tss. */
  percpuBase: 0xffff880000100000n,
  percpuSize: 0x1000,
  idtBase: 0xffff880000110000n,
  /** The companion IDT of Linux 3.3 (nmi_idt_table): #DB and #BP without IST. */
  nmiIdtBase: 0xffff880000112000n,
  /** IST3: NMI, EXCEPTION_STKSZ bytes (the same top in every layout). */
  nmiStackTop: 0xffff880000204000n,
  /** The interrupted task's kernel stack (TSS.RSP0, per-CPU kernel_stack). */
  kernelStackTop: 0xffff880000210000n,
  /** User stack (8 KiB, user pages). */
  userStackTop: 0x00007ffffffff000n,
  userStackSize: 0x2000,
  /** User GS base: 0, as for a process that never set one (FS carries its TLS). */
  userGsBase: 0n,
  /** vmalloc range: the page-fault handler treats faults here as fixed up (like a vmalloc fault). */
  vmallocStart: 0xffffc90000000000n,
  vmallocEnd: 0xffffe8ffffffffffn,
  /** CR2 values of the page faults the schedule injects. */
  nmiFaultAddress: 0xffffc90000123000n,
  workloadFaultAddress: 0xffffc90000456000n,
} as const;

/** The tops of the IST stacks, per layout. */
const STACK_TOPS: Record<
  StackLayout,
  { stackFault: bigint; doubleFault: bigint; nmi: bigint; debug: bigint; machineCheck: bigint }
> = {
  // One array from 0xffff880000201000: #SS, #DF, NMI, debug (8 KiB), #MC; 0xffff880000200000 unmapped.
  contiguous: {
    stackFault: 0xffff880000202000n,
    doubleFault: 0xffff880000203000n,
    nmi: FIXED.nmiStackTop,
    debug: 0xffff880000206000n,
    machineCheck: 0xffff880000207000n,
  },
  // Each stack above an unmapped page (the debug stack above two).
  'guard-pages': {
    stackFault: 0xffff8800001ff000n,
    doubleFault: 0xffff880000201000n,
    nmi: FIXED.nmiStackTop,
    debug: 0xffff880000208000n,
    machineCheck: 0xffff88000020a000n,
  },
};

/** A piece of memory the harness maps: what the designs, do_nmi and the handlers may touch. */
export interface MemoryRegion {
  /** Stable name: 'nmi-stack', 'percpu', ... */
  name: string;
  /** In words, for views and reports. */
  describe: string;
  base: bigint;
  size: number;
  /** User-accessible pages. */
  user?: boolean;
  /** For a stack: its top (where RSP starts) and the IST index that loads it, if any. */
  top?: bigint;
  ist?: number;
}

/** Everything the harness puts in memory besides the program's own sections, for one layout. */
export interface HarnessLayout {
  readonly stackLayout: StackLayout;
  readonly textBase: bigint;
  readonly dataBase: bigint;
  readonly userTextBase: bigint;
  readonly userDataBase: bigint;
  readonly percpuBase: bigint;
  readonly percpuSize: number;
  readonly idtBase: bigint;
  readonly nmiIdtBase: bigint;
  /** IST1: #SS. */
  readonly stackFaultStackTop: bigint;
  /** IST2: #DF. */
  readonly doubleFaultStackTop: bigint;
  /** IST3: NMI. */
  readonly nmiStackTop: bigint;
  /** IST4: #DB and #BP (DEBUG_STKSZ). */
  readonly debugStackTop: bigint;
  /** IST5: #MC (mapped, never used by the harness). */
  readonly machineCheckStackTop: bigint;
  readonly kernelStackTop: bigint;
  readonly userStackTop: bigint;
  readonly userStackSize: number;
  readonly userGsBase: bigint;
  readonly vmallocStart: bigint;
  readonly vmallocEnd: bigint;
  readonly nmiFaultAddress: bigint;
  readonly workloadFaultAddress: bigint;
  /** Every region the harness maps, lowest address first. */
  readonly regions: readonly MemoryRegion[];
}

/** The harness's memory for one stack layout: the single source of stack and region addresses. */
export function harnessLayout(stackLayout: StackLayout = 'contiguous'): HarnessLayout {
  const t = STACK_TOPS[stackLayout];
  if (t === undefined) throw new Error(`unknown stack layout '${String(stackLayout)}' (${STACK_LAYOUTS.join(', ')})`);
  const stack = (name: string, describe: string, top: bigint, size: number, ist?: number): MemoryRegion => ({
    name,
    describe,
    base: top - BigInt(size),
    size,
    top,
    ...(ist !== undefined ? { ist } : {}),
  });
  const regions: MemoryRegion[] = [
    { name: 'percpu', describe: 'per-CPU data and the TSS (GS base)', base: FIXED.percpuBase, size: FIXED.percpuSize },
    { name: 'idt', describe: 'the IDT', base: FIXED.idtBase, size: 4096 },
    { name: 'nmi-idt', describe: 'nmi_idt_table (Linux 3.3)', base: FIXED.nmiIdtBase, size: 4096 },
    stack('stack-fault-stack', '#SS stack (IST1)', t.stackFault, EXCEPTION_STKSZ, IST.SS),
    stack('double-fault-stack', '#DF stack (IST2)', t.doubleFault, EXCEPTION_STKSZ, IST.DF),
    stack('nmi-stack', 'NMI stack (IST3)', t.nmi, EXCEPTION_STKSZ, IST.NMI),
    stack('debug-stack', 'debug stack (IST4)', t.debug, DEBUG_STKSZ, IST.DEBUG),
    stack('machine-check-stack', '#MC stack (IST5)', t.machineCheck, EXCEPTION_STKSZ, IST.MCE),
    stack('kernel-stack', 'task kernel stack (TSS.RSP0)', FIXED.kernelStackTop, THREAD_SIZE),
    {
      ...stack('user-stack', 'user stack', FIXED.userStackTop, FIXED.userStackSize),
      user: true,
    },
  ];
  regions.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  return {
    ...FIXED,
    stackLayout,
    stackFaultStackTop: t.stackFault,
    doubleFaultStackTop: t.doubleFault,
    debugStackTop: t.debug,
    machineCheckStackTop: t.machineCheck,
    regions,
  };
}

/** The region holding `address` in a layout, or null (unmapped by the harness, or a program section). */
export function regionAt(layout: HarnessLayout, address: bigint): MemoryRegion | null {
  const a = BigInt.asUintN(64, address);
  for (const r of layout.regions) if (a >= r.base && a < r.base + BigInt(r.size)) return r;
  return null;
}

/**
 * The default harness layout ('contiguous', Linux 3.x). A kernel's own layout, which depends on
 * its design (harness.stackLayout, or 'guard-pages' under FRED), is `kernel.layout`.
 */
export const LAYOUT: HarnessLayout = harnessLayout('contiguous');

/** Per-CPU variables: offsets from the per-CPU base, used as `PER_CPU_VAR(name)`. */
export const PERCPU = {
  percpu_self: 0x00,
  kernel_stack: 0x08,
  cpu_current_top_of_stack: 0x10,
  old_rsp: 0x18,
  rsp_scratch: 0x18, // Linux 4.x name of old_rsp
  nmi_runs: 0x20,
  nmi_in_progress: 0x28,
  nmi_reentered: 0x30,
  nmi_last_ip: 0x38,
  update_debug_stack: 0x40,
  debug_stack_addr: 0x48,
  int3_count: 0x50,
  debug_count: 0x58,
  syscall_count: 0x60,
  nmi_state: 0x68, // CONFIG_DO_NMI_LATCH: NOT_RUNNING / EXECUTING / LATCHED
  nmi_cr2: 0x70, // CONFIG_DO_NMI_CR2: CR2 as do_nmi found it
  init_tss: 0x800,
} as const;
export type PercpuVar = keyof typeof PERCPU;

/** struct pt_regs offsets (Linux x86-64). */
export const PT_REGS = {
  R15: 0,
  R14: 8,
  R13: 16,
  R12: 24,
  RBP: 32,
  RBX: 40,
  R11: 48,
  R10: 56,
  R9: 64,
  R8: 72,
  RAX: 80,
  RCX: 88,
  RDX: 96,
  RSI: 104,
  RDI: 112,
  ORIG_RAX: 120,
  RIP: 128,
  CS: 136,
  EFLAGS: 144,
  RSP: 152,
  SS: 160,
  SIZEOF_PTREGS: 168,
} as const;

/** Why the harness kernel gave up (`oops_reason`); the labels are the failure kinds the API reports. */
export const OOPS = {
  OOPS_DOUBLE_FAULT: 1,
  OOPS_GENERAL_PROTECTION: 2,
  OOPS_BAD_PAGE_FAULT: 3,
  OOPS_INVALID_OP: 4,
  OOPS_STACK_SEGMENT: 5,
  OOPS_CORRUPTED: 6,
  OOPS_UNEXPECTED: 7,
} as const;

export const OOPS_REASONS: Record<number, string> = {
  1: 'double fault',
  2: 'general protection fault',
  3: 'page fault outside the vmalloc area',
  4: 'invalid opcode (execution reached an address with no instruction, or a ud2)',
  5: 'stack-segment fault',
  6: 'the interrupted code found its registers or flags changed',
  7: 'unexpected exception',
};

/** Absolute symbols predefined for the harness and every design. */
export function harnessSymbols(): Record<string, bigint> {
  const s: Record<string, bigint> = {
    __KERNEL_CS: BigInt(SELECTORS.KERNEL_CS),
    __KERNEL_DS: BigInt(SELECTORS.KERNEL_DS),
    __USER_CS: BigInt(SELECTORS.USER_CS),
    __USER_DS: BigInt(SELECTORS.USER_DS),
    __USER32_CS: BigInt(SELECTORS.USER32_CS),
    EXCEPTION_STKSZ: BigInt(EXCEPTION_STKSZ),
    DEBUG_STKSZ: BigInt(DEBUG_STKSZ),
    MSR_GS_BASE: BigInt(MSR.GS_BASE),
    MSR_KERNEL_GS_BASE: BigInt(MSR.KERNEL_GS_BASE),
    X86_EFLAGS_TF: 0x100n,
    X86_EFLAGS_IF: 0x200n,
    X86_EFLAGS_DF: 0x400n,
    TSS_ist: BigInt(TSS_IST1),
    VMALLOC_START: LAYOUT.vmallocStart,
    VMALLOC_END: LAYOUT.vmallocEnd,
    IDT_TABLE: LAYOUT.idtBase,
    NMI_IDT_TABLE: LAYOUT.nmiIdtBase,
    IDT_LIMIT: 256n * 16n - 1n,
  };
  for (const [k, v] of Object.entries(PT_REGS)) s[k] = BigInt(v);
  for (const [k, v] of Object.entries(PERCPU)) s[k] = BigInt(v);
  for (const [k, v] of Object.entries(OOPS)) s[k] = BigInt(v);
  return s;
}
