// NMI Lab's public API. Notebooks, the CLI and tests import from here.
export { assemble, assembleOrThrow, formatDiagnostic, AssemblyError } from './asm';
export type { AssembleOptions, AssembleResult, SourceFile } from './asm';
export type {
  Cond,
  Diagnostic,
  Instruction,
  MemOperand,
  Op,
  Operand,
  OperandSize,
  Program,
  Section,
  SourceLoc,
  SymbolInfo,
} from './asm/program';
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
export { SELECTORS, MSR, LINUX_GDT } from './machine/descriptors';
export type { Gate, GateType, SegmentDescriptor } from './machine/descriptors';
export { Vector, vectorName } from './isa/faults';
export { doubleFaultRule } from './machine/delivery';
export { EXEC_LAYOUT, bareMachine, execSource } from './exec';
export type { ExecOptions, ExecResult, ExecStop } from './exec';
export {
  buildKernel,
  assembleDesign,
  harnessSources,
  Kernel,
  WORKLOADS,
  REQUIRED_LABELS,
  KNOWN_LABELS,
  KernelSetupError,
  DEBUG_STKSZ,
  EXCEPTION_STKSZ,
  LAYOUT,
  OOPS_REASONS,
  PERCPU,
  PT_REGS,
  THREAD_SIZE,
  harnessSymbols,
  DO_NMI_PRESETS,
  doNmiPreset,
  doNmiReleases,
} from './harness';
export type {
  ArmedException,
  AssembleDesignResult,
  BuildKernelOptions,
  DoNmiRun,
  ExceptionKind,
  ExceptionPoint,
  KernelFailure,
  KernelSnapshot,
  WorkloadId,
  PercpuVar,
  DoNmiOptions,
  DoNmiPreset,
} from './harness';
export {
  checkDesignSource,
  loadDesignFromSource,
  getDesign,
  listDesigns,
  summarizeDesign,
  designsDirectory,
  expandStack,
  manifestProblems,
  extractNmiEntry,
  readUserManifest,
} from './designs';
export type {
  CheckDesignResult,
  Design,
  DesignManifest,
  DesignSummary,
  EntryExtraction,
  SourceDesignOptions,
  StackEntry,
  StackSlot,
  TakenRange,
} from './designs';
// Views: stack diagrams, traces, plots and notebook display (kernel-lib/view/).
export * from './view';
export {
  exploreDesign,
  exploreWorkload,
  estimate,
  replaySchedule,
  ExploreRefused,
  Explorer,
  INVARIANTS,
  parseSchedule,
  formatScheduleSteps,
  resolveSchedule,
  labelSchedule,
  traceSchedule,
  sampleDesign,
  sampleWorkload,
} from './explore';
export type {
  ExploreOptions,
  WorkloadReport,
  ViolationReport,
  Estimate,
  ReplayResult,
  SearchBound,
  InvariantId,
  Schedule,
  ScheduleEvent,
  SampleOptions,
  SampleReport,
} from './explore';
