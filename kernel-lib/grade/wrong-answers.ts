// Plausible wrong answers for every exercise, next to the hidden tests (hidden.ts) that catch them.
// Each is the text of an exercise cell a learner might submit (the lesson's imports and earlier
// cells in scope). `caughtBy` says which check rejects it: 'visible' (the notebook's check() already
// says Not yet, and the grader agrees) or 'hidden' (the notebook's check passes it; the grader's
// hidden cases do not). tests/grade/wrong-answers.test.ts grades each one and holds the grader to it.

export interface WrongAnswer {
  /** What is wrong, in a few words. */
  name: string;
  /** The exercise cell's code. */
  cell: string;
  caughtBy: 'visible' | 'hidden';
}

const asm = (body: string) => `const sumSource = \`
.text
_start:
${body}
\`;`;

/** linux-3.3 with its RSP test replaced by a jump to first_nmi (the reference change of ch5-ex3). */
const NO_RSP =
  "getDesign('linux-3.3').text.replace('\\ttest_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi', '\\tjmp first_nmi')";
const NO_CS = "getDesign('linux-3.3').text.replace('\\tcmpl $__KERNEL_CS, 16(%rsp)\\n\\tjne first_nmi\\n', '')";
const NO_DF =
  "getDesign('linux-4.2').text.replace(/\\ttestb \\$\\(X86_EFLAGS_DF >> 8\\), \\(3\\*8 \\+ 1\\)\\(%rsp\\)\\n\\tjz first_nmi[^\\n]*\\n/, '')";

const breakCell = (name: string, source: string, invariant: number, schedule: string) =>
  `const ${name} = { source: ${source}, invariant: ${invariant}, schedule: ${JSON.stringify(schedule)} };`;

