// The course's notebook-facing API: what lesson cells import as `nmi-lab/course`.
// The lesson builder, runner and grader (lesson.ts, notebook.ts, build.ts, runner.ts, grader.ts)
// are tools, not re-exported here, so a notebook never loads the Markdown parser.
export {
  check,
  CheckFailure,
  describe,
  expectDefined,
  expectEqual,
  expectList,
  expectTrue,
  formatCheckHtml,
  formatCheckText,
  runCheck,
  showCheckResult,
} from './checks';
export type { CheckOptions, CheckResult } from './checks';
export { formatFrame, LAB, LAB_HANDLERS, labMachine, readFrame, stackLines } from '../harness/lab-machine';
export type { InterruptFrame } from '../harness/lab-machine';
export {
  burstOutcomes,
  checkBurstPrediction,
  checkInterruptedRip,
  checkNestedNmi,
  checkSumIsALoop,
  checkSumProgram,
} from './exercises';
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
  checkCopiedFrame,
  checkFredPrediction,
  checkIsNested,
  checkOverwritePrediction,
  checkReenter,
  checkSkippedNmi,
  checkFaultingIret,
  checkGsTrap,
  checkIretFaultGs,
  checkNmiStorm,
  faultingIretObserved,
  iretFaultGsAfter,
  linusNmiAt,
  FRAME_SLOTS,
  nestedCopiedFrame,
  nestingCases,
  nmiAfterException,
  syscallGapNmi,
  unprotectedNesting,
} from './design-exercises';
export type { FrameSlot, NestingCase } from './design-exercises';
export {
  checkClosedHole,
  checkCr2Verdicts,
  COPY_AND_DROP,
  checkPlainEntry,
  checkReentrySchedule,
  CR2_DESIGNS,
  invariantTable,
  judge,
  labDesign,
  counterexample,
  mapCounts,
  oneExceptionVerdicts,
  outcomeMap,
  reportText,
  verdictOf,
  withDoNmiLatch,
} from './proving';
export type { MapRow, OutcomeMapOptions } from './proving';
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
