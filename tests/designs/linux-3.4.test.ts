// Linux 3.4 era (repeat_nmi inline; 7fbb98c5cb07 CR2; 28696f434fef frames swapped), run.
import { LAYOUT } from '../../kernel-lib';
import { kernel, runTo, runToUnblocked } from './helpers';
import { nestingScenarios } from './nesting-scenarios';

/**
 * A page fault in kernel code at A; an NMI arrives in the page-fault handler before it has read
 * CR2; the NMI handler page-faults at B. Returns the CR2 the interrupted handler then read.
 */
function cr2SeenByInterruptedFault(design: string): { seen: bigint; faults: { cr2: bigint; rip: bigint }[] } {
  const k = kernel(design);
  const m = k.machine;
  k.armException({ at: 'kernel_fault_point', kind: 'pf' }); // CR2 = LAYOUT.workloadFaultAddress
  runTo(k, 'error_entry');
  expect(m.cpu.cr2Lo).toBe(Number(LAYOUT.workloadFaultAddress & 0xffffffffn) | 0);
  m.raiseNmi();
  k.armException({ at: 'nmi_point_middle', kind: 'pf' }); // CR2 = LAYOUT.nmiFaultAddress
  runTo(k, 'kernel_fault_point', () => k.global('pf_count') === 2n);
  const faults = k.pageFaults();
  expect(k.failure()).toBeNull();
  return { seen: faults[1].cr2, faults };
}

describe('linux-3.4', () => {
  nestingScenarios({ design: 'linux-3.4', nestAt: 'nmi_point_middle', afterClear: 'irq_return' });

  test('CR2 is preserved across an NMI whose handler page-faults (7fbb98c5cb07)', () => {
    const { seen, faults } = cr2SeenByInterruptedFault('linux-3.4');
    expect(faults[0]).toEqual({ cr2: LAYOUT.nmiFaultAddress, rip: expect.any(BigInt) }); // the NMI's own fault
    expect(seen).toBe(LAYOUT.workloadFaultAddress); // the interrupted handler reads its own address
  });

  test("before that commit (linux-3.3) the interrupted page-fault handler reads the NMI's faulting address", () => {
    const { seen } = cr2SeenByInterruptedFault('linux-3.3');
    expect(seen).toBe(LAYOUT.nmiFaultAddress);
  });

  test('the nested NMI no longer touches pt_regs: do_nmi still sees the real interrupted RIP (28696f434fef)', () => {
    const k = kernel('linux-3.4');
    const m = k.machine;
    runTo(k, 'kernel_fault_point');
    const interrupted = m.rip;
    m.raiseNmi();
    k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
    runToUnblocked(k, 'nmi_point_middle');
    m.raiseNmi();
    runTo(k, 'do_nmi_return');
    expect(k.percpu('nmi_last_ip')).toBe(interrupted);
  });

  test('first_nmi falls through into repeat_nmi: the first round runs the copy code too', () => {
    const k = kernel('linux-3.4');
    const m = k.machine;
    m.raiseNmi();
    runTo(k, 'repeat_nmi');
    expect(m.symbol('repeat_nmi')).toBeGreaterThan(m.symbol('first_nmi'));
    runTo(k, 'end_repeat_nmi');
    expect(k.nmiStackSlot(-96)).toBe(k.nmiStackSlot(-136)); // copied RIP == Saved RIP
  });
});
