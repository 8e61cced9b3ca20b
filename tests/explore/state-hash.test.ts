// The explorer's state key: the incremental memory hash (journal-driven) must give exactly the key
// a full hash of the same regions gives, whatever the machine did since the reference state.
import { buildKernel } from '../../kernel-lib/harness/kernel';
import { LAYOUT } from '../../kernel-lib/harness/layout';
import { MemorySnapshot } from '../../kernel-lib/machine/memory';
import { HashRegion, regionsFor, StateHasher } from '../../kernel-lib/explore/state-hash';
import { Explorer } from '../../kernel-lib/explore/search';

function setUp() {
  const k = buildKernel({ design: 'linux-3.3', workload: 'kernel' });
  const m = k.machine;
  const regions = [
    ...regionsFor(LAYOUT.nmiStackTop - 768n, 768),
    ...regionsFor(LAYOUT.kernelStackTop - 768n, 768),
    ...regionsFor(LAYOUT.percpuBase, 256),
  ];
  const steady = k.steadyState.machine.memory;
  const incremental = new StateHasher(m, regions, steady);
  // A reference the memory never has as its base: this one always hashes every word.
  const full = new StateHasher(m, regions, new MemorySnapshot(null, new Map()));
  return { k, m, incremental, full };
}

describe('StateHasher', () => {
  test('the journal-driven key equals the full key along runs with NMIs, across restores', () => {
    const { k, m, incremental, full } = setUp();
    let compared = 0;
    for (let trial = 0; trial < 40; trial++) {
      k.reset();
      m.run({ maxSteps: trial % 7 });
      m.raiseNmi();
      for (let i = 0; i < 30; i++) {
        m.run({ maxSteps: 1 + ((trial * 7 + i) % 5) });
        if (i === 10 && trial % 3 === 0) m.raiseNmi(); // latched or nested
        expect(incremental.key(trial, i)).toBe(full.key(trial, i));
        compared++;
      }
    }
    expect(compared).toBe(1200);
  });

  test('the key follows hashed memory: a change shows, undoing it gives the old key back', () => {
    const { k, m, incremental } = setUp();
    k.reset();
    const before = incremental.key(0, 0);
    const slot = LAYOUT.nmiStackTop - 16n;
    const old = m.memory.peekU64(slot) as bigint;
    // Through the guest's write path, so the write is journaled.
    m.memory.write64(Number(slot & 0xffffffffn) | 0, Number(slot >> 32n) | 0, 0x1234, 0, 0);
    const changed = incremental.key(0, 0);
    expect(changed).not.toBe(before);
    m.memory.write64(
      Number(slot & 0xffffffffn) | 0,
      Number(slot >> 32n) | 0,
      Number(old & 0xffffffffn) | 0,
      Number(old >> 32n) | 0,
      0,
    );
    expect(incremental.key(0, 0)).toBe(before);
    // The CPU's part and the caller's extras count too.
    expect(incremental.key(1, 0)).not.toBe(before);
    m.setReg('rbx', m.reg('rbx') + 1n);
    expect(incremental.key(0, 0)).not.toBe(before);
  });

  test('rewinding to checkpoints (the journal cut back) keeps the incremental key exact', () => {
    const { k, m, incremental, full } = setUp();
    m.memory.setJournalCapacity(1 << 14);
    k.reset();
    m.run({ maxSteps: 4 });
    m.raiseNmi();
    for (let round = 0; round < 3; round++) {
      // Forward, taking checkpoints (later ones on top of earlier ones) ...
      const marks = [];
      for (let i = 0; i < 6; i++) {
        m.run({ maxSteps: 9 + round });
        const c = m.checkpoint();
        expect(c).not.toBeNull();
        marks.push({ c: c!, key: full.key(1, 2) });
        expect(incremental.key(1, 2)).toBe(marks[i].key);
      }
      // ... then back through them, newest first, wandering off (a nested NMI) from each; from
      // some, a few steps before the key is asked (the journal shorter than it was, yet new).
      for (let i = marks.length - 1; i >= 0; i--) {
        expect(m.rewind(marks[i].c)).toBe(true);
        if (i % 2 === 0) {
          m.run({ maxSteps: 2 });
          for (const slot of [LAYOUT.nmiStackTop - 8n, LAYOUT.kernelStackTop - 16n]) {
            m.memory.write64(Number(slot & 0xffffffffn) | 0, Number(slot >> 32n) | 0, 0x55aa, i, 0);
          }
          expect(incremental.key(1, 2)).toBe(full.key(1, 2));
          expect(m.rewind(marks[i].c)).toBe(true);
        }
        expect(incremental.key(1, 2)).toBe(marks[i].key);
        m.raiseNmi();
        m.run({ maxSteps: 5 + round });
        expect(incremental.key(1, 2)).toBe(full.key(1, 2));
      }
      expect(m.rewind(marks[0].c)).toBe(true);
    }
    // A restore starts the journal over: older checkpoints no longer apply.
    const stale = m.checkpoint()!;
    k.reset();
    expect(m.rewind(stale)).toBe(false);
  });

  test('after the journal overflows (pages are copied instead) the key is still the full one', () => {
    const { k, m, incremental, full } = setUp();
    k.reset();
    const base = LAYOUT.kernelStackTop - 8192n;
    // More slots written than the journal holds (512 entries), to unhashed and hashed words alike.
    for (let i = 0; i < 700; i++) {
      const a = base + BigInt((i * 8) % 8192);
      m.memory.write64(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0, i, 0, 0);
    }
    expect(m.memory.journaledSince(k.steadyState.machine.memory)).toBe(-1);
    expect(incremental.key(5, 5)).toBe(full.key(5, 5));
    k.reset();
    expect(incremental.key(5, 5)).toBe(full.key(5, 5));
  });

  test('inside the explorer (checkpoints, rewinds, replays), every key it computes is the full key', () => {
    const k = buildKernel({ design: 'linux-3.3', workload: 'kernel' });
    const ex = new Explorer(k, { depth: 2, exceptions: 1, maxStepsAfterEvent: 600 });
    const internals = ex as unknown as { hasher: StateHasher; regions: HashRegion[] };
    const full = new StateHasher(k.machine, internals.regions, new MemorySnapshot(null, new Map()));
    const incremental = internals.hasher;
    const key = incremental.key.bind(incremental);
    let checked = 0;
    let wrong = 0;
    incremental.key = (a: number, b: number) => {
      const x = key(a, b);
      checked++;
      if (x !== full.key(a, b)) wrong++;
      return x;
    };
    ex.prepareRoot();
    // A few root branches are enough to go through every kind of move (leaves hash only when
    // long, so most keys come from the runs that branch).
    ex.exploreRoot(ex.rootBranches().slice(0, 6));
    ex.detach();
    expect(checked).toBeGreaterThan(500);
    expect(wrong).toBe(0);
  });
});
