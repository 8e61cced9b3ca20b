// Random sampling: schedules drawn within the bound, each checked by replaying it. It must find
// what the exhaustive search finds on broken designs, stay within the bound, be repeatable from
// its seed, and never claim more than it tried.
import { sampleWorkload, seededRandom } from '../../kernel-lib/explore/sample';
import { exploreWorkload } from '../../kernel-lib/explore/explore';
import { replaySchedule } from '../../kernel-lib/explore/replay';
import { parseSchedule } from '../../kernel-lib/explore/schedule';

describe('sampling schedules', () => {
  test('the generator is seeded: same seed, same numbers; all in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });

  test('on the unprotected handler it finds violations, and each minimal schedule replays to the same invariant', () => {
    const r = sampleWorkload({ design: 'unprotected', workload: 'kernel', depth: 2, samples: 150, seed: 3 });
    expect(r.mode).toBe('sampled');
    expect(r.verdict).toBe('violated');
    expect(r.distinct).toBeGreaterThan(50);
    expect(r.distinct).toBeLessThanOrEqual(r.samples);
    for (const v of r.violations) {
      const replay = replaySchedule({ design: 'unprotected', workload: 'kernel', schedule: v.schedule });
      expect(replay.ok).toBe(true);
      expect(replay.violations.map((x) => x.invariant)).toContain(v.invariant);
    }
  });

  test('linux-3.3 syscall: it finds the lost NMI of CVE-2015-3291, as the exhaustive search does', async () => {
    const sampled = sampleWorkload({ design: 'linux-3.3', workload: 'syscall', depth: 2, samples: 400, seed: 1 });
    const exhaustive = await exploreWorkload({ design: 'linux-3.3', workload: 'syscall', depth: 1, exceptions: 0 });
    expect(exhaustive.violations.map((v) => v.invariant)).toContain('lost-nmi');
    expect(sampled.violations.map((v) => v.invariant)).toContain('lost-nmi');
  }, 60000);

  test('schedules stay within the bound, and the same seed draws the same report', () => {
    const a = sampleWorkload({
      design: 'unprotected',
      workload: 'debug',
      depth: 3,
      exceptions: 1,
      samples: 120,
      seed: 9,
    });
    const b = sampleWorkload({
      design: 'unprotected',
      workload: 'debug',
      depth: 3,
      exceptions: 1,
      samples: 120,
      seed: 9,
    });
    expect({ ...b, ms: 0 }).toEqual({ ...a, ms: 0 });
    for (const v of a.violations) {
      const events = parseSchedule(v.schedule).events;
      expect(events.filter((e) => e.kind === 'nmi').length).toBeLessThanOrEqual(3);
      expect(events.filter((e) => e.kind !== 'nmi').length).toBeLessThanOrEqual(1);
    }
  });

  test('a correct design: nothing found, and the report says so without calling it clean', () => {
    const r = sampleWorkload({ design: 'linux-4.2', workload: 'kernel', depth: 4, samples: 100, seed: 5 });
    expect(r.verdict).toBe('none found');
    expect(r.violations).toEqual([]);
  });

  test('bad sample counts are refused before any work', () => {
    expect(() => sampleWorkload({ design: 'linux-4.2', workload: 'kernel', samples: 0 })).toThrow(/positive integer/);
    expect(() => sampleWorkload({ design: 'linux-4.2', workload: 'kernel', samples: 5e6 })).toThrow(/more than/);
  });
});
