// Linux 3.4 (repeat_nmi inline; read in a 3.4.y tree, docs/sources.md), run.
import { LAYOUT } from '../../kernel-lib';
import { cr2SeenByInterruptedFault, kernel, regsIpAfterNestedNmi, runTo } from './helpers';
import { nestingScenarios } from './nesting-scenarios';

describe('linux-3.4', () => {
  nestingScenarios({ design: 'linux-3.4', nestAt: 'nmi_point_middle', afterClear: 'irq_return' });

  test('first_nmi falls through into repeat_nmi: the first round runs the copy code too, and there is no restart_nmi', () => {
    const k = kernel('linux-3.4');
    const m = k.machine;
    expect(k.program.symbols.has('restart_nmi')).toBe(false);
    expect(m.symbol('repeat_nmi')).toBeGreaterThan(m.symbol('first_nmi'));
    m.raiseNmi();
    runTo(k, 'repeat_nmi');
    runTo(k, 'end_repeat_nmi');
    expect(k.nmiStackSlot(-136)).toBe(k.nmiStackSlot(-96)); // copied RIP (T-136) == Saved RIP (T-96)
  });

  test("no CR2 save yet: the interrupted page-fault handler reads the NMI's faulting address", () => {
    expect(cr2SeenByInterruptedFault('linux-3.4').seen).toBe(LAYOUT.nmiFaultAddress);
  });

  test('the copied frame is still the top of pt_regs: after a nested NMI, do_nmi reads regs->ip = repeat_nmi', () => {
    const { seen, k } = regsIpAfterNestedNmi('linux-3.4');
    expect(seen).toBe(k.machine.symbol('repeat_nmi'));
  });
});
