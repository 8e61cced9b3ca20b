// The explorer: schedules as strings, each invariant shown to fail on a design made to break it,
// Heavy explorations run in worker threads: jest's module sandbox slows the step loop ~40x.
// and the historical record where it is documented.
import { getDesign, LAYOUT, loadDesignFromSource } from '../../kernel-lib';
import type { Design } from '../../kernel-lib';
import {
  exploreWorkload,
  parseSchedule,
  replaySchedule,
  formatScheduleSteps,
  ExploreRefused,
  exploreDesign,
} from '../../kernel-lib/explore';
import type { WorkloadReport } from '../../kernel-lib/explore';

const hostile = LAYOUT.nmiStackTop - 0x800n;
const invariants = (r: WorkloadReport) => r.violations.map((v) => v.invariant).sort();

describe('schedule strings', () => {
  test('parse the step and label forms, with a user RSP and occurrences', () => {
    const p = parseSchedule('rsp=0xffff880000203800, nmi@12, bp@nmi_point_early, nmi@do_nmi+0x5#2');
    expect(p.userRsp).toBe(0xffff880000203800n);
    expect(p.events.map((e) => e.kind)).toEqual(['nmi', 'bp', 'nmi']);
    expect(p.events[0].where).toEqual({ type: 'step', step: 12 });
    expect(p.events[2].where).toEqual({ type: 'label', label: 'do_nmi', offset: 5n, occurrence: 2 });
    expect(() => parseSchedule('nmi@12,rsp=0x1')).toThrow(/first/);
    expect(() => parseSchedule('xx@3')).toThrow(/KIND@WHERE/);
    expect(formatScheduleSteps({ userRsp: 16n, events: [{ kind: 'nmi', step: 3, at: 0n }] })).toBe('rsp=0x10,nmi@3');
  });
});

describe('the historical record', () => {
  test('unprotected: a breakpoint in the handler lets a second NMI in; the handler is re-entered and the first NMI never returns', async () => {
    const r = await exploreWorkload({ design: 'unprotected', workload: 'kernel', depth: 2, exceptions: 1, workers: 2 });
    expect(r.verdict).toBe('violated');
    expect(invariants(r)).toEqual(expect.arrayContaining(['reentrant-handler', 'termination', 'transparency']));
    const re = r.violations.find((v) => v.invariant === 'reentrant-handler')!;
    expect(re.events.map((e) => e.kind)).toEqual(['nmi', 'nmi', 'bp']); // the RFC's problem statement, minimal
    expect(r.schedules).toBeGreaterThan(r.runs);
    // Replaying the minimal schedule shows the same violation.
    const rr = replaySchedule({ design: 'unprotected', workload: 'kernel', schedule: re.schedule });
    expect(rr.violations.map((v) => v.invariant)).toContain('reentrant-handler');
    expect(rr.label).toBe(re.schedule);
  }, 30000);

  test('linux-3.3 loses an NMI in the syscall gap when the user points RSP into the NMI stack (CVE-2015-3291); linux-4.2 does not', async () => {
    const bad = await exploreWorkload({
      design: 'linux-3.3',
      workload: 'syscall',
      depth: 1,
      exceptions: 0,
      userRsps: [hostile],
    });
    const lost = bad.violations.find((v) => v.invariant === 'lost-nmi');
    expect(lost).toBeDefined();
    expect(lost!.schedule).toMatch(/^rsp=0xffff880000203800,nmi@system_call/);
    const good = await exploreWorkload({
      design: 'linux-4.2',
      workload: 'syscall',
      depth: 1,
      exceptions: 0,
      userRsps: [hostile],
    });
    expect(good.violations).toEqual([]);
  });

  // The 2015 hardening (docs/sources.md). Every workload at depth 2 with one exception in do_nmi.
  for (const workload of ['kernel', 'user', 'syscall', 'debug'] as const) {
    test(`linux-4.2 is clean on the ${workload} workload at depth 2 (nested NMIs, breakpoints, debug traps and page faults in do_nmi)`, async () => {
      const r = await exploreWorkload({ design: 'linux-4.2', workload, depth: 2, exceptions: 1, workers: 2 });
      expect(r.violations).toEqual([]);
      expect(r.schedules).toBeGreaterThan(10000);
    }, 60000);
  }

  for (const id of ['linus-2010', 'iret-fault']) {
    test(`${id} shows its documented failure`, async () => {
      const r = await exploreWorkload({ design: id, workload: 'kernel', depth: 2, exceptions: 1, workers: 2 });
      expect(r.verdict).toBe('violated');
    }, 30000);
  }
  // FRED (fred.rst; docs/sources.md): an exception inside the NMI handler keeps NMIs blocked, so no
  // schedule nests the handler or loses an NMI.
  for (const workload of ['kernel', 'syscall'] as const) {
    test(`fred is clean on the ${workload} workload`, async () => {
      const r = await exploreWorkload({ design: 'fred', workload, depth: 2, exceptions: 1, workers: 2 });
      expect(r.violations).toEqual([]);
      expect(r.schedules).toBeGreaterThan(10000);
    }, 60000);
  }
});

