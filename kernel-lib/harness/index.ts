// The harness: the small kernel around a design (see kernel.S and kernel.ts).
export {
  buildKernel,
  assembleDesign,
  harnessSources,
  Kernel,
  WORKLOADS,
  REQUIRED_LABELS,
  KNOWN_LABELS,
  KernelSetupError,
} from './kernel';
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
} from './kernel';
export {
  DEBUG_STKSZ,
  EXCEPTION_STKSZ,
  IST,
  LAYOUT,
  STACK_LAYOUTS,
  harnessLayout,
  regionAt,
  OOPS_REASONS,
  PERCPU,
  PT_REGS,
  THREAD_SIZE,
  harnessSymbols,
} from './layout';
export type { HarnessLayout, MemoryRegion, PercpuVar, StackLayout } from './layout';
export { checkDesignSource, loadDesignFromSource } from './design-source';
export type { CheckDesignResult } from './design-source';
export { DO_NMI_PRESETS, doNmiPreset, doNmiReleases } from './do-nmi-presets';
export type { DoNmiOptions, DoNmiPreset } from './do-nmi-presets';
export { extractNmiEntry } from './entry-file';
export type { EntryExtraction, TakenRange } from './entry-file';
export { readUserManifest, withDoNmiPreset } from './user-manifest';
export type { SourceDesignOptions } from './user-manifest';
