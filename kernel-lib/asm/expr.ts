// Constant expressions as GNU as reads them: parse to a tree, bind to what is known at the point of use,
// evaluate with 64-bit semantics.
//
// Values are bigints. Addition, subtraction, multiplication, left shift and the bitwise operators are
// compatible with arithmetic modulo 2^64, so they run on plain bigints that are brought back into
// [-2^63, 2^64) after each step (see `reduce`): `-1` stays -1 and a kernel address stays positive.
// Division, remainder, right shift and comparisons look at the signed 64-bit value, like GAS's offsetT;
// measured with `as --64`: `-8 >> 1` is -4, `-7 / 2` is -3, `3 > 2` is -1 (all ones), `!5` is 0.
import { AsmError } from './diagnostics';

export type BinaryOp =
  '*' | '/' | '%' | '<<' | '>>' | '|' | '&' | '^' | '+' | '-' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '&&' | '||';
export type UnaryOp = '-' | '~' | '!' | '+';

export type Expr =
  | { k: 'num'; v: bigint }
  /** A symbol; `display` is how to name it in messages (numeric local labels have internal names). */
  | { k: 'sym'; name: string; display?: string }
  /** `.`, the location counter (replaced by a secref when bound). */
  | { k: 'dot' }
  /** An offset in a section whose base address is not known yet. */
  | { k: 'secref'; sec: string; off: bigint }
  | { k: 'un'; op: UnaryOp; a: Expr }
  | { k: 'bin'; op: BinaryOp; a: Expr; b: Expr };

const TWO64 = 1n << 64n;
const MIN_S64 = -(1n << 63n);

/** Brings a value into [-2^63, 2^64) without changing it modulo 2^64. */
export function reduce(v: bigint): bigint {
  return v >= MIN_S64 && v < TWO64 ? v : BigInt.asIntN(64, v);
}

export interface ParseOptions {
  /** Names a numeric local label reference (`1f`, `2b`). */
  localLabel?: (digits: string, direction: 'f' | 'b') => Expr;
  /** C preprocessor `#if` rules: comparisons and logical operators give 1 or 0. */
  cpp?: boolean;
}

// Binding strength of the binary operators, following the GAS manual ("Infix Operators"):
// * / % << >> bind tightest, then | & ^, then + -, then comparisons, then && and ||.
const PRECEDENCE: Record<BinaryOp, number> = {
  '*': 5,
  '/': 5,
  '%': 5,
  '<<': 5,
  '>>': 5,
  '|': 4,
  '&': 4,
  '^': 4,
  '+': 3,
  '-': 3,
  '==': 2,
  '!=': 2,
  '<': 2,
  '>': 2,
  '<=': 2,
  '>=': 2,
  '&&': 1,
  '||': 0,
};
const C_PRECEDENCE: Record<BinaryOp, number> = {
  '*': 10,
  '/': 10,
  '%': 10,
  '+': 9,
  '-': 9,
  '<<': 8,
  '>>': 8,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '==': 6,
  '!=': 6,
  '&': 5,
  '^': 4,
  '|': 3,
  '&&': 2,
  '||': 1,
};

type Token =
  | { t: 'num'; v: bigint; pos: number }
  | { t: 'id'; name: string; pos: number }
  | { t: 'local'; digits: string; dir: 'f' | 'b'; pos: number }
  | { t: 'op'; op: string; pos: number }
  | { t: 'end'; pos: number };

const OPERATORS = [
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '<>',
  '&&',
  '||',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '~',
  '!',
  '<',
  '>',
  '(',
  ')',
];

function isIdStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '.' || c === '$';
}
function isIdChar(c: string): boolean {
  return isIdStart(c) || (c >= '0' && c <= '9');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Reads one (possibly escaped) character of a character constant; returns its code and the next index. */
export function readEscapedChar(s: string, i: number): { code: number; next: number } {
  const c = s[i];
  if (c !== '\\') return { code: s.charCodeAt(i), next: i + 1 };
  const e = s[i + 1];
  const simple: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    b: 8,
    f: 12,
    v: 11,
    a: 7,
    '\\': 92,
    "'": 39,
    '"': 34,
    e: 27,
  };
  if (e === undefined) return { code: 92, next: i + 1 };
  if (e in simple) return { code: simple[e], next: i + 2 };
  if (e === 'x' || e === 'X') {
    let j = i + 2;
    let v = 0;
    for (; j < s.length && /[0-9a-fA-F]/.test(s[j]); j++) v = (v * 16 + parseInt(s[j], 16)) & 0xff;
    return { code: v, next: j };
  }
  if (e >= '0' && e <= '7') {
    let j = i + 1;
    let v = 0;
    for (; j < s.length && j < i + 4 && s[j] >= '0' && s[j] <= '7'; j++) v = v * 8 + (s.charCodeAt(j) - 48);
    return { code: v & 0xff, next: j };
  }
  return { code: s.charCodeAt(i + 1), next: i + 2 };
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (isDigit(c)) {
      const start = i;
      let j = i;
      while (j < s.length && isIdChar(s[j])) j++;
      const word = s.slice(i, j);
      i = j;
      const local = /^([0-9]+)([fb])$/.exec(word);
      if (local && !/^0b[01]+$/.test(word)) {
        out.push({ t: 'local', digits: local[1], dir: local[2] as 'f' | 'b', pos: start });
        continue;
      }
      out.push({ t: 'num', v: parseNumber(word, start), pos: start });
      continue;
    }
    if (c === "'") {
      if (i + 1 >= s.length) throw new AsmError('unterminated character constant', i);
      const { code, next } = readEscapedChar(s, i + 1);
      out.push({ t: 'num', v: BigInt(code), pos: i });
      i = s[next] === "'" ? next + 1 : next; // GAS accepts both 'a and 'a'
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < s.length && isIdChar(s[j])) j++;
      out.push({ t: 'id', name: s.slice(i, j), pos: i });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, i));
    if (!op) throw new AsmError(`unexpected character \`${c}' in expression`, i);
    out.push({ t: 'op', op: op === '<>' ? '!=' : op, pos: i });
    i += op.length;
  }
  out.push({ t: 'end', pos: s.length });
  return out;
}

