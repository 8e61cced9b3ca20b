// Every instruction NMI Lab assembles and runs, with what the assembler needs to know about it: how
// GAS spells it, which operand forms it takes (instructions.ts checks each form), whether `lock` may
// prefix it, and how its encoding length is counted (encoding-length.ts). What it does is in
// isa/semantics.ts. Adding an instruction is an entry here and its case there (docs/architecture.md).
import type { OperandSize } from './program';

/** The operand forms the checker knows (instructions.ts has one rule per form). */
export type OperandForm =
  | 'mov'
  | 'lea'
  | 'alu'
  | 'unary'
  | 'shift'
  | 'push-pop'
  | 'extend'
  | 'imul'
  | 'exchange'
  | 'branch'
  | 'ret'
  | 'nop'
  | 'descriptor-table'
  | 'int3'
  | 'none';

/**
 * How the encoding length is counted (SDM vol. 2, chapter 2; checked against `as --64`):
 * a fixed number of bytes, an opcode of 1 or 2 bytes followed by ModRM (+ SIB + displacement), or a
 * rule of encoding-length.ts for the instructions with several encodings.
 */
export type LengthRule =
  | { bytes: number }
  | { opcodeThenModrm: 1 | 2 }
  | 'mov'
  | 'alu'
  | 'test'
  | 'shift'
  | 'push'
  | 'pop'
  | 'ret'
  | 'extend'
  | 'imul'
  | 'xchg'
  | 'branch'
  | 'nop';

/** What a whole-word spelling says by itself (`pushfq`: 8 bytes; `movzbl`: from 8 bits to 32). */
export interface WordSpelling {
  suffix?: OperandSize;
  srcSize?: 1 | 2 | 4;
  /** The name GAS uses in its messages, when not the word itself (`int` for `int $3`). */
  base?: string;
}

export interface InstructionFacts {
  /** Base spellings that take an optional b/w/l/q size suffix (`add`, `addq`). */
  suffixed?: readonly string[];
  /** Spellings that are whole words. */
  words?: Readonly<Record<string, WordSpelling>>;
  /** Spelled `j` + a condition (`je`, `jnbe`, ...): the conditional jumps. */
  conditional?: true;
  operands: OperandForm;
  length: LengthRule;
  /** `lock` may prefix it (with a memory destination). */
  lockable?: true;
  /** 64 bits is its default operand size in long mode: no REX.W for a 64-bit operand. */
  default64?: true;
  /** Its operand size when it takes no operands and moves 8-byte values (pushf, iret). */
  implicitSize?: 8;
}

