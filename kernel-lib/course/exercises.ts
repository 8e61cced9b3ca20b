// The checks behind the chapters' exercises. A lesson's check cell is one call, e.g.
//   check('ch0-ex1', () => checkSumProgram(sumSource), { hint: '...' })
// so what "correct" means lives here, tested with the lessons (tests/course/), not in a notebook.
// Each function throws CheckFailure (through the expect helpers) with a message a learner can act on.
// Checks build their own fresh machines: they never depend on the state a notebook left behind.
import { assemble } from '../asm';
import { execSource } from '../exec';
import type { Machine, NmiOutcome } from '../machine/machine';
import { CheckFailure, describe, expectEqual, expectList, expectTrue } from './checks';
import { LAB, labMachine, readFrame } from '../harness/lab-machine';

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

function expectSource(source: unknown, name: string): string {
  if (typeof source !== 'string' || source.trim() === '')
    throw new CheckFailure(`${name} should be a string holding your assembly source`);
  return source;
}

function expectFunction(fn: unknown, name: string): (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw new CheckFailure(`${name} should be a function, got ${describe(fn)}`);
  return fn as (...args: never[]) => unknown;
}

// ---- chapter 0 -----------------------------------------------------------------------------------

/** ch0-ex1: the program assembles, halts, and leaves 1 + 2 + ... + 10 = 55 in RAX. */
export function checkSumProgram(source: unknown): void {
  const text = expectSource(source, 'sumSource');
  const r = execSource(text, { file: 'sum.S', maxSteps: 10_000 });
  if (!r.ok)
    throw new CheckFailure(
      `the source does not assemble: ${r.diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => `line ${d.line}: ${d.message}`)
        .join('; ')}`,
    );
  expectTrue(r.stop === 'hlt', `the program should end at hlt, but it stopped with '${r.stop}' (${r.message})`);
  expectEqual(r.regs!.rax, 55n, 'RAX at hlt');
}

/** ch0-ex1, hidden: the sum is computed by a loop, not loaded as a constant. */
export function checkSumIsALoop(source: unknown): void {
  const text = expectSource(source, 'sumSource');
  const assembled = assemble({ files: [{ name: 'sum.S', text }] });
  if (!assembled.ok) throw new CheckFailure('the source does not assemble');
  const count = assembled.program.instructions.length;
  const r = execSource(text, { file: 'sum.S', maxSteps: 10_000 });
  expectTrue(
    r.ok && r.steps! > count,
    `the program executed ${r.steps} instructions out of ${count}: the exercise asks for a loop that adds the numbers`,
  );
}

/** The program ch0-ex2's check runs: a short straight line of work, a call, and a do-nothing NMI handler. */
const CH0_PROGRAM = `
.text
_start:
    movq $1, %rax
    movq $2, %rbx
    call work
    movq $3, %rcx
    hlt
work:
    addq %rbx, %rax
    addq %rax, %rax
    ret
nmi:
    iretq
`;

/**
 * ch0-ex2: `interruptedRip(m)`, called at the NMI handler's first instruction, returns the address
 * the NMI will return to, read from the machine (not from a variable the learner kept).
 */
export function checkInterruptedRip(fn: unknown, options: { hiddenCases?: boolean } = {}): void {
  const f = expectFunction(fn, 'interruptedRip') as (m: Machine) => unknown;
  const steps = options.hiddenCases ? [3, 4, 5] : [0, 1, 2];
  for (const k of steps) {
    const m = labMachine(CH0_PROGRAM);
    for (let i = 0; i < k; i++) m.step();
    const before = m.rip;
    m.raiseNmi();
    const rsp = m.reg('rsp');
    const got = f(m);
    expectTrue(typeof got === 'bigint', `interruptedRip should return a bigint (an address), got ${describe(got)}`);
    expectEqual(
      got,
      before,
      `after ${k} steps, the NMI interrupted ${m.symbolize(before)} (${hex(before)}); interruptedRip`,
    );
    expectEqual(m.reg('rsp'), rsp, 'RSP after calling interruptedRip (it should only read the machine)');
  }
}

// ---- chapter 1 -----------------------------------------------------------------------------------

const CH1_BURST = `
.text
_start:
    nop
    nop
    hlt
nmi:
    incq nmi_runs(%rip)
    iretq
.data
nmi_runs: .quad 0
`;

/** What the machine really does for the ch1-ex1 scenario: one NMI delivered, then `extra` more before any IRET. */
export function burstOutcomes(extra: number): { outcomes: NmiOutcome[]; handlerRuns: number } {
  const m = labMachine(CH1_BURST);
  m.raiseNmi();
  const outcomes: NmiOutcome[] = [];
  for (let i = 0; i < extra; i++) outcomes.push(m.raiseNmi());
  m.run({ maxSteps: 1000 });
  return { outcomes, handlerRuns: Number(m.readU64(m.symbol('nmi_runs'))) };
}

/** ch1-ex1: predictions of the outcomes of three more NMIs, and of how often the handler runs. */
export function checkBurstPrediction(predicted: unknown, handlerRuns: unknown): void {
  const truth = burstOutcomes(3);
  expectList(
    predicted as NmiOutcome[],
    truth.outcomes,
    'the outcomes of the three NMIs raised while the first handler runs',
  );
  expectEqual(handlerRuns, truth.handlerRuns, 'how many times the NMI handler runs in all');
}

/** The first NMI handler of ch1-ex2: a breakpoint (whose IRET unblocks NMIs), then more work. */
export const CH1_NESTING = `
.text
_start:
    nop
    nop
    hlt
nmi:
    int3
nmi_after_breakpoint:
    nop
    nop
    iretq
`;

/** A different layout for the hidden test: work before the breakpoint, and two breakpoints. */
export const CH1_NESTING_HIDDEN = `
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

/**
 * ch1-ex2: `nestNmi(m)` gets a machine whose first NMI handler has just been entered; it must run
 * the machine only until NMIs are unblocked, then raise a second NMI, and return that outcome.
 * The check then confirms the damage: the first NMI's return RIP slot now holds a handler address.
 */
export function checkNestedNmi(fn: unknown, options: { hidden?: boolean } = {}): void {
  const f = expectFunction(fn, 'nestNmi') as (m: Machine) => unknown;
  const m = labMachine(options.hidden ? CH1_NESTING_HIDDEN : CH1_NESTING);
  m.step();
  const interrupted = m.rip;
  expectEqual(m.raiseNmi(), 'delivered' as NmiOutcome, 'the first NMI (set up by the check)');
  const ripSlot = LAB.nmiStackTop - 40n;
  expectEqual(m.readU64(ripSlot), interrupted, 'the first NMI frame before nestNmi');
  const outcome = f(m);
  expectEqual(outcome, 'delivered' as NmiOutcome, 'the outcome of the NMI nestNmi raised');
  const nmiRuns = m.log.filter((e) => e.kind === 'deliver' && e.name === 'NMI').length;
  expectEqual(nmiRuns, 2, 'NMI deliveries so far (the first and the nested one)');
  const frame = readFrame(m, ripSlot);
  const where = m.symbolize(frame.rip) ?? hex(frame.rip);
  expectTrue(
    where.startsWith('nmi'),
    `the nested NMI should have interrupted the first NMI handler, but its return RIP is ${where}`,
  );
  expectTrue(
    m.reg('rsp') === ripSlot,
    `the nested NMI frame should start at the IST top minus 40, like the first one (RSP ${hex(m.reg('rsp'))})`,
  );
}
