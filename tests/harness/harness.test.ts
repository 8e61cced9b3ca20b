// The harness kernel around the designs: workloads, the syscall gap, the debug stack, do_nmi's
// bookkeeping, exception points, failures, snapshots.
import {
  buildKernel,
  LAYOUT,
  SELECTORS,
  Vector,
  WORKLOADS,
  checkDesignSource,
  loadDesignFromSource,
  DEBUG_STKSZ,
  THREAD_SIZE,
} from '../../kernel-lib';

const k = (workload: (typeof WORKLOADS)[number] = 'kernel', design = 'linux-3.3') => buildKernel({ design, workload });

describe('workloads reach their steady state and run on without failing', () => {
  test.each(WORKLOADS)('%s', (w) => {
    const kk = k(w);
    const m = kk.machine;
    const steady = { kernel: 'kernel_loop', user: 'user_loop', syscall: 'syscall_loop', debug: 'do_int3_work' }[w];
    expect(kk.where()).toBe(`${steady}+0`);
    expect(m.cpl).toBe(w === 'user' || w === 'syscall' ? 3 : 0);
    const r = m.run({ maxSteps: 3000 });
    expect(r.stop).toBe('budget');
    expect(kk.failure()).toBeNull();
    kk.reset();
    expect(kk.where()).toBe(`${steady}+0`);
  });

  test('kernel: on the task stack with kernel GS; every register holds its own value', () => {
    const kk = k('kernel');
    const m = kk.machine;
    expect(m.reg('rsp')).toBeLessThan(LAYOUT.kernelStackTop);
    expect(m.reg('rsp')).toBeGreaterThan(LAYOUT.kernelStackTop - BigInt(THREAD_SIZE));
    expect(m.cpu.gsBase).toBe(LAYOUT.percpuBase);
    expect(m.reg('r12')).toBe(0x57a7e00cn);
    const before = kk.global('workload_iterations');
    m.run({ maxSteps: 500 });
    expect(kk.global('workload_iterations')).toBeGreaterThan(before);
  });

  test('user: RSP can be anything, here an address inside the NMI stack; user GS loaded', () => {
    const rsp = LAYOUT.nmiStackTop - 0x100n;
    const kk = buildKernel({ design: 'linux-3.3', workload: 'user', userRsp: rsp });
    expect(kk.machine.reg('rsp')).toBe(rsp);
    expect(kk.machine.cpu.gsBase).toBe(LAYOUT.userGsBase);
    expect(kk.machine.cpu.kernelGsBase).toBe(LAYOUT.percpuBase);
    kk.machine.run({ maxSteps: 1000 });
    expect(kk.failure()).toBeNull();
  });

  test('syscall: the gap exists: kernel CS on the user stack until the entry loads the kernel stack, and again on the way out', () => {
    const kk = k('syscall');
    const m = kk.machine;
    const userRsp = m.reg('rsp');
    m.run({ until: 'system_call' });
    expect(m.cpl).toBe(0);
    expect(m.cpu.cs).toBe(SELECTORS.KERNEL_CS);
    expect(m.reg('rsp')).toBe(userRsp);
    expect(m.flag('df')).toBe(false);
    m.step(); // swapgs
    expect(m.cpu.gsBase).toBe(LAYOUT.percpuBase);
    expect(kk.where()).toBe('system_call_after_swapgs+0');
    m.step();
    m.step();
    expect(kk.where()).toBe('system_call_on_kernel_stack+0');
    expect(m.reg('rsp')).toBe(LAYOUT.kernelStackTop);
    m.run({ until: 'system_call_exit_user_rsp' });
    expect(m.cpl).toBe(0);
    expect(m.reg('rsp')).toBe(userRsp);
    m.run({ until: 'syscall_loop' });
    expect(m.cpl).toBe(3);
    expect(kk.percpu('syscall_count')).toBe(1n);
  });

  test('debug: a #BP handler on the debug stack, with the IST pointer moved down while its body runs', () => {
    const kk = k('debug');
    const m = kk.machine;
    expect(m.reg('rsp')).toBeLessThan(LAYOUT.debugStackTop);
    expect(m.reg('rsp')).toBeGreaterThan(LAYOUT.debugStackTop - BigInt(DEBUG_STKSZ));
    expect(kk.percpu('int3_count')).toBe(1n);
    const ist4 = m.readU64(LAYOUT.percpuBase + 0x800n + 0x24n + 3n * 8n);
    expect(ist4).toBe(LAYOUT.debugStackTop - 4096n);
  });
});

