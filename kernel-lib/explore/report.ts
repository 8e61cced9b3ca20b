// What the explorer reports (plain data: the CLI, the views and the tests read it), and the choices
// every way of exploring shares (which user RSPs a user-mode workload is tried with).
import type { WorkloadId } from '../harness/kernel';
import { EXCEPTION_STKSZ, LAYOUT } from '../harness/layout';
import type { InvariantId } from './invariants';
import type { ScheduleEvent } from './schedule';

export interface ViolationReport {
  invariant: InvariantId;
  /** 1..6, the invariants' numbers. */
  number: number;
  title: string;
  /** Paste into `nmi-lab replay DESIGN --workload W --schedule '...'`. */
  schedule: string;
  /** The same schedule by step counts. */
  scheduleSteps: string;
  events: ScheduleEvent[];
  userRsp?: bigint;
  summary: string;
}

export interface WorkloadReport {
  design: string;
  workload: WorkloadId;
  depth: number;
  exceptions: number;
  verdict: 'clean' | 'violated';
  /** Schedules within the bound (run, or proven equivalent to a run one). */
  schedules: number;
  /** Distinct states stored (summed over workers). */
  states: number;
  runs: number;
  /** Boundaries hashed / distinct states. */
  dedupRatio: number;
  /** Schedules per run executed. */
  schedulesPerRun: number;
  steps: number;
  ms: number;
  userRsps: string[];
  violations: ViolationReport[];
}

/** The user RSPs a workload is explored with (undefined: the harness default). */
export function userRspsFor(w: WorkloadId, given?: bigint[]): (bigint | undefined)[] {
  if (w !== 'user' && w !== 'syscall') return [undefined];
  return given ?? [undefined, LAYOUT.nmiStackTop - BigInt(EXCEPTION_STKSZ / 2)];
}
