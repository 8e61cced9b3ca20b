// Linus Torvalds's 2010 proposal (lkml 2010-07-14, quoted in the RFC of 2011-12-08), run. The
// listing is a reconstruction where the mail is silent (see linus-2010.json). What it shows: the
// scheme works for one nested NMI, but it needs SWAPGS before it can read its pointer, its
// popf/ret writes below the interrupted stack, and its premise ("NMIs will stay masked" while
// the faulting IRET is handled) is contradicted by the SDM (6.7.1).
import { LAYOUT, Vector } from '../../kernel-lib';
import { kernel, labelsUntil, nestedAfterBreakpoint, runTo } from './helpers';

const NMI_STACK_FRAME = 0x100n; // the listing's per-CPU pointer (%gs:nmi_stack_frame)

function nestedSetup() {
  return nestedAfterBreakpoint('linus-2010');
}

describe('linus-2010: the proposal as written', () => {
  test('manifest: a reconstruction, 2010, Linus Torvalds, with the #GP gate its fault path needs', () => {
    const k = kernel('linus-2010');
    expect(k.design.reconstruction).toBe(true);
    expect(k.design.year).toBe(2010);
    expect(k.design.harness.gates).toEqual({ 13: 'nmi_iret_fault' });
    expect(k.design.text).toMatch(/RECONSTRUCTION/);
  });

  test('single NMIs from every workload are handled once and the interrupted code resumes', () => {
    for (const w of ['kernel', 'user', 'syscall', 'debug'] as const) {
      const k = kernel('linus-2010', w);
      k.machine.raiseNmi();
      k.machine.run({ maxSteps: 600 });
      expect(k.doNmiRuns()).toHaveLength(1);
      expect(k.failure()).toBeNull();
    }
  });

  test('a nested NMI marks the outer frame, returns with popf/ret (NMIs stay blocked); the outer IRET faults and the delayed NMI runs', () => {
    const { k, m, interrupted } = nestedSetup();
    const T = k.nmiStackTop;
    const pointer = m.readU64(LAYOUT.percpuBase + NMI_STACK_FRAME);
    expect(pointer).toBe(T - 88n); // the return frame
    const rsp = m.reg('rsp');
    m.writeU64(rsp - 8n, 0x1111n).writeU64(rsp - 16n, 0x2222n); // data below the interrupted RSP

    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(
      k,
      (kk) => kk.machine.instructionAt()?.op === 'ret' && kk.where().startsWith('nested_nmi_ret'),
    );
    expect(path).toEqual(['nmi', 'nested_nmi', 'nested_nmi_out', 'nested_nmi_ret']);
    m.step(); // ret
    expect(m.rip).toBe(m.symbol('nmi_point_middle'));
    expect(m.reg('rsp')).toBe(rsp); // ret left RSP where it was...
    // ...because popf/ret ran on the interrupted stack: RFLAGS and RIP were written below its RSP
    // (the RFC: "ret is much more limited than an iret"; "some place that writes data below the stack pointer").
    expect(m.readU64(rsp - 8n)).toBe(m.symbol('nmi_point_middle'));
    expect(m.readU64(rsp - 16n)).not.toBe(0x2222n);
    // No IRET: NMIs are still blocked, as the proposal wants.
    expect(m.nmiBlocked).toBe(true);
    // The outer return frame is marked: bit 15 of its CS.
    expect(k.nmiStackSlot(-80)).toBe(0x8010n);
    expect(k.nmiStackSlot(-88)).toBe(interrupted);

    // The outer NMI's final IRET faults; the fault path re-runs the delayed NMI on the same frame.
    const from = m.log.length;
    runTo(k, 'nmi_iret_fault');
    const fault = m.log.slice(from).find((e) => e.kind === 'fault')!;
    expect(fault.vector).toBe(Vector.GP);
    expect(k.where(fault.rip)).toBe('nmi_iret+0');
    runTo(k, 'kernel_fault_point', () => m.reg('rsp') > T);
    expect(m.rip).toBe(interrupted);
    expect(k.doNmiRuns().map((r) => r.nmi)).toEqual([1, 2]);
    expect(k.doNmiRuns().map((r) => r.reentered)).toEqual([false, false]);
    expect(k.failure()).toBeNull();
  });

  test('the premise is wrong (SDM 6.7.1): the faulting IRET has unblocked NMIs before its #GP is delivered', () => {
    const { k, m } = nestedSetup();
    m.raiseNmi();
    const from = m.log.length;
    runTo(k, 'nmi_iret_fault');
    const events = m.log.slice(from).map((e) => e.kind);
    // "we'll take a fault ... and NMI's will stay masked": the unblock comes first.
    expect(events.indexOf('nmi-unblocked')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('nmi-unblocked')).toBeLessThan(events.indexOf('fault'));
    expect(m.nmiBlocked).toBe(false);
    // The pointer is already clear (the exit cleared it before the IRET).
    expect(m.readU64(LAYOUT.percpuBase + NMI_STACK_FRAME)).toBe(0n);
    // So an NMI now is delivered, not latched, and is a "first" NMI on top of the #GP's frame.
    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(k, (kk) => kk.where().startsWith('do_nmi'));
    expect(path).toContain('first_nmi');
  });

  test('an NMI at the start of the fault path: its pt_regs overwrite the #GP frame, the fault path misreads it and the kernel dies', () => {
    const outcomes: string[] = [];
    for (const after of [0, 2]) {
      const { k, m } = nestedSetup();
      m.raiseNmi();
      runTo(k, 'nmi_iret_fault');
      for (let i = 0; i < after; i++) m.step();
      const iterations = k.global('workload_iterations');
      expect(m.raiseNmi()).toBe('delivered');
      m.run({ maxSteps: 3000 });
      const f = k.failure();
      expect(f).not.toBeNull();
      outcomes.push(f!.message);
      // The interrupted kernel code never ran again.
      expect(k.global('workload_iterations')).toBe(iterations);
    }
    // At the first instruction: the "faulting RIP" it reads is a saved register, so the #GP is
    // taken as a real one. Two instructions in: it loads RSP from the clobbered frame, touches a
    // garbage stack, and that #PF cannot be delivered: a double fault.
    expect(outcomes).toEqual(['general protection fault', 'double fault']);
  });

  test('the %gs gotcha: from user mode the entry must SWAPGS before it can read the per-CPU pointer', () => {
    const k = kernel('linus-2010', 'user');
    const m = k.machine;
    m.raiseNmi();
    expect(m.rip).toBe(m.symbol('nmi'));
    expect(m.cpu.gsBase).toBe(LAYOUT.userGsBase); // %gs:nmi_stack_frame would be a user address
    const from = m.log.length;
    runTo(k, 'first_nmi');
    expect(m.log.slice(from).some((e) => e.kind === 'swapgs')).toBe(true);
    expect(m.cpu.gsBase).toBe(LAYOUT.percpuBase);
    m.run({ maxSteps: 600 });
    expect(m.cpl).toBe(3);
    expect(m.cpu.gsBase).toBe(LAYOUT.userGsBase);
    expect(k.failure()).toBeNull();
  });

  test("the %gs gotcha, unsolved: in the syscall gap CS is the kernel's but GS the user's, and the pointer read faults", () => {
    const k = kernel('linus-2010', 'syscall');
    const m = k.machine;
    runTo(k, 'system_call'); // before its SWAPGS
    expect(m.cpl).toBe(0);
    expect(m.raiseNmi()).toBe('delivered');
    m.run({ maxSteps: 600 });
    const pf = m.log.find((e) => e.kind === 'fault' && e.vector === Vector.PF)!;
    expect(pf.cr2).toBe(LAYOUT.userGsBase + NMI_STACK_FRAME);
    expect(k.failure()).toMatchObject({ kind: 'oops', message: 'page fault outside the vmalloc area' });
    expect(k.failure()!.where).toMatch(/^nmi\+/);
    expect(k.doNmiRuns()).toHaveLength(0);
  });
});
