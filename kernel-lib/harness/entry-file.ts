// Take the NMI entry out of a whole kernel entry file (arch/x86/kernel/entry_64.S up to 4.1,
// arch/x86/entry/entry_64.S from 4.2), as found in a kernel tree, so that it can be judged as it is.
//
// What is taken: the ENTRY(nmi) ... END(nmi) body; repeat_nmi ... end_repeat_nmi wherever it is
// (below END(nmi) in 3.3, inside the body from 3.4 on); the .macro and #define definitions of the
// file that those lines use, and those that the definitions use in turn; and the #if/#ifdef/#else/
// #endif lines around anything taken. Everything else (the #includes of kernel headers, the other
// entry points) is left out. A definition the harness prelude already has (INTR_FRAME, SAVE_ALL, ...)
// is left out too, so that the harness's version, written for its pt_regs and its unwinder-free
// world, is the one used.
//
// The result has the file's own line numbering: lines not taken are blank, and comments are blanked
// within the lines taken (so a comment never loses its opening when the line before is left out).
// The assembler's messages then point at the file's own lines and columns.
import type { Diagnostic } from '../asm/program';
import { harnessSources } from './kernel';

/** Why a range of lines was taken. */
export interface TakenRange {
  /** 1-based, inclusive. */
  from: number;
  to: number;
  what: string;
}

export type EntryExtraction =
  | {
      ok: true;
      /** The file's text with only the lines taken (comments blanked); same line count. */
      text: string;
      taken: TakenRange[];
      /** Lines of conditional directives kept around what was taken. */
      conditionalLines: number[];
      /** Definitions in the file left out because the harness prelude has its own, by name and line. */
      harnessOwn: { name: string; line: number }[];
      /** One paragraph: which lines were taken and why. */
      summary: string;
    }
  | { ok: false; errors: Diagnostic[] };

interface Definition {
  name: string;
  kind: '.macro' | '#define';
  /** 0-based line indexes, inclusive. */
  from: number;
  to: number;
}

interface ConditionalGroup {
  /** 0-based indexes of the #if.., #elif/#else and #endif lines. */
  lines: number[];
}

const IDENT = /[A-Za-z_.][\w.$]*/g;

/** Each line with its comments blanked to spaces (columns kept), across lines. */
function codeLines(lines: string[]): string[] {
  const out: string[] = [];
  let inComment = false;
  for (const line of lines) {
    let s = '';
    let inString = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inComment) {
        if (c === '*' && line[i + 1] === '/') {
          s += '  ';
          i++;
          inComment = false;
        } else s += c === '\t' ? '\t' : ' ';
        continue;
      }
      if (inString) {
        s += c;
        if (c === '\\' && i + 1 < line.length) s += line[++i];
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '/' && line[i + 1] === '*') {
        s += '  ';
        i++;
        inComment = true;
        continue;
      }
      if (c === '"') inString = true;
      s += c;
    }
    out.push(s.replace(/\s+$/, ''));
  }
  return out;
}

function directiveOf(code: string): string | null {
  const m = /^\s*#\s*([a-z]+)\b/.exec(code);
  return m ? m[1] : null;
}

/** The last line of a logical line that continues with a trailing backslash. */
function logicalEnd(code: string[], i: number): number {
  let j = i;
  while (j < code.length - 1 && code[j].endsWith('\\')) j++;
  return j;
}

function identifiers(code: string): string[] {
  const out: string[] = [];
  IDENT.lastIndex = 0;
  for (let m = IDENT.exec(code); m !== null; m = IDENT.exec(code)) {
    if (m.index > 0 && code[m.index - 1] === '\\') continue; // a macro parameter (\reg)
    out.push(m[0]);
  }
  return out;
}

