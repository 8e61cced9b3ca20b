// Rostedt's unpublished iret-fault attempt (2011), as NMI Lab reconstructs it (iret-fault.json).
// The RFC says only that it "would usually take a double fault". Here the double fault is not
// scripted: it comes out of the SDM's rules (a faulting IRET unblocks NMIs, 6.7.1; a fault that
// cannot be delivered becomes #DF, 6.15), #GP having no IST, and Linux 3.x's IRET-fault handling.
import { LAYOUT, Vector } from '../../kernel-lib';
import { nmiStream, withStackLayout } from '../../kernel-lib/course';
import { kernel, nestedAfterBreakpoint, runTo } from './helpers';

function nestedSetup() {
  return nestedAfterBreakpoint('iret-fault');
}

describe('iret-fault (reconstruction)', () => {
  test('manifest and listing say it is a reconstruction', () => {
    const k = kernel('iret-fault');
    expect(k.design.reconstruction).toBe(true);
    expect(k.design.source).toMatch(/^reconstruction/);
    expect(k.design.text).toMatch(/RECONSTRUCTION/);
    expect(k.design.summary).toMatch(/^RECONSTRUCTION/);
  });

  test('single NMIs from every workload are handled once', () => {
    for (const w of ['kernel', 'user', 'syscall', 'debug'] as const) {
      const k = kernel('iret-fault', w);
      k.machine.raiseNmi();
      k.machine.run({ maxSteps: 600 });
      expect(k.doNmiRuns()).toHaveLength(1);
      expect(k.failure()).toBeNull();
    }
  });

  test('one nested NMI: the outer IRET faults at irq_return, the #GP handler re-runs the NMI and retries the IRET', () => {
    const { k, m, interrupted } = nestedSetup();
    expect(k.nmiStackSlot(-56)).toBe(k.nmiStackTop - 96n); // "NMI frame" -> the return frame
    expect(m.raiseNmi()).toBe('delivered');
    runTo(k, 'nmi_iret_fixup');
    const gp = m.log.filter((e) => e.kind === 'fault').pop()!;
    expect(gp.vector).toBe(Vector.GP);
    expect(k.where(gp.rip)).toBe('irq_return+0');
    // The #GP frame is on the NMI stack, just below the frame that faulted (no IST for #GP).
    const gpDelivery = m.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.GP).pop()!;
    expect(gpDelivery.toRsp).toBeLessThan(k.nmiStackTop - 96n);
    expect(gpDelivery.toRsp).toBeGreaterThan(k.nmiStackTop - 200n);
    // ...and it runs with NMIs unblocked (SDM 6.7.1) and, for a return to kernel code, the user's GS:
    // like Linux 3.x error_entry it takes a fault at irq_return for a failed return to user mode and
    // swaps GS; unlike Linux it has no bad_iret fix-up to swap back (the reconstruction's own result).
    expect(m.nmiBlocked).toBe(false);
    expect(m.cpu.gsBase).toBe(LAYOUT.userGsBase);

    runTo(k, 'kernel_fault_point', () => m.reg('rsp') > k.nmiStackTop);
    expect(m.rip).toBe(interrupted);
    expect(k.doNmiRuns().map((r) => r.nmi)).toEqual([1, 2]);
    expect(k.failure()).toBeNull();
    // It "works", but the interrupted kernel code now runs on the user's GS: a latent bug.
    expect(m.cpu.gsBase).toBe(LAYOUT.userGsBase);
    expect(m.cpu.kernelGsBase).toBe(LAYOUT.percpuBase);
  });

  test('a stream of NMIs (one per do_nmi run), with a guard page below the NMI stack: the #GPs pile up on the NMI stack and the kernel takes a double fault', () => {
    const { k, m } = nestedAfterBreakpoint(withStackLayout('iret-fault', 'guard-pages'));
    const middle = m.symbol('nmi_point_middle');
    let lastRun = -1n;
    let raised = 0;
    // An NMI source that fires once during every run of do_nmi (a busy perf counter, say).
    k.onBoundary((mm) => {
      if (mm.rip !== middle) return;
      const run = k.percpu('nmi_runs');
      if (run === lastRun) return;
      lastRun = run;
      raised++;
      mm.raiseNmi();
    });
    lastRun = k.percpu('nmi_runs'); // the first run gets its nested NMI now, by hand
    expect(m.raiseNmi()).toBe('delivered');
    raised++;
    const r = m.run({ maxSteps: 50_000 });
    expect(r.stop).toBe('hlt');
    expect(k.failure()).toMatchObject({ kind: 'oops', message: 'double fault' });

    const log = m.log;
    const gps = log.filter((e) => e.kind === 'deliver' && e.vector === Vector.GP);
    // Every NMI after the first was delivered at once (never latched): NMIs were unblocked throughout.
    expect(log.filter((e) => e.kind === 'nmi-latched')).toHaveLength(0);
    expect(raised).toBeGreaterThan(40);
    // Each #GP landed lower on the NMI stack than the one before: nested faults, never unwound.
    const depths = gps.map((e) => e.toRsp!);
    for (let i = 1; i < depths.length; i++) expect(depths[i]).toBeLessThan(depths[i - 1]);
    const nmiBottom = k.nmiStackTop - 4096n;
    expect(depths[depths.length - 1] - nmiBottom).toBeLessThan(512n);
    // The end: a push ran off the NMI stack, the #PF could not be delivered there, and became #DF.
    const df = log.find((e) => e.kind === 'deliver' && e.vector === Vector.DF)!;
    expect(df).toBeDefined();
    const pf = log.filter((e) => e.kind === 'fault' && e.vector === Vector.PF).pop()!;
    expect(pf.cr2! < nmiBottom).toBe(true); // a push into the guard page below the NMI stack
    expect(pf.cr2! >= nmiBottom - 4096n).toBe(true);
    expect(log.some((e) => e.kind === 'delivery-fault' && /while delivering #PF/.test(e.detail ?? ''))).toBe(true);
  });

  test("the same stream in Linux 3.x's contiguous exception stacks: the #GP frames run on through the #DF and #SS stacks", () => {
    // cpu/common.c (3.x): one per-CPU array, #SS (IST1), #DF (IST2), NMI (IST3), ... with no gaps.
    const r = nmiStream('iret-fault');
    expect(r.stackLayout).toBe('contiguous');
    expect(r.reached.map((x) => x.region)).toEqual(['NMI stack (IST3)', '#DF stack (IST2)', '#SS stack (IST1)']);
    // Nothing faulted on the way: both stacks below the NMI stack were written over, half a page each or more.
    for (const name of ['#DF stack (IST2)', '#SS stack (IST1)'])
      expect(r.overwritten.find((o) => o.region === name)!.bytes).toBeGreaterThan(1024);
    // The harness's model ends below the array (unmapped): only there does a push fault, and the
    // #DF is delivered on the #DF stack, which the staircase had already written over.
    expect(r.pageFault!.region).toBeNull();
    expect(r.pageFault!.cr2 < LAYOUT.stackFaultStackTop - 4096n).toBe(true);
    expect(r.doubleFault!.region).toBe('#DF stack (IST2)');
    expect(r.failure).toMatchObject({ kind: 'oops', message: 'double fault' });
    // With a guard page the same stream stops at the bottom of the NMI stack, three times sooner.
    const g = nmiStream(withStackLayout('iret-fault', 'guard-pages'));
    expect(g.reached.map((x) => x.region)).toEqual(['NMI stack (IST3)']);
    expect(g.gpFrames * 2).toBeLessThan(r.gpFrames);
    expect(g.failure).toMatchObject({ kind: 'oops', message: 'double fault' });
  });

  test('the same stream without the exception that started it: every NMI is latched and served, nothing faults', () => {
    const k = kernel('iret-fault');
    const m = k.machine;
    const middle = m.symbol('nmi_point_middle');
    let lastRun = -1n;
    k.onBoundary((mm) => {
      if (mm.rip !== middle) return;
      const run = k.percpu('nmi_runs');
      if (run === lastRun || run > 20n) return;
      lastRun = run;
      mm.raiseNmi();
    });
    m.raiseNmi();
    m.run({ maxSteps: 20_000 });
    expect(k.failure()).toBeNull();
    expect(m.log.filter((e) => e.kind === 'fault')).toHaveLength(0);
    expect(k.doNmiRuns().length).toBeGreaterThan(20);
  });
});
