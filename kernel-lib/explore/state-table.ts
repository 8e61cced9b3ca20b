// The explorer's table of explored states: 53-bit state keys (state-hash.ts) to slot numbers.
// Open addressing over typed arrays. A Map with these keys (doubles, not small integers) costs
// a boxed number per entry and a slow hash per lookup; this table takes 12 bytes per slot and a
// few integer operations.
const EMPTY = -1;

export class StateTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for `key` (a whole number in [0, 2^53)), or -1. */
  get(key: number): number {
    const keys = this.keys;
    for (let i = slotOf(key) & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return -1;
    }
  }

  /** Store `value` (>= 0) for `key`, replacing any value it had. */
  set(key: number, value: number): void {
    if ((this.count + 1) * 10 > (this.mask + 1) * 7) this.grow();
    const keys = this.keys;
    for (let i = slotOf(key) & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.values[i] = value;
        this.count++;
        return;
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldKeys.length * 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i], oldValues[i]);
  }
}

/** Mix both halves of the key into a table index (the low bits alone are the hash's weaker lane). */
function slotOf(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) | 0;
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 15);
}
