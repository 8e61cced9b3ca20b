import { assemble } from '../../kernel-lib/asm';
import { asm, errorsOf, only, sym, TEXT } from './helpers';

const section = (p: ReturnType<typeof asm>, name: string) => {
  const s = p.sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name}`);
  return s;
};
const bytes = (p: ReturnType<typeof asm>, name: string): number[] => Array.from(section(p, name).bytes);

describe('data directives', () => {
  it('.quad/.long/.int/.word/.short/.byte little-endian, with symbols', () => {
    const p = asm(
      '.data\nd: .quad 0x1122334455667788, d\n.long 1, -1\n.int 2\n.word 0x1234\n.short 5\n.byte 1, 2, 0xff\n',
    );
    const b = bytes(p, '.data');
    const base = section(p, '.data').address;
    expect(b.slice(0, 8)).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    expect(new DataView(section(p, '.data').bytes.buffer).getBigUint64(8, true)).toBe(base);
    expect(b.slice(16)).toEqual([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0x34, 0x12, 5, 0, 1, 2, 0xff]);
  });

  it('.ascii, .asciz, .string with escapes', () => {
    const p = asm('.data\n.ascii "ab\\n"\n.asciz "c"\n.string "d\\"", "\\x41\\101"\n');
    expect(bytes(p, '.data')).toEqual([97, 98, 10, 99, 0, 100, 34, 0, 0x41, 0x41, 0]);
  });

  it('.skip/.space/.zero/.fill', () => {
    const p = asm('.data\n.skip 2\n.space 2, 0xaa\n.zero 1\n.fill 2, 2, 0x0102\n.fill 1\n');
    expect(bytes(p, '.data')).toEqual([0, 0, 0xaa, 0xaa, 0, 2, 1, 2, 1, 0]);
  });

  it('.align (bytes on x86), .balign, .p2align; code padding is nop', () => {
    const p = asm('nop\n.align 8\na: nop\n.p2align 4\nb: nop\n.balign 4, 0xcc\nc:\n.data\n.byte 1\n.align 4\nd:\n');
    expect(sym(p, 'a') - TEXT).toBe(8n);
    expect(sym(p, 'b') - TEXT).toBe(16n);
    expect(sym(p, 'c') - TEXT).toBe(20n);
    expect(bytes(p, '.text').slice(17, 20)).toEqual([0xcc, 0xcc, 0xcc]);
    expect(bytes(p, '.data')).toEqual([1, 0, 0, 0]);
    expect(errorsOf('.align 3\n')[0].message).toMatch(/power of 2/);
  });

  it('warns when a value does not fit', () => {
    const r = assemble({ files: [{ name: 't.S', text: '.byte 256\n.byte -1, 255\n' }] });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0].message).toMatch(/truncated/);
  });
});

describe('symbols', () => {
  it('.set/.equ/= and predefined symbols', () => {
    const p = asm('.set A, 3\n.equ B, A*2\nC = B + 1\nmovq $C+__KERNEL_CS, %rax\n', {
      symbols: { __KERNEL_CS: 0x10n },
    });
    expect(p.instructions[0].operands[0]).toEqual({ kind: 'imm', value: 0x17n });
    expect(p.symbols.get('C')).toEqual({ name: 'C', value: 7n, section: null, global: false });
    expect(p.symbols.has('__KERNEL_CS')).toBe(false);
  });

  it('forward references to .set symbols resolve after layout', () => {
    const p = asm('movl $SIZE, %eax\nstart: .skip 12\nend:\nSIZE = end - start\n');
    expect(p.instructions[0].operands[0]).toEqual({ kind: 'imm', value: 12n });
  });

  it('.globl marks symbols global; duplicates are errors', () => {
    const p = asm('.globl nmi, other\n.global third\nnmi: other: third: nop\nlocal_one: nop\n');
    expect(['nmi', 'other', 'third'].map((n) => p.symbols.get(n)!.global)).toEqual([true, true, true]);
    expect(p.symbols.get('local_one')!.global).toBe(false);
    expect(errorsOf('x: nop\nx: nop\n')[0]).toMatchObject({
      line: 2,
      message: expect.stringMatching(/already defined/),
    });
  });

  it('numeric local labels are not in the symbol table', () => {
    const p = asm('1: nop\n2: jmp 1b\n1: jmp 1f\n1: ret\n');
    expect([...p.symbols.keys()]).toEqual([]);
    expect(p.instructions[1].operands[0]).toEqual({ kind: 'target', address: TEXT });
    expect(p.instructions[2].operands[0]).toEqual({ kind: 'target', address: TEXT + 1n + 5n + 5n });
    expect(errorsOf('jmp 3f\n')[0].message).toMatch(/undefined symbol `3f'/);
    expect(errorsOf('jmp 3b\n')[0].message).toMatch(/3b/);
  });
});

