import { assemble } from '../../kernel-lib/asm';
import { asm, errorsOf, only, sym, TEXT, warningsOf } from './helpers';

const reg = (r: number, size: 1 | 2 | 4 | 8, high8 = false) =>
  high8 ? { kind: 'reg', reg: r, size, high8 } : { kind: 'reg', reg: r, size };
const mem = (base: number | 'rip' | null, disp: bigint, extra: object = {}) => ({
  kind: 'mem',
  base,
  index: null,
  scale: 1,
  disp,
  seg: null,
  ...extra,
});
const imm = (value: bigint) => ({ kind: 'imm', value });

describe('operand sizes', () => {
  it.each<[string, string, number]>([
    ['mov %rax, %rbx', 'mov', 8],
    ['add $1, %al', 'add', 1],
    ['movw %ax, (%rdi)', 'mov', 2],
    ['movl $1, (%rdi)', 'mov', 4],
    ['subq $8, %rsp', 'sub', 8],
    ['salq $3, %rax', 'shl', 8],
    ['sar %cl, %r9d', 'sar', 4],
    ['incb (%rax)', 'inc', 1],
    ['push %rax', 'push', 8],
    ['pushw %ax', 'push', 2],
    ['popq (%rsp)', 'pop', 8],
    ['push $1', 'push', 8],
    ['pushfq', 'pushf', 8],
    ['popf', 'popf', 8],
    ['xchg %eax, %ebx', 'xchg', 4],
    ['lea 8(%rsp), %ecx', 'lea', 4],
    ['movabs $1, %rax', 'mov', 8],
    ['testb $1, (%rax)', 'test', 1],
    ['not %r8', 'not', 8],
    ['negw %dx', 'neg', 2],
    ['cmpxchgq %rcx, (%rdx)', 'cmpxchg', 8],
    ['imul %rbx, %rax', 'imul', 8],
    ['jmp *%rax', 'jmp', 8],
    ['ret', 'ret', 0],
    ['iretq', 'iret', 8],
    ['sysretq', 'sysret', 8],
  ])('%s -> %s size %d', (text, op, size) => {
    expect(only(text)).toMatchObject({ op, size });
  });

  it('cmp without suffix or register: GAS warning naming file and line, size 4', () => {
    const r = assemble({ files: [{ name: 'entry.S', text: 'nop\n  cmp $1, -8(%rsp)\n' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.program.instructions[1]).toMatchObject({ op: 'cmp', size: 4 });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({
      severity: 'warning',
      file: 'entry.S',
      line: 2,
      column: 3,
      text: '  cmp $1, -8(%rsp)',
    });
    expect(r.warnings[0].message).toBe(
      "no instruction mnemonic suffix given and no register operands; using default for `cmp'",
    );
    expect(r.program.warnings).toEqual(r.warnings);
  });

  it('push/pop/call/jmp default to 8 without a warning', () => {
    expect(warningsOf('push (%rax)\npop 8(%rsp)\ncall *(%rax)\njmp *8(%rdi)\npush $1\n')).toEqual([]);
    expect(asm('push (%rax)').instructions[0].size).toBe(8);
  });

  it('mismatched sizes are errors', () => {
    expect(errorsOf('movl %rax, %ebx')[0].message).toMatch(/incorrect register `%rax' used with `l' suffix/);
    expect(errorsOf('movq %eax, (%rdi)')[0].message).toMatch(/`%eax'.*`q'/);
    expect(errorsOf('mov %eax, %rbx')[0].message).toMatch(/operand size mismatch/);
    expect(errorsOf('pushl %eax')[0].message).toMatch(/invalid instruction suffix/);
  });
});

describe('operands', () => {
  it('registers of every width', () => {
    expect(only('movb %ah, %r15b').operands).toEqual([reg(0, 1, true), reg(15, 1)]);
    expect(only('movb %sil, %dil').operands).toEqual([reg(6, 1), reg(7, 1)]);
    expect(only('movw %r8w, %bp').operands).toEqual([reg(8, 2), reg(5, 2)]);
    expect(only('movl %r13d, %esp').operands).toEqual([reg(13, 4), reg(4, 4)]);
    expect(only('movq %r10, %rsp').operands).toEqual([reg(10, 8), reg(4, 8)]);
  });

  it('control and segment registers', () => {
    expect(only('mov %cr2, %rax').operands).toEqual([{ kind: 'cr', cr: 2 }, reg(0, 8)]);
    expect(only('movq %rdi, %cr3')).toMatchObject({ size: 8, operands: [reg(7, 8), { kind: 'cr', cr: 3 }] });
    expect(only('mov %ss, %eax')).toMatchObject({ size: 4, operands: [{ kind: 'seg', seg: 'ss' }, reg(0, 4)] });
    expect(errorsOf('mov %cr2, %eax')[0].message).toMatch(/64-bit/);
    expect(errorsOf('add %cr2, %rax')[0].message).toMatch(/invalid operand/);
  });

  it('memory forms', () => {
    expect(only('movq (%rax), %rbx').operands[0]).toEqual(mem(0, 0n));
    expect(only('movq 8(%rax,%rcx,4), %rbx').operands[0]).toEqual({
      kind: 'mem',
      base: 0,
      index: 1,
      scale: 4,
      disp: 8n,
      seg: null,
    });
    expect(only('movq (,%rcx,8), %rbx').operands[0]).toEqual({
      kind: 'mem',
      base: null,
      index: 1,
      scale: 8,
      disp: 0n,
      seg: null,
    });
    expect(only('movq 0x1000, %rbx').operands[0]).toEqual(mem(null, 0x1000n));
    expect(only('movq %gs:0x10, %rbx').operands[0]).toEqual(mem(null, 0x10n, { seg: 'gs' }));
    expect(only('movq %gs:8(%rax), %rbx').operands[0]).toEqual(mem(0, 8n, { seg: 'gs' }));
    expect(only('movq %fs:(%rax), %rbx').operands[0]).toEqual(mem(0, 0n, { seg: 'fs' }));
    expect(errorsOf('movq (%eax), %rbx')[0].message).toMatch(/64-bit address/);
    expect(errorsOf('movq (%rax,%rsp), %rbx')[0].message).toMatch(/%rsp cannot be an index/);
    expect(errorsOf('movq 8(%rax,%rcx,3), %rbx')[0].message).toMatch(/scale/);
    expect(errorsOf('movq %foo, %rbx')[0].message).toMatch(/bad register name `%foo'/);
  });

  it('rip-relative displacement is relative to the next instruction', () => {
    const p = asm('nop\nmovq data(%rip), %rax\nmovq %gs:data(%rip), %rcx\ndata: .quad 0\n');
    const [, a, b] = p.instructions;
    expect(a.length).toBe(7);
    expect(a.operands[0]).toEqual(mem('rip', sym(p, 'data') - (a.address + 7n)));
    expect(b.operands[0]).toEqual(mem('rip', sym(p, 'data') - (b.address + BigInt(b.length)), { seg: 'gs' }));
    expect(b.length).toBe(8);
    const back = asm('here: nop\nleaq here(%rip), %rdx\n').instructions[1];
    expect(back.operands[0]).toMatchObject({ disp: -(1n + 7n) });
  });

  it('leaq sym, %rdx and movq $sym, %rdx load the address', () => {
    const p = asm('leaq target, %rdx\nmovq $target, %rdx\nmovq $target+8, %rdx\ntarget: ret\n');
    const t = sym(p, 'target');
    expect(t).toBe(TEXT + 8n + 7n + 7n);
    expect(p.instructions[0].operands[0]).toEqual(mem(null, BigInt.asIntN(64, t)));
    expect(p.instructions[1].operands[0]).toEqual(imm(t));
    expect(p.instructions[2].operands[0]).toEqual(imm(t + 8n));
  });

  it('indirect and direct branches', () => {
    const p = asm('x: jmp *%rax\ncall *8(%rdi)\njmp *tbl(%rip)\ncall x\njmp x\njnz x\ntbl: .quad x\n');
    expect(p.instructions.map((i) => i.operands[0].kind)).toEqual(['reg', 'mem', 'mem', 'target', 'target', 'target']);
    expect(p.instructions[5]).toMatchObject({ op: 'jcc', cond: 'ne', operands: [{ kind: 'target', address: TEXT }] });
    expect(warningsOf('jmp %rax')[0].message).toMatch(/without `\*'/);
  });
});

describe('mnemonics', () => {
  const conds: Array<[string, string]> = [
    ['jo', 'o'],
    ['jno', 'no'],
    ['jb', 'b'],
    ['jc', 'b'],
    ['jnae', 'b'],
    ['jae', 'ae'],
    ['jnb', 'ae'],
    ['jnc', 'ae'],
    ['je', 'e'],
    ['jz', 'e'],
    ['jne', 'ne'],
    ['jnz', 'ne'],
    ['jbe', 'be'],
    ['jna', 'be'],
    ['ja', 'a'],
    ['jnbe', 'a'],
    ['js', 's'],
    ['jns', 'ns'],
    ['jp', 'p'],
    ['jpe', 'p'],
    ['jnp', 'np'],
    ['jpo', 'np'],
    ['jl', 'l'],
    ['jnge', 'l'],
    ['jge', 'ge'],
    ['jnl', 'ge'],
    ['jle', 'le'],
    ['jng', 'le'],
    ['jg', 'g'],
    ['jnle', 'g'],
  ];
  it.each(conds)('%s -> jcc %s', (m, cond) => {
    expect(only(`1: ${m} 1b`)).toMatchObject({ op: 'jcc', cond, length: 6 });
  });

  it.each<[string, string, number, number?]>([
    ['movzbl %al, %eax', 'movzx', 4, 1],
    ['movzbw (%rax), %ax', 'movzx', 2, 1],
    ['movzbq %al, %rax', 'movzx', 8, 1],
    ['movzwl %ax, %eax', 'movzx', 4, 2],
    ['movzwq (%rsi), %rax', 'movzx', 8, 2],
    ['movsbl %al, %eax', 'movsx', 4, 1],
    ['movsbw %al, %ax', 'movsx', 2, 1],
    ['movsbq %al, %rax', 'movsx', 8, 1],
    ['movswl %ax, %eax', 'movsx', 4, 2],
    ['movswq %ax, %rax', 'movsx', 8, 2],
    ['movslq %eax, %rax', 'movsx', 8, 4],
    ['movzx %al, %ecx', 'movzx', 4, 1],
    ['movsx %ax, %rcx', 'movsx', 8, 2],
    ['movsxd %eax, %rcx', 'movsx', 8, 4],
  ])('%s -> %s %d from %d', (text, op, size, srcSize) => {
    expect(only(text)).toMatchObject({ op, size, srcSize });
  });

  it.each<[string, string]>([
    ['int3', 'int3'],
    ['int $3', 'int3'],
    ['ud2', 'ud2'],
    ['hlt', 'hlt'],
    ['nop', 'nop'],
    ['cli', 'cli'],
    ['sti', 'sti'],
    ['std', 'std'],
    ['cld', 'cld'],
    ['iretq', 'iret'],
    ['swapgs', 'swapgs'],
    ['rdmsr', 'rdmsr'],
    ['wrmsr', 'wrmsr'],
    ['syscall', 'syscall'],
    ['sysretq', 'sysret'],
    ['erets', 'erets'],
    ['eretu', 'eretu'],
    ['pushfq', 'pushf'],
    ['popfq', 'popf'],
    ['ret $8', 'ret'],
    ['retq', 'ret'],
    ['sal %rax', 'shl'],
    ['shlq %rax', 'shl'],
    ['movabsq $0x123456789, %rax', 'mov'],
    ['lock cmpxchgq %rcx, (%rdx)', 'cmpxchg'],
    ['lock incl (%rax)', 'inc'],
    ['imul $3, %rax, %rbx', 'imul'],
    ['imul $3, %rax', 'imul'],
  ])('%s -> %s', (text, op) => {
    expect(only(text).op).toBe(op);
  });

  it('shift forms', () => {
    expect(only('shl %rax').operands).toEqual([reg(0, 8)]);
    expect(only('shl $3, %rax').operands).toEqual([imm(3n), reg(0, 8)]);
    expect(only('shl %cl, %rax').operands).toEqual([reg(1, 1), reg(0, 8)]);
    expect(errorsOf('shl %dl, %rax')[0].message).toMatch(/%cl/);
  });

  it('unsupported and wrong spellings', () => {
    expect(errorsOf('iret')[0].message).toMatch(/use `iretq'/);
    expect(errorsOf('iretl')[0].message).toMatch(/use `iretq'/);
    expect(errorsOf('sysret')[0].message).toMatch(/use `sysretq'/);
    expect(errorsOf('rep movsb')[0].message).toMatch(/unsupported instruction `rep'/);
    expect(errorsOf('frobq %rax')[0].message).toMatch(/unknown instruction mnemonic `frobq'/);
    expect(errorsOf('imul %rbx')[0].message).toMatch(/not supported/);
    expect(errorsOf('int $0x80')[0].message).toMatch(/int \$3/);
    expect(errorsOf('movzx (%rax), %ecx')[0].message).toMatch(/ambiguous/);
  });
});

describe('immediates', () => {
  it('64-bit operations take sign-extended 32-bit immediates', () => {
    expect(only('addq $0xffffffff81000000, %rax').operands[0]).toEqual(imm(0xffffffff81000000n));
    expect(only('andq $-8, %rsp').operands[0]).toEqual(imm(-8n));
    expect(errorsOf('addq $0x123456789, %rax')[0].message).toBe(
      'immediate 0x123456789 does not fit in a sign-extended 32-bit field; use movabs',
    );
    expect(errorsOf('pushq $0x80000000')[0].message).toMatch(/sign-extended 32-bit/);
    expect(errorsOf('movq $0x123456789, (%rax)')[0].message).toMatch(/sign-extended 32-bit/);
  });

  it('mov $imm64, %reg64 and movabs take any 64-bit value (10-byte form)', () => {
    expect(only('movq $0x123456789, %rax')).toMatchObject({ length: 10, operands: [imm(0x123456789n), reg(0, 8)] });
    expect(only('movabs $0x1, %rax').length).toBe(10);
    expect(only('movq $1, %rax').length).toBe(7);
  });

  it('symbols as 64-bit immediates must fit sign-extended 32 bits', () => {
    const errs = errorsOf('movq $target, %rax\ntarget:\n', { sectionBases: { '.text': 0x123456789000n } });
    expect(errs[0].message).toMatch(/use movabs/);
    expect(
      asm('movabsq $target, %rax\ntarget:\n', { sectionBases: { '.text': 0x123456789000n } }).instructions[0]
        .operands[0],
    ).toEqual(imm(0x12345678900an));
  });

  it('narrow immediates that do not fit are truncated with a warning', () => {
    const r = assemble({ files: [{ name: 't.S', text: 'movb $300, %al\nmovb $-1, %al\nmovb $255, %al\n' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.program.instructions.map((i) => i.operands[0])).toEqual([imm(44n), imm(-1n), imm(255n)]);
    expect(r.warnings.map((w) => [w.line, w.message])).toEqual([[1, '0x12c shortened to 0x2c']]);
  });

  it('absolute addresses must fit a sign-extended disp32', () => {
    expect(errorsOf('movq 0x123456789, %rax')[0].message).toMatch(/absolute address/);
    expect(only('movabs 0x123456789, %rax').operands[0]).toEqual(mem(null, 0x123456789n));
  });
});
