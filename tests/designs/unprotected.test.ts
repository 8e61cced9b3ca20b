// The problem, run: before Linux 3.3 a nested NMI overwrites the first NMI's return frame
// (the RFC's problem statement, lkml 2011-12-08; SDM 6.7.1 and 6.14.5).
import { kernel, runTo, runToUnblocked } from './helpers';

describe('unprotected: an exception inside the NMI handler lets a second NMI in', () => {
  test('the nested NMI writes its hardware frame over the first one; the first NMI returns into its own handler, forever', () => {
    const k = kernel('unprotected');
    const m = k.machine;
    runTo(k, 'kernel_fault_point');
    const interrupted = m.rip;
    expect(m.raiseNmi()).toBe('delivered');
    // The first NMI's return frame, at the IST top: RIP at T-40.
    expect(k.nmiStackSlot(-40)).toBe(interrupted);
    expect(k.nmiStackSlot(-32)).toBe(0x10n);

    // do_nmi takes a breakpoint; the #BP handler's IRET ends NMI blocking inside the handler.
    k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 });
    runToUnblocked(k, 'nmi_point_middle');
    expect(m.nmiBlocked).toBe(false);
    const firstHandlerRsp = m.reg('rsp');

    // A second NMI: same IST top, so its frame lands exactly on the first one's.
    expect(m.raiseNmi()).toBe('delivered');
    expect(m.reg('rsp')).toBe(k.nmiStackTop - 40n);
    expect(k.nmiStackSlot(-40)).toBe(m.symbol('nmi_point_middle')); // the first NMI's return RIP is gone
    expect(k.nmiStackSlot(-16)).toBe(firstHandlerRsp);

    // The nested NMI runs do_nmi inside the first run: the handler is re-entered.
    runTo(k, 'do_nmi_return');
    const runs = k.doNmiRuns();
    expect(runs.map((r) => r.reentered)).toEqual([false, true]);
    expect(k.percpu('nmi_reentered')).toBe(1n);

    // What happens then: the nested NMI returns into the first handler, which finishes and
    // IRETs with the frame the nested NMI left: back to nmi_point_middle, on the NMI stack. Its
    // exit path then runs again and again: every IRET goes to the same place.
    const logStart = m.log.length;
    m.run({ maxSteps: 400 });
    const irets = m.log.slice(logStart).filter((e) => e.kind === 'iret');
    expect(irets.length).toBeGreaterThan(5);
    for (const e of irets) {
      expect(k.where(e.toRip!)).toBe('nmi_point_middle+0');
      expect(e.toRsp).toBe(firstHandlerRsp);
    }
    // The interrupted kernel code never runs again, no NMI is blocked, nothing reports an error:
    // a silent hang, and the NMI bookkeeping runs backwards (nmi_in_progress < 0).
    const iterations = k.global('workload_iterations');
    m.run({ maxSteps: 2000 });
    expect(k.global('workload_iterations')).toBe(iterations);
    expect(m.nmiBlocked).toBe(false);
    expect(k.failure()).toBeNull();
    expect(BigInt.asIntN(64, k.percpu('nmi_in_progress'))).toBeLessThan(0n);
  });

  test('without an exception in the handler the same two NMIs are fine: the second is latched until the IRET', () => {
    const k = kernel('unprotected');
    const m = k.machine;
    runTo(k, 'kernel_fault_point');
    m.raiseNmi();
    runTo(k, 'nmi_point_middle');
    expect(m.raiseNmi()).toBe('latched');
    runTo(k, 'kernel_fault_point', () => k.doNmiRuns().length === 2 && !m.nmiBlocked);
    expect(k.doNmiRuns().map((r) => r.reentered)).toEqual([false, false]);
    expect(k.failure()).toBeNull();
  });
});
