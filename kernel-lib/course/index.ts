// The course's notebook-facing API: what lesson cells import as `nmi-lab/course`.
// The lesson builder, runner and grader (lesson.ts, notebook.ts, build.ts, runner.ts, grader.ts)
// are tools, not re-exported here, so a notebook never loads the Markdown parser.
export {
  allExercises,
  check,
  checkResult,
  CheckFailure,
  defineExercise,
  describe,
  exerciseById,
  expectArray,
  expectBigint,
  expectBoolean,
  expectDefined,
  expectFunction,
  expectNumber,
  expectOneOf,
  expectRecord,
  expectString,
  expectTrue,
  formatCheckHtml,
  formatCheckText,
  showCheckResult,
} from './checks';
export type { CheckResult, Definitions, Exercise } from './checks';
export { decodeAnswer, encodeAnswer, Opaque, recordActions, replayActions, withRecording } from './answers';
export type { Action, Json, Recording, ReplayOutcome } from './answers';
export { formatFrame, LAB, LAB_HANDLERS, labMachine, readFrame, stackLines } from '../harness/lab-machine';
export type { InterruptFrame } from '../harness/lab-machine';
export { CH0_PROGRAM, CH1_NESTING, CH1_STACKS, deliveryRspObserved, runSumProgram } from './exercises';
export type { DeliveryCase, NestCase, RspCase } from './exercises';
export {
  debugStack,
  debugStackSpec,
  designKernel,
  frameAt,
  frameRipOffset,
  kernelStackSpec,
  labelsToIret,
  labelsUntil,
  manifestAnnotations,
  nmiOffset,
  nmiStack,
  nmiStackSpec,
  offNmiStack,
  recordKernelTrace,
  repeatClassifier,
  runBackTo,
  runTo,
  runToIret,
  runToUnblocked,
  ScenarioError,
  stackText,
  whereIs,
} from './story';
export {
  faultingIretObserved,
  FRAME_SLOTS,
  gapInstructionsObserved,
  iretFaultGsAfter,
  linusNmiAt,
  nestedCopiedFrame,
  nestingCase,
  nestingCases,
  nmiAfterException,
  REENTRY_SCENARIOS,
  reentryObserved,
  syscallGapNmi,
  syscallPath,
  unprotectedNesting,
  VISIBLE_ARRIVALS,
} from './design-exercises';
export type { Arrival, Ending, FrameSlot, NestingCase, ReenterCase, StormCase } from './design-exercises';
export { breakTheDesign, changedDesign, changedLines } from './break-design';
export type { BreakSpec } from './break-design';
export {
  COPY_AND_DROP,
  counterexample,
  CR2_TARGETS,
  invariantTable,
  judge,
  labDesign,
  mapCounts,
  oneExceptionVerdicts,
  outcomeMap,
  reportText,
  verdictOf,
  withDoNmiLatch,
} from './proving';
export type { MapRow, OutcomeMapOptions, PlainCase, ReentryCase } from './proving';
export {
  breakpointInNmiOnDebugStack,
  LDT_USER_SS,
  nmiStackWords,
  nmiStream,
  onNmiStack,
  overwrittenSlots,
  slotName,
  userIretFault,
  withHarness,
  withNmiIdtTable,
  withStackLayout,
} from './history';
export type { DebugStackNmiResult, FrameWords, OverwrittenSlot, StaircaseResult, UserIretFaultResult } from './history';
