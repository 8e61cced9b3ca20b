// Scenarios shared by the designs with the nesting machinery (rfc-2011, linux-3.3 to linux-3.8,
// linux-4.2): the nested path rewrites the copied frame, the final IRET lands in repeat_nmi,
// do_nmi runs again; the race after the variable is cleared; an NMI inside the repeat window.
import { Kernel } from '../../kernel-lib';
import { iretsSince, kernel, labelsUntil, runTo, runToUnblocked } from './helpers';
import { nestAfterBreakpoint } from '../../kernel-lib/harness/scenario';

/** Offset from the IST top of a frame's RIP slot, read from the design's manifest. */
export function frameRip(k: Kernel, group: 'copied frame' | 'saved frame'): number {
  const slot = k.design.stack.find((s) => s.group === group && / RIP$/.test(s.name));
  if (!slot) throw new Error(`${k.design.id}: no ${group} RIP in the manifest`);
  return slot.offset;
}

/** Where the first NMI clears "NMI executing": the instruction after that store. */
export interface NestingOptions {
  design: string;
  /** An instruction after "NMI executing" is cleared and before the final IRET: a label, or 'final-iret'. */
  afterClear: string;
  /** Where, in do_nmi, a nested NMI can arrive without the design breaking the handler. */
  nestAt: string;
}

export function nestingScenarios(o: NestingOptions): void {
  test('a nested NMI rewrites the copied frame; the final IRET lands in repeat_nmi and do_nmi runs a second time', () => {
    const k = kernel(o.design);
    const m = k.machine;
    const T = k.nmiStackTop;
    const interrupted = nestAfterBreakpoint(k, { nestAt: o.nestAt });
    const copied = frameRip(k, 'copied frame');
    const saved = frameRip(k, 'saved frame');
    expect(k.nmiStackSlot(copied)).toBe(interrupted);
    expect(k.nmiStackSlot(-56)).toBe(1n); // "NMI executing"

    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('nested_nmi');
    expect(path).not.toContain('first_nmi');
    expect(path).not.toContain('do_nmi');
    // The copied frame now sends the first NMI to repeat_nmi; Saved still holds the real return.
    expect(k.nmiStackSlot(copied)).toBe(m.symbol('repeat_nmi'));
    expect(k.nmiStackSlot(copied + 8)).toBe(0x10n); // __KERNEL_CS
    expect(k.nmiStackSlot(copied + 32)).toBe(0x18n); // __KERNEL_DS
    expect(k.nmiStackSlot(saved)).toBe(interrupted);
    expect(k.doNmiRuns()).toHaveLength(1);

    // The nested NMI returns into the first; the first NMI's final IRET goes to repeat_nmi.
    const from = m.log.length;
    runTo(k, 'repeat_nmi');
    const iret = iretsSince(k, from).pop()!;
    expect(k.where(iret.toRip!)).toBe('repeat_nmi+0');
    expect(iret.toRsp).toBe(T + BigInt(saved)); // repeat_nmi starts with RSP at the Saved RIP slot

    // do_nmi runs again, for the second NMI, and then the interrupted code resumes.
    runTo(k, 'kernel_fault_point', () => k.machine.reg('rsp') > T);
    const runs = k.doNmiRuns();
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.nmi)).toEqual([1, 2]);
    expect(runs.map((r) => r.reentered)).toEqual([false, false]);
    expect(m.rip).toBe(interrupted);
    expect(k.unservedNmis()).toEqual([]);
    expect(k.failure()).toBeNull();
    m.run({ maxSteps: 300 });
    expect(k.failure()).toBeNull();
  });

  test('the race after "NMI executing" is cleared: the interrupted RSP is on the NMI stack, so the NMI is nested', () => {
    const k = kernel(o.design);
    const m = k.machine;
    runTo(k, 'kernel_fault_point');
    const interrupted = m.rip;
    m.raiseNmi();
    k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
    if (o.afterClear === 'final-iret') {
      // The IRET right after the clear (linux-4.2 has it inline, with no label of its own).
      const after = k.program.instructions.find((i) => i.op === 'iret' && i.address > m.symbol('nmi_restore'))!.address;
      const r = m.run({ until: (mm) => mm.rip === after && !mm.nmiBlocked, maxSteps: 2000 });
      expect(r.stop).toBe('until');
    } else runToUnblocked(k, o.afterClear);
    expect(k.nmiStackSlot(-56)).toBe(0n); // cleared
    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('nested_nmi');
    expect(k.nmiStackSlot(frameRip(k, 'copied frame'))).toBe(m.symbol('repeat_nmi'));
    runTo(k, 'kernel_fault_point', () => k.machine.reg('rsp') > k.nmiStackTop);
    expect(m.rip).toBe(interrupted);
    expect(k.doNmiRuns()).toHaveLength(2);
    expect(k.failure()).toBeNull();
  });

  test('an NMI inside repeat_nmi .. end_repeat_nmi is ignored: the handler is about to run again anyway', () => {
    const k = kernel(o.design);
    const m = k.machine;
    nestAfterBreakpoint(k, { nestAt: o.nestAt });
    m.raiseNmi(); // nested: asks for a repeat
    runTo(k, 'repeat_nmi');
    m.step(); // one instruction into the repeat window
    const copied = frameRip(k, 'copied frame');
    const before = k.nmiStackSlot(copied);
    expect(m.raiseNmi()).toBe('delivered');
    const path = labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret');
    expect(path).toContain('nested_nmi_out');
    expect(path).not.toContain('first_nmi');
    expect(k.nmiStackSlot(copied)).toBe(before); // the frame being copied was left alone
    runTo(k, 'kernel_fault_point', () => k.machine.reg('rsp') > k.nmiStackTop);
    // Three NMIs, two runs: the third was folded into the repeat, as the hardware latch would.
    expect(k.doNmiRuns()).toHaveLength(2);
    expect(k.failure()).toBeNull();
  });
}
