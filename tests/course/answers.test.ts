// Answers as data: the codec keeps bigints and names what has no data form, and a recorded
// function's events replay to the same machine state on a fresh machine (what the judge relies on).
import { decodeAnswer, encodeAnswer, Opaque, replayActions, withRecording } from '../../kernel-lib/course/answers';
import { designKernel, labMachine, runToUnblocked } from '../../kernel-lib/course';
import { CH1_NESTING } from '../../kernel-lib/course/exercises';

const roundTrip = (v: unknown) => decodeAnswer(JSON.parse(JSON.stringify(encodeAnswer(v))));

test('the codec keeps bigints, numbers, strings, lists and records apart', () => {
  const v = { cs: 0x10n, rsp: -96, rip: 'repeat_nmi', list: [1, 2n, 'x', null, true], nested: { a: [] } };
  expect(roundTrip(v)).toEqual(v);
  expect(typeof (roundTrip({ n: 16 }) as { n: unknown }).n).toBe('number');
  expect(typeof (roundTrip({ n: 16n }) as { n: unknown }).n).toBe('bigint');
});

test('values without a data form decode as named opaque values, never as {}', () => {
  const r = roundTrip({ f: () => 1, m: labMachine('.text\n_start:\n hlt\n'), u: undefined, nan: NaN }) as Record<
    string,
    unknown
  >;
  expect(r.f).toEqual(new Opaque('a function'));
  expect(String(r.m)).toBe('a Machine object');
  expect(r.u).toBeUndefined();
  expect(String(r.nan)).toBe('NaN');
  // Anything not made by encodeAnswer is malformed, not trusted.
  expect(decodeAnswer({ $: 'bigint', v: '12abc' })).toEqual(new Opaque('a malformed answer'));
  expect(decodeAnswer({ $: 'object', v: { __proto__: { polluted: true } } })).toEqual({});
});

test('a recorded function replays to the same machine state, and writes are not part of it', () => {
  const m = labMachine(CH1_NESTING);
  m.step();
  m.raiseNmi();
  const { recording } = withRecording(m, undefined, () => {
    while (m.nmiBlocked) m.step();
    m.writeU64(0xffff880000020000n - 40n, 0n); // not an event: not replayed
    return m.raiseNmi();
  });
  const fresh = labMachine(CH1_NESTING);
  fresh.step();
  fresh.raiseNmi();
  const r = replayActions(fresh, recording);
  expect(r).toMatchObject({ outcomes: ['delivered'], reachedEnd: true, unplaced: 0 });
  expect(fresh.rip).toBe(m.rip);
  expect(fresh.readU64(0xffff880000020000n - 40n)).not.toBe(0n);
});

test('on a kernel, armed exceptions are recorded as arms and replay the same way', () => {
  const run = (k: ReturnType<typeof designKernel>) => {
    k.machine.raiseNmi();
    k.armException({ at: 'nmi_point_middle', kind: 'bp', run: 1 });
    runToUnblocked(k, 'nmi_point_middle');
    k.machine.raiseNmi();
  };
  const k = designKernel('unprotected');
  const { recording } = withRecording(k.machine, k, () => run(k));
  expect(recording.actions.map((a) => a.op)).toEqual(['nmi', 'arm', 'nmi']);
  const k2 = designKernel('unprotected');
  expect(replayActions(k2.machine, recording, k2)).toMatchObject({
    reachedEnd: true,
    outcomes: ['delivered', 'delivered'],
  });
  expect(k2.machine.steps).toBe(k.machine.steps);
});
