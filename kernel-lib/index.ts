// NMI Lab's public API: what a user of the library needs, by layer (docs/api.md describes each
// name). The course's notebook helpers are `nmi-lab/course` (course/index.ts). Everything else in
// kernel-lib/ is internal: the CLI and the tests may reach into it, a user should not have to.

// The assembler: GAS (AT&T) source with the C-preprocessor subset and macros kernel .S files use.
export { assemble, assembleOrThrow, formatDiagnostic, AssemblyError } from './asm';
export type { AssembleOptions, AssembleResult, SourceFile } from './asm';
export type { Diagnostic, Program, SourceLoc } from './asm/program';

// The machine: load a program, step and run with a budget, raise NMIs and exceptions at
// instruction boundaries, snapshots and checkpoints, the event log.
export { DEFAULT_MAX_STEPS, GPR_NAMES, LoadError, Machine } from './machine/machine';
export type {
  BoundaryHook,
  GprName,
  InjectedEvent,
  LoadOptions,
  MachineSnapshot,
  NmiOutcome,
  RunOptions,
  RunResult,
  StopReason,
} from './machine/machine';
export type { MachineEvent, MachineEventKind } from './machine/event-log';
export { SELECTORS, MSR } from './machine/descriptors';
export type { Gate, GateType } from './machine/descriptors';
export { Vector, vectorName } from './isa/faults';
export { execSource } from './exec';
export type { ExecOptions, ExecResult, ExecStop } from './exec';

// The harness: the small Linux-like kernel a design runs in, its workloads and its memory layout;
// the lab machine (an IDT and IST stacks around your own program) and the scenario helpers.
export {
  buildKernel,
  Kernel,
  KernelSetupError,
  WORKLOADS,
  LAYOUT,
  PERCPU,
  EXCEPTION_STKSZ,
  DEBUG_STKSZ,
  THREAD_SIZE,
  harnessLayout,
  regionAt,
} from './harness';
export type {
  BuildKernelOptions,
  DoNmiRun,
  ExceptionKind,
  ExceptionPoint,
  KernelFailure,
  KernelSnapshot,
  WorkloadId,
  PercpuVar,
  HarnessLayout,
  MemoryRegion,
  StackLayout,
} from './harness';
export { LAB, labMachine } from './harness/lab-machine';
export type { LabProgram } from './harness/lab-machine';
export {
  labelsUntil,
  nestAfterBreakpoint,
  runBackTo,
  runTo,
  runToIret,
  runToUnblocked,
  ScenarioError,
} from './harness/scenario';

// Designs: the shipped ones, and your own listing (a cut-out entry, or a whole entry_64.S) with a
// manifest and the do_nmi of a release around it.
export { getDesign, listDesigns, summarizeDesign } from './designs';
export type { Design, DesignManifest, DesignSummary, HarnessOptions, StackEntry, StackSlot } from './designs';
export {
  checkDesignSource,
  loadDesignFromSource,
  extractNmiEntry,
  readUserManifest,
  DO_NMI_PRESETS,
  doNmiPreset,
} from './harness';
export type { CheckDesignResult, DoNmiOptions, DoNmiPreset, EntryExtraction, SourceDesignOptions } from './harness';

// The explorer: every NMI/exception schedule up to a bound, the invariants, minimal counterexamples,
// replay of one schedule, random sampling for bounds too large to cover.
export {
  exploreDesign,
  exploreWorkload,
  estimate,
  ExploreRefused,
  replaySchedule,
  sampleDesign,
  sampleWorkload,
  INVARIANTS,
  parseSchedule,
  formatScheduleSteps,
  ScheduleSyntaxError,
} from './explore';
export type {
  ExploreOptions,
  Estimate,
  WorkloadReport,
  ViolationReport,
  ReplayResult,
  StacksAtStep,
  SampleOptions,
  SampleReport,
  InvariantId,
  InvariantInfo,
  Schedule,
  ScheduleEvent,
} from './explore';

// What the views draw: stack captures and traces, recorded from a machine.
export { captureStack, captureStacks, captureAround } from './record/stack';
export type { CaptureOptions, StackAnnotation, StackDiagram, DiagramSlot, StackSpec } from './record/stack';
export { TraceRecorder, recordTrace } from './record/trace';
export type { Trace, TraceOptions, TraceStep, WatchedStack } from './record/trace';
export { classifyByLabels } from './record/contexts';
export type { ContextClassifier, EventContext } from './record/contexts';

// Views: stack diagrams and traces as text or HTML, plotly charts, notebook display, HTML pages.
export { stackToText, stacksToText, stackToHtml, stacksToHtml, beforeAfterHtml } from './view/stack-render';
export { traceToText, traceToHtml } from './view/trace-render';
export type { TraceViewOptions } from './view/trace-render';
export { timelineChart, outcomeMapChart, violationsChart, explorerCostChart } from './view/plots';
export type { Chart, ExplorerCost, InvariantViolations, OutcomePoint } from './view/plots';
export { viewToHtml, viewToText } from './view/render';
export type { TraceView, Viewable } from './view/render';
export { show } from './view/notebook';
export { exportHtmlPage } from './view/page';
export type { PageOptions } from './view/page';
