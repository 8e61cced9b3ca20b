// Which boundaries of a leaf (a run with no events left to raise) the explorer hashes. Results never
// depend on this; only the work done and the states stored do.
//
// Leaves' states can only meet other leaves' (the events left are part of the key), and whether they
// do depends on the bound: on linux-3.3 at depth 2, 97% of leaves missed at their first hashable
// boundary and never hit after the third, while at depth 3, 85% hit at the first. So a leaf's k-th
// hashable boundary is hashed while the leaves' lookups at that position have hit often enough
// (MIN_HIT_RATE, after LEARN lookups), and one time in PROBE otherwise, so that a change is noticed;
// past HASH_AFTER steps a leaf always hashes, which still ends a leaf that loops through logged
// events as a cycle.
const POSITIONS = 8;
const LEARN = 256;
const MIN_HIT_RATE = 1 / 16;
const PROBE = 16;
const HASH_AFTER = 400;

export class LeafPolicy {
  // Lookups and hits by position of the hashable boundary in its leaf.
  private readonly lookups = new Int32Array(POSITIONS);
  private readonly hits = new Int32Array(POSITIONS);
  private readonly probes = new Int32Array(POSITIONS);
  /** The position in the leaf running now, and the one the last lookup counts in (-1: none). */
  private position = 0;
  private slot = -1;
  private readonly always: boolean;

  /** 'always': hash at every hashable boundary (the same results, more work; for tests and comparison). */
  constructor(mode: 'adaptive' | 'always') {
    this.always = mode === 'always';
  }

  /** A new leaf starts. */
  startLeaf(): void {
    this.position = 0;
    this.slot = -1;
  }

  /** Whether the leaf hashes the hashable boundary it is at, `steps` into its run. */
  hashesHere(steps: number): boolean {
    if (this.always) return true;
    const p = this.position++;
    this.slot = p < POSITIONS ? p : -1;
    if (steps > HASH_AFTER) return true;
    if (p >= POSITIONS) return false;
    const n = this.lookups[p];
    if (n < LEARN || this.hits[p] >= n * MIN_HIT_RATE) return true;
    return ++this.probes[p] % PROBE === 0;
  }

  /** The lookup hashesHere() allowed found an explored state (`hit`) or not. */
  looked(hit: boolean): void {
    if (this.slot < 0) return;
    this.lookups[this.slot]++;
    if (hit) this.hits[this.slot]++;
  }
}
