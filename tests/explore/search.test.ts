// The walk: branches are taken from checkpoints along a run; when checkpoints no longer apply
// (the machine's write journal overflowed), from replays of the path. Both must find the same.
import { buildKernel } from '../../kernel-lib/harness/kernel';
import { Explorer } from '../../kernel-lib/explore/search';

function explore(design: string, journalEntries?: number, leafHashing?: 'adaptive' | 'always', branches = 1) {
  const k = buildKernel({ design, workload: 'kernel' });
  const ex = new Explorer(k, { depth: 2, exceptions: 1, maxStepsAfterEvent: 600, journalEntries, leafHashing });
  const internals = ex as unknown as { replayTo: (...a: unknown[]) => void };
  const replayTo = internals.replayTo.bind(ex);
  let replays = 0;
  internals.replayTo = (...a: unknown[]) => {
    replays++;
    replayTo(...a);
  };
  ex.prepareRoot();
  ex.exploreRoot(ex.rootBranches().slice(0, branches));
  ex.detach();
  const violations = [...ex.best.values()]
    .map((v) => `${v.invariant} ${v.events.map((e) => `${e.kind}@${e.step}`).join(',')}: ${v.summary}`)
    .sort();
  return { stats: ex.stats, violations, replays };
}

describe('the walk over a run', () => {
  test.each(['unprotected', 'linux-3.3'])(
    '%s: checkpoints and replays find the same schedules, states and violations',
    (design) => {
      const fast = explore(design);
      const slow = explore(design, 16); // 16 writes: nearly every branch falls back to a replay
      expect(fast.replays).toBe(0);
      expect(slow.replays).toBeGreaterThan(20);
      expect(slow.stats.schedules).toBe(fast.stats.schedules);
      expect(slow.stats.states).toBe(fast.stats.states);
      expect(slow.stats.runs).toBe(fast.stats.runs);
      expect(slow.violations).toEqual(fast.violations);
      // Replays execute the path again; checkpoints do not.
      expect(slow.stats.steps).toBeGreaterThan(fast.stats.steps);
    },
  );
});

describe('leaf hashing', () => {
  test.each(['unprotected', 'linux-3.3'])(
    '%s: hashing leaves only where it pays finds the same schedules and violations as hashing them all',
    (design) => {
      // Enough root branches for the adaptive policy to learn and then skip positions that miss.
      const always = explore(design, undefined, 'always', 40);
      const adaptive = explore(design, undefined, 'adaptive', 40);
      expect(adaptive.stats.schedules).toBe(always.stats.schedules);
      expect(adaptive.violations).toEqual(always.violations);
      expect(adaptive.stats.visits).toBeLessThan(always.stats.visits);
    },
  );

  test('at depth 3, where leaves mostly meet at their first boundary, it keeps hashing them', () => {
    // Hashing no leaf at all made depth 3 execute about ten times the instructions.
    const run = (leafHashing: 'adaptive' | 'always') => {
      const ex = new Explorer(buildKernel({ design: 'linux-3.3', workload: 'kernel' }), {
        depth: 3,
        exceptions: 1,
        maxStepsAfterEvent: 600,
        leafHashing,
      });
      ex.prepareRoot();
      ex.exploreRoot(ex.rootBranches().slice(0, 3));
      ex.detach();
      return ex.stats;
    };
    const always = run('always');
    const adaptive = run('adaptive');
    expect(adaptive.schedules).toBe(always.schedules);
    expect(adaptive.steps).toBeLessThan(always.steps * 1.25);
  }, 60000);
});
