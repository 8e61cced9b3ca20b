// emptyObjectArray(): behaves exactly as `[]` does (its point, V8's elements kind, is speed only).
import { emptyObjectArray } from '../../kernel-lib/machine/object-array';

test('each call gives a fresh, empty, ordinary array', () => {
  const a = emptyObjectArray<{ n: number }>();
  const b = emptyObjectArray<{ n: number }>();
  expect(a).not.toBe(b);
  expect(a).toEqual([]);
  expect(Array.isArray(a) && a.length === 0 && !(0 in a)).toBe(true);
  a.push({ n: 1 }, { n: 2 });
  expect(a.map((x) => x.n)).toEqual([1, 2]);
  expect(b.length).toBe(0);
});