describe('do_nmi', () => {
  test('counts its runs and records when each began and which NMI it serves', () => {
    const kk = k('kernel', 'unprotected');
    const m = kk.machine;
    m.run({ maxSteps: 10 });
    m.raiseNmi();
    const logIndex = m.log.length;
    m.run({ until: 'do_nmi' });
    const step = m.steps;
    m.run({ maxSteps: 200 });
    m.raiseNmi();
    m.run({ maxSteps: 200 });
    expect(kk.percpu('nmi_runs')).toBe(2n);
    const runs = kk.doNmiRuns();
    expect(runs.map((r) => [r.run, r.nmi, r.reentered])).toEqual([
      [1, 1, false],
      [2, 2, false],
    ]);
    expect(runs[0].step).toBe(step);
    expect(runs[0].logIndex).toBeGreaterThanOrEqual(logIndex);
    expect(runs[0].rsp).toBeLessThan(LAYOUT.nmiStackTop);
    expect(kk.percpu('nmi_in_progress')).toBe(0n);
    expect(kk.unservedNmis()).toEqual([]);
  });

  test('a run is recorded once even when a run stops on do_nmi and resumes', () => {
    const kk = k('kernel', 'unprotected');
    kk.machine.raiseNmi();
    kk.machine.run({ until: 'do_nmi' });
    kk.machine.run({ until: 'do_nmi' });
    kk.machine.run({ maxSteps: 300 });
    expect(kk.doNmiRuns()).toHaveLength(1);
  });

  test('clobbers the caller-saved registers and keeps the callee-saved ones, like C code', () => {
    const kk = k('kernel', 'unprotected');
    const m = kk.machine;
    m.raiseNmi();
    m.run({ until: 'do_nmi' });
    const before = m.registers();
    m.run({ until: 'do_nmi_return' });
    const after = m.registers();
    for (const r of ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15', 'rsp'] as const) expect(after[r]).toBe(before[r]);
    for (const r of ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11'] as const)
      expect(after[r]).not.toBe(before[r]);
  });

  test.each([
    ['bp', Vector.BP, 'int3_count'],
    ['db', Vector.DB, 'debug_count'],
  ] as const)('an armed %s at an exception point is taken there and returns with IRET', (kind, vector, counter) => {
    const kk = k('kernel', 'linux-3.4');
    const m = kk.machine;
    expect(kk.exceptionPoints.map((p) => p.label)).toEqual([
      'nmi_point_early',
      'nmi_point_middle',
      'nmi_point_late',
      'kernel_fault_point',
    ]);
    kk.armException({ at: 'nmi_point_middle', kind });
    m.raiseNmi();
    m.run({ maxSteps: 400 });
    const d = m.log.find((e) => e.kind === 'deliver' && e.vector === vector)!;
    expect(kk.where(d.rip!)).toBe('nmi_point_middle+0');
    expect(d.ist).toBe(4);
    expect(kk.percpu(counter)).toBe(1n);
    expect(kk.doNmiRuns()).toHaveLength(1);
    expect(kk.failure()).toBeNull();
  });

  test('an armed #PF sets CR2 to a vmalloc address; the handler fixes it up and logs it; it lands on the NMI stack', () => {
    const kk = k('kernel', 'linux-3.4');
    const m = kk.machine;
    kk.armException({ at: 'nmi_point_early', kind: 'pf' });
    m.raiseNmi();
    m.run({ maxSteps: 400 });
    const d = m.log.find((e) => e.kind === 'deliver' && e.vector === Vector.PF)!;
    expect(d.cr2).toBe(LAYOUT.nmiFaultAddress);
    expect(d.ist).toBe(0);
    expect(d.toRsp! < LAYOUT.nmiStackTop && d.toRsp! > LAYOUT.nmiStackTop - 4096n).toBe(true);
    expect(kk.pageFaults()).toEqual([{ cr2: LAYOUT.nmiFaultAddress, rip: m.symbol('nmi_point_early') }]);
    expect(kk.failure()).toBeNull();
  });

  test('arms only fire in the run they name, once', () => {
    const kk = k('kernel', 'linux-3.4');
    const m = kk.machine;
    kk.armException({ at: 'nmi_point_early', kind: 'bp', run: 2 });
    m.raiseNmi();
    m.run({ maxSteps: 300 });
    expect(kk.percpu('int3_count')).toBe(0n);
    m.raiseNmi();
    m.raiseNmi();
    m.run({ maxSteps: 600 });
    expect(kk.percpu('int3_count')).toBe(1n);
  });
});

describe('failures are reported, never hidden', () => {
  test('a #GP is an oops with the faulting RIP', () => {
    const kk = k();
    kk.machine.inject({ type: 'exception', vector: Vector.GP, errorCode: 0 });
    kk.machine.run({ maxSteps: 100 });
    expect(kk.failure()).toMatchObject({ kind: 'oops', message: 'general protection fault', where: 'kernel_loop+0' });
  });

  test('a page fault outside the vmalloc area is an oops', () => {
    const kk = k();
    kk.machine.inject({ type: 'exception', vector: Vector.PF, errorCode: 0, cr2: 0x1000n });
    kk.machine.run({ maxSteps: 200 });
    expect(kk.failure()?.message).toBe('page fault outside the vmalloc area');
  });

  test('a kernel register changed under the workload is an oops', () => {
    const kk = k();
    kk.machine.setReg('r13', 1n);
    kk.machine.run({ maxSteps: 200 });
    expect(kk.failure()?.message).toMatch(/registers or flags changed/);
  });

  test('a user register changed under the workload is reported through #UD', () => {
    const kk = k('user');
    kk.machine.setReg('rbx', 1n);
    kk.machine.run({ maxSteps: 200 });
    expect(kk.failure()).toMatchObject({ message: expect.stringMatching(/invalid opcode/), where: 'user_corrupted+0' });
  });
});

test('snapshots cover the machine, the recorded runs and the armed exceptions', () => {
  const kk = k('kernel', 'linux-3.4');
  const m = kk.machine;
  const s = kk.snapshot();
  kk.armException({ at: 'nmi_point_early', kind: 'bp' });
  const armed = kk.snapshot();
  m.raiseNmi();
  m.run({ maxSteps: 300 });
  expect(kk.doNmiRuns()).toHaveLength(1);
  expect(kk.percpu('int3_count')).toBe(1n);
  kk.restore(armed);
  expect(kk.doNmiRuns()).toHaveLength(0);
  m.raiseNmi();
  m.run({ maxSteps: 300 });
  expect(kk.percpu('int3_count')).toBe(1n); // the arm fired again after the restore
  kk.restore(s);
  m.raiseNmi();
  m.run({ maxSteps: 300 });
  expect(kk.percpu('int3_count')).toBe(0n);
  expect(kk.doNmiRuns()).toHaveLength(1);
});

describe('a design from source (the contract)', () => {
  const MINIMAL = `
/* The smallest design: the unprotected entry, three lines shorter. */
ENTRY(nmi)
	pushq $-1
	SAVE_ALL
	call save_paranoid_body
	movq %rsp, %rdi
	call do_nmi
	testl %ebx, %ebx
	jnz 1f
	SWAPGS
1:	RESTORE_ALL 8
	INTERRUPT_RETURN
save_paranoid_body:
	movl $1, %ebx
	movl $MSR_GS_BASE, %ecx
	rdmsr
	testl %edx, %edx
	js 2f
	SWAPGS
	xorl %ebx, %ebx
2:	ret
END(nmi)
`;
  test('loadDesignFromSource gives a Design that buildKernel runs', () => {
    const design = loadDesignFromSource(MINIMAL, { id: 'minimal', title: 'Minimal' });
    expect(design.id).toBe('minimal');
    for (const workload of ['kernel', 'user'] as const) {
      const kk = buildKernel({ design, workload });
      kk.machine.raiseNmi();
      kk.machine.run({ maxSteps: 500 });
      expect(kk.doNmiRuns()).toHaveLength(1);
      expect(kk.failure()).toBeNull();
    }
  });

  test('a listing without nmi, or with an error, comes back as diagnostics with locations', () => {
    const none = checkDesignSource('foo:\n\tnop\n', { listing: 'mine.S' });
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.errors[0]).toMatchObject({ file: 'mine.S', message: expect.stringMatching(/'nmi'/) });
    const bad = checkDesignSource('ENTRY(nmi)\n\tmovq %rax\n', { listing: 'mine.S' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatchObject({ file: 'mine.S', line: 2 });
    expect(() => loadDesignFromSource('foo: nop')).toThrow(/'nmi'/);
  });

  test('harness.gates, returnsWithoutIret and intendedFaults must name .text labels (a return without IRET: a ret instruction)', () => {
    const listing = 'ENTRY(nmi)\n\tpopfq\nnested_ret:\n\tret\nnot_ret:\n\tiretq\nEND(nmi)\n';
    expect(checkDesignSource(listing, { returnsWithoutIret: ['nested_ret'] }).ok).toBe(true);
    // not_ret labels an iretq; nowhere is no label at all.
    for (const label of ['not_ret', 'nowhere']) {
      const r = checkDesignSource(listing, { listing: 'mine.S', returnsWithoutIret: [label] });
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.errors.map((e) => e.message)).toEqual([
          `returnsWithoutIret: '${label}' must be a label in .text on a ret instruction`,
        ]);
    }
    const shape = checkDesignSource(listing, { returnsWithoutIret: 'nested_ret' as unknown as string[] });
    expect(shape.ok).toBe(false);
    if (!shape.ok) expect(shape.errors[0].message).toMatch(/'returnsWithoutIret' must be a list of labels/);
    const intended = checkDesignSource(listing, {
      listing: 'mine.S',
      intendedFaults: [
        { fault: '#GP', at: 'not_ret' },
        { fault: '#GP', at: 'nowhere' },
      ],
    });
    expect(intended.ok).toBe(false);
    if (!intended.ok)
      expect(intended.errors.map((e) => e.message)).toEqual(["intendedFaults: 'nowhere' is not a label in .text"]);
    for (const bad of [[{ fault: '#DF', at: 'not_ret' }], [{ fault: 13, at: 'not_ret' }], '#GP@not_ret']) {
      const r = checkDesignSource(listing, { intendedFaults: bad as unknown as { fault: string; at: string }[] });
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.errors[0].message).toMatch(
          /^manifest: 'intendedFaults' must be a list of \{ fault, at \}: fault one of #DE, #UD, #TS, #NP, #SS, #GP, #PF/,
        );
    }
    const gate = checkDesignSource(listing, { listing: 'mine.S', harness: { gates: { 13: 'missing_handler' } } });
    expect(gate.ok).toBe(false);
    if (!gate.ok)
      expect(gate.errors[0].message).toBe(
        "harness.gates: vector 13 names 'missing_handler', which is not a label in .text",
      );
  });
});