export const INSTRUCTION_SET = {
  mov: { suffixed: ['mov', 'movabs'], operands: 'mov', length: 'mov' },
  movzx: {
    words: {
      movzx: {},
      movzbw: { srcSize: 1, suffix: 2 },
      movzbl: { srcSize: 1, suffix: 4 },
      movzbq: { srcSize: 1, suffix: 8 },
      movzwl: { srcSize: 2, suffix: 4 },
      movzwq: { srcSize: 2, suffix: 8 },
    },
    operands: 'extend',
    length: 'extend',
  },
  movsx: {
    words: {
      movsx: {},
      movsxd: { srcSize: 4 },
      movsbw: { srcSize: 1, suffix: 2 },
      movsbl: { srcSize: 1, suffix: 4 },
      movsbq: { srcSize: 1, suffix: 8 },
      movswl: { srcSize: 2, suffix: 4 },
      movswq: { srcSize: 2, suffix: 8 },
      movslq: { srcSize: 4, suffix: 8 },
    },
    operands: 'extend',
    length: 'extend',
  },
  lea: { suffixed: ['lea'], operands: 'lea', length: { opcodeThenModrm: 1 } },
  push: { suffixed: ['push'], operands: 'push-pop', length: 'push', default64: true },
  pop: { suffixed: ['pop'], operands: 'push-pop', length: 'pop', default64: true },
  pushf: {
    words: { pushf: {}, pushfq: { suffix: 8 } },
    operands: 'none',
    length: { bytes: 1 },
    default64: true,
    implicitSize: 8,
  },
  popf: {
    words: { popf: {}, popfq: { suffix: 8 } },
    operands: 'none',
    length: { bytes: 1 },
    default64: true,
    implicitSize: 8,
  },
  add: { suffixed: ['add'], operands: 'alu', length: 'alu', lockable: true },
  adc: { suffixed: ['adc'], operands: 'alu', length: 'alu', lockable: true },
  sub: { suffixed: ['sub'], operands: 'alu', length: 'alu', lockable: true },
  sbb: { suffixed: ['sbb'], operands: 'alu', length: 'alu', lockable: true },
  cmp: { suffixed: ['cmp'], operands: 'alu', length: 'alu' },
  test: { suffixed: ['test'], operands: 'alu', length: 'test' },
  and: { suffixed: ['and'], operands: 'alu', length: 'alu', lockable: true },
  or: { suffixed: ['or'], operands: 'alu', length: 'alu', lockable: true },
  xor: { suffixed: ['xor'], operands: 'alu', length: 'alu', lockable: true },
  not: { suffixed: ['not'], operands: 'unary', length: { opcodeThenModrm: 1 }, lockable: true },
  neg: { suffixed: ['neg'], operands: 'unary', length: { opcodeThenModrm: 1 }, lockable: true },
  inc: { suffixed: ['inc'], operands: 'unary', length: { opcodeThenModrm: 1 }, lockable: true },
  dec: { suffixed: ['dec'], operands: 'unary', length: { opcodeThenModrm: 1 }, lockable: true },
  shl: { suffixed: ['shl', 'sal'], operands: 'shift', length: 'shift' },
  shr: { suffixed: ['shr'], operands: 'shift', length: 'shift' },
  sar: { suffixed: ['sar'], operands: 'shift', length: 'shift' },
  imul: { suffixed: ['imul'], operands: 'imul', length: 'imul' },
  xchg: { suffixed: ['xchg'], operands: 'exchange', length: 'xchg', lockable: true },
  cmpxchg: { suffixed: ['cmpxchg'], operands: 'exchange', length: { opcodeThenModrm: 2 }, lockable: true },
  jmp: { suffixed: ['jmp'], operands: 'branch', length: 'branch', default64: true },
  jcc: { conditional: true, operands: 'branch', length: { bytes: 6 }, default64: true }, // 0F 8x rel32
  call: { suffixed: ['call'], operands: 'branch', length: 'branch', default64: true },
  ret: { suffixed: ['ret'], operands: 'ret', length: 'ret', default64: true },
  int3: { words: { int3: {}, int: { base: 'int' } }, operands: 'int3', length: { bytes: 1 } },
  ud2: { words: { ud2: {} }, operands: 'none', length: { bytes: 2 } }, // 0F 0B
  hlt: { words: { hlt: {} }, operands: 'none', length: { bytes: 1 } },
  nop: { suffixed: ['nop'], operands: 'nop', length: 'nop' },
  cli: { words: { cli: {} }, operands: 'none', length: { bytes: 1 } },
  sti: { words: { sti: {} }, operands: 'none', length: { bytes: 1 } },
  std: { words: { std: {} }, operands: 'none', length: { bytes: 1 } },
  cld: { words: { cld: {} }, operands: 'none', length: { bytes: 1 } },
  iret: { words: { iretq: { suffix: 8 } }, operands: 'none', length: { bytes: 1 }, implicitSize: 8 },
  swapgs: { words: { swapgs: {} }, operands: 'none', length: { bytes: 3 } }, // 0F 01 F8
  rdmsr: { words: { rdmsr: {} }, operands: 'none', length: { bytes: 2 } },
  wrmsr: { words: { wrmsr: {} }, operands: 'none', length: { bytes: 2 } },
  syscall: { words: { syscall: {} }, operands: 'none', length: { bytes: 2 } },
  // sysretq's REX.W is counted as a prefix (implicitSize 8, not default64).
  sysret: { words: { sysretq: { suffix: 8 } }, operands: 'none', length: { bytes: 2 }, implicitSize: 8 },
  erets: { words: { erets: {} }, operands: 'none', length: { bytes: 4 } }, // F2 0F 01 CA
  eretu: { words: { eretu: {} }, operands: 'none', length: { bytes: 4 } }, // F3 0F 01 CA
  lidt: { words: { lidt: {}, lidtq: { suffix: 8 } }, operands: 'descriptor-table', length: { opcodeThenModrm: 2 } },
  sidt: { words: { sidt: {}, sidtq: { suffix: 8 } }, operands: 'descriptor-table', length: { opcodeThenModrm: 2 } },
} as const satisfies Record<string, InstructionFacts>;

/** Canonical operations: spellings and aliases fold into these (movabs -> mov, sal -> shl, ...). */
export type Op = keyof typeof INSTRUCTION_SET;

/** The facts of an operation, typed as the general shape. */
export function factsOf(op: Op): InstructionFacts {
  return INSTRUCTION_SET[op];
}
