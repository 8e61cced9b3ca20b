// The RFC (lkml 2011-12-08), run.
import { assembleDesign, getDesign } from '../../kernel-lib';
import { kernel, labelsUntil, runTo } from './helpers';
import { nestAfterBreakpoint } from '../../kernel-lib/harness/scenario';
import { nestingScenarios } from './nesting-scenarios';

describe('rfc-2011', () => {
  test('assembles; the size-less cmp gets the GAS default-suffix warning, as with GNU as', () => {
    const r = assembleDesign(getDesign('rfc-2011'));
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.message).join('\n')).toMatch(/no instruction mnemonic suffix/);
  });

  // In the RFC the nested NMI can only safely arrive where %rdi is dead (see the next test):
  // here, in the exit path before RESTORE_ALL reloads it.
  nestingScenarios({ design: 'rfc-2011', nestAt: 'nmi_restore', afterClear: 'irq_return' });

  test("the RFC's nested path uses %rdi as scratch and never restores it: a nested NMI inside do_nmi breaks the handler", () => {
    const k = kernel('rfc-2011');
    const m = k.machine;
    nestAfterBreakpoint(k);
    const rdi = m.reg('rdi'); // do_nmi's pt_regs pointer
    m.raiseNmi();
    runTo(k, 'nmi_point_middle', () => !k.machine.nmiBlocked && k.machine.reg('rsp') < k.nmiStackTop - 136n);
    expect(m.reg('rdi')).not.toBe(rdi);
    expect(m.reg('rdi')).toBe(k.nmiStackTop - 96n);
    // do_nmi reads regs->ip through %rdi: now past the top of the NMI stack, unmapped.
    m.run({ maxSteps: 500 });
    expect(k.failure()).toMatchObject({ kind: 'oops', message: 'page fault outside the vmalloc area' });
    expect(k.where(k.failure()!.rip!)).toMatch(/^nmi_point_late/);
  });

  test('no CS check: an NMI from user mode whose RSP points into the NMI stack is taken as nested and lost', () => {
    const k = kernel('rfc-2011', 'user', 0xffff880000204000n - 0x80n);
    const m = k.machine;
    m.run({ maxSteps: 5 });
    m.raiseNmi();
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('nested_nmi');
    m.run({ maxSteps: 200 });
    expect(k.doNmiRuns()).toHaveLength(0);
    expect(k.unservedNmis()).toHaveLength(1);
  });
});
