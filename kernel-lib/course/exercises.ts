// The exercises of chapters 0 and 1 (see checks.ts for what an exercise is). Every judge computes
// what is right by running the machine, never from a typed-in answer, and its messages say what is
// wrong with the learner's answer and where to look, not what the answer is.
// Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { assemble } from '../asm';
import { Machine } from '../machine/machine';
import type { NmiOutcome } from '../machine/machine';
import { replayActions, withRecording } from './answers';
import type { Recording } from './answers';
import {
  CheckFailure,
  defineExercise,
  describe,
  expectBigint,
  expectFunction,
  expectRecord,
  expectString,
  expectTrue,
} from './checks';
import { LAB, labMachine } from '../harness/lab-machine';

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

// ---- chapter 0 -----------------------------------------------------------------------------------

/** Where ch0-ex1 runs a learner's program: the exec layout's kernel stack, code at the kernel text base. */
const SUM_TEXT = 0xffffffff81000000n;
const SUM_STACK_TOP = 0xffffc90000008000n;

/** Runs a learner's sum program with N in RDI: how it stopped and RAX. */
export function runSumProgram(source: string, n: bigint): { stop: string; rax: bigint; message: string } {
  const a = assemble({ files: [{ name: 'sum.S', text: source }], sectionBases: { '.text': SUM_TEXT } });
  if (a.ok === false)
    throw new CheckFailure(
      `the source does not assemble: ${a.errors
        .slice(0, 3)
        .map((d) => `line ${d.line}: ${d.message}`)
        .join('; ')}`,
    );
  const start = a.program.symbols.get('_start');
  if (!start) throw new CheckFailure('the program has no `_start:` label to start from');
  const m = new Machine().load(a.program);
  m.map(SUM_STACK_TOP - 0x8000n, 0x8000);
  m.setReg('rsp', SUM_STACK_TOP).setReg('rflags', 0x2n).setReg('rdi', n).setReg('rip', start.value);
  const r = m.run({ maxSteps: 20_000 });
  return { stop: r.stop, rax: m.reg('rax'), message: r.message };
}

/** ch0-ex1: a program that leaves 1 + 2 + ... + N in RAX, N given in RDI, and halts. */
export const SUM_EXERCISE = defineExercise<{ n: number }>({
  id: 'ch0-ex1',
  title: 'the program halts with 1 + 2 + ... + N in RAX, for every N tried',
  hint: 'Use RDI as the counter: add it to RAX and count it down until it reaches 0. What does your loop do when RDI starts at 0?',
  names: ['sumSource'],
  cases: [{ n: 10 }, { n: 4 }],
  answer: (defs) => defs.sumSource,
  judge(answer, c) {
    const source = expectString(answer, 'sumSource');
    expectTrue(source.trim() !== '', 'sumSource is empty: it should hold your assembly source');
    const n = BigInt(c.n);
    const r = runSumProgram(source, n);
    expectTrue(
      r.stop === 'hlt',
      `with N = ${n} in RDI the program did not reach hlt: it stopped with '${r.stop}' (${r.message}). Does your loop end for every N?`,
    );
    const sum = (n * (n + 1n)) / 2n;
    expectTrue(
      r.rax === sum,
      `with N = ${n} in RDI the program halted with RAX = ${describe(r.rax)}, which is not 1 + ... + ${n}: check where your loop starts and how many times it adds`,
    );
  },
});

/** The program ch0-ex2's visible cases run: straight-line work, a call, and a handler that pushes. */
export const CH0_PROGRAM = `
.text
_start:
    movq $1, %rax
    movq $2, %rbx
    call work
    movq $3, %rcx
    hlt
work:
    pushq %rbx
    addq %rbx, %rax
    popq %rbx
    ret
nmi:
    pushq %rax
    pushq %rbx
    movq $0x4e4d49, %rbx
    popq %rbx
    popq %rax
    iretq
`;

/** One ch0-ex2 case: a program, the steps before the NMI, the handler's steps before the question. */
export interface RspCase {
  program: string;
  before: number;
  inHandler: number;
}

function rspScenario(c: RspCase): { m: Machine; interruptedRsp: bigint } {
  const m = labMachine(c.program);
  for (let i = 0; i < c.before; i++) m.step();
  const interruptedRsp = m.reg('rsp');
  if (m.raiseNmi() !== 'delivered') throw new Error('ch0-ex2: the NMI was not delivered');
  for (let i = 0; i < c.inHandler; i++) m.step();
  return { m, interruptedRsp };
}

/** The frame slot (or other place) a learner's value came from, to say what was read. */
function whatIsIt(m: Machine, value: bigint): string | null {
  const slots: [string, bigint][] = [
    ['the saved RIP', LAB.nmiStackTop - 40n],
    ['the saved CS', LAB.nmiStackTop - 32n],
    ['the saved RFLAGS', LAB.nmiStackTop - 24n],
    ['the saved SS', LAB.nmiStackTop - 8n],
  ];
  for (const [name, at] of slots) if (m.readU64(at) === value) return `${name} (the slot at T-${LAB.nmiStackTop - at})`;
  if (value === m.reg('rsp')) return 'the handler’s own RSP';
  return null;
}

