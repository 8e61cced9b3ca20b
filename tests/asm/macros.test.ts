import { asm, errorsOf, sym, TEXT } from './helpers';

const TEST_IN_NMI = `
 .macro test_in_nmi reg stack nmi_ret normal_ret
 cmpq %\\reg, \\stack
 ja \\normal_ret
 subq $4096, %\\reg
 cmpq %\\reg, \\stack
 jb \\normal_ret
 jmp \\nmi_ret
 .endm
`;

describe('.macro', () => {
  it('expands the RFC test_in_nmi macro with comma-separated arguments', () => {
    const p = asm(`${TEST_IN_NMI}
      test_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi
nested_nmi: nop
first_nmi: nop
`);
    const [c1, ja, sub, c2, jb, jmp] = p.instructions;
    expect(p.instructions.map((i) => i.text)).toEqual([
      'cmpq %rdx, 4*8(%rsp)',
      'ja first_nmi',
      'subq $4096, %rdx',
      'cmpq %rdx, 4*8(%rsp)',
      'jb first_nmi',
      'jmp nested_nmi',
      'nop',
      'nop',
    ]);
    expect(c1.operands).toEqual([
      { kind: 'reg', reg: 2, size: 8 },
      { kind: 'mem', base: 4, index: null, scale: 1, disp: 32n, seg: null },
    ]);
    expect(ja).toMatchObject({ op: 'jcc', cond: 'a', operands: [{ kind: 'target', address: sym(p, 'first_nmi') }] });
    expect(sub.operands[0]).toEqual({ kind: 'imm', value: 4096n });
    expect(c2.size).toBe(8);
    expect(jb.cond).toBe('b');
    expect(jmp.operands[0]).toEqual({ kind: 'target', address: sym(p, 'nested_nmi') });
    // code from a macro points at the invocation
    expect(c1.loc).toEqual({ file: 'test.S', line: 11, column: 7 });
  });

  it('accepts space-separated arguments, defaults, named arguments, :req and :vararg', () => {
    const p = asm(`
.macro load dst, src=8, scale=1
  movq \\src*\\scale(%rsp), %\\dst
.endm
.macro many first:req rest:vararg
  .quad \\first, \\rest
.endm
load rax
load rbx 16
load rcx, scale=2
many 1, 2, 3
`);
    expect(p.instructions.map((i) => i.operands[0])).toEqual([
      expect.objectContaining({ disp: 8n }),
      expect.objectContaining({ disp: 16n }),
      expect.objectContaining({ disp: 16n }),
    ]);
    expect(p.instructions.map((i) => (i.operands[1] as { reg: number }).reg)).toEqual([0, 3, 1]);
    const text = p.sections[0].bytes;
    expect(Array.from(text.slice(text.length - 24)).filter((_, k) => k % 8 === 0)).toEqual([1, 2, 3]);
    expect(errorsOf('.macro m a:req\n.endm\nm\n')[0].message).toMatch(/required parameter `a'/);
  });

  it('supports \\() separators, \\@ and nested macros', () => {
    const p = asm(`
.macro def_label name
\\name\\()_start: nop
.endm
.macro twice name
  def_label \\name\\()1
  def_label \\name\\()2
.endm
.macro uniq
  lbl_\\@: nop
.endm
twice foo
uniq
uniq
`);
    expect(p.symbols.has('foo1_start') && p.symbols.has('foo2_start')).toBe(true);
    expect([...p.symbols.keys()].filter((n) => /^lbl_\d+$/.test(n))).toHaveLength(2);
  });

  it('.exitm stops the expansion', () => {
    const p = asm('.macro m\n nop\n .exitm\n hlt\n.endm\nm\nud2\n');
    expect(p.instructions.map((i) => i.op)).toEqual(['nop', 'ud2']);
  });

  it('pushq_cfi-style wrappers around instructions', () => {
    const p = asm(
      '.macro pushq_cfi reg\n pushq \\reg\n .cfi_adjust_cfa_offset 8\n.endm\npushq_cfi %rdx\npushq_cfi $1\npushq_cfi 6*8(%rsp)\n',
    );
    expect(p.instructions.map((i) => i.operands[0].kind)).toEqual(['reg', 'imm', 'mem']);
  });

  it('stops runaway recursion with a clear error', () => {
    const errs = errorsOf('.macro forever\n forever\n.endm\nforever\n');
    expect(errs).toHaveLength(1);
    expect(errs[0].message).toMatch(/nested too deeply.*forever/);
    expect(errs[0].line).toBe(4);
  });

  it('errors inside a macro body point at the invocation and name the macro', () => {
    const errs = errorsOf('.macro broken reg\n  movl %\\reg, %ebx\n.endm\n\n  broken rax\n');
    expect(errs[0]).toMatchObject({ line: 5, column: 3, text: '  broken rax' });
    expect(errs[0].message).toMatch(/`broken'/);
    expect(errs[0].message).toMatch(/movl %rax, %ebx/);
  });

  it('reports a missing .endm', () => {
    expect(errorsOf('.macro m\n nop\n')[0].message).toMatch(/missing \.endm/);
  });
});

describe('.rept / .irp / .irpc', () => {
  it('.rept N repeats, with .set counters', () => {
    const p = asm('.set i, 0\n.rept 5\n pushq 6*8(%rsp)\n movq $i, %rax\n .set i, i+1\n.endr\n');
    expect(p.instructions).toHaveLength(10);
    expect(p.instructions.filter((i) => i.op === 'mov').map((i) => (i.operands[0] as { value: bigint }).value)).toEqual(
      [0n, 1n, 2n, 3n, 4n],
    );
    expect(p.instructions[0].address).toBe(TEXT);
    expect(p.instructions[2].address).toBe(TEXT + 4n + 7n);
  });

  it('.rept 0 and nested .rept', () => {
    expect(asm('.rept 0\nnop\n.endr\nhlt').instructions).toHaveLength(1);
    expect(asm('.rept 3\n.rept 4\nnop\n.endr\n.endr').instructions).toHaveLength(12);
  });

  it('.irp and .irpc substitute each value', () => {
    const p = asm('.irp reg, rax, rbx, r12\n pushq %\\reg\n.endr\n.irpc n, 123\n .byte \\n\n.endr\n');
    expect(p.instructions.map((i) => (i.operands[0] as { reg: number }).reg)).toEqual([0, 3, 12]);
    expect(Array.from(p.sections[0].bytes.slice(-3))).toEqual([1, 2, 3]);
    expect(asm('.irp r rsi rdi\n popq %\\r\n.endr\n').instructions).toHaveLength(2);
  });

  it('numeric local labels are re-definable inside repeats', () => {
    const p = asm('.rept 3\n1: jmp 1b\n.endr\n');
    expect(p.instructions.map((i) => i.operands[0])).toEqual(
      [0n, 5n, 10n].map((d) => ({ kind: 'target', address: TEXT + d })),
    );
  });

  it('limits expansion instead of hanging', () => {
    const errs = errorsOf('.rept 100000000\nnop\n.endr\n');
    expect(errs[0].message).toMatch(/too large/);
    const nested = errorsOf('.rept 10000\n.rept 10000\nnop\n.endr\n.endr\n');
    expect(nested[0].message).toMatch(/too large|too many/);
  });
});
