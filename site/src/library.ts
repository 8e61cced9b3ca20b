// The playground's one door into NMI Lab. The page is a client of the library's public API
// (kernel-lib/index.ts), but it imports each name from its layer: the index also carries the
// notebook and HTML-page glue (view/notebook.ts, view/page.ts), which are Node-only. The few
// names from outside the public API are marked; each is what the explorer, the CLI or the course
// already use for the same job.

// Designs, the harness kernel and a listing of one's own.
export { listDesigns, getDesign, summarizeDesign } from '../../kernel-lib/designs/registry';
export type { Design } from '../../kernel-lib/designs/manifest';
export { INTENDABLE_FAULTS } from '../../kernel-lib/designs/manifest'; // internal: a manifest's fault names
export { buildKernel, Kernel, KernelSetupError, WORKLOADS } from '../../kernel-lib/harness/kernel';
export type { ExceptionKind, WorkloadId } from '../../kernel-lib/harness/kernel';
// internal: the harness listing, shown when RIP is in it; assembling ahead of the explorer's request
export { assembleDesign, harnessSources } from '../../kernel-lib/harness/kernel';
export { regionAt } from '../../kernel-lib/harness/layout';
export type { MemoryRegion } from '../../kernel-lib/harness/layout';
export { checkDesignSource } from '../../kernel-lib/harness/design-source';
export type { CheckDesignResult } from '../../kernel-lib/harness/design-source';
export { AssemblyError, formatDiagnostic } from '../../kernel-lib/asm';
export type { Diagnostic } from '../../kernel-lib/asm/program';
export { vectorName } from '../../kernel-lib/isa/faults';
export { GPR_NAMES } from '../../kernel-lib/machine/machine';
export type { Machine } from '../../kernel-lib/machine/machine';
export type { MachineEvent } from '../../kernel-lib/machine/event-log';

// Schedules and the explorer.
export {
  parseSchedule,
  formatScheduleSteps,
  ScheduleSyntaxError,
  EVENT_KINDS,
} from '../../kernel-lib/explore/schedule';
export type { Schedule, ScheduleEvent, ScheduleEventKind } from '../../kernel-lib/explore/schedule';
// internal: resolve a schedule on a kernel and raise its events with the harness's conventions
// (`nmi-lab replay` does the same)
export { resolveSchedule, applyEvent } from '../../kernel-lib/explore/resolve';
export { exploreDesign, estimate, ExploreRefused } from '../../kernel-lib/explore/explore';
export type { Estimate, ExploreOptions } from '../../kernel-lib/explore/explore';
export type { ViolationReport, WorkloadReport } from '../../kernel-lib/explore/report';
export { sampleDesign } from '../../kernel-lib/explore/sample';
export type { SampleReport } from '../../kernel-lib/explore/sample';
export { INVARIANTS } from '../../kernel-lib/explore/invariants';
export type { InvariantId } from '../../kernel-lib/explore/invariants';

// What the views draw, and the views: the stack diagrams are the notebooks' own (the course's
// stack specs, labelled from the design's manifest, rendered by view/stack-render.ts).
export { captureStacks } from '../../kernel-lib/record/stack';
export type { StackDiagram, StackSpec } from '../../kernel-lib/record/stack';
export { TraceRecorder } from '../../kernel-lib/record/trace';
export type { Trace } from '../../kernel-lib/record/trace';
export { stackToHtml } from '../../kernel-lib/view/stack-render';
export { eventText } from '../../kernel-lib/view/trace-render'; // internal: one event log line, as traces print it
export { timelineChart } from '../../kernel-lib/view/plots';
export type { Chart } from '../../kernel-lib/view/plots';
export { nmiStackSpec, debugStackSpec, kernelStackSpec, repeatClassifier } from '../../kernel-lib/course/story';
