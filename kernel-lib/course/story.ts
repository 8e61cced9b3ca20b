// Helpers the design chapters (2 onwards) share: drive a harness kernel to a label, raise an NMI
// there, and draw its stacks with the view library, labelled from the design's own manifest.
// Lesson cells call these and print; the narrative lives in the lesson, the mechanics here.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { buildKernel, Kernel, WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import { captureStack } from '../record/stack';
import type { CaptureOptions, StackAnnotation, StackDiagram, StackSpec } from '../record/stack';
import { stackToText } from '../view/stack-render';
import { DEBUG_STKSZ, EXCEPTION_STKSZ, THREAD_SIZE } from '../harness/layout';
import { TraceRecorder } from '../record/trace';
import type { Trace, TraceOptions } from '../record/trace';
import { classifyByLabels } from '../record/contexts';
import type { ContextClassifier } from '../record/contexts';
import type { BoundaryHook, Machine } from '../machine/machine';
import { offNmiStack, ScenarioError } from '../harness/scenario';

export {
  labelsToIret,
  labelsUntil,
  nestAfterBreakpoint,
  offNmiStack,
  runBackTo,
  runTo,
  runToIret,
  runToUnblocked,
  ScenarioError,
} from '../harness/scenario';

/** A harness kernel for a shipped design (or one from loadDesignFromSource), at its workload's steady state. */
export function designKernel(design: string | Design, workload: WorkloadId = 'kernel', userRsp?: bigint): Kernel {
  return buildKernel({ design, workload, userRsp });
}

/**
 * The manifest's NMI stack slots as view annotations. A manifest slot's offset is its lowest byte
 * relative to the IST top (-40 is the hardware frame's RIP); a view annotation names its highest
 * slot, counted the same way, and how many 8-byte slots it covers.
 */
export function manifestAnnotations(design: Design): StackAnnotation[] {
  return design.stack.map((s) => {
    const slots = Math.max(1, Math.floor(s.size / 8));
    return { offset: s.offset + 8 * (slots - 1), label: s.name, slots, group: s.group };
  });
}

/** The NMI stack (IST3, 4096 bytes) of a kernel, labelled from its design's manifest. */
export function nmiStackSpec(k: Kernel, options: { maxRows?: number; annotate?: boolean } = {}): StackSpec {
  return {
    name: 'NMI stack (IST 3)',
    top: k.nmiStackTop,
    size: EXCEPTION_STKSZ,
    annotations: options.annotate === false ? [] : manifestAnnotations(k.design),
    maxRows: options.maxRows ?? 40,
  };
}

/** The debug stack (IST4, 8192 bytes), where #BP and #DB frames land. */
export function debugStackSpec(k: Kernel, options: { maxRows?: number } = {}): StackSpec {
  return {
    name: 'debug stack (IST 4)',
    top: k.debugStackTop,
    size: DEBUG_STKSZ,
    maxRows: options.maxRows ?? 12,
    minRows: 6,
  };
}

/** The task's kernel stack (RSP0). */
export function kernelStackSpec(k: Kernel, options: { maxRows?: number } = {}): StackSpec {
  return { name: 'task kernel stack', top: k.kernelStackTop, size: THREAD_SIZE, maxRows: options.maxRows ?? 16 };
}

/** Capture the NMI stack now (compare with `previous` to mark what changed). */
export function nmiStack(
  k: Kernel,
  caption?: string,
  previous?: StackDiagram | null,
  options: { maxRows?: number } = {},
): StackDiagram {
  const o: CaptureOptions = { caption, previous: previous ?? null };
  return captureStack(k.machine, nmiStackSpec(k, options), o);
}

/** Capture the debug stack now. */
export function debugStack(k: Kernel, caption?: string, previous?: StackDiagram | null): StackDiagram {
  return captureStack(k.machine, debugStackSpec(k), { caption, previous: previous ?? null });
}

/** The text form of a capture (what a terminal, nbconvert's text and the tests see). */
export function stackText(d: StackDiagram): string {
  return stackToText(d);
}

/** Where an address points, as `label+0x..` (or hex). */
export function whereIs(k: Kernel, address: bigint): string {
  return k.where(address);
}

/** A slot's offset from the design's manifest: the RIP slot of the named group ('copied frame', 'saved frame', 'hardware frame'). */
export function frameRipOffset(design: Design, group: string): number {
  for (const s of design.stack) if (s.group === group && / RIP$/.test(s.name)) return s.offset;
  throw new ScenarioError(`${design.id}: the manifest has no RIP slot in group '${group}'`);
}

/** The five slots of a frame whose RIP is at T + ripOffset, by name. */
export function frameAt(
  k: Kernel,
  ripOffset: number,
): { rip: bigint; cs: bigint; rflags: bigint; rsp: bigint; ss: bigint } {
  return {
    rip: k.nmiStackSlot(ripOffset),
    cs: k.nmiStackSlot(ripOffset + 8),
    rflags: k.nmiStackSlot(ripOffset + 16),
    rsp: k.nmiStackSlot(ripOffset + 24),
    ss: k.nmiStackSlot(ripOffset + 32),
  };
}

/** `T-96` for an address on the NMI stack, else hex. */
export function nmiOffset(k: Kernel, address: bigint): string {
  const d = address - k.nmiStackTop;
  if (d <= 0n && d >= -BigInt(EXCEPTION_STKSZ)) return d === 0n ? 'T' : `T${d}`;
  return `0x${BigInt.asUintN(64, address).toString(16)}`;
}

// ---- traces of a kernel ------------------------------------------------------------------------

/**
 * Record a trace of a harness kernel. The recorder chains to the kernel's own boundary hook
 * (armed exceptions and the do_nmi run records live there) and puts it back when it detaches.
 */
export function recordKernelTrace(
  k: Kernel,
  options: {
    until?: string | ((m: Machine) => boolean);
    maxSteps?: number;
    hook?: BoundaryHook;
    watch?: TraceOptions['watch'];
  } = {},
): Trace {
  const m = k.machine;
  const recorder = new TraceRecorder(m, {
    watch: options.watch ?? [nmiStackSpec(k)],
    classify: repeatClassifier(k),
    hook: options.hook,
  });
  try {
    const target = typeof options.until === 'string' ? m.symbol(options.until) : null;
    const until = target !== null ? (mm: Machine) => mm.rip === target : options.until;
    return recorder.run({ until, maxSteps: options.maxSteps ?? 3000 });
  } finally {
    recorder.detach();
  }
}

/**
 * Names the contexts the event log cannot: RIP inside repeat_nmi..end_repeat_nmi is 'repeat_nmi';
 * code running on the NMI stack after the first NMI's IRET went to repeat_nmi (no event is open
 * then, so the log would call it plain kernel code) is 'NMI (repeated)'.
 */
export function repeatClassifier(k: Kernel): ContextClassifier {
  const byLabel =
    k.program.symbols.has('repeat_nmi') && k.program.symbols.has('end_repeat_nmi')
      ? classifyByLabels(k.machine, { repeat_nmi: ['repeat_nmi', 'end_repeat_nmi'] })
      : null;
  return (info) => {
    const named = byLabel ? byLabel(info) : null;
    if (named) return named;
    if ((info.base === 'kernel' || info.base === 'user') && !offNmiStack(k))
      return { label: 'NMI (repeated)', kind: 'repeat' };
    return null;
  };
}
