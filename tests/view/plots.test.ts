// Plot specs are plain data: checked here without a browser (the browser test draws them).
import {
  contextSegments,
  explorerCostChart,
  outcomeMapChart,
  recordTrace,
  timelineChart,
  violationsChart,
  classifyByLabels,
} from '../../kernel-lib/view';
import { verdictColors } from '../../kernel-lib/view/html';
import type { OutcomePoint } from '../../kernel-lib/view';
import { RFC_STACKS, rfcKernel, storyHook } from './fixtures/rfc-kernel';
import { sampleOutcomes } from './fixtures/story';

type Trace = {
  type: string;
  name?: string;
  y?: unknown[];
  x?: unknown[];
  base?: number[];
  z?: unknown[][];
  text?: unknown[][];
  customdata?: unknown[][];
};

test('timeline: one lane per context, bars cover every step once, NMI state lanes and event marks', () => {
  const m = rfcKernel();
  const trace = recordTrace(m, {
    watch: RFC_STACKS,
    hook: storyHook(),
    classify: classifyByLabels(m, { repeat_nmi: ['repeat_nmi', 'end_repeat_nmi'] }),
    maxSteps: 1000,
  });
  const segs = contextSegments(trace);
  expect(segs.reduce((n, s) => n + (s.end - s.start), 0)).toBe(trace.steps.length);
  expect(segs.slice(0, 4).map((s) => [s.lane, s.start, s.end])).toEqual([
    ['kernel', 0, 5],
    ['NMI', 5, 17],
    ['repeat_nmi', 17, 23],
    ['NMI', 23, 30],
  ]);
  const chart = timelineChart(trace);
  const data = chart.figure.data as Trace[];
  const lanes = (chart.figure.layout.yaxis as { categoryarray: string[] }).categoryarray;
  expect(lanes).toEqual(['events', 'NMIs blocked', 'NMI latched', 'kernel', 'NMI', 'nested NMI', 'repeat_nmi', '#BP']);
  const nested = data.filter((d) => d.name === 'nested NMI')[0];
  expect(nested).toMatchObject({ type: 'bar', orientation: 'h', base: [32], x: [21] });
  const arrivals = data.filter((d) => d.name === 'NMI arrives')[0];
  expect(arrivals).toMatchObject({ type: 'scatter', x: [5, 32] });
  expect(data.filter((d) => d.name === 'NMIs blocked')[0].base).toEqual([5, 32]);
  expect(JSON.parse(JSON.stringify(chart.figure))).toEqual(chart.figure); // plain JSON, no BigInt
  expect(chart.text).toMatch(/nested NMI \| +#+ +\|/);
  expect(chart.fallback).not.toMatch(/<script|<svg|<style/i);
});

test('outcome map: cells by (exception point, arrival), discrete colours, hover with the schedule', () => {
  const points = sampleOutcomes();
  const chart = outcomeMapChart(points, { design: 'x' });
  const [heat, ...legend] = chart.figure.data as Trace[];
  expect(heat.type).toBe('heatmap');
  expect(heat.y).toEqual(['none', 'do_nmi+0x3 (int3)', 'end_repeat_nmi+0x8 (#PF)', 'first_nmi+0 (#DB)']);
  expect(heat.x).toHaveLength(24);
  expect(legend.map((l) => l.name)).toEqual(['ok', 'ok (repeated)', 'nested NMI clobbered frame', 'shutdown']);
  expect(heat.z![3][22]).toBe(3);
  expect(String(heat.text![3][22])).toContain('NMI 2 at boundary 22');
  expect(chart.fallback).toContain('title="shutdown: exception at first_nmi+0 (#DB); NMI 2 at boundary 22"');
  expect(heat.customdata![3][22]).toBe('shutdown');
  expect(chart.text.split('\n')[2]).toBe(`none                      ${'O'.repeat(24)}`);
  // Missing cells stay empty rather than inventing a verdict.
  const sparse = outcomeMapChart([
    { exceptionPoint: 'a', arrival: 2, verdict: 'ok', schedule: 's' },
    { exceptionPoint: 'b', arrival: 1, verdict: 'lost NMI', schedule: 't' },
  ]);
  expect((sparse.figure.data[0] as Trace).z).toEqual([
    [null, 0],
    [1, null],
  ]);
});

test('designs compared and explorer cost', () => {
  const v = violationsChart([
    { design: 'A', invariant: 'i1', violations: 3 },
    { design: 'B', invariant: 'i1', violations: 0 },
    { design: 'A', invariant: 'i2', violations: 1 },
  ]);
  expect((v.figure.data as Trace[]).map((d) => [d.name, d.x, d.y])).toEqual([
    ['A', ['i1', 'i2'], [3, 1]],
    ['B', ['i1', 'i2'], [0, 0]],
  ]);
  expect(v.text.split('\n').slice(1)).toEqual(['design  i1  i2', '------  --  --', 'A        3   1', 'B        0   0']);
  const c = explorerCostChart([{ design: 'A', schedules: 10, states: 100, seconds: 1.5 }]);
  expect((c.figure.data as Trace[]).map((d) => d.y)).toEqual([[10], [100], [1.5]]);
  expect(c.figure.layout.xaxis3).toBeDefined();
});

test('outcome map colours: every verdict its own colour, by kind (the labels the course uses)', () => {
  const verdicts = [
    'ok',
    're-entered do_nmi + hang (no return)',
    'hang (no return)',
    'lost NMI',
    're-entered do_nmi',
    'not transparent',
    'fault',
    'privilege confusion',
    'lost NMI + re-entered do_nmi',
    'shutdown',
  ];
  const colors = verdictColors(verdicts);
  expect(new Set(colors).size).toBe(verdicts.length);
  expect(colors[0]).toBe('#4caf50'); // ok: green
  expect(colors[1]).toBe('#d93b3b'); // re-entered (+ hang): red, the graver kind
  expect(colors[2]).toBe('#546e7a'); // hang: blue-grey
  expect(colors[3]).toBe('#f29d1f'); // lost: orange
  // Many verdicts still get distinct colours.
  const many = Array.from({ length: 40 }, (_, i) => `outcome ${i}`);
  expect(new Set(verdictColors(many)).size).toBe(40);
  // The chart's legend and fallback use the same colours.
  const chart = outcomeMapChart(
    verdicts.map((v, i) => ({ exceptionPoint: 'none', arrival: i, verdict: v, schedule: `s${i}` })),
  );
  const legend = (chart.figure.data as Trace[]).slice(1) as unknown as { name: string; marker: { color: string } }[];
  expect(legend.map((l) => [l.name, l.marker.color])).toEqual(verdicts.map((v, i) => [v, colors[i]]));
  for (const c of colors) expect(chart.fallback).toContain(`bgcolor="${c}"`);
});

test('outcome map fallback: a legend, and cells that shrink so 140 arrivals fit a notebook output', () => {
  const points: OutcomePoint[] = [];
  for (const ep of ['none', 'bp@nmi_point_early', 'bp@nmi_point_late'])
    for (let a = 1; a <= 140; a++)
      points.push({ exceptionPoint: ep, arrival: a, verdict: a % 7 ? 'ok' : 'lost NMI', schedule: `nmi@${a}` });
  const chart = outcomeMapChart(points);
  expect(chart.fallback).toContain('<td width="4" bgcolor="#f29d1f" title="lost NMI: nmi@7"></td>');
  expect(chart.fallback).toMatch(/<th colspan="9"[^>]*>1<\/th><th colspan="9"[^>]*>10<\/th>/);
  expect(chart.fallback).toContain('ok (360)');
  expect(chart.fallback).toContain('lost NMI (60)');
  expect(chart.fallback).not.toMatch(/<script|<style|<svg/i);
});
