// The hidden tests: for each exercise, more cases for its judge than the notebook's check runs,
// and the plausible wrong answers they are there to catch. This file is compiled into build/grade/,
// which the sandboxed learner's process cannot read (sandbox.ts); the notebook never loads it.
// tests/grade/wrong-answers.test.ts proves that the grader rejects every wrong answer listed here
// (and, for those marked 'visible', that the notebook's check() does too) and accepts the lesson's
// reference solution.
import { CH0_PROGRAM, CH1_STACKS } from '../course/exercises';
import type { DeliveryCase, NestCase, RspCase } from '../course/exercises';
import type { Arrival, ReenterCase, StormCase } from '../course/design-exercises';
import type { PlainCase, ReentryCase } from '../course/proving';
import { WRONG_ANSWERS } from './wrong-answers';
import type { WrongAnswer } from './wrong-answers';

export type { WrongAnswer };

/** A deeper call than the visible program: the NMI arrives with RSP below the kernel stack top. */
const CH0_DEEPER = `
.text
_start:
    movq $5, %rcx
    call outer
    hlt
outer:
    pushq %rbp
    call inner
    popq %rbp
    ret
inner:
    decq %rcx
    jnz inner
    ret
nmi:
    pushq %rcx
    popq %rcx
    iretq
`;

/** Two breakpoints, work before the first (chapter 1's second handler). */
const CH1_TWO_BREAKPOINTS = `
.text
_start:
    movq $7, %rax
    hlt
nmi:
    pushq %rax
    popq %rax
    int3
    nop
    int3
    nop
    iretq
`;

/** The breakpoint inside a function the handler calls, after a loop (more steps than the visible handler). */
const CH1_CALLED_BREAKPOINT = `
.text
_start:
    nop
    nop
    hlt
nmi:
    pushq %rbx
    call helper
    popq %rbx
    iretq
helper:
    movq $3, %rbx
1:
    decq %rbx
    jnz 1b
    int3
    ret
`;

const K = CH1_STACKS.kernelStackTop;
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Hidden cases per exercise id (cases of the same type as the exercise's visible ones). */
export const HIDDEN_CASES: Record<string, readonly unknown[]> = {
  'ch0-ex1': [{ n: 0 }, { n: 1 }, { n: 7 }, { n: 100 }],
  'ch0-ex2': [
    { program: CH0_PROGRAM, before: 3, inHandler: 1 },
    { program: CH0_PROGRAM, before: 4, inHandler: 2 },
    { program: CH0_DEEPER, before: 4, inHandler: 1 },
  ] satisfies RspCase[],
  'ch1-ex1': [
    { rsp: hex(K - 0x208n), user: false, ist: 0 },
    { rsp: hex(K - 0x1f8n), user: false, ist: 0 },
    { rsp: '0x7ffffffff001', user: true, ist: 3 },
    { rsp: '0x7fffffffe000', user: true, ist: 0 },
  ] satisfies DeliveryCase[],
  'ch1-ex2': [{ program: CH1_TWO_BREAKPOINTS }, { program: CH1_CALLED_BREAKPOINT }] satisfies NestCase[],
  'ch2-ex2': [
    { point: 'nmi_point_early', kind: 'pf' },
    { point: 'nmi_point_late', kind: 'db' },
  ] satisfies ReenterCase[],
  'ch4-ex2': [
    { at: 'nmi_point_middle', breakpoint: false },
    { at: 'nmi_point_early', breakpoint: true },
  ] satisfies StormCase[],
  'ch5-ex2': [
    { userRspFromTop: 0 },
    { userRspFromTop: 8 },
    { userRspFromTop: -4096 },
    { userRspFromTop: -4104 },
    { userRspFromTop: -0x80 },
    'debug workload',
  ] satisfies Arrival[],
  'ch6-ex1': [
    { design: 'linux-3.3', expect: 'clean' },
    { design: 'linux-4.2', expect: 'clean' },
  ] satisfies ReentryCase[],
  'ch8-ex1': [{ workloads: ['user', 'syscall'] }] satisfies PlainCase[],
};

/** The wrong answers of an exercise (see wrong-answers.ts). */
export function wrongAnswers(id: string): readonly WrongAnswer[] {
  return WRONG_ANSWERS[id] ?? [];
}
