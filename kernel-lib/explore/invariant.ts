// What an invariant is to the explorer: a description (what the reports print) and checks that the
// search calls at fixed moments of a run. An invariant decides only from what the explorer hashes
// (the machine's memory and registers, the monitor's open contexts and waiting NMI): two states with
// the same key must get the same verdicts, or deduplication would be unsound. Checks keep no state
// of their own between boundaries; what they learn when the explorer is built (where a counter
// lives, which faults the workload raises by itself) is fixed for its life.
//
// To add an invariant: one file in invariants/ exporting an Invariant, and its id and entry in
// invariants/index.ts (the one registration point); plus a test with a design that breaks it.
import type { Kernel } from '../harness/kernel';
import type { Cpu } from '../machine/cpu';
import type { LoggedEvent } from '../machine/event-log';
import type { Machine } from '../machine/machine';
import type { SearchBound } from './bound';
import type { ContextState, MonitorState, OpenContext } from './monitor';

/** How an invariant reports, and what it may read, at the moment it is called. */
export interface Judge {
  readonly machine: Machine;
  readonly kernel: Kernel;
  readonly bound: SearchBound;
  /** The open event contexts and the NMI still waiting for a run of do_nmi (monitor.ts). */
  readonly monitor: MonitorState;
  /** The machine's step count at the workload's steady state (schedules count from there). */
  readonly steadySteps: number;
  /** True during the undisturbed period the search starts from (no event raised yet). */
  readonly inRoot: boolean;
  /**
   * Report a violation on the current path; `summary` is called only if the report is kept. An
   * invariant reports once per run: after this, none of its checks is called until the next run.
   */
  violation(id: string, summary: () => string): void;
  /** An address as `label+0x..` (or hex). */
  where(address: bigint): string;
}

/** Why a run stopped by itself: a triple fault, a halt (the harness's oops), or the step budget. */
export type RunStop = 'shutdown' | 'hlt' | 'budget';

/** The checks of one invariant on one explorer. Every member is optional: a check runs where it has one. */
export interface InvariantChecks {
  /**
   * Once, after one undisturbed period of the workload from its steady state (no events raised):
   * the events it logged, i.e. what the workload does by itself (its own faults, say).
   */
  learnWorkload?(events: readonly LoggedEvent[]): void;
  /**
   * At every boundary, before anything else (the explorer's quick path too, so keep it to a few
   * comparisons): true asks for a full look, where atBoundary runs.
   */
  needsLook?(cpu: Cpu): boolean;
  /** At a boundary the explorer looks at in full (after it has taken in the events logged). */
  atBoundary?(judge: Judge, cpu: Cpu): void;
  /** Each event the machine logged (delivery, IRET, fault, double fault, shutdown), in order. */
  atEvent?(judge: Judge, event: LoggedEvent): void;
  /**
   * A return (IRET, or a RET the design declares a return without IRET) went back to the RIP and
   * CS that `context` interrupted. `back` is the state it returned to; null: the CPU as it is now.
   */
  atReturn?(judge: Judge, context: OpenContext, back: ContextState | null, how: string): void;
  /** Something was logged, or do_nmi began, since the last boundary. */
  atChange?(judge: Judge): void;
  /** The episode is over: every event returned, NMIs unblocked, nothing latched. */
  atEpisodeEnd?(judge: Judge): void;
  /** The run stopped by itself. */
  atStop?(judge: Judge, stop: RunStop): void;
  /** The machine came back to a state whose future is still being explored: it loops forever. */
  atCycle?(judge: Judge): void;
}

export interface Invariant {
  id: string;
  /** The number the reports and lessons use (1..n, in registration order). */
  number: number;
  title: string;
  /** The precise rule, in words. */
  rule: string;
  /** The checks for one explorer, on `kernel` at its steady state. */
  checks(kernel: Kernel): InvariantChecks;
}
