// The explorer: exhaustive NMI and exception schedules, invariants, minimal counterexamples.
export { exploreDesign, exploreWorkload, estimate, ExploreRefused } from './explore';
export type { ExploreOptions, Estimate } from './explore';
export type { WorkloadReport, ViolationReport } from './report';
export { exploreShare } from './shares';
export type { ShareResult, ShareTask } from './shares';
export { defaultWorkers } from './pool';
export { replaySchedule } from './replay';
export type { ReplayResult } from './replay';
export { Explorer } from './search';
export { DEFAULT_BOUND } from './bound';
export { sampleDesign, sampleWorkload, seededRandom, MAX_SAMPLES } from './sample';
export type { SampleOptions, SampleReport } from './sample';
export type { SearchStats, FoundViolation } from './search';
export type { SearchBound } from './bound';
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
export { resolveSchedule, labelSchedule, traceSchedule, applyEvent } from './resolve';
export type { StacksAtStep } from './resolve';