/** A design made to break one invariant (the harness's save_paranoid/paranoid_exit are around it). */
function broken(body: string) {
  return loadDesignFromSource(`ENTRY(nmi)\n${body}\nEND(nmi)\n`, { id: 'broken' });
}

describe('each invariant can fail', () => {
  const one = (body: string) => exploreWorkload({ design: broken(body), workload: 'kernel', depth: 1, exceptions: 0 });

  test('1: an entry that returns without calling do_nmi loses the NMI', async () => {
    expect(invariants(await one('\tiretq'))).toEqual(['lost-nmi']);
  });

  test('3: an entry that clobbers a register', async () => {
    const r = await one('\tmovq $1, %rbx\n\tiretq');
    expect(invariants(r)).toContain('transparency');
    expect(r.violations.find((v) => v.invariant === 'transparency')!.summary).toMatch(/rbx/);
  });

  test('3: an entry that returns with GS.base changed (a SWAPGS without its pair); a paired one is transparent', async () => {
    const r = await one('\tswapgs\n\tiretq');
    expect(invariants(r)).toContain('transparency');
    expect(r.violations.find((v) => v.invariant === 'transparency')!.summary).toMatch(
      /GS\.base 0x[0-9a-f]+ -> 0x[0-9a-f]+/,
    );
    expect(invariants(await one('\tswapgs\n\tswapgs\n\tiretq'))).not.toContain('transparency');
  });

  test('3: iret-fault hands the kernel GS base back to kernel code that had the user one (chapter 4)', async () => {
    const r = await exploreWorkload({ design: 'iret-fault', workload: 'user', depth: 2, exceptions: 1, workers: 2 });
    const t = r.violations.find((v) => v.invariant === 'transparency')!;
    expect(t.summary).toMatch(/^#GP returned to irq_return\+0 with GS\.base/);
    expect(t.schedule).toBe('nmi@user_loop+0,nmi@nmi+0,bp@nmi_point_early+0');
  }, 60000);

  test("3: a return without IRET that the design declares (linus-2010's popf/ret) is checked like an IRET", () => {
    const shipped = getDesign('linus-2010');
    expect(shipped.returnsWithoutIret).toEqual(['nested_nmi_ret']);
    // The nested NMI's scratch %rax not given back: only the popf/ret return to the outer NMI shows it.
    const text = shipped.text.replace('\tmovq 2*8(%rsp), %rax\n', '');
    expect(text).not.toBe(shipped.text);
    const meta = { id: 'linus-2010-rax', listing: 'linus-2010-rax.S', harness: shipped.harness };
    const schedule = 'nmi@kernel_loop+0,bp@nmi_point_early+0,nmi@nmi_point_middle+0';
    const transparency = (design: Design) =>
      replaySchedule({ design, workload: 'kernel', schedule })
        .violations.filter((v) => v.invariant === 'transparency')
        .map((v) => v.summary);
    expect(transparency(loadDesignFromSource(text, { ...meta, returnsWithoutIret: ['nested_nmi_ret'] }))).toEqual([
      expect.stringMatching(/^NMI returned without IRET \(ret\) to nmi_point_middle\+0 with rax 0x0 -> 0x/),
    ]);
    // Undeclared, the ret is an ordinary instruction to the explorer, and the clobber goes unseen.
    expect(transparency(loadDesignFromSource(text, meta))).toEqual([]);
    // As shipped, the nested return gives everything back.
    expect(transparency(shipped)).toEqual([]);
  });

  test('4: a fault the design raises on purpose is not counted (manifest intendedFaults); an undeclared one is', async () => {
    const shipped = getDesign('linus-2010');
    expect(shipped.intendedFaults).toEqual([{ vector: 13, at: 'nmi_iret' }]);
    const asIs = await exploreWorkload({ design: shipped, workload: 'kernel', depth: 2, exceptions: 1, workers: 2 });
    expect(invariants(asIs)).toEqual(['termination', 'transparency']);
    const meta = {
      id: 'linus-2010-undeclared',
      listing: 'linus-2010.S',
      harness: shipped.harness,
      returnsWithoutIret: shipped.returnsWithoutIret,
    };
    const undeclared = await exploreWorkload({
      design: loadDesignFromSource(shipped.text, meta),
      workload: 'kernel',
      depth: 2,
      exceptions: 1,
      workers: 2,
    });
    expect(undeclared.violations.find((v) => v.invariant === 'fault')).toMatchObject({
      schedule: 'nmi@kernel_loop+0,nmi@nmi+0,bp@nmi_point_early+0',
      summary: expect.stringMatching(/^unexpected #GP at nmi_iret\+0/),
    });
  }, 60000);

  // Chapters 3 and 4 quote these minimal schedules.
  test.each([
    ['linus-2010', 'nmi@kernel_loop+0,nmi@nmi+0,bp@nmi_point_early+0,nmi@nmi+0'],
    ['iret-fault', 'nmi@kernel_loop+0,nmi@nmi+0,bp@nmi_point_early+0,nmi@iret_general_protection+0'],
  ])(
    '4: with its own #GP declared, %s still fails invariant 4 at depth 3: an NMI at the start of the fault path (SDM 6.7.1)',
    async (design, schedule) => {
      const r = await exploreWorkload({ design, workload: 'kernel', depth: 3, exceptions: 1, workers: 2 });
      expect(r.violations.find((v) => v.invariant === 'fault')).toMatchObject({
        schedule,
        summary: 'kernel oops: general protection fault',
      });
    },
    120000,
  );

  test('4: an entry that touches unmapped memory faults', async () => {
    expect(invariants(await one('\tmovq 0x10, %rax\n\tiretq'))).toContain('fault');
  });

  test('5: an entry that spins never returns', async () => {
    const r = await exploreWorkload({
      design: broken('1:\tjmp 1b'),
      workload: 'kernel',
      depth: 1,
      exceptions: 0,
      maxStepsAfterEvent: 500,
    });
    expect(invariants(r)).toContain('termination');
    expect(r.violations.find((v) => v.invariant === 'termination')!.summary).toMatch(/500 steps/);
  });

  test('6: an entry that returns to a user address with the kernel CS', async () => {
    expect(invariants(await one('\tmovq $0x400000, (%rsp)\n\tiretq'))).toContain('privilege');
  });

  test('2: re-entrancy is reported from the harness counter (unprotected, above); a too-large bound is refused with an estimate', async () => {
    await expect(
      exploreDesign({ design: 'linux-3.3', workload: 'kernel', depth: 4, exceptions: 3, limitRuns: 1000 }),
    ).rejects.toBeInstanceOf(ExploreRefused);
  });
});
