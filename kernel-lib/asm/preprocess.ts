// The subset of the C preprocessor that kernel `.S` files need (they are run through `cc -E` with
// `-x assembler-with-cpp` before GAS sees them): #define (object-like and function-like), #undef,
// #if/#ifdef/#ifndef/#elif/#else/#endif, #include of caller-supplied files, `/* */` comments and
// backslash line continuation. A line starting with `#` that is not a known directive is a comment,
// as it is for GAS.
//
// Every output line remembers the file and line it came from and the text as written, so diagnostics
// point at the original source even after includes and macro expansion.
import { AsmError, DiagnosticSink, SourceLine } from './diagnostics';
import { evaluate, parseExpr } from './expr';
import { skipCharConst, skipString, stripHashComment } from './text';

export interface CppMacro {
  /** null for object-like macros. */
  params: string[] | null;
  variadic: boolean;
  body: string;
}

export interface PreprocessInput {
  files: Array<{ name: string; text: string }>;
  includes?: Record<string, string>;
  defines?: Record<string, string>;
}

const MAX_INCLUDE_DEPTH = 32;
const KNOWN_DIRECTIVES = new Set([
  'define',
  'undef',
  'if',
  'ifdef',
  'ifndef',
  'elif',
  'else',
  'endif',
  'include',
  'error',
  'warning',
  'line',
  'pragma',
]);

interface Conditional {
  /** Lines in this branch are kept. */
  active: boolean;
  /** Some branch of this #if chain has been taken. */
  taken: boolean;
  /** The enclosing region is active. */
  outer: boolean;
  sawElse: boolean;
  where: SourceLine;
}

export class Preprocessor {
  readonly macros = new Map<string, CppMacro>();
  private readonly out: SourceLine[] = [];

  constructor(
    private readonly input: PreprocessInput,
    private readonly sink: DiagnosticSink,
  ) {
    for (const [name, value] of Object.entries(input.defines ?? {})) {
      this.macros.set(name, { params: null, variadic: false, body: value });
    }
  }

  run(): SourceLine[] {
    for (const f of this.input.files) this.processFile(f.name, f.text, 0);
    return this.out;
  }

  private processFile(name: string, text: string, depth: number): void {
    const physical = text.split(/\r?\n/);
    const conds: Conditional[] = [];
    let inComment = false;
    let i = 0;
    while (i < physical.length) {
      const lineNo = i + 1;
      const origText = physical[i];
      let joined = physical[i];
      let exact = true;
      i++;
      // Phase 2: backslash-newline joins lines (before comments are removed, as in C).
      while (joined.endsWith('\\') && i < physical.length) {
        joined = joined.slice(0, -1) + physical[i];
        exact = false;
        i++;
      }
      const stripped = stripBlockComments(joined, inComment);
      inComment = stripped.inComment;
      const src: SourceLine = { text: stripped.text, file: name, line: lineNo, origText, exact };
      const active = conds.length === 0 || conds[conds.length - 1].active;

      const directive = /^\s*#\s*([A-Za-z_]+)?/.exec(src.text);
      if (directive && !stripped.startedInComment) {
        const word = directive[1] ?? '';
        if (!KNOWN_DIRECTIVES.has(word)) continue; // `# text`: a comment
        const rest = src.text.slice(directive[0].length);
        try {
          this.directive(word, rest, src, conds, active, depth);
        } catch (e) {
          this.sink.atLine(
            'error',
            src,
            e instanceof AsmError ? e.message : `internal preprocessor error: ${String(e)}`,
          );
        }
        continue;
      }
      if (!active) continue;
      const code = stripHashComment(src.text);
      if (code.trim() === '') continue;
      const expanded = this.expandLine(code, src);
      this.out.push({ ...src, text: expanded, exact: exact && expanded === code });
    }
    for (const c of conds) this.sink.atLine('error', c.where, 'unterminated #if (missing #endif)');
  }

