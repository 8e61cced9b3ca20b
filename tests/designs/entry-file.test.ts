// extractNmiEntry: the NMI entry out of a whole kernel entry file, in the layouts of the 3.3, 3.4
// and 4.x eras (tests/fixtures/entry-files: written for these tests, not kernel code).
import * as fs from 'fs';
import * as path from 'path';
import { checkDesignSource, extractNmiEntry } from '../../kernel-lib';
import type { EntryExtraction } from '../../kernel-lib';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'entry-files');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function extract(text: string, file = 'entry_64.S'): Extract<EntryExtraction, { ok: true }> {
  const x = extractNmiEntry(text, file);
  if (x.ok === false) throw new Error(x.errors.map((e) => `${e.line}:${e.column}: ${e.message}`).join('\n'));
  return x;
}

/** 1-based numbers of the lines the extraction kept (non-blank). */
function keptLines(x: { text: string }): number[] {
  return x.text
    .split('\n')
    .map((l, i) => (l.trim() === '' ? 0 : i + 1))
    .filter((n) => n > 0);
}

/** The 1-based line of the first line of `text` that matches. */
function lineOf(text: string, re: RegExp): number {
  return text.split('\n').findIndex((l) => re.test(l)) + 1;
}

describe('the 3.3 layout: test_in_nmi above ENTRY(nmi), repeat_nmi below END(nmi)', () => {
  const text = read('entry_64-3.3.S');
  const x = extract(text, 'entry_64-3.3.S');

  test('takes the body, repeat_nmi .. end_repeat_nmi, the macro and the #define it uses, nothing else', () => {
    expect(x.taken.map((t) => t.what)).toEqual([
      '#define NMI_STACK_BYTES',
      '.macro test_in_nmi',
      'ENTRY(nmi) ... END(nmi)',
      'repeat_nmi ... end_repeat_nmi',
    ]);
    const repeat = x.taken[3];
    expect(repeat.from).toBe(lineOf(text, /^repeat_nmi:/));
    expect(repeat.to).toBe(lineOf(text, /^end_repeat_nmi:/));
    for (const left of [/ENTRY\(system_call\)/, /ENTRY\(save_paranoid\)/, /ENTRY\(ignore_sysret\)/, /#include/])
      expect(x.text).not.toMatch(left);
    expect(x.text).not.toMatch(/retint_kernel/); // a #define nothing taken uses
  });

  test("keeps the file's line numbers and columns: every kept line is the file's line, comments blanked", () => {
    const lines = text.split('\n');
    expect(x.text.split('\n')).toHaveLength(lines.length);
    for (const n of keptLines(x)) {
      const kept = x.text.split('\n')[n - 1];
      // Column for column the file's own characters, but for comments, which are spaces.
      for (let c = 0; c < kept.length; c++) if (kept[c] !== ' ') expect(kept[c]).toBe(lines[n - 1][c]);
    }
    const entry = lineOf(text, /^ENTRY\(nmi\)/);
    expect(x.text.split('\n')[entry - 1]).toBe('ENTRY(nmi)');
    expect(x.text).not.toMatch(/\/\*|\*\//);
  });

  test("uses the harness's INTR_FRAME and DEFAULT_FRAME instead of the file's, and says so", () => {
    expect(x.harnessOwn.map((h) => h.name)).toEqual(['INTR_FRAME', 'DEFAULT_FRAME']);
    expect(x.harnessOwn[0].line).toBe(lineOf(text, /\.macro INTR_FRAME/));
    expect(x.summary).toMatch(/the harness's own INTR_FRAME, DEFAULT_FRAME stand in for the file's/);
    expect(x.summary).toMatch(
      /^from entry_64-3\.3\.S took lines \d+ \(#define NMI_STACK_BYTES\), \d+-\d+ \(\.macro test_in_nmi\)/,
    );
  });

  test('what it took assembles with the harness', () => {
    expect(checkDesignSource(x.text, { listing: 'entry_64-3.3.S', doNmi: '3.3' }).ok).toBe(true);
  });
});

describe('the 3.4 layout: repeat_nmi inside ENTRY(nmi)', () => {
  const text = read('entry_64-3.4.S');
  const x = extract(text);

  test('takes the body (with repeat_nmi inside it), test_in_nmi, and the #define chosen by #ifdef with its conditional', () => {
    expect(x.taken.map((t) => t.what)).toEqual([
      '#define NMI_IRET',
      '#define NMI_IRET',
      '.macro test_in_nmi',
      'ENTRY(nmi) ... END(nmi)',
    ]);
    expect(x.conditionalLines).toEqual([
      lineOf(text, /^#ifdef CONFIG_PARAVIRT/),
      lineOf(text, /^#else/),
      lineOf(text, /^#endif/),
    ]);
    expect(x.text).not.toMatch(/common_interrupt|irq_return:|paranoidzeroentry_ist/);
    expect(checkDesignSource(x.text, { listing: 'entry_64.S', doNmi: '3.6' }).ok).toBe(true);
  });
});

describe('the 4.x layout (arch/x86/entry/entry_64.S)', () => {
  const text = read('entry_64-4.x.S');
  const x = extract(text);

  test('takes the body and the #ifdef inside it, leaves the idtentry macro, its uses and paranoid_entry out', () => {
    expect(x.taken.map((t) => t.what)).toEqual(['ENTRY(nmi) ... END(nmi)']);
    expect(x.text).not.toMatch(/idtentry|ENTRY\(paranoid_entry\)|entry_SYSCALL_64/);
    expect(x.text).toMatch(/#ifdef CONFIG_DEBUG_ENTRY/); // inside the body: the preprocessor drops it
    expect(checkDesignSource(x.text, { listing: 'entry_64.S', doNmi: '4.2' }).ok).toBe(true);
  });
});

describe('what it cannot take is reported with file:line:column', () => {
  test('no ENTRY(nmi)', () => {
    const x = extractNmiEntry('ENTRY(foo)\n\tret\nEND(foo)\n', 'entry.S');
    expect(x.ok).toBe(false);
    if (x.ok === false)
      expect(x.errors[0]).toMatchObject({
        file: 'entry.S',
        line: 1,
        column: 1,
        message: expect.stringMatching(/ENTRY\(nmi\)/),
      });
  });

  test('ENTRY(nmi) without END(nmi)', () => {
    const x = extractNmiEntry('/* x */\nENTRY(nmi)\n\tiretq\n', 'entry.S');
    expect(x.ok === false && x.errors[0]).toMatchObject({ line: 2, message: 'ENTRY(nmi) has no END(nmi) after it' });
  });

  test('repeat_nmi outside the body without end_repeat_nmi after it', () => {
    const x = extractNmiEntry('ENTRY(nmi)\n\tiretq\nEND(nmi)\nrepeat_nmi:\n\tjmp nmi\n', 'entry.S');
    expect(x.ok === false && x.errors[0]).toMatchObject({ line: 4, message: expect.stringMatching(/end_repeat_nmi/) });
  });

  test('an #if without #endif, a .macro without .endm', () => {
    const x = extractNmiEntry('#ifdef CONFIG_X\n.macro foo\nENTRY(nmi)\n\tiretq\nEND(nmi)\n', 'entry.S');
    expect(x.ok === false && x.errors.map((e) => [e.line, e.message])).toEqual([
      [1, 'this #if has no #endif before the end of the file'],
      [2, '.macro foo has no .endm'],
    ]);
  });

  test("a name neither the file nor the harness defines: the assembler's error points at the file's line", () => {
    const text =
      '#include <asm/smap.h>\n\n/* the entry */\nENTRY(nmi)\n\tpushq %rdx\n\tMYSTERY_MACRO\n\tiretq\nEND(nmi)\n';
    const x = extract(text);
    const r = checkDesignSource(x.text, { listing: 'entry.S' });
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.errors[0]).toMatchObject({ file: 'entry.S', line: 6, column: 2 });
  });

  test('a comment that opens before the body and closes on a kept line does not swallow code', () => {
    const text = '/* a comment\n   that ends here */ ENTRY(nmi)\n\tiretq /* and one\n more */\nEND(nmi)\n';
    const x = extract(text);
    expect(x.text.split('\n')).toEqual(['', '                     ENTRY(nmi)', '\tiretq', '', 'END(nmi)', '']);
  });
});
