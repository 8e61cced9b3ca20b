// Where the harness kernel puts things, and the absolute symbols every design may use.
// Addresses are Linux-flavoured (kernel text at 0xffffffff81000000, direct map at
// 0xffff880000000000, vmalloc at 0xffffc90000000000) so traces read like kernel traces.
import { MSR, SELECTORS, TSS_IST1 } from '../machine/descriptors';

/** Linux 3.x: EXCEPTION_STKSZ is one page; the debug stack is two (DEBUG_STKSZ). */
export const EXCEPTION_STKSZ = 4096;
export const DEBUG_STKSZ = 8192;
/** Linux 3.x THREAD_SIZE was 8 KiB (16 KiB from 3.15); the harness uses 16 KiB. */
export const THREAD_SIZE = 16384;

/**
 * Every stack sits between unmapped guard pages, so running off one is a page fault (and, during
 * event delivery, a double fault), never silent corruption of a neighbour.
 */
export const LAYOUT = {
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
  /** IST1: #DF. */
  doubleFaultStackTop: 0xffff880000201000n,
  /** IST3: NMI, EXCEPTION_STKSZ bytes. */
  nmiStackTop: 0xffff880000204000n,
  /** IST4: #DB and #BP, DEBUG_STKSZ bytes. */
  debugStackTop: 0xffff880000208000n,
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

export const VECTORS_HANDLED = { DB: 1, NMI: 2, BP: 3, UD: 6, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14 } as const;

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
