// The small machine the early chapters and their checks use: Linux 3.x's interrupt-stack choices
// around a program the lesson writes. Chapter 1 builds the same thing step by step with the raw
// API (installIdt, installTss); this function is that construction, kept in one place.
// Later chapters use the designs and their harness (kernel-lib/harness) instead.
import { assembleOrThrow } from '../asm';
import { Machine } from '../machine/machine';

/**
 * Where the lab puts things: kernel-style addresses, the IST stacks with Linux 3.x's indexes and
 * sizes (page_64_types.h: EXCEPTION_STKSZ one page, DEBUG_STKSZ two; docs/sources.md). Unlike
 * Linux's one array, each lab stack sits alone, between unmapped pages.
 */
export const LAB = {
  textBase: 0xffffffff81000000n,
  dataBase: 0xffffffff81100000n,
  /** The ordinary kernel stack (RSP0 in the TSS, and RSP at the start). */
  kernelStackTop: 0xffff880000010000n,
  kernelStackSize: 0x4000,
  /** IST3: the NMI stack, as in Linux 3.x (NMI_STACK = 3), EXCEPTION_STKSZ bytes. */
  nmiStackTop: 0xffff880000020000n,
  nmiStackSize: 0x1000,
  /** IST4: the debug stack for #DB and #BP (DEBUG_STACK = 4), DEBUG_STKSZ bytes. */
  debugStackTop: 0xffff880000030000n,
  debugStackSize: 0x2000,
  /** IST2: the double-fault stack (DOUBLEFAULT_STACK = 2). */
  doubleFaultStackTop: 0xffff880000040000n,
  doubleFaultStackSize: 0x1000,
  idtBase: 0xffff880000050000n,
  tssBase: 0xffff880000051000n,
  /** Linux's x86-64 selectors (the machine's fixed GDT). */
  kernelCs: 0x10n,
  kernelDs: 0x18n,
} as const;

/** Handlers the lab installs; a program that leaves one out gets a stub (see labMachine). */
export const LAB_HANDLERS = ['nmi', 'int3', 'debug', 'general_protection', 'page_fault', 'double_fault'] as const;

/**
 * Assembles `source` (GAS syntax; must define `_start`, may define any of LAB_HANDLERS) and returns
 * a machine in kernel mode at `_start`, with an IDT and TSS as Linux 3.x set them up:
 * NMI on IST3, #DB and #BP on IST4, #DF on IST2, #GP and #PF on the current stack; all interrupt
 * gates (IF cleared on entry); #BP with DPL 3 as in Linux. Missing handlers: `iretq` for NMI, #DB
 * and #BP; `addq $8, %rsp; iretq` (drop the error code) for #GP and #PF; `hlt` for #DF.
 */
export function labMachine(source: string): Machine {
  const stub = (name: string): string => {
    if (name === 'double_fault') return `${name}:\n    hlt\n`;
    if (name === 'general_protection' || name === 'page_fault') return `${name}:\n    addq $8, %rsp\n    iretq\n`;
    return `${name}:\n    iretq\n`;
  };
  const missing = LAB_HANDLERS.filter((h) => !new RegExp(`^\\s*${h}:`, 'm').test(source));
  const program = assembleOrThrow({
    files: [{ name: 'lab.S', text: `${source}\n.text\n${missing.map(stub).join('')}` }],
    sectionBases: { '.text': LAB.textBase, '.data': LAB.dataBase },
    symbols: { __KERNEL_CS: LAB.kernelCs, __KERNEL_DS: LAB.kernelDs },
  });
  const m = new Machine().load(program);
  const stacks: [bigint, number][] = [
    [LAB.kernelStackTop, LAB.kernelStackSize],
    [LAB.nmiStackTop, LAB.nmiStackSize],
    [LAB.debugStackTop, LAB.debugStackSize],
    [LAB.doubleFaultStackTop, LAB.doubleFaultStackSize],
  ];
  for (const [top, size] of stacks) m.map(top - BigInt(size), size);
  const gate = (label: string, ist: number, dpl: 0 | 3 = 0) => ({
    handler: m.symbol(label),
    ist,
    type: 'interrupt' as const,
    dpl,
  });
  m.installIdt(LAB.idtBase, {
    1: gate('debug', 4),
    2: gate('nmi', 3),
    3: gate('int3', 4, 3),
    8: gate('double_fault', 2),
    13: gate('general_protection', 0),
    14: gate('page_fault', 0),
  });
  m.installTss(LAB.tssBase, {
    rsp0: LAB.kernelStackTop,
    ist: { 2: LAB.doubleFaultStackTop, 3: LAB.nmiStackTop, 4: LAB.debugStackTop },
  });
  m.setReg('rsp', LAB.kernelStackTop);
  m.setReg('rip', m.symbol('_start'));
  return m;
}

/** The five slots of a 64-bit interrupt frame, read from memory at `rsp` (the handler's entry RSP). */
export interface InterruptFrame {
  rip: bigint;
  cs: bigint;
  rflags: bigint;
  rsp: bigint;
  ss: bigint;
}

/** Reads the hardware frame at `rsp` (SDM 6.14.2: RIP lowest, then CS, RFLAGS, RSP, SS). */
export function readFrame(m: Machine, rsp: bigint = m.reg('rsp')): InterruptFrame {
  return {
    rip: m.readU64(rsp),
    cs: m.readU64(rsp + 8n),
    rflags: m.readU64(rsp + 16n),
    rsp: m.readU64(rsp + 24n),
    ss: m.readU64(rsp + 32n),
  };
}

/** A frame as one line of hex, e.g. `rip=0xffffffff81000007 cs=0x10 ...`. */
export function formatFrame(frame: InterruptFrame): string {
  return (Object.keys(frame) as (keyof InterruptFrame)[])
    .map((k) => `${k}=0x${BigInt.asUintN(64, frame[k]).toString(16)}`)
    .join(' ');
}

/** One line per 8-byte slot from `top - 8` down to `bottom`: address, offset from top, value, symbol. */
export function stackLines(m: Machine, top: bigint, bottom: bigint = m.reg('rsp')): string[] {
  const out: string[] = [];
  const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
  for (let a = top - 8n; a >= bottom; a -= 8n) {
    const v = m.readU64(a);
    const sym = m.symbolize(v);
    out.push(
      `${hex(a)}  top-${String(top - a).padStart(3)}  ${hex(v)}${sym ? `  ${sym}` : ''}${a === m.reg('rsp') ? '  <- rsp' : ''}`,
    );
  }
  return out;
}
