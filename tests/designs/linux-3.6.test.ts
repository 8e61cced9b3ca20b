// Linux 3.6 (the CR2 save of 7fbb98c5cb07; read in the 3.6.0 tree, docs/sources.md), run.
import { LAYOUT } from '../../kernel-lib';
import { cr2SeenByInterruptedFault, regsIpAfterNestedNmi } from './helpers';
import { nestingScenarios } from './nesting-scenarios';

describe('linux-3.6', () => {
  nestingScenarios({ design: 'linux-3.6', nestAt: 'nmi_point_middle', afterClear: 'irq_return' });

  test('CR2 is preserved across an NMI whose handler page-faults (7fbb98c5cb07)', () => {
    const { seen, faults } = cr2SeenByInterruptedFault('linux-3.6');
    expect(faults[0]).toEqual({ cr2: LAYOUT.nmiFaultAddress, rip: expect.any(BigInt) }); // the NMI's own fault
    expect(seen).toBe(LAYOUT.workloadFaultAddress); // the interrupted handler reads its own address
  });

  test("before that commit (linux-3.3, linux-3.4) the interrupted handler reads the NMI's faulting address", () => {
    expect(cr2SeenByInterruptedFault('linux-3.3').seen).toBe(LAYOUT.nmiFaultAddress);
    expect(cr2SeenByInterruptedFault('linux-3.4').seen).toBe(LAYOUT.nmiFaultAddress);
  });

  test('the copied frame is still the top of pt_regs in 3.6: a nested NMI changes regs->ip under do_nmi', () => {
    const { seen, k } = regsIpAfterNestedNmi('linux-3.6');
    expect(seen).toBe(k.machine.symbol('repeat_nmi'));
  });
});
