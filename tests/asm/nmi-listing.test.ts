// An RFC-style NMI entry (written for this test in the style of the 2011 "NMI iret woes" patch):
// cpp macros, pushq_cfi-style .macro wrappers, the test_in_nmi macro, .rept 5 frame copies,
// numeric local labels and the nested_nmi / first_nmi / repeat_nmi / end_repeat_nmi labels.
import { Instruction, Program } from '../../kernel-lib/asm';
import { asm, sym, TEXT } from './helpers';

const CALLING_H = `
#define ENTRY(name) .globl name; .type name, @function; name:
#define END(name) .size name, .-name
#define INTERRUPT_RETURN iretq
#define FRAME_WORDS 5
`;

const LISTING = `#include "calling.h"
/* Macros that push and keep the CFI annotations in step (no-ops here). */
	.macro pushq_cfi reg
	pushq \\reg
	.cfi_adjust_cfa_offset 8
	.endm

	.macro popq_cfi reg
	popq \\reg
	.cfi_adjust_cfa_offset -8
	.endm

/* Is \\stack (the interrupted RSP) within the 4 KiB NMI stack that \\reg points to the top of? */
	.macro test_in_nmi reg stack nmi_ret normal_ret
	cmpq %\\reg, \\stack
	ja \\normal_ret
	subq $4096, %\\reg
	cmpq %\\reg, \\stack
	jb \\normal_ret
	jmp \\nmi_ret
	.endm

	.text
ENTRY(nmi)
	.cfi_startproc
	pushq_cfi %rdx			# scratch register for the checks below
	cmpl $1, -8(%rsp)		# "NMI executing" variable set?
	je nested_nmi
	lea 6*8(%rsp), %rdx
	test_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi

nested_nmi:
	leaq repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja 1f
	leaq end_repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja nested_nmi_out
1:
	leaq -6*8(%rsp), %rdi
	movq %rdi, %rsp
	pushq $__KERNEL_DS
	pushq %rdi
	pushfq
	pushq $__KERNEL_CS
	leaq repeat_nmi, %rdx
	pushq_cfi %rdx
	addq $(11*8), %rsp
nested_nmi_out:
	popq_cfi %rdx
	INTERRUPT_RETURN

first_nmi:
	pushq_cfi $1
	.rept FRAME_WORDS
	pushq_cfi 6*8(%rsp)
	.endr
	.rept FRAME_WORDS
	pushq_cfi 4*8(%rsp)
	.endr
	movq 11*8(%rsp), %rdx
restart_nmi:
	pushq_cfi $-1
	call do_nmi
	movq $0, 10*8(%rsp)
	INTERRUPT_RETURN
	.cfi_endproc
END(nmi)

repeat_nmi:
	movq $1, 5*8(%rsp)
	.rept 5
	pushq 4*8(%rsp)
	.endr
	jmp restart_nmi
end_repeat_nmi:

do_nmi:
	movq %gs:nmi_count(%rip), %rax
	incq %rax
	movq %rax, %gs:nmi_count(%rip)
	ret

	.data
nmi_count:	.quad 0
nmi_vector:	.quad nmi
`;

