// Section state during assembly: the location counter and what has been put at each offset.
import type { Expr } from './expr';
import type { Statement } from './diagnostics';

/** Bytes decided while reading (strings, fills, padding). */
export interface FixedBytes {
  offset: bigint;
  bytes: Uint8Array | { fill: number; length: number };
}

/** A data value whose expression is evaluated after layout (`.quad sym`). */
export interface DataValue {
  offset: bigint;
  size: 1 | 2 | 4 | 8;
  expr: Expr;
  stmt: Statement;
}

export class SectionState {
  /** Current location counter (offset from the section start). */
  size = 0n;
  readonly fixed: FixedBytes[] = [];
  readonly values: DataValue[] = [];
  /** [offset, length] of instructions (filled with 0x90 in the image). */
  readonly code: Array<[bigint, number]> = [];

  constructor(
    readonly name: string,
    readonly flags: string,
  ) {}

  /** Code sections are padded with nops (0x90) by `.align`, data sections with zeros (as GAS does). */
  get isCode(): boolean {
    return this.name.startsWith('.text') || this.flags.includes('x');
  }

  get isBss(): boolean {
    return this.name === '.bss' || this.name.startsWith('.bss.');
  }
}
