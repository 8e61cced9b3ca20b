// Descriptor tables. The IDT and the TSS live in guest memory in their architectural formats
// (so guest code can edit an IST pointer or switch IDTs, and snapshots cover them); the GDT is a
// fixed host-side table with Linux's x86-64 layout, because nothing in the NMI story rewrites it.

/** Linux x86-64 selectors (arch/x86/include/asm/segment.h, 3.x). */
export const SELECTORS = {
  KERNEL32_CS: 0x08,
  KERNEL_CS: 0x10,
  KERNEL_DS: 0x18,
  USER32_CS: 0x23,
  USER_DS: 0x2b,
  USER_CS: 0x33,
} as const;

export interface SegmentDescriptor {
  kind: 'code' | 'data';
  dpl: 0 | 3;
  /** Code: a 64-bit (L=1) segment. */
  long: boolean;
  /** Data: writable. */
  writable: boolean;
}

/** GDT entries by index (selector >> 3); index 0 is the null descriptor. */
export const LINUX_GDT: ReadonlyArray<SegmentDescriptor | null> = [
  null,
  { kind: 'code', dpl: 0, long: false, writable: false }, // 0x08 kernel 32-bit code
  { kind: 'code', dpl: 0, long: true, writable: false }, // 0x10 __KERNEL_CS
  { kind: 'data', dpl: 0, long: false, writable: true }, // 0x18 __KERNEL_DS
  { kind: 'code', dpl: 3, long: false, writable: false }, // 0x23 __USER32_CS
  { kind: 'data', dpl: 3, long: false, writable: true }, // 0x2b __USER_DS
  { kind: 'code', dpl: 3, long: true, writable: false }, // 0x33 __USER_CS
];

/** The table indicator of a selector: 1 for the LDT. */
export const SELECTOR_TI = 4;

/**
 * The descriptor a selector names, or null (the caller raises #GP(selector)). A selector with its
 * TI bit set names an LDT entry (SDM 3.4.2); NMI Lab has no LDT, as if LDTR held the null
 * selector, and a reference through a null LDTR faults #GP (SDM vol. 2, LLDT).
 */
export function descriptorFor(
  gdt: ReadonlyArray<SegmentDescriptor | null>,
  selector: number,
): SegmentDescriptor | null {
  if ((selector & SELECTOR_TI) !== 0) return null;
  return gdt[(selector & 0xffff) >> 3] ?? null;
}

// ---- IDT gates (SDM 6.14.1, figure 6-8: 16 bytes per gate) ------------------------------------

export type GateType = 'interrupt' | 'trap';

export interface Gate {
  handler: bigint;
  selector: number;
  /** 0: no stack switch by IST; 1..7: TSS.IST[n]. */
  ist: number;
  type: GateType;
  dpl: 0 | 3;
  present: boolean;
}

export const GATE_SIZE = 16;
/** Gate types in 64-bit mode (SDM 6.14.1): the only two an IDT entry may have. Event delivery
 * (delivery.ts) decodes gates inline, on its hot path; encodeGate() is their one writer. */
export const TYPE_INTERRUPT = 0xe;
export const TYPE_TRAP = 0xf;

export function encodeGate(g: Gate): Uint8Array {
  const out = new Uint8Array(GATE_SIZE);
  const h = BigInt.asUintN(64, g.handler);
  const put16 = (at: number, v: number) => {
    out[at] = v & 0xff;
    out[at + 1] = (v >>> 8) & 0xff;
  };
  put16(0, Number(h & 0xffffn));
  put16(2, g.selector);
  out[4] = g.ist & 7;
  out[5] = (g.present ? 0x80 : 0) | ((g.dpl & 3) << 5) | (g.type === 'trap' ? TYPE_TRAP : TYPE_INTERRUPT);
  put16(6, Number((h >> 16n) & 0xffffn));
  const high = Number((h >> 32n) & 0xffffffffn);
  put16(8, high & 0xffff);
  put16(10, high >>> 16);
  return out;
}

// ---- 64-bit TSS (SDM 8.7, figure 8-11) ------------------------------------------------------------

export const TSS_RSP0 = 4;
export const TSS_IST1 = 0x24;
export const TSS_SIZE = 0x68;

export function tssIstOffset(n: number): number {
  return TSS_IST1 + 8 * (n - 1);
}

// ---- MSRs (SDM vol. 4) ----------------------------------------------------------------------------

export const MSR = {
  EFER: 0xc0000080,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  FMASK: 0xc0000084,
  FS_BASE: 0xc0000100,
  GS_BASE: 0xc0000101,
  KERNEL_GS_BASE: 0xc0000102,
} as const;
