// The explorer's state table must behave like a Map from 53-bit keys, through growth.
import fc from 'fast-check';
import { StateTable } from '../../kernel-lib/explore/state-table';

describe('StateTable', () => {
  test('agrees with a Map on random 53-bit keys, colliding and growing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.nat()), { maxLength: 3000 }),
        (pairs) => {
          const t = new StateTable(16);
          const m = new Map<number, number>();
          for (const [k, v] of pairs) {
            // Keys that differ only in their high half, or only in their low half, too.
            for (const key of [k, k % 2 ** 32, Math.floor(k / 2 ** 32) * 2 ** 32]) {
              t.set(key, v);
              m.set(key, v);
            }
          }
          expect(t.size).toBe(m.size);
          for (const [k, v] of m) expect(t.get(k)).toBe(v);
          expect(t.get(Number.MAX_SAFE_INTEGER - 7)).toBe(m.get(Number.MAX_SAFE_INTEGER - 7) ?? -1);
        },
      ),
      { numRuns: 40 },
    );
  });
});
