// RFLAGS bits (SDM vol. 1, 3.4.3) and the parity table.

export const CF = 1 << 0;
export const RESERVED1 = 1 << 1; // always reads as 1
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const ID = 1 << 21;

/** The six status flags that arithmetic computes (kept unpacked in the CPU state for speed). */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** Bits POPF/IRET may change at CPL 0 in 64-bit mode (VM, VIF and VIP stay clear). */
export const POPF_MASK = ARITH_FLAGS | TF | IF | DF | IOPL | NT | AC | ID;

/** PARITY[b] is 1 when byte b has an even number of set bits (PF's definition). */
export const PARITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let bits = 0;
  for (let v = b; v !== 0; v >>= 1) bits += v & 1;
  PARITY[b] = bits % 2 === 0 ? 1 : 0;
}

export const FLAG_NAMES: Record<string, number> = {
  cf: CF,
  pf: PF,
  af: AF,
  zf: ZF,
  sf: SF,
  tf: TF,
  if: IF,
  df: DF,
  of: OF,
  nt: NT,
  rf: RF,
  ac: AC,
  id: ID,
};
