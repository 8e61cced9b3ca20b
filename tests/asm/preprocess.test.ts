import { assemble } from '../../kernel-lib/asm';
import { asm, errorsOf, only, sym } from './helpers';

describe('C preprocessor subset', () => {
  it('expands object-like macros and predefined defines', () => {
    const i = only('#define KCS 0x10\npushq $KCS\n');
    expect(i.operands[0]).toEqual({ kind: 'imm', value: 0x10n });
    expect(only('movl $VALUE, %eax', { defines: { VALUE: '(3 + 4)' } }).operands[0]).toEqual({
      kind: 'imm',
      value: 7n,
    });
  });

  it('expands function-like macros, including ENTRY(name)', () => {
    const p = asm(
      '#define ENTRY(name) .globl name; name:\n#define END(name) .size name, .-name\nENTRY(my_entry)\n  nop\nEND(my_entry)\n',
    );
    expect(p.symbols.get('my_entry')).toMatchObject({ global: true, section: '.text', value: 0xffffffff81000000n });
    expect(p.instructions.map((i) => i.op)).toEqual(['nop']);
  });

  it('handles nested macros, several arguments and ## pasting', () => {
    const i = only('#define OFF(a, b) ((a) * 8 + (b))\n#define R(n) %r ## n\nmovq OFF(2, OFF(1, 0))(%rsp), R(12)\n');
    expect(i.operands).toEqual([
      { kind: 'mem', base: 4, index: null, scale: 1, disp: 24n, seg: null },
      { kind: 'reg', reg: 12, size: 8 },
    ]);
  });

  it('does not re-expand a macro inside itself', () => {
    const p = asm('#define LOOP LOOP+1\n#define A B\n#define B A\nx = 5\nA: .quad x + LOOP\n', {
      symbols: { LOOP: 10n },
    });
    expect(p.symbols.has('A')).toBe(true); // A -> B -> A stops
    expect(p.sections[0].bytes[0]).toBe(16); // x + LOOP+1: LOOP expands once
  });

  it('joins backslash-continued lines', () => {
    const p = asm('#define TWO_NOPS \\\n  nop; \\\n  nop\nTWO_NOPS\n');
    expect(p.instructions).toHaveLength(2);
  });

  it('#ifdef / #ifndef / #if / #elif / #else / #endif, with defined()', () => {
    const src = [
      '#define CONFIG_A 1',
      '#ifdef CONFIG_A',
      'a1: nop',
      '#else',
      'a2: nop',
      '#endif',
      '#ifndef CONFIG_B',
      'b1: nop',
      '#endif',
      '#if 0',
      'junk that would not assemble',
      '#elif defined(CONFIG_A) && CONFIG_A == 1',
      'c1: nop',
      '#else',
      'c2: nop',
      '#endif',
      '#if 1',
      '#if 0',
      'd0: nop',
      '#else',
      'd1: nop',
      '#endif',
      '#endif',
      '#undef CONFIG_A',
      '#ifdef CONFIG_A',
      'e0: nop',
      '#endif',
      '#if (2 + 3) * 2 == 10',
      'f1: nop',
      '#endif',
    ].join('\n');
    const p = asm(src);
    expect([...p.symbols.keys()].sort()).toEqual(['a1', 'b1', 'c1', 'd1', 'f1']);
  });

  it('#include from options.includes, with locations in the included file', () => {
    const includes = { 'calling.h': '#define SAVE pushq %rdi\nsaved_marker = 1\n', 'bad.h': 'nop\nbogus %rax\n' };
    const p = asm('#include "calling.h"\nSAVE\n', { includes });
    expect(p.instructions[0].op).toBe('push');
    expect(sym(p, 'saved_marker')).toBe(1n);
    const errs = errorsOf('#include <bad.h>\n', { includes });
    expect(errs[0]).toMatchObject({ file: 'bad.h', line: 2, text: 'bogus %rax' });
  });

  it('reports a missing include naming the file', () => {
    const errs = errorsOf('nop\n#include "missing.h"\n');
    expect(errs[0].message).toMatch(/missing\.h/);
    expect(errs[0]).toMatchObject({ file: 'test.S', line: 2 });
  });

  it('treats unknown # lines as comments and strips /* */ comments', () => {
    const p = asm('# this is a comment\n#\n/* a\n  multi-line\n comment */ nop /* inline */ ; nop # trailing\n');
    expect(p.instructions).toHaveLength(2);
    expect(p.instructions[0].loc).toEqual({ file: 'test.S', line: 5, column: 13 });
  });

  it('__LINE__ and __FILE__', () => {
    const p = asm('nop\nx = __LINE__\n');
    expect(sym(p, 'x')).toBe(2n);
    expect(only('.ascii __FILE__\nnop').op).toBe('nop');
  });

  it('reports unterminated #if and stray #endif', () => {
    expect(errorsOf('#if 1\nnop\n')[0].message).toMatch(/#endif/);
    expect(errorsOf('#endif\n')[0].message).toMatch(/#endif without #if/);
  });

  it('reports errors on the original line after macro expansion', () => {
    const r = assemble({ files: [{ name: 'm.S', text: '#define BAD(x) frob x\nnop\n   BAD(%rax)\n' }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toMatchObject({ file: 'm.S', line: 3, text: '   BAD(%rax)' });
    expect(r.errors[0].message).toMatch(/frob/);
  });

  it('keeps files given together in one symbol table', () => {
    const r = assemble({
      files: [
        { name: 'a.S', text: 'jmp target\n' },
        { name: 'b.S', text: 'target: ret\n' },
      ],
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.program.instructions[0].loc.file).toBe('a.S');
  });

  it('includes nested too deeply are an error, not a hang', () => {
    const errs = errorsOf('#include "self.h"\n', { includes: { 'self.h': '#include "self.h"\n' } });
    expect(errs[0].message).toMatch(/nested too deeply/);
  });
});