/** The .macro and #define names a text defines (the harness prelude's, here). */
export function definedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of codeLines(text.split(/\r?\n/))) {
    const macro = /^\s*\.macro\s+([A-Za-z_.$][\w.$]*)/.exec(line);
    if (macro) names.add(macro[1]);
    const define = /^\s*#\s*define\s+([A-Za-z_]\w*)/.exec(line);
    if (define) names.add(define[1]);
  }
  return names;
}

function error(file: string, lines: string[], line: number, column: number, message: string): Diagnostic {
  return { file, line, column, severity: 'error', message, text: lines[line - 1] ?? '' };
}

function ranges(indexes: number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i] + 1}` : `${sorted[i] + 1}-${sorted[j] + 1}`);
    i = j;
  }
  return parts.join(', ');
}

/**
 * Extract the NMI entry from a kernel entry file. `file` names it in messages. Problems (no
 * ENTRY(nmi), no END(nmi), an unbalanced #if or .macro) come back as diagnostics with
 * file:line:column; names the extraction cannot resolve are left to the assembler, which reports
 * them the same way.
 */
export function extractNmiEntry(text: string, file: string): EntryExtraction {
  const lines = text.split(/\r?\n/);
  const code = codeLines(lines);
  const errors: Diagnostic[] = [];

  // Conditional groups and definitions, in one pass.
  const groups: ConditionalGroup[] = [];
  const stack: ConditionalGroup[] = [];
  /** For every line, the groups around it (innermost last). */
  const enclosing: ConditionalGroup[][] = [];
  const definitions: Definition[] = [];
  let openMacro: { name: string; from: number; depth: number } | null = null;
  for (let i = 0; i < code.length; i++) {
    enclosing.push([...stack]);
    const d = directiveOf(code[i]);
    if (d === 'if' || d === 'ifdef' || d === 'ifndef') {
      const g = { lines: [i] };
      groups.push(g);
      stack.push(g);
    } else if (d === 'elif' || d === 'else') {
      if (stack.length === 0) errors.push(error(file, lines, i + 1, 1, `#${d} without #if`));
      else stack[stack.length - 1].lines.push(i);
    } else if (d === 'endif') {
      const g = stack.pop();
      if (g === undefined) errors.push(error(file, lines, i + 1, 1, '#endif without #if'));
      else g.lines.push(i);
    } else if (d === 'define') {
      const m = /^\s*#\s*define\s+([A-Za-z_]\w*)/.exec(code[i]);
      const end = logicalEnd(code, i);
      if (m) definitions.push({ name: m[1], kind: '#define', from: i, to: end });
      for (let j = i + 1; j <= end; j++) enclosing.push([...stack]);
      i = end;
      continue;
    }
    const macro = /^\s*\.macro\s+([A-Za-z_.$][\w.$]*)/.exec(code[i]);
    if (macro) {
      if (openMacro === null) openMacro = { name: macro[1], from: i, depth: 1 };
      else openMacro.depth++;
    } else if (/^\s*\.endm\b/.test(code[i])) {
      if (openMacro === null) errors.push(error(file, lines, i + 1, 1, '.endm without .macro'));
      else if (--openMacro.depth === 0) {
        definitions.push({ name: openMacro.name, kind: '.macro', from: openMacro.from, to: i });
        openMacro = null;
      }
    }
  }
  for (const g of stack)
    errors.push(error(file, lines, g.lines[0] + 1, 1, 'this #if has no #endif before the end of the file'));
  if (openMacro !== null)
    errors.push(error(file, lines, openMacro.from + 1, 1, `.macro ${openMacro.name} has no .endm`));

  // The body.
  const entryAt = code.findIndex((l) => /^\s*ENTRY\s*\(\s*nmi\s*\)/.test(l));
  if (entryAt < 0) {
    errors.push(
      error(file, lines, 1, 1, 'no ENTRY(nmi) line: this does not look like an x86-64 entry file of 2011-2015'),
    );
    return { ok: false, errors };
  }
  const second = code.findIndex((l, i) => i > entryAt && /^\s*ENTRY\s*\(\s*nmi\s*\)/.test(l));
  if (second >= 0) errors.push(error(file, lines, second + 1, 1, 'a second ENTRY(nmi): which one is meant?'));
  const endAt = code.findIndex((l, i) => i > entryAt && /^\s*(END|ENDPROC)\s*\(\s*nmi\s*\)/.test(l));
  if (endAt < 0) {
    errors.push(error(file, lines, entryAt + 1, 1, 'ENTRY(nmi) has no END(nmi) after it'));
    return { ok: false, errors };
  }
  const kept = new Set<number>();
  const taken: TakenRange[] = [];
  const take = (from: number, to: number, what: string) => {
    for (let i = from; i <= to; i++) kept.add(i);
    taken.push({ from: from + 1, to: to + 1, what });
  };
  take(entryAt, endAt, 'ENTRY(nmi) ... END(nmi)');

  // repeat_nmi ... end_repeat_nmi, when it is outside the body (Linux 3.3).
  const labelAt = (name: string) =>
    code.findIndex((l) => new RegExp(`^\\s*(?:(?:ENTRY|GLOBAL)\\s*\\(\\s*${name}\\s*\\)|${name}\\s*:)`).test(l));
  const repeatAt = labelAt('repeat_nmi');
  if (repeatAt >= 0 && !kept.has(repeatAt)) {
    const endRepeatAt = labelAt('end_repeat_nmi');
    if (endRepeatAt < repeatAt) {
      errors.push(error(file, lines, repeatAt + 1, 1, 'repeat_nmi has no end_repeat_nmi label after it'));
      return { ok: false, errors };
    }
    take(repeatAt, endRepeatAt, 'repeat_nmi ... end_repeat_nmi');
  }
  if (errors.length > 0) return { ok: false, errors };

  // The definitions those lines use, and those that they use in turn.
  const prelude = definedNames(harnessSources().prelude);
  const harnessOwn: { name: string; line: number }[] = [];
  const used = new Set<string>();
  const scan = (from: number, to: number) => {
    for (let i = from; i <= to; i++) for (const id of identifiers(code[i])) used.add(id);
  };
  for (const i of kept) scan(i, i);
  const pending = definitions.filter((d) => !kept.has(d.from));
  for (let changed = true; changed;) {
    changed = false;
    for (let k = 0; k < pending.length; k++) {
      const d = pending[k];
      if (!used.has(d.name)) continue;
      pending.splice(k--, 1);
      changed = true;
      if (prelude.has(d.name)) {
        harnessOwn.push({ name: d.name, line: d.from + 1 });
        continue;
      }
      take(d.from, d.to, `${d.kind} ${d.name}`);
      scan(d.from, d.to);
    }
  }

  // The conditionals around what was taken.
  const conditional = new Set<number>();
  for (const i of kept) for (const g of enclosing[i]) for (const l of g.lines) conditional.add(l);
  for (const l of conditional) kept.add(l);

  const out = lines.map((_l, i) => (kept.has(i) ? code[i] : ''));
  taken.sort((a, b) => a.from - b.from);
  const conditionalLines = [...conditional].sort((a, b) => a - b).map((i) => i + 1);
  const parts = taken.map((t) => (t.from === t.to ? `${t.from} (${t.what})` : `${t.from}-${t.to} (${t.what})`));
  let summary = `from ${file} took lines ${parts.join(', ')}`;
  if (conditionalLines.length > 0)
    summary += `, and the conditionals around them (lines ${ranges(conditionalLines.map((l) => l - 1))})`;
  if (harnessOwn.length > 0)
    summary += `; the harness's own ${harnessOwn.map((h) => h.name).join(', ')} stand in for the file's (line${harnessOwn.length > 1 ? 's' : ''} ${harnessOwn.map((h) => h.line).join(', ')})`;
  return {
    ok: true,
    text: out.join('\n'),
    taken,
    conditionalLines,
    harnessOwn: harnessOwn.sort((a, b) => a.line - b.line),
    summary,
  };
}