  private directive(
    word: string,
    rest: string,
    src: SourceLine,
    conds: Conditional[],
    active: boolean,
    depth: number,
  ): void {
    const top = conds[conds.length - 1];
    switch (word) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        let value = false;
        if (active) {
          if (word === 'if') value = this.evalCondition(rest, src);
          else {
            const id = /^\s*([A-Za-z_]\w*)/.exec(rest);
            if (!id) throw new AsmError(`#${word} needs a macro name`);
            value = this.isDefined(id[1]) === (word === 'ifdef');
          }
        }
        conds.push({ active: active && value, taken: value, outer: active, sawElse: false, where: src });
        return;
      }
      case 'elif':
        if (!top) throw new AsmError('#elif without #if');
        if (top.sawElse) throw new AsmError('#elif after #else');
        if (top.outer && !top.taken) {
          top.active = this.evalCondition(rest, src);
          top.taken = top.active;
        } else top.active = false;
        return;
      case 'else':
        if (!top) throw new AsmError('#else without #if');
        if (top.sawElse) throw new AsmError('#else after #else');
        top.sawElse = true;
        top.active = top.outer && !top.taken;
        top.taken = true;
        return;
      case 'endif':
        if (!top) throw new AsmError('#endif without #if');
        conds.pop();
        return;
    }
    if (!active) return;
    switch (word) {
      case 'define':
        this.define(rest);
        return;
      case 'undef': {
        const id = /^\s*([A-Za-z_]\w*)/.exec(rest);
        if (!id) throw new AsmError('#undef needs a macro name');
        this.macros.delete(id[1]);
        return;
      }
      case 'include': {
        let spec = rest.trim();
        if (!/^["<]/.test(spec)) spec = this.expandLine(spec, src).trim();
        const m = /^"([^"]*)"|^<([^>]*)>/.exec(spec);
        if (!m) throw new AsmError('#include expects "file" or <file>');
        const file = m[1] ?? m[2];
        const text = this.input.includes?.[file];
        if (text === undefined) throw new AsmError(`cannot find include file \`${file}' (not in options.includes)`);
        if (depth + 1 > MAX_INCLUDE_DEPTH)
          throw new AsmError(`#include nested too deeply (limit ${MAX_INCLUDE_DEPTH}) at \`${file}'`);
        this.processFile(file, text, depth + 1);
        return;
      }
      case 'error':
        throw new AsmError(`#error ${rest.trim()}`);
      case 'warning':
        this.sink.atLine('warning', src, `#warning ${rest.trim()}`);
        return;
      default:
        return; // #line, #pragma: accepted, no effect
    }
  }

  private define(rest: string): void {
    const m = /^\s*([A-Za-z_]\w*)(\()?/.exec(rest);
    if (!m) throw new AsmError('#define needs a macro name');
    const name = m[1];
    if (!m[2]) {
      this.macros.set(name, { params: null, variadic: false, body: rest.slice(m[0].length).trim() });
      return;
    }
    const close = rest.indexOf(')', m[0].length);
    if (close < 0) throw new AsmError(`missing \`)' in parameter list of macro \`${name}'`);
    const list = rest
      .slice(m[0].length, close)
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    let variadic = false;
    const params = list.map((p) => {
      if (p === '...') {
        variadic = true;
        return '__VA_ARGS__';
      }
      if (!/^[A-Za-z_]\w*$/.test(p)) throw new AsmError(`bad parameter \`${p}' in macro \`${name}'`);
      return p;
    });
    this.macros.set(name, { params, variadic, body: rest.slice(close + 1).trim() });
  }

  private isDefined(name: string): boolean {
    return this.macros.has(name) || name === '__FILE__' || name === '__LINE__';
  }

  private evalCondition(rest: string, src: SourceLine): boolean {
    // `defined X` / `defined(X)` is decided before macro expansion, as in C.
    const withDefined = rest.replace(/\bdefined\s*(\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))/g, (_all, _g, a, b) =>
      this.isDefined(a ?? b) ? ' 1 ' : ' 0 ',
    );
    const expanded = this.expandLine(withDefined, src)
      .replace(/\b(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]+\b/g, '$1') // 1UL -> 1
      .replace(/\b[A-Za-z_]\w*\b/g, '0'); // identifiers left after expansion are 0
    if (expanded.trim() === '') throw new AsmError('#if with no expression');
    const value = evaluate(parseExpr(expanded, { cpp: true }), { symbol: () => undefined });
    return !!value && value.v !== 0n;
  }

  /** Expands macros in one line of code. */
  expandLine(text: string, src: SourceLine): string {
    if (!this.mentionsMacro(text)) return text;
    const tokens = tokenizePp(text);
    return expandTokens(tokens, new Set(), this, src).join('');
  }

  private mentionsMacro(text: string): boolean {
    const re = /[A-Za-z_]\w*/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) if (this.isDefined(m[0])) return true;
    return false;
  }
}

