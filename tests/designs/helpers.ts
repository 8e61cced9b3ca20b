// Shared steps for the design scenarios: drive a harness kernel to a label, raise an NMI there,
// and read what happened from the machine's state and event log.
import { buildKernel, Kernel, LAYOUT, MachineEvent, Vector, WorkloadId } from '../../kernel-lib';
import type { Design } from '../../kernel-lib';

export function kernel(design: string | Design, workload: WorkloadId = 'kernel', userRsp?: bigint): Kernel {
  return buildKernel({ design, workload, userRsp });
}

/** Run until RIP is at `label` (and, if given, the predicate holds); fail the test otherwise. */
export function runTo(k: Kernel, label: string, extra?: () => boolean, maxSteps = 2000): void {
  const at = k.machine.symbol(label);
  const r = k.machine.run({ until: (m) => m.rip === at && (extra === undefined || extra()), maxSteps });
  if (r.stop !== 'until')
    throw new Error(`did not reach ${label}: ${r.message} (failure: ${JSON.stringify(k.failure())})`);
}

/** Run until RIP is at `label` with NMIs unblocked (after an exception's IRET inside the handler). */
export function runToUnblocked(k: Kernel, label: string): void {
  runTo(k, label, () => !k.machine.nmiBlocked);
}

/** The labels execution passes through from now until `stop` (inclusive), max `maxSteps`. */
export function tracePath(k: Kernel, stop: (k: Kernel) => boolean, maxSteps = 2000): string[] {
  const path: string[] = [];
  for (let i = 0; i < maxSteps; i++) {
    path.push(k.where());
    if (stop(k)) return path;
    k.machine.step();
  }
  throw new Error(`trace did not stop within ${maxSteps} steps; last at ${k.where()}`);
}

/** Label names (without +offset) in the order first visited. */
export function labelsVisited(path: string[]): string[] {
  const out: string[] = [];
  for (const p of path) {
    const l = p.replace(/\+.*$/, '');
    if (out[out.length - 1] !== l) out.push(l);
  }
  return out;
}

export function iretsSince(k: Kernel, logIndex: number): MachineEvent[] {
  return k.machine.log.slice(logIndex).filter((e) => e.kind === 'iret');
}

export function nmiDeliveries(k: Kernel): MachineEvent[] {
  return k.machine.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.NMI);
}

/** Run on until the interrupted code is back at `label` in its own mode, NMI handling done. */
export function runBackTo(k: Kernel, label: string, maxSteps = 3000): void {
  runTo(k, label, () => k.machine.reg('rsp') < k.nmiStackTop - 4096n || k.machine.reg('rsp') > k.nmiStackTop, maxSteps);
}

export const T_OFFSET = (k: Kernel, address: bigint): number => Number(address - k.nmiStackTop);

/**
 * The nesting setup of the 2010-2011 designs: a first NMI at kernel_fault_point, a #BP in its
 * do_nmi (whose IRET unblocks NMIs), run on to nmi_point_middle, ready for a nested NMI.
 */
export function nestedAfterBreakpoint(design: string | Design) {
  const k = kernel(design);
  const m = k.machine;
  runTo(k, 'kernel_fault_point');
  const interrupted = m.rip;
  m.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, 'nmi_point_middle');
  return { k, m, interrupted };
}

/**
 * A page fault in kernel code at kernel_fault_point; an NMI arrives in the page-fault handler
 * before it has read CR2; the NMI handler page-faults at nmi_point_middle. Returns the CR2 the
 * interrupted handler then read, and both faults as the handler logged them.
 */
export function cr2SeenByInterruptedFault(design: string): { seen: bigint; faults: { cr2: bigint; rip: bigint }[] } {
  const k = kernel(design);
  const m = k.machine;
  k.armException({ at: 'kernel_fault_point', kind: 'pf' }); // CR2 = LAYOUT.workloadFaultAddress
  runTo(k, 'error_entry');
  if (m.cpu.cr2Lo !== (Number(LAYOUT.workloadFaultAddress & 0xffffffffn) | 0))
    throw new Error('CR2 not set by the fault');
  m.raiseNmi();
  k.armException({ at: 'nmi_point_middle', kind: 'pf' }); // CR2 = LAYOUT.nmiFaultAddress
  runTo(k, 'kernel_fault_point', () => k.global('pf_count') === 2n);
  if (k.failure() !== null) throw new Error(`failed: ${JSON.stringify(k.failure())}`);
  const faults = k.pageFaults();
  return { seen: faults[1].cr2, faults };
}

/**
 * A first NMI at kernel_fault_point, a #BP in its do_nmi, a nested NMI at nmi_point_middle: the
 * regs->ip that the first run of do_nmi reads afterwards (harness per-CPU nmi_last_ip), and the
 * RIP the first NMI interrupted.
 */
export function regsIpAfterNestedNmi(design: string): { seen: bigint; interrupted: bigint; k: Kernel } {
  const k = kernel(design);
  const m = k.machine;
  runTo(k, 'kernel_fault_point');
  const interrupted = m.rip;
  m.raiseNmi();
  k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, 'nmi_point_middle');
  m.raiseNmi();
  runTo(k, 'do_nmi_return');
  return { seen: k.percpu('nmi_last_ip'), interrupted, k };
}