/** ch0-ex2: `interruptedRsp(m)`, anywhere in the NMI handler, returns the RSP of the interrupted code. */
export const RSP_EXERCISE = defineExercise<RspCase>({
  id: 'ch0-ex2',
  title: 'interruptedRsp reads the interrupted RSP from the NMI frame, wherever the handler is',
  hint: 'The handler pushes registers, so its RSP moves; the frame the CPU pushed does not. Where is that frame, measured from the NMI stack top (LAB.nmiStackTop)?',
  names: ['interruptedRsp'],
  cases: [
    { program: CH0_PROGRAM, before: 1, inHandler: 0 },
    { program: CH0_PROGRAM, before: 1, inHandler: 2 },
  ],
  probe: (c) => ({ program: c.program, before: c.before, inHandler: c.inHandler }),
  answer(defs, probe) {
    const f = expectFunction(defs.interruptedRsp, 'interruptedRsp') as (m: Machine) => unknown;
    const { m } = rspScenario(probe as RspCase);
    const steps = m.steps;
    const { result, recording } = withRecording(m, undefined, () => f(m));
    return { value: result, changed: recording.actions.length > 0 || recording.end.steps !== steps };
  },
  judge(answer, c) {
    const a = expectRecord(answer, 'the answer');
    const { m, interruptedRsp } = rspScenario(c);
    const where = `NMI after ${c.before} instruction(s), ${c.inHandler} handler instruction(s) run`;
    expectTrue(a.changed !== true, 'interruptedRsp should only read the machine: it stepped it or raised an event');
    const value = expectBigint(a.value, `interruptedRsp(m) (${where})`);
    if (value !== interruptedRsp) {
      const what = whatIsIt(m, value);
      throw new CheckFailure(
        `${where}: interruptedRsp returned ${hex(value)}${what ? `, ${what}` : ''}, not the RSP the interrupted code had`,
      );
    }
  },
});

// ---- chapter 1 -----------------------------------------------------------------------------------

/** Chapter 1's stacks: RSP0 in the TSS is the kernel stack top, IST3 the NMI stack top. */
export const CH1_STACKS = { kernelStackTop: 0xffff880000010000n, nmiStackTop: 0xffff880000020000n } as const;

/** One ch1-ex1 case: the interrupted RSP (hex), user or kernel mode, and the NMI gate's IST index. */
export interface DeliveryCase {
  rsp: string;
  user: boolean;
  ist: number;
}

const DELIVERY_PROGRAM = `
.text
_start:
    nop
    hlt
nmi:
    iretq
.section .user, "ax"
user_code:
    nop
    jmp user_code
`;

/** Delivers an NMI in the case's setup and returns RSP at the handler's first instruction. */
export function deliveryRspObserved(c: DeliveryCase): bigint {
  const { kernelStackTop, nmiStackTop } = CH1_STACKS;
  const a = assemble({
    files: [{ name: 'delivery.S', text: DELIVERY_PROGRAM }],
    sectionBases: { '.text': LAB.textBase, '.user': 0x400000n },
  });
  if (a.ok === false) throw new Error('ch1-ex1: the scenario does not assemble');
  const m = new Machine().load(a.program, { sections: { '.user': { user: true, writable: false } } });
  m.map(kernelStackTop - 0x4000n, 0x4000);
  m.map(nmiStackTop - 0x4000n, 0x4000);
  m.installIdt(LAB.idtBase, { 2: { handler: m.symbol('nmi'), ist: c.ist, type: 'interrupt', dpl: 0 } });
  m.installTss(LAB.tssBase, { rsp0: kernelStackTop, ist: { 3: nmiStackTop } });
  if (c.user) m.setMode('user').setReg('rip', m.symbol('user_code'));
  else m.setReg('rip', m.symbol('_start'));
  m.setReg('rsp', BigInt(c.rsp));
  if (m.raiseNmi() !== 'delivered') throw new Error('ch1-ex1: the NMI was not delivered');
  return m.reg('rsp');
}