describe('sections', () => {
  it('default .text base, others page-aligned after the highest one, in order of appearance', () => {
    const p = asm('nop\n.data\n.quad 1\n.section .entry.text, "ax"\nret\n.bss\n.skip 8\n');
    expect(p.sections.map((s) => [s.name, s.address])).toEqual([
      ['.text', TEXT],
      ['.data', TEXT + 0x1000n],
      ['.entry.text', TEXT + 0x2000n],
      ['.bss', TEXT + 0x3000n],
    ]);
    expect(bytes(p, '.text')).toEqual([0x90]);
    expect(bytes(p, '.bss')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('sectionBases override placement', () => {
    const p = asm('nop\n.data\nx: .byte 1\n', { sectionBases: { '.text': 0x1000n, '.data': 0x8000n } });
    expect(p.instructions[0].address).toBe(0x1000n);
    expect(sym(p, 'x')).toBe(0x8000n);
    const q = asm('.data\n.byte 1\n.text\nnop\n', { sectionBases: { '.text': 0x400000n } });
    expect(section(q, '.data').address).toBe(0x401000n);
  });

  it('.pushsection/.popsection and .previous', () => {
    const p = asm(
      'a: nop\n.pushsection .data\nd: .byte 1\n.popsection\nb: nop\n.data\n.previous\nc: nop\n.previous\ne: .byte 2\n',
    );
    expect([sym(p, 'a'), sym(p, 'b'), sym(p, 'c')].map((v) => v - TEXT)).toEqual([0n, 1n, 2n]);
    expect(p.symbols.get('d')!.section).toBe('.data');
    expect(p.symbols.get('e')!).toMatchObject({ section: '.data', value: sym(p, 'd') + 1n });
  });
});

describe('accepted and rejected directives', () => {
  it('ignores CFI, .type, .size, .file, .loc, .ident, .code64', () => {
    const src =
      '.file "x.c"\n.code64\n.type f, @function\nf:\n.cfi_startproc\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset rip, 0\n.loc 1 2 3\nnop\n.cfi_endproc\n.size f, .-f\n.ident "gcc"\n';
    expect(asm(src).instructions).toHaveLength(1);
  });

  it('.intel_syntax is an error; unknown directives are errors', () => {
    expect(errorsOf('.intel_syntax noprefix\n')[0].message).toMatch(/intel_syntax is not supported/);
    expect(errorsOf('.frobnicate 1\n')[0].message).toMatch(/unknown directive `\.frobnicate'/);
  });

  it('.if/.else/.endif and .ifdef', () => {
    const p = asm(
      'X = 1\n.if X\na: nop\n.else\nb: nop\n.endif\n.ifdef Y\nc: nop\n.elseif X == 1\nd: nop\n.endif\n.ifndef Y\ne: nop\n.endif\n',
    );
    expect([...p.symbols.keys()].sort()).toEqual(['X', 'a', 'd', 'e']);
  });

  it('# comments, /* */ comments and ; separators', () => {
    const p = asm('nop # comment ; not a statement\nnop; nop /* c */; hlt\n.ascii "# not; a comment"\n');
    expect(p.instructions.map((i) => i.op)).toEqual(['nop', 'nop', 'nop', 'hlt']);
  });

  it('only() helper sanity', () => {
    expect(only('ret').op).toBe('ret');
  });
});