describe('RFC-style NMI entry listing', () => {
  let p: Program;
  beforeAll(() => {
    p = asm(LISTING, { includes: { 'calling.h': CALLING_H }, symbols: { __KERNEL_CS: 0x10n, __KERNEL_DS: 0x18n } });
  });
  const at = (label: string): Instruction => {
    const i = p.instructions.find((x) => x.address === sym(p, label));
    if (!i) throw new Error(`no instruction at ${label}`);
    return i;
  };
  const target = (i: Instruction): bigint => (i.operands[0] as { address: bigint }).address;

  it('assembles without warnings, at increasing addresses that add up', () => {
    expect(p.warnings).toEqual([]);
    expect(p.instructions[0].address).toBe(TEXT);
    for (let k = 1; k < p.instructions.length; k++) {
      const prev = p.instructions[k - 1];
      expect(p.instructions[k].address).toBe(prev.address + BigInt(prev.length));
    }
    // nmi 4 + test_in_nmi 6, nested_nmi 6, 1: 9, out 2, first_nmi 12, restart 4, repeat 7, do_nmi 4
    expect(p.instructions).toHaveLength(10 + 6 + 9 + 2 + 12 + 4 + 7 + 4);
  });

  it('resolves the labels', () => {
    expect(p.symbols.get('nmi')).toMatchObject({ value: TEXT, section: '.text', global: true });
    const order = [
      'nmi',
      'nested_nmi',
      'nested_nmi_out',
      'first_nmi',
      'restart_nmi',
      'repeat_nmi',
      'end_repeat_nmi',
      'do_nmi',
    ];
    const values = order.map((n) => sym(p, n));
    expect([...values].sort((a, b) => (a < b ? -1 : 1))).toEqual(values);
    expect(p.symbols.get('nmi_count')!.section).toBe('.data');
  });

  it('has the right operands at the interesting places', () => {
    const [push, cmp, je, lea, cmpStack, ja] = p.instructions;
    expect(push).toMatchObject({ op: 'push', size: 8, operands: [{ kind: 'reg', reg: 2, size: 8 }] });
    expect(cmp).toMatchObject({ op: 'cmp', size: 4, text: 'cmpl $1, -8(%rsp)' });
    expect(cmp.operands).toEqual([
      { kind: 'imm', value: 1n },
      { kind: 'mem', base: 4, index: null, scale: 1, disp: -8n, seg: null },
    ]);
    expect(je).toMatchObject({ op: 'jcc', cond: 'e' });
    expect(target(je)).toBe(sym(p, 'nested_nmi'));
    expect(lea.operands[0]).toMatchObject({ base: 4, disp: 48n });
    expect(cmpStack.operands[1]).toMatchObject({ base: 4, disp: 32n });
    expect(target(ja)).toBe(sym(p, 'first_nmi'));

    expect(at('nested_nmi').operands[0]).toEqual({
      kind: 'mem',
      base: null,
      index: null,
      scale: 1,
      disp: BigInt.asIntN(64, sym(p, 'repeat_nmi')),
      seg: null,
    });
    const ja1 = p.instructions.find((i) => i.text === 'ja 1f')!;
    expect(target(ja1)).toBe(p.instructions.find((i) => i.text === 'leaq -6*8(%rsp), %rdi')!.address);
    expect(p.instructions.filter((i) => i.text.startsWith('pushq $__KERNEL')).map((i) => i.operands[0])).toEqual([
      { kind: 'imm', value: 0x18n },
      { kind: 'imm', value: 0x10n },
    ]);
    expect(at('nested_nmi_out')).toMatchObject({ op: 'pop' });
    expect(p.instructions.filter((i) => i.op === 'iret')).toHaveLength(2);
  });

  it('expands the .rept frame copies', () => {
    const first = p.instructions.findIndex((i) => i.address === sym(p, 'first_nmi'));
    const copies = p.instructions.slice(first + 1, first + 11);
    expect(copies.map((i) => (i.operands[0] as { disp: bigint }).disp)).toEqual([
      48n,
      48n,
      48n,
      48n,
      48n,
      32n,
      32n,
      32n,
      32n,
      32n,
    ]);
    expect(copies.every((i) => i.op === 'push' && i.length === 4)).toBe(true); // ff 74 24 30
    expect(at('restart_nmi').operands[0]).toEqual({ kind: 'imm', value: -1n });
    const back = p.instructions.find((i) => i.text === 'jmp restart_nmi')!;
    expect(target(back)).toBe(sym(p, 'restart_nmi'));
    expect(sym(p, 'end_repeat_nmi')).toBe(back.address + 5n);
  });

  it('per-cpu rip-relative access and data', () => {
    const load = at('do_nmi');
    expect(load.operands[0]).toEqual({
      kind: 'mem',
      base: 'rip',
      index: null,
      scale: 1,
      disp: sym(p, 'nmi_count') - (load.address + BigInt(load.length)),
      seg: 'gs',
    });
    const data = p.sections.find((s) => s.name === '.data')!;
    expect(new DataView(data.bytes.buffer).getBigUint64(8, true)).toBe(sym(p, 'nmi'));
  });

  it('locations point into the file the code came from', () => {
    expect(p.instructions[0].loc).toEqual({ file: 'test.S', line: 26, column: 2 }); // the pushq_cfi invocation
    expect(p.instructions[1].loc).toEqual({ file: 'test.S', line: 27, column: 2 });
  });
});
