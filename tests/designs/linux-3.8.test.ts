// Linux 3.8 (the Saved/copied swap of 28696f434fef; read in a 3.8.13 tree, docs/sources.md), run.
import { LAYOUT } from '../../kernel-lib';
import { cr2SeenByInterruptedFault, kernel, regsIpAfterNestedNmi, runTo } from './helpers';
import { nestingScenarios } from './nesting-scenarios';

describe('linux-3.8', () => {
  nestingScenarios({ design: 'linux-3.8', nestAt: 'nmi_point_middle', afterClear: 'irq_return' });

  test('the nested NMI no longer touches pt_regs: do_nmi still sees the real interrupted RIP (28696f434fef)', () => {
    const { seen, interrupted } = regsIpAfterNestedNmi('linux-3.8');
    expect(seen).toBe(interrupted);
  });

  test('keeps the CR2 save of 3.6', () => {
    expect(cr2SeenByInterruptedFault('linux-3.8').seen).toBe(LAYOUT.workloadFaultAddress);
  });

  test('first_nmi leaves room for the copied frame above Saved; repeat_nmi fills it', () => {
    const k = kernel('linux-3.8');
    const m = k.machine;
    m.raiseNmi();
    runTo(k, 'end_repeat_nmi');
    expect(k.nmiStackSlot(-96)).toBe(k.nmiStackSlot(-136)); // copied RIP (T-96) == Saved RIP (T-136)
    expect(k.nmiStackSlot(-136)).toBe(k.nmiStackSlot(-40)); // Saved == the hardware frame
  });
});
