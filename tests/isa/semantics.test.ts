// Instruction semantics, rule by rule, with the SDM page each comes from. The differential test
// (differential.test.ts) checks the same instructions against Unicorn on random inputs.
import { execSource } from '../../kernel-lib';

function run(body: string) {
  const r = execSource(`_start:\n${body}\n  hlt\n`);
  if (!r.ok || r.stop !== 'hlt') throw new Error(`did not run to hlt: ${JSON.stringify(r.diagnostics)} ${r.message}`);
  return { ...r.regs!, rflags: r.rflags! };
}

const CF = 1n;
const PF = 4n;
const AF = 16n;
const ZF = 64n;
const SF = 128n;
const OF = 2048n;

describe('register widths (SDM vol. 1, 3.4.1.1)', () => {
  test('a 32-bit write zeroes bits 63:32', () => {
    expect(run('movq $-1, %rax\n  movl $5, %eax').rax).toBe(5n);
    expect(run('movq $-1, %rax\n  addl $0, %eax').rax).toBe(0xffffffffn);
  });
  test('8- and 16-bit writes keep the other bits; %ah is bits 15:8', () => {
    const r = run('movabsq $0x1122334455667788, %rax\n  movw $0xaaaa, %ax\n  movb $0xbb, %ah\n  movb $0xcc, %al');
    expect(r.rax).toBe(0x112233445566bbccn);
  });
  test('movabs loads 64 bits; a 64-bit ALU immediate is sign-extended from 32', () => {
    expect(run('movabsq $0x123456789abcdef0, %rbx').rbx).toBe(0x123456789abcdef0n);
    expect(run('xorl %eax, %eax\n  addq $-2, %rax').rax).toBe(0xfffffffffffffffen);
  });
});

describe('MOVZX / MOVSX (SDM MOVZX, MOVSX/MOVSXD)', () => {
  test('zero- and sign-extension from every width', () => {
    const r = run(
      'movq $0x80f0, %rcx\n  movzbl %cl, %eax\n  movsbq %cl, %rbx\n  movswl %cx, %edx\n  movl $0x80000000, %esi\n  movslq %esi, %rdi',
    );
    expect(r.rax).toBe(0xf0n);
    expect(r.rbx).toBe(0xfffffffffffffff0n);
    expect(r.rdx).toBe(0xffff80f0n);
    expect(r.rdi).toBe(0xffffffff80000000n);
  });
});

describe('PUSH/POP (SDM PUSH, POP)', () => {
  test('`pushq 8(%rsp)` reads its operand before RSP moves', () => {
    const r = run('pushq $11\n  pushq $22\n  pushq 8(%rsp)\n  popq %rax\n  popq %rbx\n  popq %rcx');
    expect([r.rax, r.rbx, r.rcx]).toEqual([11n, 22n, 11n]);
  });
  test('`popq 8(%rsp)` computes its address after RSP moves', () => {
    const r = run('pushq $1\n  pushq $2\n  pushq $3\n  popq 8(%rsp)\n  popq %rax\n  popq %rbx');
    expect([r.rax, r.rbx]).toEqual([2n, 3n]);
  });
});

describe('arithmetic flags (SDM vol. 1, appendix A; ADD, SUB, INC, NEG)', () => {
  test('ADD sets CF on unsigned and OF on signed overflow, at each width', () => {
    expect(run('movb $0xff, %al\n  addb $1, %al').rflags & (CF | ZF | OF)).toBe(CF | ZF);
    expect(run('movw $0x7fff, %ax\n  addw $1, %ax').rflags & (CF | OF | SF)).toBe(OF | SF);
    expect(run('movl $0x80000000, %eax\n  addl %eax, %eax').rflags & (CF | OF | ZF)).toBe(CF | OF | ZF);
    expect(run('movabsq $0x7fffffffffffffff, %rax\n  addq $1, %rax').rflags & (CF | OF | SF)).toBe(OF | SF);
  });
  test('SUB/CMP borrow and AF, PF', () => {
    const f = run('movl $0x10, %eax\n  cmpl $1, %eax').rflags;
    expect(f & (CF | AF | PF | ZF)).toBe(AF | PF); // 0x0f: four bits set, a borrow out of bit 3
    expect(run('xorl %eax, %eax\n  subq $1, %rax').rflags & (CF | SF)).toBe(CF | SF);
  });
  test('ADC/SBB use the carry in', () => {
    expect(run('stc_emulated: movq $-1, %rax\n  addq $1, %rax\n  movq $5, %rbx\n  adcq $0, %rbx').rbx).toBe(6n);
    expect(run('xorl %eax, %eax\n  subq $1, %rax\n  movq $5, %rbx\n  sbbq $0, %rbx').rbx).toBe(4n);
  });
  test('INC and DEC leave CF alone', () => {
    expect(run('movq $-1, %rax\n  addq $1, %rax\n  incq %rbx').rflags & CF).toBe(CF);
    expect(run('decq %rbx').rflags & (CF | SF)).toBe(SF);
  });
  test('NEG sets CF unless the operand was 0', () => {
    expect(run('movq $5, %rax\n  negq %rax').rflags & CF).toBe(CF);
    expect(run('xorl %eax, %eax\n  negq %rax').rflags & (CF | ZF)).toBe(ZF);
  });
  test('logic ops clear CF and OF', () => {
    expect(run('movq $-1, %rax\n  addq $1, %rax\n  orq $0, %rax').rflags & (CF | OF | ZF)).toBe(ZF);
  });
});

