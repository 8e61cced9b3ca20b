import { assemble, assembleOrThrow, AssemblyError, formatDiagnostic } from '../../kernel-lib/asm';
import { errorsOf } from './helpers';

describe('error reporting', () => {
  it('reports every error in a file with file:line:column and the source text', () => {
    const src = [
      'start:',
      '  movq %rax, %rbx',
      '  frob %rax', // 3: unknown mnemonic
      '  movl %rax, %ebx', // 4: size mismatch
      '  jmp nowhere', // 5: undefined symbol
      '  iret', // 6: iret without q
      '  addq $0x123456789, %rax', // 7: immediate too wide
      '  call also_missing', // 8: undefined symbol
      '  ret',
    ].join('\n');
    const r = assemble({ files: [{ name: 'entry.S', text: src }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const summary = r.errors.map((e) => [e.line, e.column, e.text.trim()]);
    expect(summary).toEqual([
      [3, 3, 'frob %rax'],
      [4, 3, 'movl %rax, %ebx'],
      [6, 3, 'iret'],
      [5, 3, 'jmp nowhere'],
      [7, 3, 'addq $0x123456789, %rax'],
      [8, 3, 'call also_missing'],
    ]);
    expect(r.errors.every((e) => e.file === 'entry.S' && e.severity === 'error')).toBe(true);
    expect(r.errors[0].message).toMatch(/unknown instruction mnemonic `frob'/);
    expect(r.errors[3].message).toBe("undefined symbol `nowhere'");
    expect(r.errors[5].message).toBe("undefined symbol `also_missing'");
  });

  it('names all undefined symbols of one statement', () => {
    const errs = errorsOf('.quad a + b\n');
    expect(errs.map((e) => e.message)).toEqual(["undefined symbol `a'", "undefined symbol `b'"]);
  });

  it('points the column at the bad operand when it can', () => {
    const errs = errorsOf('\tmovq (%rax), %bogus\n');
    expect(errs[0]).toMatchObject({ line: 1, column: 15 });
  });

  it('formats diagnostics with a caret line', () => {
    const errs = errorsOf('nop\n    frob\n');
    expect(formatDiagnostic(errs[0])).toBe("test.S:2:5: error: unknown instruction mnemonic `frob'\n    frob\n    ^");
  });

  it('assembleOrThrow throws an AssemblyError listing all errors', () => {
    let caught: unknown;
    try {
      assembleOrThrow({ files: [{ name: 'x.S', text: 'frob\nblah\n' }] });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AssemblyError);
    const err = caught as AssemblyError;
    expect(err.diagnostics).toHaveLength(2);
    expect(err.message).toContain('x.S:1:1: error:');
    expect(err.message).toContain('x.S:2:1: error:');
    expect(assembleOrThrow({ files: [{ name: 'ok.S', text: 'nop' }] }).instructions).toHaveLength(1);
  });

  it('never throws on garbage input', () => {
    const garbage = [
      '(((',
      '$$$',
      'movq ,,',
      ')',
      '.quad )',
      '.macro',
      '.endr',
      '.rept x',
      '"unterminated',
      "'",
      'mov (%rax',
      '1:: 2:',
      '.section',
      '.irp',
      '#if',
      '#define',
      '#include',
      'jmp *',
      'lock',
      'lock; lock',
      '.set',
      '= 3',
      'x = ',
      '.byte "a"',
      '.fill -1',
      '.skip 1<<62',
      '\\',
      'mov %gs:',
      '.popsection',
      '.exitm',
      '.if',
      '.else',
      '.endif',
    ];
    for (const g of garbage) {
      const r = assemble({ files: [{ name: 'g.S', text: g + '\n' }] });
      expect(typeof r.ok).toBe('boolean');
      if (!r.ok) expect(r.errors.every((e) => e.file === 'g.S' && e.line >= 1 && e.column >= 1)).toBe(true);
    }
  });

  it('recovers at the next statement on the same line', () => {
    const errs = errorsOf('frob; nop; blah\n');
    expect(errs.map((e) => e.column)).toEqual([1, 12]);
  });
});
