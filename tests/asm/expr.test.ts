import fc from 'fast-check';
import { applyBinary, BinaryOp, evaluate, Expr, parseExpr } from '../../kernel-lib/asm/expr';
import { asm, only } from './helpers';

const value = (text: string, symbols: Record<string, bigint> = {}): bigint => {
  const r = evaluate(parseExpr(text), { symbol: (n) => (n in symbols ? { sec: null, v: symbols[n] } : undefined) });
  if (!r) throw new Error('unknown symbol');
  return r.v;
};

describe('constant expressions', () => {
  it.each<[string, bigint]>([
    ['42', 42n],
    ['0x2a', 42n],
    ['0X2A', 42n],
    ['0b101010', 42n],
    ['052', 42n],
    ['0', 0n],
    ["'a'", 97n],
    ["'a", 97n],
    ["'\\n'", 10n],
    ['-6*8', -48n],
    ['11*8', 88n],
    ['(11*8)', 88n],
    ['1<<3', 8n],
    ['~0', -1n],
    ['!0', 1n],
    ['!5', 0n],
    ['7/2', 3n],
    ['-7/2', -3n],
    ['-7%2', -1n],
    ['-8>>1', -4n],
    ['6&3', 2n],
    ['6|1', 7n],
    ['6^3', 5n],
    ['3>2', -1n],
    ['3<2', 0n],
    ['2==2', -1n],
    ['2!=2', 0n],
    ['2<>3', -1n],
    ['2<=2', -1n],
    ['1>=2', 0n],
    ['1&&2', 1n],
    ['0||0', 0n],
    ['2==1+1', -1n],
    ['1+2*3', 7n],
    ['(1+2)*3', 9n],
    ['6 & 3 << 1', 6n],
    ['0xffffffff81000000', 0xffffffff81000000n],
    ['0xffffffffffffffff + 1', 0n],
    ['1 << 64', 0n],
    ['-0x8000000000000000', -0x8000000000000000n],
  ])('%s = %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it('uses symbols', () => {
    expect(value('(X & 0xff)', { X: 0x1234n })).toBe(0x34n);
    expect(value('sym+8', { sym: 0x1000n })).toBe(0x1008n);
    expect(value('end-start', { end: 0x1010n, start: 0x1000n })).toBe(0x10n);
  });

  it('reports syntax errors with a position', () => {
    expect(() => parseExpr('1 +')).toThrow(/missing operand/);
    expect(() => parseExpr('(1')).toThrow(/missing `\)'/);
    expect(() => parseExpr('1 2')).toThrow(/junk/);
    expect(() => value('1/0')).toThrow(/division by zero/);
  });

  it('works inside instructions and data', () => {
    expect(only('addq $(11*8), %rsp').operands[0]).toEqual({ kind: 'imm', value: 88n });
    expect(only('movq -6*8(%rsp), %rax').operands[0]).toMatchObject({ kind: 'mem', disp: -48n });
    const p = asm('X = 0x1234\nstart: .quad (X & 0xff), end-start, . - start\nend:\n');
    const data = p.sections.find((s) => s.name === '.text')!.bytes;
    const q = (k: number): bigint => new DataView(data.buffer).getBigUint64(k * 8, true);
    expect([q(0), q(1), q(2)]).toEqual([0x34n, 24n, 16n]);
  });
});

// Property: the evaluator agrees with a straightforward BigInt evaluation of the same tree.
type Tree = { leaf: bigint } | { op: BinaryOp; a: Tree; b: Tree } | { un: '-' | '~' | '!'; a: Tree };
const OPS: BinaryOp[] = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '<<',
  '>>',
  '&',
  '|',
  '^',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '&&',
  '||',
];

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
function reference(t: Tree): bigint | 'div0' {
  if ('leaf' in t) return s64(t.leaf);
  if ('un' in t) {
    const a = reference(t.a);
    if (a === 'div0') return a;
    return t.un === '-' ? s64(-a) : t.un === '~' ? s64(~a) : a === 0n ? 1n : 0n;
  }
  const a = reference(t.a);
  const b = reference(t.b);
  if (a === 'div0' || b === 'div0') return 'div0';
  const T = -1n;
  switch (t.op) {
    case '+':
      return s64(a + b);
    case '-':
      return s64(a - b);
    case '*':
      return s64(a * b);
    case '/':
      return b === 0n ? 'div0' : s64(a / b);
    case '%':
      return b === 0n ? 'div0' : s64(a % b);
    case '<<':
      return b < 0n || b > 63n ? 0n : s64(a << b);
    case '>>':
      return b < 0n || b > 63n ? (a < 0n ? -1n : 0n) : a >> b;
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '==':
      return a === b ? T : 0n;
    case '!=':
      return a !== b ? T : 0n;
    case '<':
      return a < b ? T : 0n;
    case '>':
      return a > b ? T : 0n;
    case '<=':
      return a <= b ? T : 0n;
    case '>=':
      return a >= b ? T : 0n;
    case '&&':
      return a !== 0n && b !== 0n ? 1n : 0n;
    case '||':
      return a !== 0n || b !== 0n ? 1n : 0n;
  }
}
function print(t: Tree): string {
  if ('leaf' in t) return t.leaf < 0n ? `(-0x${(-t.leaf).toString(16)})` : `0x${t.leaf.toString(16)}`;
  if ('un' in t) return `${t.un}(${print(t.a)})`;
  return `(${print(t.a)} ${t.op} ${print(t.b)})`;
}
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .oneof(fc.bigInt(-1000n, 1000n), fc.bigInt(-(1n << 63n), (1n << 64n) - 1n), fc.bigInt(0n, 70n))
      .map((leaf) => ({ leaf })),
    fc.record({ op: fc.constantFrom(...OPS), a: tie('t'), b: tie('t') }),
    fc.record({ un: fc.constantFrom<'-' | '~' | '!'>('-', '~', '!'), a: tie('t') }),
  ),
})).t;

describe('expression evaluator (property)', () => {
  it('matches a reference BigInt evaluation modulo 2^64', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const expected = reference(t);
        const text = print(t);
        if (expected === 'div0') {
          expect(() => value(text)).toThrow(/division by zero/);
          return;
        }
        expect(BigInt.asUintN(64, value(text))).toBe(BigInt.asUintN(64, expected));
      }),
      { numRuns: 2000 },
    );
  });

  it('applyBinary keeps values in [-2^63, 2^64)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPS),
        fc.bigInt(-(1n << 63n), (1n << 64n) - 1n),
        fc.bigInt(1n, 1n << 40n),
        (op, a, b) => {
          const v = applyBinary(op, a, b);
          expect(v >= -(1n << 63n) && v < 1n << 64n).toBe(true);
        },
      ),
    );
  });

  it('parses every printed tree back to the same shape of value', () => {
    const e: Expr = parseExpr('((1 + 2) * 3)');
    expect(e).toEqual({
      k: 'bin',
      op: '*',
      a: { k: 'bin', op: '+', a: { k: 'num', v: 1n }, b: { k: 'num', v: 2n } },
      b: { k: 'num', v: 3n },
    });
  });
});
