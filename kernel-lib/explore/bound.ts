// The bound an exploration runs under: how many events of each kind one episode may raise, how long
// a run may go on after the last, and the knobs that change the work but never the results. Its own
// module because the invariants read it too (invariant.ts), and the search imports them.
export interface SearchBound {
  /** Most NMIs in one episode (the first one and those arriving while it is handled). */
  depth: number;
  /** Most exceptions raised by the schedule in one episode. */
  exceptions: number;
  /** Steps allowed after the last event before the run counts as a hang. */
  maxStepsAfterEvent: number;
  /**
   * Writes the machine's journal holds (default 2^17). Past it, checkpoints no longer apply and
   * branches replay their path from the steady state: slower, same results (tests use a tiny one).
   */
  journalEntries?: number;
  /**
   * Runs with no events left hash where it pays ('adaptive', the default, see leaf-policy.ts) or at
   * every hashable boundary ('always'). Results are the same; the work and states differ.
   */
  leafHashing?: 'adaptive' | 'always';
}

export const DEFAULT_BOUND: SearchBound = { depth: 2, exceptions: 1, maxStepsAfterEvent: 5000 };
