// The assembler's output: a laid-out program that the machine can load.
// This file is the contract between `asm/` (which produces it) and `machine/`
// (which consumes it); neither side depends on the other's internals.

/** Where a piece of source came from, after preprocessing and macro expansion. */
export interface SourceLoc {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export type Severity = 'error' | 'warning';

/** An assembler message a learner can act on: location, message and the offending text. */
export interface Diagnostic extends SourceLoc {
  severity: Severity;
  message: string;
  /** The source line the message is about, as written. */
  text: string;
}

/**
 * General-purpose registers by their x86 encoding number:
 * 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15.
 */
export type GprNumber = number;

export type OperandSize = 1 | 2 | 4 | 8;

/** A general register at some width; `high8` selects %ah/%ch/%dh/%bh (bits 8..15 of reg 0..3). */
export interface RegOperand {
  kind: 'reg';
  reg: GprNumber;
  size: OperandSize;
  high8?: boolean;
}

/** A control register (`%cr0`, `%cr2`, `%cr3`, `%cr4`): only mov reads or writes it. */
export interface CrOperand {
  kind: 'cr';
  cr: 0 | 2 | 3 | 4;
}

/** A segment register, for `mov %ss, %eax` style reads. */
export interface SegOperand {
  kind: 'seg';
  seg: 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs';
}

/** `$expr`: the value as the expression evaluated (the machine truncates it to the operand size). */
export interface ImmOperand {
  kind: 'imm';
  value: bigint;
}

/**
 * A memory reference `seg:disp(base,index,scale)`.
 * For `disp(%rip)` the base is 'rip' and `disp` is relative to the *next* instruction's address,
 * exactly as the hardware computes it (so `sym(%rip)` has disp = sym - (address + length)).
 * A bare absolute `sym` or `0x1000` has base and index null.
 */
export interface MemOperand {
  kind: 'mem';
  base: GprNumber | 'rip' | null;
  index: GprNumber | null;
  scale: 1 | 2 | 4 | 8;
  disp: bigint;
  seg: 'fs' | 'gs' | null;
}

/** The resolved destination of a direct jmp / jcc / call. */
export interface TargetOperand {
  kind: 'target';
  address: bigint;
}

export type Operand = RegOperand | CrOperand | SegOperand | ImmOperand | MemOperand | TargetOperand;

/** Condition codes of jcc, in their canonical (Intel table) spelling. */
export type Cond =
  'o' | 'no' | 'b' | 'ae' | 'e' | 'ne' | 'be' | 'a' | 's' | 'ns' | 'p' | 'np' | 'l' | 'ge' | 'le' | 'g';

/** Canonical operations (asm/instruction-set.ts lists them with their spellings and forms). */
export type { Op } from './instruction-set';
import type { Op } from './instruction-set';

export interface Instruction {
  /** Virtual address of the first byte. */
  address: bigint;
  /** Encoded length in bytes (see asm/encoding-length.ts for how it is estimated). */
  length: number;
  op: Op;
  /** Operand size in bytes (the destination's for movzx/movsx); 0 where none applies (jmp, nop, ...). */
  size: 0 | OperandSize;
  /** Source operand size of movzx/movsx. */
  srcSize?: 1 | 2 | 4;
  /** Condition of a jcc. */
  cond?: Cond;
  /**
   * Operands in AT&T order: sources first, destination last.
   * Direct jmp/jcc/call have one 'target'; indirect ones (`jmp *%rax`, `call *8(%rdi)`) a reg or mem.
   * Shifts by %cl carry a RegOperand {reg: 1, size: 1}; a shift with one operand shifts by 1.
   * `ret $n` has an imm. `imul` has 1, 2 or 3 operands as written.
   * `lidt`/`sidt` have one memory operand: the 10-byte pseudo-descriptor (limit16, base64).
   */
  operands: Operand[];
  loc: SourceLoc;
  /** The instruction as it reads after macro expansion, e.g. "cmpl $1, -8(%rsp)". */
  text: string;
}

export interface Section {
  name: string; // '.text', '.data', '.bss', or any `.section` name
  address: bigint; // base address after layout
  /** The section's bytes: data as assembled; instruction bytes are 0x90 filler (code is not re-decoded). */
  bytes: Uint8Array;
}

export interface SymbolInfo {
  name: string;
  value: bigint;
  /** Section that defines the label, or null for absolute symbols (.set/.equ, predefined). */
  section: string | null;
  global: boolean;
}

export interface Program {
  sections: Section[];
  /** Every instruction, in address order. */
  instructions: Instruction[];
  /** Named symbols (numeric local labels are not included). */
  symbols: Map<string, SymbolInfo>;
  warnings: Diagnostic[];
}
