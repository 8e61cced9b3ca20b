// The explorer: exhaustive NMI and exception schedules, invariants, minimal counterexamples.
export {
  exploreDesign,
  exploreWorkload,
  exploreShare,
  estimate,
  replaySchedule,
  defaultWorkers,
  ExploreRefused,
} from './explore';
export type {
  ExploreOptions,
  WorkloadReport,
  ViolationReport,
  Estimate,
  ReplayResult,
  ShareResult,
  ShareTask,
} from './explore';
export { Explorer, DEFAULT_BOUND } from './search';
export { sampleDesign, sampleWorkload, seededRandom, MAX_SAMPLES } from './sample';
export type { SampleOptions, SampleReport } from './sample';
export type { SearchBound, SearchStats, FoundViolation } from './search';
export { INVARIANTS, invariantInfo } from './invariants';
export type { InvariantId, InvariantInfo } from './invariants';
export {
  parseSchedule,
  formatScheduleSteps,
  formatScheduleLabels,
  compareSchedules,
  ScheduleSyntaxError,
  EVENT_KINDS,
} from './schedule';
export type {
  Schedule,
  ScheduleEvent,
  ScheduleEventKind,
  ParsedSchedule,
  ParsedEvent,
  SchedulePosition,
} from './schedule';
export { resolveSchedule, labelSchedule, traceSchedule, applyEvent } from './replay';
