// What the explorer records of a run, and the option bits of a boundary: the data the search
// (search.ts) walks. Run records are plain arrays pushed to at every boundary the run passes.
import type { MachineCheckpoint } from '../machine/machine';
import type { Insn } from '../isa/insn';
import type { MonitorState } from './monitor';
import type { ScheduleEvent, ScheduleEventKind } from './schedule';

/** The events a boundary allows, as bits. */
export const OPT_NMI = 1;
export const OPT_BP = 2;
export const OPT_DB = 4;
export const OPT_PF = 8;
export const OPTION_KINDS: { bit: number; kind: ScheduleEventKind }[] = [
  { bit: OPT_NMI, kind: 'nmi' },
  { bit: OPT_BP, kind: 'bp' },
  { bit: OPT_DB, kind: 'db' },
  { bit: OPT_PF, kind: 'pf' },
];

/** What a subtree holds: schedules and violated invariants, from each of its run's boundaries. */
export interface SubtreeResult {
  count: number;
  mask: number;
  run: RunRecord;
  /** suffixCount[i]: schedules from boundary i of the run on (index length: the run's end); kept for latch runs only. */
  suffixCount: number[] | null;
  suffixMask: number[] | null;
}

/** A scheduled event on the current path, with what replaying it needs. */
export interface PathEvent extends ScheduleEvent {
  bit: number;
  lo: number;
  hi: number;
}

export type RunEnd = 'quiescent' | 'memo' | 'cycle' | 'budget' | 'failure' | 'period';

/**
 * Where the walk over one run's boundaries is: a checkpoint at a boundary of that run (null when
 * none could be taken), and whether the machine is still exactly there.
 */
export interface Cursor {
  checkpoint: MachineCheckpoint | null;
  steps: number;
  insn: Insn | null;
  here: boolean;
}

/** Flag beside the option bits: NMIs blocked and nothing latched, an NMI here would only set the latch. */
export const LATCH = 16;

/** One observed run: its boundaries, in order (a few arrays, pushed to at every boundary). */
export class RunRecord {
  steps: number[] = [];
  /** The instruction about to run at each boundary (its address is insn.lo, insn.hi). */
  insn: Insn[] = [];
  mon: MonitorState[] = [];
  /** Option bits (OPT_*) and LATCH. */
  opts: number[] = [];
  slot: number[] = [];
  /** Violations detected after boundary i (before the next one); null until there is one. */
  violMask: number[] | null = null;
  /** Violations detected before the first boundary (caused by the event that started the run). */
  preMask = 0;
  /** Invariants already reported on this run (one report each is enough). */
  seen = 0;
  end: RunEnd = 'budget';
  tail = -1; // memo index on a hit
  /** The boundary where the run met an explored state (end 'memo'). */
  endSteps = -1;
  endLo = 0;
  endHi = 0;
  constructor(
    readonly startSteps: number,
    readonly root: boolean,
  ) {}
}
