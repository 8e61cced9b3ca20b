// The demonstrations of chapters 2, 4 and 7 (kernel-lib/course/history.ts): what each lesson says
// about them holds on the machine. Sources: docs/sources.md.
import { LAYOUT, replaySchedule } from '../../kernel-lib';
import {
  breakpointInNmiOnDebugStack,
  designKernel,
  LAB,
  labMachine,
  nmiStackWords,
  overwrittenSlots,
  runTo,
  runToUnblocked,
  userIretFault,
  withNmiIdtTable,
} from '../../kernel-lib/course';

describe("chapter 2: the nested NMI writes over the first NMI's pt_regs (SDM 6.14.5: the same IST top)", () => {
  test("on unprotected, the saved registers of the interrupted code are replaced by the handler's", () => {
    const k = designKernel('unprotected');
    const m = k.machine;
    runTo(k, 'kernel_fault_point');
    m.raiseNmi();
    k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 });
    runToUnblocked(k, 'nmi_point_middle');
    const before = nmiStackWords(k, 192);
    // The first NMI's pt_regs hold the workload's registers (0x57a7e0NN).
    expect(before[before.length - 11]).toBe(0x57a7e000n); // T-88: pt_regs rax
    m.raiseNmi();
    runTo(k, 'do_nmi');
    const changed = overwrittenSlots(k, before);
    const regs = changed.filter((w) => w.name.startsWith('pt_regs'));
    expect(regs.map((w) => w.name)).toEqual(expect.arrayContaining(['pt_regs rax', 'pt_regs rdi', 'pt_regs rbx']));
    for (const w of regs) expect(w.before >> 8n).toBe(0x57a7e0n);
    expect(changed.find((w) => w.name === 'hardware RIP')?.after).toBe(m.symbol('nmi_point_middle'));
  });
});

describe('chapter 7: nmi_idt_table (Linux 3.x traps.c, cpu/common.c)', () => {
  test('with the companion, a breakpoint in an NMI that interrupted the debug stack stays on the NMI stack', () => {
    const r = breakpointInNmiOnDebugStack(withNmiIdtTable('linux-3.3', true));
    expect(r.breakpointStack).toBe('NMI stack (IST3)');
    expect(r.outerFrameOverwritten).toBe(false);
    expect(r.workloadResumed).toBe(true);
    expect(r.failure).toBeNull();
  });

  test("without it, the breakpoint resets the debug stack onto the interrupted handler's frame", () => {
    const r = breakpointInNmiOnDebugStack(withNmiIdtTable('linux-3.3', false));
    expect(r.breakpointStack).toBe('debug stack (IST4)');
    expect(r.outerFrameOverwritten).toBe(true);
    expect(r.outerFrameReturnsTo).toMatch(/^nmi_point_early/);
    expect(r.workloadResumed).toBe(false);
    expect(r.failure).not.toBeNull();
  });
});

describe('chapter 7: the ingredients of CVE-2015-5157 (SDM 6.7.1; #GP without IST)', () => {
  test('before 4.2, the faulting return-to-user IRET leaves its #GP on the NMI stack with NMIs open; a second NMI takes the nested path and rewrites the faulted frame', () => {
    for (const id of ['linux-3.3', 'linux-3.8']) {
      const r = userIretFault(id);
      const k = designKernel(id);
      expect(r.faultStack).toBe('NMI stack (IST3)');
      expect(r.nmiBlockedInFaultHandler).toBe(false);
      expect(r.secondNmi).toBe('delivered');
      expect(r.secondNmiPath).toContain('nested_nmi');
      expect(r.faultedFrameBefore.cs & 3n).toBe(3n);
      expect(r.faultedFrameAfter.rip).toBe(k.machine.symbol('repeat_nmi'));
      expect(r.faultedFrameAfter.cs).toBe(0x10n);
    }
  });

  test('in 4.2 the same fault is on the task kernel stack, and the second NMI leaves the faulted frame alone', () => {
    const r = userIretFault('linux-4.2');
    expect(r.faultStack).toBe('task kernel stack (TSS.RSP0)');
    expect(r.secondNmiPath).not.toContain('nested_nmi');
    expect(r.faultedFrameAfter).toEqual(r.faultedFrameBefore);
  });
});

describe('chapter 6: the GS.base check (iret-fault only)', () => {
  test('trips on the kernel workload too; the report lists the shorter CR2 schedule for invariant 3', () => {
    const kernelRun = replaySchedule({
      design: 'iret-fault',
      workload: 'kernel',
      schedule: 'nmi@kernel_loop+0,bp@nmi_point_early+0,nmi@nmi_point_middle+0',
      maxStepsAfterEvent: 600,
    });
    expect(kernelRun.violations.map((v) => v.summary).join(' ')).toMatch(/GS\.base/);
    for (const id of ['unprotected', 'linux-3.3', 'linux-3.8']) {
      const r = replaySchedule({
        design: id,
        workload: 'kernel',
        schedule: 'nmi@kernel_loop+0,bp@nmi_point_early+0,nmi@nmi_point_middle+0',
        maxStepsAfterEvent: 600,
      });
      expect(r.violations.map((v) => v.summary).join(' ')).not.toMatch(/GS\.base/);
    }
  });
});

describe("the lab machine's stacks (Linux 3.x page_64_types.h, traps.c)", () => {
  test('the NMI stack is one page, the debug stack two; #DF on IST2, NMI on IST3, #DB/#BP on IST4', () => {
    expect(LAB.nmiStackSize).toBe(4096);
    expect(LAB.debugStackSize).toBe(8192);
    const m = labMachine('.text\n_start:\n    hlt\n');
    const ist = (v: number) => m.readBytes(LAB.idtBase + BigInt(v) * 16n, 16)[4] & 7;
    expect([ist(8), ist(2), ist(1), ist(3)]).toEqual([2, 3, 4, 4]);
    expect(m.memory.pageFor(LAB.nmiStackTop - 4097n)).toBeFalsy();
    expect(LAYOUT.nmiStackTop).toBe(0xffff880000204000n);
  });
});
