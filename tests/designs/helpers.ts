// Test-side steps for the design scenarios. Driving a kernel (runTo, runToUnblocked, runBackTo, the
// nesting set-up) is the library's own scenario module, the one the course uses; what is here only
// reads the machine's event log for assertions.
import { buildKernel, Kernel, MachineEvent, Vector, WorkloadId } from '../../kernel-lib';
import { nestAfterBreakpoint } from '../../kernel-lib/harness/scenario';

export { labelsUntil, runBackTo, runTo, runToIret, runToUnblocked } from '../../kernel-lib/harness/scenario';

export function kernel(design: string, workload: WorkloadId = 'kernel', userRsp?: bigint): Kernel {
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
export function nestedAfterBreakpoint(design: string) {
  const k = kernel(design);
  const interrupted = nestAfterBreakpoint(k);
  return { k, m: k.machine, interrupted };
}
