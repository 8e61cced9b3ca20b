// The harness: the small kernel around a design (see kernel.S and kernel.ts).
export {
  buildKernel,
  assembleDesign,
  harnessSources,
  Kernel,
  WORKLOADS,
  REQUIRED_LABELS,
  KNOWN_LABELS,
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
