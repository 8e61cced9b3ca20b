// The design chapters' checks: the reference answers pass, typical wrong answers fail with a
// message, and the observed scenarios say what the lessons claim.
import { runCheck } from '../../kernel-lib/course/checks';
import {
  checkCopiedFrame,
  checkFaultingIret,
  checkFredPrediction,
  checkGsTrap,
  checkIretFaultGs,
  checkIsNested,
  checkOverwritePrediction,
  checkSkippedNmi,
  nestingCases,
  unprotectedNesting,
} from '../../kernel-lib/course/design-exercises';
import { LAYOUT } from '../../kernel-lib';

const quiet = <T>(f: () => T): T => {
  const log = console.log;
  console.log = () => undefined;
  try {
    return f();
  } finally {
    console.log = log;
  }
};
const passes = (test: () => void) => quiet(() => runCheck('t', test)).ok;

test('chapter 2: the nested NMI changes RIP, RSP and RFLAGS, and do_nmi is re-entered', () => {
  const r = unprotectedNesting();
  expect(r.changed.sort()).toEqual(['RFLAGS', 'RIP', 'RSP']);
  expect(r.returnsTo).toBe('nmi_point_middle');
  expect(r.reentered).toBe(true);
  expect(passes(() => checkOverwritePrediction(['RIP', 'RSP', 'RFLAGS'], 'nmi_point_middle'))).toBe(true);
  expect(passes(() => checkOverwritePrediction(['RIP', 'CS', 'RFLAGS', 'RSP', 'SS'], 'nmi_point_middle'))).toBe(false);
});

test('chapter 5: copied frame and the RFC nesting rule', () => {
  expect(passes(() => checkCopiedFrame({ rip: 'repeat_nmi', cs: 0x10n, rsp: -96, ss: 0x18n }))).toBe(true);
  expect(passes(() => checkCopiedFrame({ rip: 'repeat_nmi', cs: 0x10n, rsp: -136, ss: 0x18n }))).toBe(false);
  const rfc = (e: bigint, rsp: bigint, t: bigint) => e === 1n || (rsp <= t && rsp >= t - 4096n);
  expect(passes(() => checkIsNested(rfc, { hidden: true }))).toBe(true);
  expect(passes(() => checkIsNested((e: bigint) => e === 1n))).toBe(false); // misses the race after the clear
  const rspOnly = (_e: bigint, rsp: bigint, t: bigint) => rsp <= t && rsp >= t - 4096n;
  expect(passes(() => checkIsNested(rspOnly))).toBe(false); // misses the debug-stack case
  expect(nestingCases('rfc-2011', true).map((c) => c.nested)).toEqual([false, true, true, true, true, false]);
});

test('chapters 3, 4 and 7: observed answers', () => {
  expect(passes(() => checkFaultingIret(true, 'delivered'))).toBe(true);
  expect(passes(() => checkFaultingIret(false, 'latched'))).toBe(false);
  expect(passes(() => checkGsTrap({ workload: 'syscall', at: 'system_call' }))).toBe(true);
  expect(passes(() => checkGsTrap({ workload: 'user', at: 'user_loop' }))).toBe(false);
  expect(passes(() => checkIretFaultGs('user'))).toBe(true);
  expect(passes(() => checkSkippedNmi(LAYOUT.nmiStackTop - 0x100n, { hidden: true }))).toBe(true);
  expect(passes(() => checkSkippedNmi(LAYOUT.userStackTop - 0x100n))).toBe(false);
  expect(passes(() => checkFredPrediction({ unprotected: 'delivered', fred: 'latched', fredRuns: 2 }))).toBe(true);
  expect(passes(() => checkFredPrediction({ unprotected: 'delivered', fred: 'delivered', fredRuns: 2 }))).toBe(false);
});
