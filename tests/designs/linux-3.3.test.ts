// Linux 3.3 (commit 3f3c8b8c4b2a), run.
import { LAYOUT, Vector } from '../../kernel-lib';
import { kernel, labelsUntil, runTo } from './helpers';
import { nestAfterBreakpoint } from '../../kernel-lib/harness/scenario';
import { nestingScenarios } from './nesting-scenarios';

describe('linux-3.3', () => {
  nestingScenarios({ design: 'linux-3.3', nestAt: 'nmi_point_middle', afterClear: 'irq_return' });

  test('CVE-2015-3291: a user RSP inside the NMI stack makes an NMI in the syscall gap look nested, and it is lost', () => {
    const userRsp = LAYOUT.nmiStackTop - 0x80n;
    const k = kernel('linux-3.3', 'syscall', userRsp);
    const m = k.machine;
    runTo(k, 'system_call_after_swapgs');
    // The syscall gap: kernel mode, the user's RSP.
    expect(m.cpl).toBe(0);
    expect(m.reg('rsp')).toBe(userRsp);
    const runsBefore = k.percpu('nmi_runs');
    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('nested_nmi'); // the RSP test was fooled
    expect(path).not.toContain('first_nmi');
    m.step(); // the nested path's IRET: back into the syscall entry
    expect(k.where()).toBe('system_call_after_swapgs+0');
    m.run({ maxSteps: 500 });
    // The NMI was delivered, acknowledged by IRET, and never handled.
    expect(k.percpu('nmi_runs')).toBe(runsBefore);
    expect(k.doNmiRuns()).toHaveLength(0);
    expect(k.unservedNmis()).toHaveLength(1);
    expect(k.failure()).toBeNull(); // and nothing else noticed
    expect(k.percpu('syscall_count')).toBeGreaterThan(0n);
  });

  test("a nested NMI rewrites the running handler's pt_regs (copied frame = pt_regs RIP..SS): do_nmi sees regs->ip = repeat_nmi", () => {
    const k = kernel('linux-3.3');
    const m = k.machine;
    nestAfterBreakpoint(k);
    m.raiseNmi();
    runTo(k, 'do_nmi_return');
    expect(k.percpu('nmi_last_ip')).toBe(m.symbol('repeat_nmi'));
  });

  test('nmi_idt_table: an NMI that interrupts a debug-stack user switches IDTs, so a #BP in it stays on the NMI stack', () => {
    const k = kernel('linux-3.3', 'debug');
    const m = k.machine;
    expect(m.cpu.idtBase).toBe(LAYOUT.idtBase);
    const interruptedRsp = m.reg('rsp');
    m.raiseNmi();
    runTo(k, 'nmi_point_early');
    expect(m.cpu.idtBase).toBe(LAYOUT.nmiIdtBase);
    const rsp = m.reg('rsp');
    const from = m.log.length;
    m.inject({ type: 'exception', vector: Vector.BP });
    runTo(k, 'do_nmi_return');
    // No IST: the #BP frame is pushed just below the NMI handler's stack, and the interrupted
    // #BP handler's frame on the debug stack is untouched.
    const bp = m.log.slice(from).find((e) => e.kind === 'deliver' && e.vector === Vector.BP)!;
    expect(bp.ist).toBe(0);
    expect(bp.toRsp).toBe((rsp & ~0xfn) - 40n);
    expect(interruptedRsp).toBeLessThan(LAYOUT.debugStackTop);
    m.step();
    expect(m.cpu.idtBase).toBe(LAYOUT.idtBase);
    m.run({ maxSteps: 500 });
    expect(k.failure()).toBeNull();
  });

  test('an NMI from user mode goes straight to first_nmi (CS check), even with RSP inside the NMI stack', () => {
    const k = kernel('linux-3.3', 'user', LAYOUT.nmiStackTop - 0x80n);
    k.machine.raiseNmi();
    const path = labelsUntil(k, (kk) => kk.where().startsWith('do_nmi'));
    expect(path).toContain('first_nmi');
    expect(path).not.toContain('nested_nmi');
  });
});
