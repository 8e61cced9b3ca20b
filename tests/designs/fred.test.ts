// FRED (Linux 6.9+; Documentation/arch/x86/x86_64/fred.rst), run with the harness's FRED entry
// points: an exception inside the NMI handler returns with ERETS through a frame that is not an
// NMI's, so NMIs stay blocked and a second NMI waits in the latch; the NMI's own ERETS ends
// blocking and the latched NMI runs do_nmi again. No SWAPGS, no syscall gap.
import { LAYOUT, Vector } from '../../kernel-lib';
import { kernel, runTo } from './helpers';

describe('fred', () => {
  test("the kernel runs with FRED and Linux's stack levels; an NMI enters at the kernel entry point on the level-2 stack", () => {
    const k = kernel('fred');
    const m = k.machine;
    expect(m.cpu.fred).toBe(true);
    runTo(k, 'kernel_fault_point');
    const interrupted = m.rip;
    expect(m.raiseNmi()).toBe('delivered');
    expect(m.rip).toBe(m.symbol('fred_entrypoint_user') + 256n);
    expect(m.rip).toBe(m.symbol('fred_entrypoint_kernel'));
    expect(m.reg('rsp')).toBe(k.nmiStackTop - 64n);
    expect(k.nmiStackSlot(-56)).toBe(interrupted); // FRED frame: RIP at T-56
    expect((k.nmiStackSlot(-24) >> 18n) & 1n).toBe(1n); // the nmi bit in the SS slot
    runTo(k, 'kernel_fault_point', () => m.reg('rsp') > k.nmiStackTop);
    expect(k.doNmiRuns()).toHaveLength(1);
    expect(k.doNmiRuns()[0].rsp).toBeLessThan(k.nmiStackTop);
    expect(m.log.some((e) => e.kind === 'nmi-unblocked' && /ERETS/.test(e.detail ?? ''))).toBe(true);
    expect(m.cpu.csl).toBe(0);
    expect(k.failure()).toBeNull();
  });

  test.each(['bp', 'db', 'pf'] as const)(
    "a #%s inside do_nmi does not unblock NMIs: the second NMI is latched, then runs do_nmi after the NMI's ERETS",
    (kind) => {
      const k = kernel('fred');
      const m = k.machine;
      runTo(k, 'kernel_fault_point');
      const interrupted = m.rip;
      m.raiseNmi();
      k.armException({ at: 'nmi_point_early', kind, run: 1 });
      runTo(k, 'nmi_point_middle');
      // The exception was taken and its handler returned with ERETS...
      const vector = { bp: Vector.BP, db: Vector.DB, pf: Vector.PF }[kind];
      const exc = m.log.find((e) => e.kind === 'deliver' && e.vector === vector)!;
      expect(exc).toBeDefined();
      // ...on the NMI stack below the NMI's frame (a level-0 or level-1 event does not switch down).
      expect(exc.toRsp).toBeLessThan(k.nmiStackTop - 64n);
      expect(exc.toRsp).toBeGreaterThan(k.nmiStackTop - 4096n);
      expect(k.nmiStackSlot(-56)).toBe(interrupted); // the NMI's frame is untouched
      expect(m.log.some((e) => e.kind === 'iret' && e.detail === 'ERETS')).toBe(true);
      // ...but NMIs are still blocked: the second NMI waits.
      expect(m.nmiBlocked).toBe(true);
      expect(m.raiseNmi()).toBe('latched');
      expect(k.doNmiRuns()).toHaveLength(1);

      runTo(k, 'kernel_fault_point', () => k.doNmiRuns().length === 2 && m.reg('rsp') > k.nmiStackTop);
      expect(m.rip).toBe(interrupted);
      const runs = k.doNmiRuns();
      expect(runs.map((r) => r.reentered)).toEqual([false, false]);
      expect(runs.map((r) => r.nmi)).toEqual([1, 2]);
      expect(k.unservedNmis()).toEqual([]);
      expect(m.nmiBlocked).toBe(false);
      m.run({ maxSteps: 300 });
      expect(k.failure()).toBeNull();
    },
  );

  test('an NMI from user mode: GS is switched by delivery and back by ERETU, no SWAPGS anywhere', () => {
    const k = kernel('fred', 'user');
    const m = k.machine;
    m.run({ maxSteps: 5 });
    m.raiseNmi();
    expect(m.rip).toBe(m.symbol('fred_entrypoint_user'));
    expect(m.cpu.gsBase).toBe(LAYOUT.percpuBase);
    m.run({ until: (mm) => mm.cpl === 3, maxSteps: 600 });
    expect(m.cpu.gsBase).toBe(LAYOUT.userGsBase);
    expect(k.doNmiRuns()).toHaveLength(1);
    expect(m.log.some((e) => e.kind === 'swapgs')).toBe(false);
    m.run({ maxSteps: 300 });
    expect(k.failure()).toBeNull();
  });

  test('the syscall workload: an NMI at any instruction of a whole syscall round trip is served exactly once', () => {
    const k = kernel('fred', 'syscall');
    const m = k.machine;
    // One round: from syscall_loop, through the SYSCALL event, sys_nmi_lab and ERETU, back.
    const points: ReturnType<typeof k.snapshot>[] = [];
    const where: string[] = [];
    const start = m.symbol('syscall_loop');
    do {
      points.push(k.snapshot());
      where.push(k.where());
      m.step();
    } while (m.rip !== start);
    expect(where.some((w) => w.startsWith('fred_entry_dispatch'))).toBe(true);
    expect(where.some((w) => w.startsWith('sys_nmi_lab'))).toBe(true);
    for (const p of points) {
      k.restore(p);
      expect(m.raiseNmi()).toBe('delivered');
      m.run({ maxSteps: 400 });
      expect(k.doNmiRuns()).toHaveLength(1);
      expect(k.unservedNmis()).toEqual([]);
      expect(k.failure()).toBeNull();
    }
    expect(m.log.some((e) => e.kind === 'swapgs')).toBe(false);
    expect(k.percpu('syscall_count')).toBeGreaterThan(0n);
  });

  test('every workload handles a single NMI', () => {
    for (const w of ['kernel', 'user', 'syscall', 'debug'] as const) {
      const k = kernel('fred', w);
      k.machine.raiseNmi();
      k.machine.run({ maxSteps: 600 });
      expect(k.doNmiRuns()).toHaveLength(1);
      expect(k.failure()).toBeNull();
    }
  });
});