const MAX_EXPANSION_TOKENS = 1_000_000;

/** Splits a line into preprocessing tokens: identifiers, pp-numbers, strings, blanks and single characters. */
function tokenizePp(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    let j: number;
    if (/[A-Za-z_]/.test(c)) {
      j = i + 1;
      while (j < s.length && /\w/.test(s[j])) j++;
    } else if (/[0-9]/.test(c)) {
      j = i + 1;
      while (j < s.length && /[\w.]/.test(s[j])) j++;
    } else if (c === '"') j = skipString(s, i);
    else if (c === "'") j = skipCharConst(s, i);
    else if (c === ' ' || c === '\t') {
      j = i + 1;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    } else if (c === '#' && s[i + 1] === '#') j = i + 2;
    else j = i + 1;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

const isIdent = (t: string): boolean => /^[A-Za-z_]\w*$/.test(t);
const isBlank = (t: string): boolean => t.trim() === '';

/**
 * Expands macros in a token list. A macro's name is disabled while its own expansion is rescanned,
 * so `#define A A+1` expands once (C11 6.10.3.4), and expansion always terminates.
 */
function expandTokens(tokens: string[], disabled: Set<string>, pp: Preprocessor, src: SourceLine): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i];
    if (tok === '__LINE__' && !pp.macros.has(tok)) {
      out.push(String(src.line));
      i++;
      continue;
    }
    if (tok === '__FILE__' && !pp.macros.has(tok)) {
      out.push(JSON.stringify(src.file));
      i++;
      continue;
    }
    const m = isIdent(tok) && !disabled.has(tok) ? pp.macros.get(tok) : undefined;
    if (!m) {
      out.push(tok);
      i++;
      continue;
    }
    const inner = new Set(disabled);
    inner.add(tok);
    if (m.params === null) {
      out.push(...expandTokens(tokenizePp(m.body), inner, pp, src));
      i++;
      continue;
    }
    // Function-like: only an invocation when followed by `(`.
    let j = i + 1;
    while (j < tokens.length && isBlank(tokens[j])) j++;
    if (tokens[j] !== '(') {
      out.push(tok);
      i++;
      continue;
    }
    const args: string[][] = [[]];
    let depth = 0;
    j++;
    for (; j < tokens.length; j++) {
      const t = tokens[j];
      if (t === '(') depth++;
      else if (t === ')') {
        if (depth === 0) break;
        depth--;
      } else if (t === ',' && depth === 0 && !(m.variadic && args.length === m.params.length)) {
        args.push([]);
        continue;
      }
      args[args.length - 1].push(t);
    }
    if (j >= tokens.length) throw new AsmError(`unterminated argument list invoking macro \`${tok}'`);
    const trimmed = args.map(trimTokens);
    if (m.params.length === 0 && trimmed.length === 1 && trimmed[0].length === 0) trimmed.length = 0;
    if (trimmed.length !== m.params.length && !(m.variadic && trimmed.length === m.params.length - 1)) {
      throw new AsmError(`macro \`${tok}' expects ${m.params.length} argument(s), got ${trimmed.length}`);
    }
    const body = substituteParams(m, trimmed, disabled, pp, src); // arguments expand in the caller's context
    if (body.length > MAX_EXPANSION_TOKENS) throw new AsmError(`expansion of macro \`${tok}' is too large`);
    out.push(...expandTokens(body, inner, pp, src));
    i = j + 1;
  }
  return out;
}