export const WRONG_ANSWERS: Record<string, readonly WrongAnswer[]> = {
  'ch0-ex1': [
    { name: 'hard-coded 55', cell: asm('    movq $55, %rax\n    hlt'), caughtBy: 'visible' },
    {
      name: 'ignores N: counts down from 10',
      cell: asm('    movq $10, %rcx\n    xorq %rax, %rax\n1:\n    addq %rcx, %rax\n    decq %rcx\n    jnz 1b\n    hlt'),
      caughtBy: 'visible',
    },
    {
      name: 'off by one: adds N-1 down to 1',
      cell: asm(
        '    movq %rdi, %rcx\n    xorq %rax, %rax\n1:\n    decq %rcx\n    jz 2f\n    addq %rcx, %rax\n    jmp 1b\n2:\n    hlt',
      ),
      caughtBy: 'visible',
    },
    {
      name: "the page's loop as it is: N = 0 wraps around and never halts",
      cell: asm(
        '    movq %rdi, %rcx\n    xorq %rax, %rax\n1:\n    addq %rcx, %rax\n    decq %rcx\n    jnz 1b\n    hlt',
      ),
      caughtBy: 'hidden',
    },
    {
      name: 'no hlt: runs off the end',
      cell: asm('    movq %rdi, %rcx\n    xorq %rax, %rax\n1:\n    addq %rcx, %rax\n    decq %rcx\n    jnz 1b'),
      caughtBy: 'visible',
    },
  ],
  'ch0-ex2': [
    {
      name: 'the saved RIP (the frame slot RSP points at)',
      cell: 'function interruptedRsp(m: Machine): bigint { return m.readU64(m.reg("rsp")); }',
      caughtBy: 'visible',
    },
    {
      name: 'relative to RSP: right only at the first instruction',
      cell: 'function interruptedRsp(m: Machine): bigint { return m.readU64(m.reg("rsp") + 24n); }',
      caughtBy: 'visible',
    },
    {
      name: 'the SS slot (off by one slot)',
      cell: 'function interruptedRsp(m: Machine): bigint { return m.readU64(LAB.nmiStackTop - 8n); }',
      caughtBy: 'visible',
    },
    {
      name: 'the handler’s own RSP',
      cell: 'function interruptedRsp(m: Machine): bigint { return m.reg("rsp"); }',
      caughtBy: 'visible',
    },
    {
      name: 'hard-coded: the kernel stack top (right for the visible cases only)',
      cell: 'function interruptedRsp(m: Machine): bigint { return LAB.kernelStackTop; }',
      caughtBy: 'hidden',
    },
    {
      name: 'a number instead of a bigint',
      cell: 'function interruptedRsp(m: Machine): any { return Number(m.readU64(LAB.nmiStackTop - 16n)); }',
      caughtBy: 'visible',
    },
  ],
  'ch1-ex1': [
    {
      name: 'always the interrupted RSP minus 40',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): bigint { return rsp - 40n; }',
      caughtBy: 'visible',
    },
    {
      name: 'always the IST top minus 40',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): bigint { return NMI_TOP - 40n; }',
      caughtBy: 'visible',
    },
    {
      name: 'no alignment to 16 bytes',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): bigint { return (ist !== 0 ? NMI_TOP : fromUser ? KSTACK_TOP : rsp) - 40n; }',
      caughtBy: 'hidden',
    },
    {
      name: 'from user mode without an IST: stays on the user stack',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): bigint { return ((ist !== 0 ? NMI_TOP : rsp) & ~0xfn) - 40n; }',
      caughtBy: 'visible',
    },
    {
      name: 'an error code pushed too (48 bytes)',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): bigint { return ((ist !== 0 ? NMI_TOP : fromUser ? KSTACK_TOP : rsp) & ~0xfn) - 48n; }',
      caughtBy: 'visible',
    },
    {
      name: 'a number instead of a bigint',
      cell: 'function deliveryRsp(rsp: bigint, fromUser: boolean, ist: number): any { return Number(((ist !== 0 ? NMI_TOP : fromUser ? KSTACK_TOP : rsp) & ~0xfn) - 40n); }',
      caughtBy: 'visible',
    },
  ],
  'ch1-ex2': [
    {
      name: "the page's two steps",
      cell: 'function nestNmi(m: Machine): NmiOutcome { m.step(); m.step(); return m.raiseNmi(); }',
      caughtBy: 'visible',
    },
    {
      name: 'raises at once, while NMIs are blocked',
      cell: 'function nestNmi(m: Machine): NmiOutcome { return m.raiseNmi(); }',
      caughtBy: 'visible',
    },
    {
      name: 'a fixed count of steps that fits the visible handler only',
      cell: 'function nestNmi(m: Machine): NmiOutcome { for (let i = 0; i < 5; i++) m.step(); return m.raiseNmi(); }',
      caughtBy: 'hidden',
    },
    {
      name: 'steps past the handler’s iretq before raising',
      cell: 'function nestNmi(m: Machine): NmiOutcome { m.run({ maxSteps: 40 }); return m.raiseNmi(); }',
      caughtBy: 'visible',
    },
    {
      name: 'writes the frame instead of raising an NMI',
      cell: 'function nestNmi(m: Machine): NmiOutcome { m.writeU64(LAB.nmiStackTop - 40n, m.symbol("nmi")); m.setReg("rsp", LAB.nmiStackTop - 40n); return "delivered"; }',
      caughtBy: 'visible',
    },
  ],
  'ch2-ex1': [
    {
      name: 'the kernel workload’s answer',
      cell: "const userChangedSlots: FrameSlot[] = ['RIP', 'RSP', 'RFLAGS'];\nconst userReturnsTo = 'nmi_point_middle';\nconst userEnding: 'oops' | 'endless loop' | 'back in the interrupted code' = 'endless loop';",
      caughtBy: 'visible',
    },
    {
      name: 'SS taken as unchanged',
      cell: "const userChangedSlots: FrameSlot[] = ['RIP', 'CS', 'RSP', 'RFLAGS'];\nconst userReturnsTo = 'nmi_point_middle';\nconst userEnding: 'oops' | 'endless loop' | 'back in the interrupted code' = 'oops';",
      caughtBy: 'visible',
    },
    {
      name: 'returns to the user program',
      cell: "const userChangedSlots: FrameSlot[] = ['SS', 'RSP', 'RFLAGS', 'CS', 'RIP'];\nconst userReturnsTo = 'user_loop';\nconst userEnding: 'oops' | 'endless loop' | 'back in the interrupted code' = 'oops';",
      caughtBy: 'visible',
    },
    {
      name: 'ending: the endless loop of the kernel workload',
      cell: "const userChangedSlots: FrameSlot[] = ['SS', 'RSP', 'RFLAGS', 'CS', 'RIP'];\nconst userReturnsTo = 'nmi_point_middle';\nconst userEnding: 'oops' | 'endless loop' | 'back in the interrupted code' = 'endless loop';",
      caughtBy: 'visible',
    },
  ],
  'ch2-ex2': [
    {
      name: 'ignores point and kind: a breakpoint at nmi_point_middle',
      cell: "function reenter(k: Kernel, point: string, kind: ExceptionKind): void { k.machine.raiseNmi(); k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 }); runToUnblocked(k, 'nmi_point_middle'); k.machine.raiseNmi(); }",
      caughtBy: 'hidden',
    },
    {
      name: 'ignores kind: always a breakpoint',
      cell: "function reenter(k: Kernel, point: string, kind: ExceptionKind): void { k.machine.raiseNmi(); k.armException({ at: point, kind: 'bp', run: 1 }); runToUnblocked(k, point); k.machine.raiseNmi(); }",
      caughtBy: 'hidden',
    },
    {
      name: 'no exception: the second NMI is latched and served after',
      cell: 'function reenter(k: Kernel, point: string, kind: ExceptionKind): void { k.machine.raiseNmi(); runTo(k, point); k.machine.raiseNmi(); }',
      caughtBy: 'visible',
    },
    {
      name: 'the second NMI after do_nmi returned',
      cell: "function reenter(k: Kernel, point: string, kind: ExceptionKind): void { k.machine.raiseNmi(); k.armException({ at: point, kind, run: 1 }); runTo(k, 'do_nmi_return'); k.machine.raiseNmi(); }",
      caughtBy: 'visible',
    },
    {
      name: 'the exception armed for the second run',
      cell: 'function reenter(k: Kernel, point: string, kind: ExceptionKind): void { k.machine.raiseNmi(); k.armException({ at: point, kind, run: 2 }); runTo(k, point); k.machine.raiseNmi(); }',
      caughtBy: 'visible',
    },
  ],
  'ch2-ex3': [
    { name: 'forgets the latched NMI (b)', cell: "const reentering: string[] = ['a', 'e'];", caughtBy: 'visible' },
    {
      name: 'counts the exit-path overwrite (c) as re-entry',
      cell: "const reentering: string[] = ['a', 'b', 'c', 'e'];",
      caughtBy: 'visible',
    },
    { name: 'every scenario', cell: "const reentering: string[] = ['a', 'b', 'c', 'd', 'e'];", caughtBy: 'visible' },
    { name: 'only breakpoints re-enter', cell: "const reentering: string[] = ['a', 'b'];", caughtBy: 'visible' },
  ],
  'ch3-ex1': [
    {
      name: 'the proposal’s premise',
      cell: "const unblockedBeforeFault: boolean = false;\nconst nmiInFaultPath: NmiOutcome = 'latched';",
      caughtBy: 'visible',
    },
    {
      name: 'unblocked, but the NMI still latched',
      cell: "const unblockedBeforeFault: boolean = true;\nconst nmiInFaultPath: NmiOutcome = 'latched';",
      caughtBy: 'visible',
    },
    {
      name: 'a string instead of a boolean',
      cell: "const unblockedBeforeFault: any = 'true';\nconst nmiInFaultPath: NmiOutcome = 'delivered';",
      caughtBy: 'visible',
    },
  ],
  'ch3-ex2': [
    {
      name: 'ordinary kernel code',
      cell: "const gsTrap: { workload: WorkloadId; at: string } = { workload: 'kernel', at: 'kernel_fault_point' };",
      caughtBy: 'visible',
    },
    {
      name: 'user mode',
      cell: "const gsTrap: { workload: WorkloadId; at: string } = { workload: 'user', at: 'user_loop' };",
      caughtBy: 'visible',
    },
    {
      name: 'after the switch to the kernel stack',
      cell: "const gsTrap: { workload: WorkloadId; at: string } = { workload: 'syscall', at: 'system_call_on_kernel_stack' };",
      caughtBy: 'visible',
    },
    {
      name: 'right after the entry’s SWAPGS',
      cell: "const gsTrap: { workload: WorkloadId; at: string } = { workload: 'syscall', at: 'system_call_after_swapgs' };",
      caughtBy: 'visible',
    },
  ],
  'ch3-ex3': [
    {
      name: 'the way in (exercise 3.2’s answer)',
      cell: "const gsTrapOut: { workload: WorkloadId; at: string } = { workload: 'syscall', at: 'system_call' };",
      caughtBy: 'visible',
    },
    {
      name: 'the SWAPGS itself (GS still the kernel’s)',
      cell: "const gsTrapOut: { workload: WorkloadId; at: string } = { workload: 'syscall', at: 'system_call_exit_user_rsp' };",
      caughtBy: 'visible',
    },
    {
      name: 'back in user mode',
      cell: "const gsTrapOut: { workload: WorkloadId; at: string } = { workload: 'syscall', at: 'syscall_loop' };",
      caughtBy: 'visible',
    },
  ],
  'ch4-ex1': [{ name: 'kernel', cell: "const gsAfterwards: 'kernel' | 'user' = 'kernel';", caughtBy: 'visible' }],
  'ch4-ex2': [
    {
      name: "the page's hook: always nmi_point_middle",
      cell: "function nmiStorm(k: Kernel, at: string): void { const middle = k.machine.symbol('nmi_point_middle'); let last = -1n; k.onBoundary((mm) => { if (mm.rip !== middle) return; const run = k.percpu('nmi_runs'); if (run === last) return; last = run; mm.raiseNmi(); }); }",
      caughtBy: 'visible',
    },
    {
      name: 'no once-per-run guard',
      cell: 'function nmiStorm(k: Kernel, at: string): void { const point = k.machine.symbol(at); k.onBoundary((mm) => { if (mm.rip === point) mm.raiseNmi(); }); }',
      caughtBy: 'visible',
    },
    {
      name: 'one NMI in all',
      cell: 'function nmiStorm(k: Kernel, at: string): void { const point = k.machine.symbol(at); let done = false; k.onBoundary((mm) => { if (mm.rip === point && !done) { done = true; mm.raiseNmi(); } }); }',
      caughtBy: 'visible',
    },
    {
      name: 'raises only when the run count is odd',
      cell: 'function nmiStorm(k: Kernel, at: string): void { const point = k.machine.symbol(at); let last = -1n; k.onBoundary((mm) => { if (mm.rip !== point) return; const run = k.percpu("nmi_runs"); if (run === last || run % 2n === 0n) return; last = run; mm.raiseNmi(); }); }',
      caughtBy: 'visible',
    },
  ],
  'ch4-ex3': [
    {
      name: 'no error code: 40 bytes',
      cell: "const staircase: { gpFrameStep: number; doubleFaultDuring: '#GP' | '#PF' | 'NMI' | '#BP' } = { gpFrameStep: 40, doubleFaultDuring: '#PF' };",
      caughtBy: 'visible',
    },
    {
      name: 'the sign turned around',
      cell: "const staircase: { gpFrameStep: number; doubleFaultDuring: '#GP' | '#PF' | 'NMI' | '#BP' } = { gpFrameStep: -48, doubleFaultDuring: '#PF' };",
      caughtBy: 'visible',
    },
    {
      name: 'the double fault blamed on a #GP',
      cell: "const staircase: { gpFrameStep: number; doubleFaultDuring: '#GP' | '#PF' | 'NMI' | '#BP' } = { gpFrameStep: 48, doubleFaultDuring: '#GP' };",
      caughtBy: 'visible',
    },
  ],
  'ch5-ex1': [
    {
      name: 'the copied frame’s own place for RSP',
      cell: "const copiedAfterNested = { rip: 'repeat_nmi', cs: 0x10n, rsp: -136, ss: 0x18n };",
      caughtBy: 'visible',
    },
    {
      name: 'the nested NMI’s hardware frame (it returns to nmi_point_middle)',
      cell: "const copiedAfterNested = { rip: 'nmi_point_middle', cs: 0x10n, rsp: -96, ss: 0x18n };",
      caughtBy: 'visible',
    },
    {
      name: 'CS as a number (16) instead of a bigint',
      cell: "const copiedAfterNested = { rip: 'repeat_nmi', cs: 16, rsp: -96, ss: 0x18n };",
      caughtBy: 'visible',
    },
    {
      name: 'wrong sign for the offset',
      cell: "const copiedAfterNested = { rip: 'repeat_nmi', cs: 0x10n, rsp: 96, ss: 0x18n };",
      caughtBy: 'visible',
    },
  ],
  'ch5-ex2': [
    {
      name: 'the variable only',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return executing === 1n; }',
      caughtBy: 'visible',
    },
    {
      name: 'the RSP test only',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return rsp <= top && rsp >= top - 4096n; }',
      caughtBy: 'visible',
    },
    {
      name: 'no lower bound on RSP',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return executing === 1n || rsp <= top; }',
      caughtBy: 'hidden',
    },
    {
      name: 'strict bounds (< and >)',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return executing === 1n || (rsp < top && rsp > top - 4096n); }',
      caughtBy: 'hidden',
    },
    {
      name: 'off by one slot at the bottom (T-4088)',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return executing === 1n || (rsp <= top && rsp >= top - 4088n); }',
      caughtBy: 'hidden',
    },
    {
      name: 'both tests required (and instead of or)',
      cell: 'function isNested(executing: bigint, rsp: bigint, top: bigint): boolean { return executing === 1n && rsp <= top && rsp >= top - 4096n; }',
      caughtBy: 'visible',
    },
  ],
  'ch5-ex3': [
    {
      name: 'the original listing, unchanged',
      cell: breakCell(
        'noRspTest',
        "getDesign('linux-3.3').text",
        5,
        'nmi@kernel_loop+0, bp@nmi_point_early+0, nmi@nmi_restore+0x5a',
      ),
      caughtBy: 'visible',
    },
    {
      name: 'the CR2 hole, which the original has too',
      cell: breakCell('noRspTest', NO_RSP, 3, 'nmi@kernel_loop+0, pf@nmi_point_early+0'),
      caughtBy: 'visible',
    },
    {
      name: 'right invariant, a schedule without the breakpoint',
      cell: breakCell('noRspTest', NO_RSP, 5, 'nmi@kernel_loop+0, nmi@nmi_restore+0x5a'),
      caughtBy: 'visible',
    },
    {
      name: 're-entry predicted',
      cell: breakCell('noRspTest', NO_RSP, 2, 'nmi@kernel_loop+0, bp@nmi_point_early+0, nmi@nmi_restore+0x5a'),
      caughtBy: 'visible',
    },
    {
      name: 'the test deleted: every kernel NMI goes nested',
      cell: breakCell(
        'noRspTest',
        "getDesign('linux-3.3').text.replace('\\ttest_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi\\n', '')",
        1,
        'nmi@kernel_loop+0',
      ),
      caughtBy: 'visible',
    },
  ],
  'ch6-ex1': [
    {
      name: "the page's breakpoint schedule",
      cell: "const dbReentry: string = 'nmi@0, bp@nmi_point_early, nmi@nmi_point_middle';",
      caughtBy: 'visible',
    },
    { name: 'one NMI and a #DB', cell: "const dbReentry: string = 'nmi@0, db@nmi_point_early';", caughtBy: 'visible' },
    {
      name: 'the second NMI after do_nmi returned',
      cell: "const dbReentry: string = 'nmi@0, db@nmi_point_early, nmi@do_nmi_return';",
      caughtBy: 'visible',
    },
    { name: 'not a schedule', cell: "const dbReentry: string = 'nmi at 0, then db';", caughtBy: 'visible' },
  ],
  'ch6-ex2': [
    {
      name: 'CR2 everywhere',
      cell: "const verdicts: Record<string, number[]> = { 'unprotected/user': [3], 'linux-3.3/kernel': [3], 'rfc-2011/user': [3] };",
      caughtBy: 'visible',
    },
    {
      name: 'the RFC only loses the NMI',
      cell: "const verdicts: Record<string, number[]> = { 'unprotected/user': [], 'linux-3.3/kernel': [3], 'rfc-2011/user': [1] };",
      caughtBy: 'visible',
    },
    {
      name: 'all clean with one NMI',
      cell: "const verdicts: Record<string, number[]> = { 'unprotected/user': [], 'linux-3.3/kernel': [], 'rfc-2011/user': [] };",
      caughtBy: 'visible',
    },
  ],
  'ch6-ex3': [
    {
      name: 'the original listing, unchanged',
      cell: breakCell('noCsCheck', "getDesign('linux-3.3').text", 1, 'rsp=0xffff880000203800, nmi@user_loop+0'),
      caughtBy: 'visible',
    },
    {
      name: 'the default user RSP: nothing to see',
      cell: breakCell('noCsCheck', NO_CS, 1, 'nmi@user_loop+0'),
      caughtBy: 'visible',
    },
    {
      name: 'the RFC’s %rdi leak, which 3.3 does not have',
      cell: breakCell('noCsCheck', NO_CS, 3, 'rsp=0xffff880000203800, nmi@user_loop+0'),
      caughtBy: 'visible',
    },
  ],
  'ch7-ex1': [
    {
      name: 'everything latched',
      cell: "const fredPrediction: { unprotected: NmiOutcome; fred: NmiOutcome; fredRuns: number } = { unprotected: 'latched', fred: 'latched', fredRuns: 2 };",
      caughtBy: 'visible',
    },
    {
      name: 'FRED delivers too',
      cell: "const fredPrediction: { unprotected: NmiOutcome; fred: NmiOutcome; fredRuns: number } = { unprotected: 'delivered', fred: 'delivered', fredRuns: 2 };",
      caughtBy: 'visible',
    },
    {
      name: 'the latched NMI counted as lost',
      cell: "const fredPrediction: { unprotected: NmiOutcome; fred: NmiOutcome; fredRuns: number } = { unprotected: 'delivered', fred: 'latched', fredRuns: 1 };",
      caughtBy: 'visible',
    },
  ],
  'ch7-ex2': [
    {
      name: 'the original listing, unchanged',
      cell: breakCell('noDfTest', "getDesign('linux-4.2').text", 1, 'rsp=0xffff880000203800, nmi@system_call+0'),
      caughtBy: 'visible',
    },
    {
      name: 'the default user RSP',
      cell: breakCell('noDfTest', NO_DF, 1, 'nmi@system_call+0'),
      caughtBy: 'visible',
    },
    {
      name: 'CR2 predicted',
      cell: breakCell('noDfTest', NO_DF, 3, 'rsp=0xffff880000203800, nmi@system_call+0'),
      caughtBy: 'visible',
    },
  ],
  'ch7-ex3': [
    {
      name: "only the page's instruction",
      cell: "const gapInstructions: string[] = ['system_call_after_swapgs+0x0'];",
      caughtBy: 'visible',
    },
    {
      name: 'the way in only',
      cell: "const gapInstructions: string[] = ['system_call+0x0', 'system_call_after_swapgs+0x0', 'system_call_after_swapgs+0x9'];",
      caughtBy: 'visible',
    },
    {
      name: 'one too far: the first instruction on the kernel stack',
      cell: "const gapInstructions: string[] = ['system_call+0x0', 'system_call_after_swapgs+0x0', 'system_call_after_swapgs+0x9', 'system_call_on_kernel_stack+0x0', 'system_call_exit_user_rsp+0x0', 'system_call_exit_user_rsp+0x3'];",
      caughtBy: 'visible',
    },
    { name: 'linux-4.2’s answer (none)', cell: 'const gapInstructions: string[] = [];', caughtBy: 'visible' },
  ],
  'ch8-ex1': [
    {
      name: 'the starter: iretq only',
      cell: 'const plainSource: string = `ENTRY(nmi)\n\tiretq\nEND(nmi)\n`;',
      caughtBy: 'visible',
    },
    {
      name: 'no SWAPGS back after do_nmi',
      cell: 'const plainSource: string = `ENTRY(nmi)\n\tpushq $-1\n\tALLOC_PT_GPREGS_ON_STACK\n\tcall save_paranoid\n\tmovq %rsp, %rdi\n\tcall do_nmi\n\tRESTORE_ALL 8\n\tINTERRUPT_RETURN\nEND(nmi)\n`;',
      caughtBy: 'hidden',
    },
    {
      name: 'registers not restored',
      cell: 'const plainSource: string = `ENTRY(nmi)\n\tpushq $-1\n\tALLOC_PT_GPREGS_ON_STACK\n\tcall save_paranoid\n\tmovq %rsp, %rdi\n\tcall do_nmi\n\ttestl %ebx, %ebx\n\tjnz 1f\n\tSWAPGS\n1:\n\taddq $16*8, %rsp\n\tINTERRUPT_RETURN\nEND(nmi)\n`;',
      caughtBy: 'visible',
    },
  ],
  'ch8-ex2': [
    { name: 'copy-and-drop unchanged', cell: 'const fixedSource: string = COPY_AND_DROP;', caughtBy: 'visible' },
    {
      name: 'every NMI dropped',
      cell: "const fixedSource: string = COPY_AND_DROP.replace('\\tje nested_nmi\\n', '\\tjmp nested_nmi\\n');",
      caughtBy: 'visible',
    },
  ],
};