/** ch1-ex1: `deliveryRsp(interruptedRsp, fromUser, ist)`, the RSP at the NMI handler's first instruction. */
export const DELIVERY_EXERCISE = defineExercise<DeliveryCase>({
  id: 'ch1-ex1',
  title: 'deliveryRsp predicts where the NMI frame goes, with and without an IST, from kernel and user mode',
  hint: 'Three rules of SDM 6.14: which stack (an IST index loads its top; without one, a privilege change loads RSP0), what happens to RSP before the pushes, and how much is pushed for an NMI.',
  names: ['deliveryRsp'],
  cases: [
    { rsp: hex(CH1_STACKS.kernelStackTop - 0x200n), user: false, ist: 0 },
    { rsp: '0x7ffffffff008', user: true, ist: 0 },
    { rsp: hex(CH1_STACKS.kernelStackTop - 0x208n), user: false, ist: 3 },
  ],
  probe: (c) => ({ rsp: c.rsp, user: c.user, ist: c.ist }),
  answer(defs, probe) {
    const f = expectFunction(defs.deliveryRsp, 'deliveryRsp') as (rsp: bigint, user: boolean, ist: number) => unknown;
    const p = probe as DeliveryCase;
    return f(BigInt(p.rsp), p.user, p.ist);
  },
  judge(answer, c) {
    const what = `an NMI from ${c.user ? 'user' : 'kernel'} mode with RSP = ${c.rsp}, gate IST ${c.ist}`;
    const got = expectBigint(answer, `deliveryRsp(${c.rsp}n, ${c.user}, ${c.ist})`);
    const truth = deliveryRspObserved(c);
    if (got === truth) return;
    const from = c.user ? CH1_STACKS.kernelStackTop : BigInt(c.rsp);
    const stack =
      c.ist !== 0
        ? got > CH1_STACKS.nmiStackTop - 0x4000n && got <= CH1_STACKS.nmiStackTop
        : got > from - 0x4000n && got <= from;
    throw new CheckFailure(
      `${what}: deliveryRsp says ${hex(got)}, which is ${stack ? 'on the right stack but not where the frame ends' : 'not on the stack the CPU switches to'}`,
    );
  },
});

/** The handler ch1-ex2's visible check uses: work before the breakpoint (unlike the page's). */
export const CH1_NESTING = `
.text
_start:
    nop
    nop
    hlt
nmi:
    pushq %rax
    movq $1, %rax
    popq %rax
    int3
nmi_after_breakpoint:
    nop
    nop
    iretq
`;

/** One ch1-ex2 case: the program whose handler nestNmi must get past. */
export interface NestCase {
  program: string;
}

function nestScenario(program: string): { m: Machine; interrupted: bigint } {
  const m = labMachine(program);
  m.step();
  const interrupted = m.rip;
  if (m.raiseNmi() !== 'delivered') throw new Error('ch1-ex2: the first NMI was not delivered');
  return { m, interrupted };
}

/**
 * ch1-ex2: `nestNmi(m)` gets a machine whose first NMI handler has just been entered; it runs only
 * until NMIs are unblocked, raises a second NMI and returns its outcome. Judged on a replay of the
 * events it raised: the nested frame must lie on the first one.
 */
export const NEST_EXERCISE = defineExercise<NestCase>({
  id: 'ch1-ex2',
  title: 'the nested NMI lands on the first NMI frame',
  hint: "Step while m.nmiBlocked is true: the breakpoint handler's iretq is the instruction that unblocks, wherever it is.",
  names: ['nestNmi'],
  cases: [{ program: CH1_NESTING }],
  probe: (c) => ({ program: c.program }),
  answer(defs, probe) {
    const f = expectFunction(defs.nestNmi, 'nestNmi') as (m: Machine) => unknown;
    const { m } = nestScenario((probe as NestCase).program);
    const { result, recording } = withRecording(m, undefined, () => f(m));
    return { result, recording };
  },
  judge(answer, c) {
    const a = expectRecord(answer, 'the answer');
    const rec = a.recording as Recording;
    const { m, interrupted } = nestScenario(c.program);
    const replay = replayActions(m, rec);
    const nmis = rec.actions.filter((x) => x.op === 'nmi').length;
    expectTrue(nmis > 0, 'nestNmi did not raise an NMI (call m.raiseNmi() once NMIs are unblocked)');
    expectTrue(nmis === 1, `nestNmi raised ${nmis} NMIs; it should raise one`);
    expectTrue(
      replay.reachedEnd,
      'replaying the NMI your function raised did not bring the machine where your run ended: nestNmi should only step and raise, not write registers, memory or snapshots',
    );
    const outcome = replay.outcomes[0] as NmiOutcome;
    expectTrue(
      outcome === 'delivered',
      `the NMI nestNmi raised was ${outcome}: NMIs were still blocked at that moment. Step further, until m.nmiBlocked is false`,
    );
    expectTrue(a.result === outcome, `nestNmi should return what raiseNmi() returned, not ${describe(a.result)}`);
    const slot = LAB.nmiStackTop - 40n;
    const ret = m.readU64(slot);
    const savedRsp = m.readU64(LAB.nmiStackTop - 16n);
    const onNmiStack = savedRsp <= LAB.nmiStackTop && savedRsp > LAB.nmiStackTop - BigInt(LAB.nmiStackSize);
    expectTrue(
      ret !== interrupted && onNmiStack,
      `after nestNmi the first NMI's frame (T-40..T-8) returns to ${m.symbolize(ret) ?? hex(ret)} with RSP ${hex(savedRsp)}: the second NMI did not interrupt the first handler on the NMI stack (raise it as soon as NMIs are unblocked, before the handler's own iretq)`,
    );
  },
});
