// Test-side steps for the design scenarios. Driving a kernel (runTo, runToUnblocked, runBackTo, the
// nesting set-up) is the library's own scenario module, the one the course uses; what is here only
// reads the machine's state and event log for assertions.
import { buildKernel, Kernel, LAYOUT, MachineEvent, Vector, WorkloadId } from '../../kernel-lib';
import type { Design } from '../../kernel-lib';
import { nestAfterBreakpoint, runTo } from '../../kernel-lib/harness/scenario';

export { labelsUntil, runBackTo, runTo, runToIret, runToUnblocked } from '../../kernel-lib/harness/scenario';

export function kernel(design: string | Design, workload: WorkloadId = 'kernel', userRsp?: bigint): Kernel {
  return buildKernel({ design, workload, userRsp });
}

export function iretsSince(k: Kernel, logIndex: number): MachineEvent[] {
  return k.machine.log.slice(logIndex).filter((e) => e.kind === 'iret');
}

export function nmiDeliveries(k: Kernel): MachineEvent[] {
  return k.machine.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.NMI);
}

export const T_OFFSET = (k: Kernel, address: bigint): number => Number(address - k.nmiStackTop);

/** A kernel of `design` set up for a nested NMI (see nestAfterBreakpoint), with what it interrupted. */
export function nestedAfterBreakpoint(design: string | Design) {
  const k = kernel(design);
  const interrupted = nestAfterBreakpoint(k);
  return { k, m: k.machine, interrupted };
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
  const interrupted = nestAfterBreakpoint(k);
  k.machine.raiseNmi();
  runTo(k, 'do_nmi_return');
  return { seen: k.percpu('nmi_last_ip'), interrupted, k };
}