function trimTokens(ts: string[]): string[] {
  let a = 0;
  let b = ts.length;
  while (a < b && isBlank(ts[a])) a++;
  while (b > a && isBlank(ts[b - 1])) b--;
  return ts.slice(a, b);
}

/** Puts arguments into a function-like macro's body, with `#param` stringizing and `##` pasting. */
function substituteParams(
  m: CppMacro,
  args: string[][],
  disabled: Set<string>,
  pp: Preprocessor,
  src: SourceLine,
): string[] {
  const params = m.params ?? [];
  const argOf = (name: string): string[] | undefined => {
    const k = params.indexOf(name);
    return k < 0 ? undefined : (args[k] ?? []);
  };
  const body = tokenizePp(m.body);
  const out: string[] = [];
  for (let k = 0; k < body.length; k++) {
    const t = body[k];
    if (t === '#' && k + 1 < body.length) {
      let n = k + 1;
      while (n < body.length && isBlank(body[n])) n++;
      const arg = argOf(body[n]);
      if (arg) {
        out.push(JSON.stringify(arg.join('')));
        k = n;
        continue;
      }
    }
    const arg = isIdent(t) ? argOf(t) : undefined;
    if (!arg) {
      out.push(t);
      continue;
    }
    const nextSolid = body.slice(k + 1).find((x) => !isBlank(x));
    const prevSolid = [...out].reverse().find((x) => !isBlank(x));
    // Operands of ## are not macro-expanded first.
    if (nextSolid === '##' || prevSolid === '##') out.push(...arg);
    else out.push(...expandTokens(arg, disabled, pp, src));
  }
  // Pasting: drop `##` and the blanks around it.
  const pasted: string[] = [];
  for (let k = 0; k < out.length; k++) {
    if (out[k] === '##') {
      while (pasted.length && isBlank(pasted[pasted.length - 1])) pasted.pop();
      let n = k + 1;
      while (n < out.length && isBlank(out[n])) n++;
      const left = pasted.pop() ?? '';
      const right = out[n] ?? '';
      pasted.push(...tokenizePp(left + right));
      k = n;
      continue;
    }
    pasted.push(out[k]);
  }
  return pasted;
}

/** Removes `/* ... *\/` comments (replaced by blanks so columns keep their place). */
function stripBlockComments(
  line: string,
  inComment: boolean,
): { text: string; inComment: boolean; startedInComment: boolean } {
  const startedInComment = inComment;
  if (!inComment && !line.includes('/*')) return { text: line, inComment: false, startedInComment };
  let out = '';
  let i = 0;
  while (i < line.length) {
    if (inComment) {
      const end = line.indexOf('*/', i);
      if (end < 0) {
        out += ' '.repeat(line.length - i);
        break;
      }
      out += ' '.repeat(end + 2 - i);
      i = end + 2;
      inComment = false;
      continue;
    }
    const c = line[i];
    if (c === '"') {
      const j = skipString(line, i);
      out += line.slice(i, j);
      i = j;
      continue;
    }
    if (c === "'") {
      const j = skipCharConst(line, i);
      out += line.slice(i, j);
      i = j;
      continue;
    }
    if (c === '/' && line[i + 1] === '*') {
      inComment = true;
      out += '  ';
      i += 2;
      continue;
    }
    if (c === '#') {
      // A `#` comment hides any `/*` after it, but only on non-directive lines (`#define` bodies keep `#`).
      if (!/^\s*$/.test(out)) {
        out += line.slice(i);
        break;
      }
    }
    out += c;
    i++;
  }
  return { text: out, inComment, startedInComment };
}
