// The lab machine: Linux 3.x's interrupt-stack choices around a program of your own, with no
// harness kernel. The early chapters and their checks use it, and so do the machine's tests (the
// one test machine, as jsbeeb's TestMachine is). Chapter 1 builds the same thing step by step with
// the raw API (installIdt, installTss); this function is that construction, kept in one place.
// Later chapters use the designs and their harness kernel (kernel.ts) instead.
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
  /** User-mode code (the `.user` section, with `user: true`) and the user stack. */
  userTextBase: 0x0000000000400000n,
  userStackTop: 0x00007fff00010000n,
  userStackSize: 0x4000,
  idtBase: 0xffff880000050000n,
  tssBase: 0xffff880000051000n,
  /** Linux's x86-64 selectors (the machine's fixed GDT). */
  kernelCs: 0x10n,
  kernelDs: 0x18n,
  userCs: 0x33n,
  userDs: 0x2bn,
} as const;

/** Handlers the lab installs; a program that leaves one out gets a stub (see labMachine). */
export const LAB_HANDLERS = [
  'nmi',
  'int3',
  'debug',
  'general_protection',
  'page_fault',
  'double_fault',
  'stack_segment',
  'invalid_op',
] as const;

export interface LabProgram {
  /** GAS source: must define `_start`, may define any of LAB_HANDLERS. */
  source: string;
  /** Map the `.user` section as user code at LAB.userTextBase, and a user stack below LAB.userStackTop. */
  user?: boolean;
  /** Vectors whose gate is a trap gate (IF left as it was) instead of an interrupt gate. */
  trapGates?: number[];
}

/**
 * Assembles a program (GAS source, or a LabProgram with options) and returns
 * a machine in kernel mode at `_start`, with an IDT and TSS as Linux 3.x set them up:
 * NMI on IST3, #DB and #BP on IST4, #DF on IST2, #GP, #PF, #SS and #UD on the current stack;
 * interrupt gates (IF cleared on entry) unless `trapGates` says otherwise; #BP with DPL 3 as in
 * Linux. Missing handlers: `iretq` for NMI, #DB, #BP and #UD; `addq $8, %rsp; iretq` (drop the
 * error code) for #GP, #PF and #SS; `hlt` for #DF.
 */
export function labMachine(program: string | LabProgram): Machine {
  const options: LabProgram = typeof program === 'string' ? { source: program } : program;
  const source = options.source;
  const stub = (name: string): string => {
    if (name === 'double_fault') return `${name}:\n    hlt\n`;
    if (name === 'general_protection' || name === 'page_fault' || name === 'stack_segment')
      return `${name}:\n    addq $8, %rsp\n    iretq\n`;
    return `${name}:\n    iretq\n`;
  };
  const missing = LAB_HANDLERS.filter((h) => !new RegExp(`^\\s*${h}:`, 'm').test(source));
  const assembled = assembleOrThrow({
    files: [{ name: 'lab.S', text: `${source}\n.text\n${missing.map(stub).join('')}` }],
    sectionBases: { '.text': LAB.textBase, '.data': LAB.dataBase, '.user': LAB.userTextBase },
    symbols: { __KERNEL_CS: LAB.kernelCs, __KERNEL_DS: LAB.kernelDs, __USER_CS: LAB.userCs, __USER_DS: LAB.userDs },
  });
  const m = new Machine().load(assembled, { sections: { '.user': { user: true, writable: false } } });
  const stacks: [bigint, number][] = [
    [LAB.kernelStackTop, LAB.kernelStackSize],
    [LAB.nmiStackTop, LAB.nmiStackSize],
    [LAB.debugStackTop, LAB.debugStackSize],
    [LAB.doubleFaultStackTop, LAB.doubleFaultStackSize],
  ];
  for (const [top, size] of stacks) m.map(top - BigInt(size), size);
  if (options.user) m.map(LAB.userStackTop - BigInt(LAB.userStackSize), LAB.userStackSize, { user: true });
  const trap = new Set(options.trapGates ?? []);
  const gate = (label: string, ist: number, vector: number, dpl: 0 | 3 = 0) => ({
    handler: m.symbol(label),
    ist,
    type: trap.has(vector) ? ('trap' as const) : ('interrupt' as const),
    dpl,
  });
  m.installIdt(LAB.idtBase, {
    1: gate('debug', 4, 1),
    2: gate('nmi', 3, 2),
    3: gate('int3', 4, 3, 3),
    6: gate('invalid_op', 0, 6),
    8: gate('double_fault', 2, 8),
    12: gate('stack_segment', 0, 12),
    13: gate('general_protection', 0, 13),
    14: gate('page_fault', 0, 14),
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
