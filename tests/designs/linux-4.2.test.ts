// Linux 4.2 (9b6e6a8334d5, a27507ca2d79, 810bc075f78f), run.
import { LAYOUT, THREAD_SIZE } from '../../kernel-lib';
import { kernel, labelsUntil, runTo, runToIret } from './helpers';
import { nestingScenarios } from './nesting-scenarios';

describe('linux-4.2', () => {
  // The instruction after "NMI executing" is cleared is the final IRET itself (after std).
  nestingScenarios({ design: 'linux-4.2', nestAt: 'nmi_point_middle', afterClear: 'final-iret' });

  test('CVE-2015-3291 fixed: the same syscall-gap NMI with a user RSP inside the NMI stack is handled', () => {
    const userRsp = LAYOUT.nmiStackTop - 0x80n;
    const k = kernel('linux-4.2', 'syscall', userRsp);
    const m = k.machine;
    runTo(k, 'system_call_after_swapgs');
    expect(m.reg('rsp')).toBe(userRsp);
    expect(m.flag('df')).toBe(false); // SYSCALL cleared it (FMASK)
    m.raiseNmi();
    const path = labelsUntil(k, (kk) => kk.where().startsWith('do_nmi'));
    expect(path).toContain('first_nmi');
    expect(path).not.toContain('nested_nmi');
    m.run({ maxSteps: 500 });
    expect(k.doNmiRuns()).toHaveLength(1);
    expect(k.unservedNmis()).toEqual([]);
    expect(k.failure()).toBeNull();
  });

  test('the exit sets DF before clearing "NMI executing"; the IRET gives the interrupted code its own DF back', () => {
    const k = kernel('linux-4.2');
    const m = k.machine;
    m.raiseNmi();
    runTo(k, 'do_nmi_return');
    const before = m.steps;
    runToIret(k);
    expect(m.steps).toBeGreaterThan(before);
    expect(m.flag('df')).toBe(true);
    expect(k.nmiStackSlot(-56)).toBe(0n);
    m.step();
    expect(m.flag('df')).toBe(false);
    m.run({ maxSteps: 300 });
    expect(k.failure()).toBeNull(); // the workload checks DF itself
  });

  test('an NMI from user mode runs do_nmi on the task kernel stack and returns through the ordinary exit', () => {
    const k = kernel('linux-4.2', 'user', LAYOUT.nmiStackTop - 0x80n);
    const m = k.machine;
    m.run({ maxSteps: 7 });
    m.raiseNmi();
    runTo(k, 'do_nmi_return');
    const run = k.doNmiRuns()[0];
    expect(run.rsp).toBeLessThan(LAYOUT.kernelStackTop);
    expect(run.rsp).toBeGreaterThan(LAYOUT.kernelStackTop - BigInt(THREAD_SIZE));
    expect(k.nmiStackSlot(-56)).toBe(0n); // the nesting machinery was not used
    expect(m.nmiBlocked).toBe(true); // until the final IRET
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('restore_c_regs_and_iret');
    m.step();
    expect(m.cpl).toBe(3);
    expect(m.nmiBlocked).toBe(false);
    m.run({ maxSteps: 300 });
    expect(k.failure()).toBeNull();
  });

  test('the repeat_nmi RIP test comes first (a27507ca2d79)', () => {
    const k = kernel('linux-4.2');
    const m = k.machine;
    m.raiseNmi();
    const path = labelsUntil(k, (kk) => kk.where().startsWith('first_nmi'));
    // nmi_from_kernel starts with the repeat_nmi comparison, before the "NMI executing" test.
    expect(path).toEqual(['nmi', 'nmi_from_kernel', 'first_nmi']);
    const first = m.instructionAt(m.symbol('nmi_from_kernel'));
    expect(first?.text).toMatch(/repeat_nmi/);
  });
});
