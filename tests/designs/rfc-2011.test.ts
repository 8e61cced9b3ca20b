// The RFC (lkml 2011-12-08), run.
import { buildKernel, getDesign, regionAt } from '../../kernel-lib';
import { assembleDesign } from '../../kernel-lib/harness/kernel';
import type { Kernel, StackLayout } from '../../kernel-lib';
import { withStackLayout } from '../../kernel-lib/course';
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

  // Where do_nmi's regs pointer then points depends on what lies above the NMI stack: in Linux 3.x
  // the debug stack (one array of exception stacks), with guard pages nothing (harness/layout.ts).
  function nestedInsideDoNmi(layout: StackLayout): Kernel {
    const k = buildKernel({ design: withStackLayout('rfc-2011', layout) });
    const m = k.machine;
    nestAfterBreakpoint(k);
    const rdi = m.reg('rdi'); // do_nmi's pt_regs pointer
    m.raiseNmi();
    runTo(k, 'nmi_point_middle', () => !k.machine.nmiBlocked && k.machine.reg('rsp') < k.nmiStackTop - 136n);
    expect(m.reg('rdi')).not.toBe(rdi);
    expect(m.reg('rdi')).toBe(k.nmiStackTop - 96n);
    return k;
  }

  test("the RFC's nested path uses %rdi as scratch and never restores it: do_nmi's regs->ip is read from above the NMI stack", () => {
    // Linux 3.x layout: regs->ip (regs + 128 = T + 32) is a word of the debug stack: no fault, a wrong value.
    const k = nestedInsideDoNmi('contiguous');
    expect(regionAt(k.layout, k.nmiStackTop + 32n)?.name).toBe('debug-stack');
    runTo(k, 'do_nmi_return');
    expect(k.failure()).toBeNull();
    expect(k.percpu('nmi_last_ip')).toBe(k.machine.readU64(k.nmiStackTop + 32n));
    // With a guard page above the NMI stack the same read is a page fault in do_nmi.
    const g = nestedInsideDoNmi('guard-pages');
    expect(regionAt(g.layout, g.nmiStackTop + 32n)).toBeNull();
    g.machine.run({ maxSteps: 500 });
    expect(g.failure()).toMatchObject({ kind: 'oops', message: 'page fault outside the vmalloc area' });
    expect(g.where(g.failure()!.rip!)).toMatch(/^nmi_point_late/);
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