function parseNumber(word: string, pos: number): bigint {
  let m: RegExpExecArray | null;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(word))) return BigInt('0x' + m[1]);
  if ((m = /^0[bB]([01]+)$/.exec(word))) return BigInt('0b' + m[1]);
  if (/^0[0-7]+$/.test(word)) return BigInt('0o' + word.slice(1));
  if (/^[0-9]+$/.test(word)) return BigInt(word);
  throw new AsmError(`invalid number \`${word}'`, pos);
}

/** Parses a whole expression; throws AsmError (with an offset into `text`) on bad syntax. */
export function parseExpr(text: string, options: ParseOptions = {}): Expr {
  const tokens = tokenize(text);
  const prec = options.cpp ? C_PRECEDENCE : PRECEDENCE;
  let p = 0;

  function primary(): Expr {
    const tok = tokens[p];
    if (tok.t === 'num') {
      p++;
      return { k: 'num', v: tok.v };
    }
    if (tok.t === 'local') {
      p++;
      if (!options.localLabel)
        throw new AsmError(`local label reference \`${tok.digits}${tok.dir}' not allowed here`, tok.pos);
      return options.localLabel(tok.digits, tok.dir);
    }
    if (tok.t === 'id') {
      p++;
      return tok.name === '.' ? { k: 'dot' } : { k: 'sym', name: tok.name };
    }
    if (tok.t === 'op') {
      if (tok.op === '(') {
        p++;
        const e = binary(0);
        const close = tokens[p];
        if (close.t !== 'op' || close.op !== ')') throw new AsmError("missing `)' in expression", close.pos);
        p++;
        return e;
      }
      if (tok.op === '-' || tok.op === '~' || tok.op === '!' || tok.op === '+') {
        p++;
        return { k: 'un', op: tok.op, a: primary() };
      }
    }
    if (tok.t === 'end') throw new AsmError('missing operand in expression', tok.pos);
    throw new AsmError(`unexpected \`${tok.t === 'op' ? tok.op : '?'}' in expression`, tok.pos);
  }

  function binary(minPrec: number): Expr {
    let left = primary();
    for (;;) {
      const tok = tokens[p];
      if (tok.t !== 'op' || !(tok.op in prec)) break;
      const op = tok.op as BinaryOp;
      const level = prec[op];
      if (level < minPrec) break;
      p++;
      const right = binary(level + 1); // left-associative
      left = { k: 'bin', op, a: left, b: right };
    }
    return left;
  }

  if (tokens[0].t === 'end') throw new AsmError('expected an expression', 0);
  const e = binary(0);
  const rest = tokens[p];
  if (rest.t !== 'end') throw new AsmError('junk after expression', rest.pos);
  return options.cpp ? { k: 'un', op: '+', a: markCpp(e) } : e;
}

// cpp comparisons yield 1/0 rather than GAS's -1/0: rewrite them as `!!(...)`-style nodes.
function markCpp(e: Expr): Expr {
  if (e.k === 'un') return { k: 'un', op: e.op, a: markCpp(e.a) };
  if (e.k !== 'bin') return e;
  const node: Expr = { k: 'bin', op: e.op, a: markCpp(e.a), b: markCpp(e.b) };
  if (['==', '!=', '<', '>', '<=', '>='].includes(e.op)) return { k: 'un', op: '-', a: node };
  return node;
}

/** A value that is either absolute (sec null) or an offset from a section's start. */
export interface Rel {
  sec: string | null;
  v: bigint;
}

export interface EvalEnv {
  /** A symbol's value, or undefined when it is not known (yet). */
  symbol(name: string, display: string): Rel | undefined;
  /** `.` if the expression was not bound. */
  dot?(): Rel;
  /** After layout: the base address of a section, so section offsets become absolute. */
  sectionBase?(sec: string): bigint;
}