describe('shifts (SDM SAL/SAR/SHL/SHR)', () => {
  test('the count is masked to 5 bits (6 for 64-bit); a zero count changes no flag', () => {
    expect(run('movq $1, %rax\n  shlq $65, %rax').rax).toBe(2n);
    expect(run('movl $1, %eax\n  shll $33, %eax').rax).toBe(2n);
    const f = run('movq $-1, %rax\n  addq $1, %rax\n  movq $3, %rbx\n  shlq $0, %rbx').rflags;
    expect(f & (CF | ZF)).toBe(CF | ZF);
  });
  test('CF is the last bit shifted out; SAR keeps the sign', () => {
    expect(run('movq $3, %rax\n  shrq $1, %rax').rflags & CF).toBe(CF);
    expect(run('movq $-8, %rax\n  sarq $2, %rax').rax).toBe(0xfffffffffffffffen);
    expect(run('movabsq $0x8000000000000000, %rax\n  shlq $1, %rax').rflags & (CF | ZF | OF)).toBe(CF | ZF | OF);
  });
  test('shift by %cl', () => {
    expect(run('movq $1, %rax\n  movb $40, %cl\n  shlq %cl, %rax').rax).toBe(1n << 40n);
  });
});

describe('IMUL, XCHG, CMPXCHG', () => {
  test('IMUL truncates and sets CF=OF when the signed product does not fit (SDM IMUL)', () => {
    const r = run('movq $0x100000000, %rax\n  imulq %rax, %rax');
    expect(r.rax).toBe(0n);
    expect(r.rflags & (CF | OF)).toBe(CF | OF);
    expect(run('movq $-3, %rbx\n  imulq $7, %rbx, %rcx').rcx).toBe(BigInt.asUintN(64, -21n));
  });
  test('XCHG swaps, CMPXCHG compares with the accumulator (SDM CMPXCHG)', () => {
    expect(run('movq $1, %rax\n  movq $2, %rbx\n  xchgq %rax, %rbx').rax).toBe(2n);
    const equal = run('pushq $7\n  movq $7, %rax\n  movq $9, %rcx\n  cmpxchgq %rcx, (%rsp)\n  popq %rdx');
    expect([equal.rdx, equal.rflags & ZF]).toEqual([9n, ZF]);
    const unequal = run('pushq $7\n  movq $8, %rax\n  movq $9, %rcx\n  cmpxchgq %rcx, (%rsp)\n  popq %rdx');
    expect([unequal.rdx, unequal.rax, unequal.rflags & ZF]).toEqual([7n, 7n, 0n]);
  });
});

describe('LEA, control transfer, flags instructions', () => {
  test('LEA computes base + index*scale + disp and ignores a segment override', () => {
    expect(run('movq $0x100, %rbx\n  movq $3, %rcx\n  leaq 8(%rbx,%rcx,4), %rax').rax).toBe(0x114n);
    expect(run('leaq %gs:16, %rax').rax).toBe(16n);
  });
  test('CALL pushes the return address, RET pops it; `ret $n` drops n more bytes', () => {
    const r = run('call f\n  jmp done\nf:\n  movq (%rsp), %rbx\n  movq $1, %rax\n  ret\ndone:\n  nop');
    expect(r.rax).toBe(1n);
    expect(r.rsp).toBe(0xffffc90000008000n);
  });
  test('every condition code', () => {
    // 5 - 7: CF=1, SF=1, OF=0, ZF=0 -> b, be, s, l, le, ne taken; a, ae, g, ge, e not taken.
    const conds = ['b', 'be', 's', 'l', 'le', 'ne', 'a', 'ae', 'g', 'ge', 'e', 'o', 'no', 'ns', 'p', 'np'];
    const body = conds
      .map((c, i) => `  movq $5, %rdx\n  cmpq $7, %rdx\n  j${c} 1f\n  jmp 2f\n1: orq $${1 << i}, %rbx\n2:`)
      .join('\n');
    const r = run(`  xorl %ebx, %ebx\n${body}`);
    const taken = conds.filter((_, i) => (r.rbx >> BigInt(i)) & 1n);
    // 5 - 7 = -2 = 0xfe...fe: PF from 0xfe (seven bits) is 0.
    expect(taken.sort()).toEqual(['b', 'be', 'l', 'le', 'ne', 'no', 'np', 's'].sort());
  });
  test('STD/CLD and PUSHF/POPF', () => {
    expect(run('std').rflags & 0x400n).toBe(0x400n);
    expect(run('pushq $0xcd5\n  popfq').rflags).toBe(0xcd7n); // every status flag and DF, bit 1 always set
  });
});

describe('16-bit PUSH/POP', () => {
  test('pushw/popw move RSP by 2', () => {
    const r = run('movq $0x1234, %rax\n  pushw %ax\n  movq %rsp, %rbx\n  popw %cx');
    expect(r.rbx).toBe(0xffffc90000008000n - 2n);
    expect(r.rcx).toBe(0x1234n);
    expect(r.rsp).toBe(0xffffc90000008000n);
  });
});

test('a form the machine does not model is a diagnostic, not an exception', () => {
  const r = execSource('_start:\n  imull %eax\n  hlt\n');
  expect(r.ok).toBe(false);
  expect(r.diagnostics.some((d) => d.severity === 'error' && d.line === 2)).toBe(true);
});
