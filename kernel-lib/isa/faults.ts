// Exceptions as the CPU raises them. Instruction semantics throw a CpuFault; the step loop
// catches it at the instruction boundary and hands it to event delivery. Faults are rare,
// so a throw costs nothing on the hot path.

/** Architectural vectors (SDM vol. 3, table 6-1). */
export const Vector = {
  DE: 0,
  DB: 1,
  NMI: 2,
  BP: 3,
  UD: 6,
  DF: 8,
  TS: 10,
  NP: 11,
  SS: 12,
  GP: 13,
  PF: 14,
} as const;

export const VECTOR_NAMES: Record<number, string> = {
  0: '#DE',
  1: '#DB',
  2: 'NMI',
  3: '#BP',
  6: '#UD',
  8: '#DF',
  10: '#TS',
  11: '#NP',
  12: '#SS',
  13: '#GP',
  14: '#PF',
};

export function vectorName(vector: number): string {
  return VECTOR_NAMES[vector] ?? `vector ${vector}`;
}

/** Vectors that push an error code in 64-bit mode (SDM 6.13, 6.14.4). */
export function pushesErrorCode(vector: number): boolean {
  return (
    vector === 8 || vector === 10 || vector === 11 || vector === 12 || vector === 13 || vector === 14 || vector === 17
  );
}

/** #PF error code bits (SDM 4.7). */
export const PF_PRESENT = 1;
export const PF_WRITE = 2;
export const PF_USER = 4;
export const PF_FETCH = 16;

export class CpuFault {
  /** A trap (INT3, single-step #DB) reports the address of the *next* instruction (SDM 6.5). */
  trap = false;
  constructor(
    readonly vector: number,
    readonly errorCode: number = 0,
    /** The faulting linear address for #PF (becomes CR2), as [lo, hi] halves. */
    readonly addrLo: number = 0,
    readonly addrHi: number = 0,
    /** Why, in words, for the event log (e.g. "write to read-only page"). */
    readonly reason: string = '',
  ) {}
}