/** Evaluates; returns undefined when some symbol is unknown. Throws AsmError for non-constant arithmetic. */
export function evaluate(e: Expr, env: EvalEnv): Rel | undefined {
  switch (e.k) {
    case 'num':
      return { sec: null, v: reduce(e.v) };
    case 'sym':
      return env.symbol(e.name, e.display ?? e.name);
    case 'dot':
      if (!env.dot) throw new AsmError("`.' is not allowed here");
      return env.dot();
    case 'secref':
      return env.sectionBase ? { sec: null, v: reduce(env.sectionBase(e.sec) + e.off) } : { sec: e.sec, v: e.off };
    case 'un': {
      const a = evaluate(e.a, env);
      if (!a) return undefined;
      if (e.op === '+') return a;
      if (a.sec !== null) throw new AsmError(`operator \`${e.op}' needs an absolute value`);
      return { sec: null, v: applyUnary(e.op, a.v) };
    }
    case 'bin': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      if (!a || !b) return undefined;
      if (e.op === '+' && (a.sec === null || b.sec === null)) {
        return { sec: a.sec ?? b.sec, v: reduce(a.v + b.v) };
      }
      if (e.op === '-' && b.sec === null) return { sec: a.sec, v: reduce(a.v - b.v) };
      if (e.op === '-' && a.sec === b.sec) return { sec: null, v: reduce(a.v - b.v) };
      if (a.sec !== null || b.sec !== null) {
        throw new AsmError(`operator \`${e.op}' needs absolute values (symbols in different sections?)`);
      }
      return { sec: null, v: applyBinary(e.op, a.v, b.v) };
    }
  }
}

export function applyUnary(op: UnaryOp, a: bigint): bigint {
  switch (op) {
    case '-':
      return reduce(-a);
    case '~':
      return reduce(~a);
    case '!':
      return a === 0n ? 1n : 0n;
    case '+':
      return a;
  }
}

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export function applyBinary(op: BinaryOp, a: bigint, b: bigint): bigint {
  switch (op) {
    case '+':
      return reduce(a + b);
    case '-':
      return reduce(a - b);
    case '*':
      return reduce(a * b);
    case '&':
      return reduce(a & b);
    case '|':
      return reduce(a | b);
    case '^':
      return reduce(a ^ b);
    case '<<': {
      const n = s64(b);
      return n < 0n || n > 63n ? 0n : reduce(a << n);
    }
    case '>>': {
      const n = s64(b);
      return n < 0n || n > 63n ? (s64(a) < 0n ? -1n : 0n) : s64(a) >> n;
    }
    case '/':
    case '%': {
      const d = s64(b);
      if (d === 0n) throw new AsmError('division by zero');
      return op === '/' ? reduce(s64(a) / d) : reduce(s64(a) % d);
    }
    case '==':
      return s64(a) === s64(b) ? -1n : 0n;
    case '!=':
      return s64(a) !== s64(b) ? -1n : 0n;
    case '<':
      return s64(a) < s64(b) ? -1n : 0n;
    case '>':
      return s64(a) > s64(b) ? -1n : 0n;
    case '<=':
      return s64(a) <= s64(b) ? -1n : 0n;
    case '>=':
      return s64(a) >= s64(b) ? -1n : 0n;
    case '&&':
      return a !== 0n && b !== 0n ? 1n : 0n;
    case '||':
      return a !== 0n || b !== 0n ? 1n : 0n;
  }
}

/**
 * Replaces what is known now: symbols `lookup` knows (the current value of a `.set` symbol) and `.`.
 * Labels and forward references stay symbolic and are resolved after layout.
 */
export function bind(e: Expr, lookup: (name: string) => Expr | undefined, dot: Expr): Expr {
  switch (e.k) {
    case 'sym':
      return lookup(e.name) ?? e;
    case 'dot':
      return dot;
    case 'un': {
      const a = bind(e.a, lookup, dot);
      return a === e.a ? e : { k: 'un', op: e.op, a };
    }
    case 'bin': {
      const a = bind(e.a, lookup, dot);
      const b = bind(e.b, lookup, dot);
      return a === e.a && b === e.b ? e : { k: 'bin', op: e.op, a, b };
    }
    default:
      return e;
  }
}

/** The value if the expression is made of numbers only (the "literal" that picks short encodings). */
export function literalValue(e: Expr): bigint | undefined {
  try {
    const r = evaluate(e, { symbol: () => undefined });
    return r && r.sec === null ? r.v : undefined;
  } catch {
    return undefined;
  }
}

/** Names of the symbols an expression mentions (for undefined-symbol messages). */
export function symbolsOf(
  e: Expr,
  out: Array<{ name: string; display: string }> = [],
): Array<{ name: string; display: string }> {
  if (e.k === 'sym') out.push({ name: e.name, display: e.display ?? e.name });
  else if (e.k === 'un') symbolsOf(e.a, out);
  else if (e.k === 'bin') {
    symbolsOf(e.a, out);
    symbolsOf(e.b, out);
  }
  return out;
}
