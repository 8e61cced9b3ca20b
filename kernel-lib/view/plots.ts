// Plot builders. Each returns a Chart: a plain plotly spec ({data, layout}, testable without a
// browser), a static HTML fallback (shown when scripts do not run: untrusted notebooks, JS off),
// and a text form for terminals. chart.ts turns a Chart into notebook/page HTML.
import type { Trace, TraceStep } from '../record/trace';
import { SANS, css, esc, swatch, verdictColors } from './html';
import { eventText } from './trace-render';

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface Chart {
  title: string;
  figure: PlotlyFigure;
  /** Inline-styled HTML that says the same thing without scripts. */
  fallback: string;
  /** The same again for a terminal. */
  text: string;
  /** Pixel height of the interactive chart. */
  height: number;
}

const FONT = { family: 'DejaVu Sans, Arial, sans-serif', size: 12 };

function baseLayout(title: string, height: number): Record<string, unknown> {
  return {
    title: { text: title, x: 0.01, xanchor: 'left', font: { size: 14 } },
    height,
    margin: { l: 150, r: 20, t: 40, b: 45 },
    font: FONT,
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
  };
}

// ---- timeline --------------------------------------------------------------------------------

const LANE_OF_KIND: Record<string, string> = {
  user: 'user',
  kernel: 'kernel',
  nmi: 'NMI',
  'nested-nmi': 'nested NMI',
  bp: '#BP',
  db: '#DB',
  df: '#DF',
};

function laneOf(s: TraceStep): string {
  if (s.contextKind === 'exception') return s.context.replace(/ #\d+.*$/, '');
  return LANE_OF_KIND[s.contextKind] ?? s.context;
}

export interface Segment {
  lane: string;
  start: number;
  /** Exclusive. */
  end: number;
  kind: string;
  label: string;
  where: string;
}

/** Runs of consecutive steps in the same context (the timeline's bars). */
export function contextSegments(trace: Trace): Segment[] {
  const out: Segment[] = [];
  for (const s of trace.steps) {
    const lane = laneOf(s);
    const last = out[out.length - 1];
    const start = s.step - 1;
    if (last && last.lane === lane && last.label === s.context && last.end === start) last.end = s.step;
    else out.push({ lane, start, end: s.step, kind: s.contextKind, label: s.context, where: s.where });
  }
  return out;
}

function intervals(trace: Trace, on: (s: TraceStep) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (const s of trace.steps) {
    if (!on(s)) continue;
    const last = out[out.length - 1];
    if (last && last[1] === s.step - 1) last[1] = s.step;
    else out.push([s.step - 1, s.step]);
  }
  return out;
}

interface Mark {
  step: number;
  symbol: string;
  color: string;
  text: string;
  name: string;
}

function eventMarks(trace: Trace, symbolize?: (a: bigint) => string | null): Mark[] {
  const marks: Mark[] = [];
  for (const s of trace.steps) {
    for (const e of s.events) {
      const text = `step ${s.step}: ${eventText(e, symbolize)}`;
      if (e.kind === 'nmi-raised')
        marks.push({ step: e.step, symbol: 'triangle-down', color: '#d84315', text, name: 'NMI arrives' });
      else if (e.kind === 'iret') marks.push({ step: e.step, symbol: 'diamond', color: '#455a64', text, name: 'IRET' });
      else if (e.kind === 'fault')
        marks.push({ step: e.step, symbol: 'circle', color: '#1e88e5', text, name: 'exception' });
      else if (e.kind === 'nmi-collapsed')
        marks.push({ step: e.step, symbol: 'x', color: '#b71c1c', text, name: 'NMI lost' });
      else if (e.kind === 'shutdown' || e.kind === 'double-fault')
        marks.push({ step: e.step, symbol: 'x', color: '#000000', text, name: 'shutdown / #DF' });
    }
  }
  return marks;
}

const EVENTS_LANE = 'events';
const BLOCKED_LANE = 'NMIs blocked';
const LATCHED_LANE = 'NMI latched';

/**
 * Which context runs at each step, with NMI arrivals, IRETs and exceptions marked, and the NMI
 * blocking and latch state as their own lanes. Contexts come from the trace (event log plus the
 * trace's classifier, e.g. for repeat_nmi).
 */
export function timelineChart(
  trace: Trace,
  options: { title?: string; symbolize?: (a: bigint) => string | null } = {},
): Chart {
  const title = options.title ?? 'Who runs when';
  const segments = contextSegments(trace);
  const lanes: string[] = [];
  for (const s of segments) if (lanes.indexOf(s.lane) < 0) lanes.push(s.lane);
  const order = ['user', 'kernel', 'NMI', 'nested NMI'];
  lanes.sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  const allLanes = [EVENTS_LANE, BLOCKED_LANE, LATCHED_LANE, ...lanes];
  const data: Record<string, unknown>[] = [];
  const laneKinds = new Map<string, string>();
  for (const s of segments) if (!laneKinds.has(s.lane)) laneKinds.set(s.lane, s.kind);
  for (const lane of lanes) {
    const segs = segments.filter((s) => s.lane === lane);
    const sw = swatch(laneKinds.get(lane) ?? 'other');
    data.push({
      type: 'bar',
      orientation: 'h',
      name: lane,
      y: segs.map(() => lane),
      x: segs.map((s) => s.end - s.start),
      base: segs.map((s) => s.start),
      marker: { color: sw.strong, line: { color: sw.ink, width: 0.5 } },
      hovertext: segs.map((s) => `${s.label}: steps ${s.start + 1}–${s.end}<br>from ${s.where}`),
      hoverinfo: 'text',
      showlegend: false,
    });
  }
  const blocked = intervals(trace, (s) => s.nmiBlocked);
  const latched = intervals(trace, (s) => s.nmiPending);
  for (const [lane, spans, color] of [
    [BLOCKED_LANE, blocked, '#9e9e9e'],
    [LATCHED_LANE, latched, '#ff7043'],
  ] as [string, [number, number][], string][]) {
    data.push({
      type: 'bar',
      orientation: 'h',
      name: lane,
      y: spans.map(() => lane),
      x: spans.map((s) => s[1] - s[0]),
      base: spans.map((s) => s[0]),
      marker: { color },
      hovertext: spans.map((s) => `${lane}: steps ${s[0] + 1}–${s[1]}`),
      hoverinfo: 'text',
      showlegend: false,
    });
  }
  const marks = eventMarks(trace, options.symbolize);
  const names: string[] = [];
  for (const mk of marks) if (names.indexOf(mk.name) < 0) names.push(mk.name);
  for (const name of names) {
    const ms = marks.filter((m) => m.name === name);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name,
      x: ms.map((m) => m.step),
      y: ms.map(() => EVENTS_LANE),
      marker: { symbol: ms[0].symbol, color: ms[0].color, size: 11, line: { color: '#ffffff', width: 1 } },
      hovertext: ms.map((m) => m.text),
      hoverinfo: 'text',
    });
  }
  const height = 110 + 34 * allLanes.length;
  const layout = {
    ...baseLayout(title, height),
    barmode: 'overlay',
    bargap: 0.25,
    xaxis: { title: { text: 'step (instructions retired)' }, zeroline: false, gridcolor: '#eeeeee' },
    yaxis: {
      type: 'category',
      categoryorder: 'array',
      categoryarray: allLanes,
      autorange: 'reversed',
      gridcolor: '#f5f5f5',
    },
    legend: { orientation: 'h', y: -0.25 },
    hovermode: 'closest',
  };
  const total = trace.steps.length > 0 ? trace.steps[trace.steps.length - 1].step : 0;
  const first = trace.steps.length > 0 ? trace.steps[0].step - 1 : 0;
  const fbLanes: FallbackLane[] = [
    {
      name: EVENTS_LANE,
      spans: marks.map((m) => ({ start: m.step - 1, end: m.step, color: m.color, title: m.text, marker: true })),
    },
    {
      name: BLOCKED_LANE,
      spans: blocked.map((s) => ({
        start: s[0],
        end: s[1],
        color: '#9e9e9e',
        title: `${BLOCKED_LANE}: steps ${s[0] + 1}–${s[1]}`,
      })),
    },
    {
      name: LATCHED_LANE,
      spans: latched.map((s) => ({
        start: s[0],
        end: s[1],
        color: '#ff7043',
        title: `${LATCHED_LANE}: steps ${s[0] + 1}–${s[1]}`,
      })),
    },
    ...lanes.map((lane) => ({
      name: lane,
      spans: segments
        .filter((s) => s.lane === lane)
        .map((s) => ({
          start: s.start,
          end: s.end,
          color: swatch(s.kind).strong,
          title: `${s.label}: steps ${s.start + 1}–${s.end}, from ${s.where}`,
        })),
    })),
  ];
  const fallback = lanesHtml(title, fbLanes, first, total);
  const text = timelineText(title, fbLanes, first, total);
  return { title, figure: { data, layout }, fallback, text, height };
}

interface FallbackLane {
  name: string;
  spans: { start: number; end: number; color: string; title: string; marker?: boolean }[];
}

function lanesHtml(title: string, lanes: FallbackLane[], from: number, to: number): string {
  // Table cells with width and bgcolor attributes: they survive sanitisers that drop inline styles.
  const span = Math.max(1, to - from);
  const pct = (n: number) => `${Math.max(0.1, (100 * n) / span).toFixed(2)}%`;
  const rows = lanes
    .map((lane) => {
      let cursor = from;
      const cells: string[] = [];
      const spans = [...lane.spans].sort((a, b) => a.start - b.start);
      for (const s of spans) {
        const start = Math.max(s.start, cursor);
        if (start > cursor) cells.push(`<td width="${pct(start - cursor)}" style="${css({ padding: '0px' })}"></td>`);
        const w = s.marker ? Math.max(s.end - start, span / 200) : s.end - start;
        if (w <= 0) continue;
        cells.push(
          `<td width="${pct(w)}" height="14" bgcolor="${s.color}" title="${esc(s.title)}" style="${css({ padding: '0px', background: s.color, height: '14px' })}"></td>`,
        );
        cursor = start + w;
      }
      if (cursor < to) cells.push(`<td width="${pct(to - cursor)}" style="${css({ padding: '0px' })}"></td>`);
      return (
        `<tr><td width="110" style="${css({ 'font-family': SANS, 'font-size': '11px', 'text-align': 'right', padding: '1px 8px', 'white-space': 'nowrap', color: '#333333' })}">${esc(lane.name)}</td>` +
        `<td style="${css({ padding: '1px 0px', 'border-left': '1px solid #999999' })}"><table width="100%" cellspacing="0" cellpadding="0" style="${css({ width: '100%', 'border-collapse': 'collapse', 'table-layout': 'fixed', background: '#fafafa' })}"><tr>${cells.join('')}</tr></table></td></tr>`
      );
    })
    .join('');
  const axis = `<tr><td></td><td style="${css({ 'font-family': SANS, 'font-size': '10px', color: '#777777' })}">steps ${from}&ndash;${to} (hover a bar for its steps)</td></tr>`;
  return staticFrame(
    title,
    `<table width="100%" style="${css({ width: '100%', 'border-collapse': 'collapse' })}">${rows}${axis}</table>`,
  );
}

function timelineText(title: string, lanes: FallbackLane[], from: number, to: number): string {
  const width = 72;
  const span = Math.max(1, to - from);
  const nameW = Math.max(...lanes.map((l) => l.name.length));
  const lines = [`${title} (steps ${from}–${to}; one column ≈ ${(span / width).toFixed(1)} steps)`];
  for (const lane of lanes) {
    const row = new Array<string>(width).fill(' ');
    for (const s of lane.spans) {
      const a = Math.floor(((s.start - from) / span) * width);
      const b = Math.max(a + 1, Math.ceil(((s.end - from) / span) * width));
      for (let i = Math.max(0, a); i < Math.min(width, b); i++)
        row[i] =
          lane.name === EVENTS_LANE
            ? s.color === '#d84315'
              ? 'v'
              : s.color === '#455a64'
                ? 'i'
                : s.color === '#1e88e5'
                  ? 'x'
                  : '!'
            : '#';
    }
    lines.push(`${lane.name.padStart(nameW)} |${row.join('')}|`);
  }
  lines.push(`${''.padStart(nameW)}  events: v NMI arrives, i IRET, x exception, ! lost NMI / shutdown`);
  return lines.join('\n');
}

// ---- outcome map -----------------------------------------------------------------------------

/** One explored schedule: an exception point in the handler, an NMI arrival boundary, the verdict. */
export interface OutcomePoint {
  exceptionPoint: string;
  arrival: string | number;
  verdict: string;
  schedule: string;
}

function uniqueInOrder<T>(xs: T[]): T[] {
  const out: T[] = [];
  for (const x of xs) if (out.indexOf(x) < 0) out.push(x);
  return out;
}

/** A grid: rows are exception points, columns NMI arrival boundaries, colour the verdict, hover the schedule. */
export function outcomeMapChart(
  points: readonly OutcomePoint[],
  options: { title?: string; design?: string } = {},
): Chart {
  const title = options.title ?? `Outcomes by NMI arrival${options.design ? `: ${options.design}` : ''}`;
  const ys = uniqueInOrder(points.map((p) => p.exceptionPoint));
  let xs = uniqueInOrder(points.map((p) => p.arrival));
  if (xs.every((x) => typeof x === 'number')) xs = [...xs].sort((a, b) => (a as number) - (b as number));
  const xLabels = xs.map(String);
  const verdicts = uniqueInOrder(points.map((p) => p.verdict));
  const colors = verdictColors(verdicts);
  const cell = new Map<string, OutcomePoint>();
  for (const p of points) cell.set(`${p.exceptionPoint}\u0000${String(p.arrival)}`, p);
  const z: (number | null)[][] = [];
  // Hover: the verdict and the schedule per cell; the exception point and the arrival come from
  // the axes (a map holds hundreds of cells, so nothing is repeated per cell that need not be).
  const hover: string[][] = [];
  const verdictOf: string[][] = [];
  for (const y of ys) {
    const zr: (number | null)[] = [];
    const hr: string[] = [];
    const vr: string[] = [];
    for (const x of xLabels) {
      const p = cell.get(`${y}\u0000${x}`);
      zr.push(p ? verdicts.indexOf(p.verdict) : null);
      hr.push(p ? esc(p.schedule) : '');
      vr.push(p ? esc(p.verdict) : '');
    }
    z.push(zr);
    hover.push(hr);
    verdictOf.push(vr);
  }
  const n = Math.max(1, verdicts.length);
  const colorscale: [number, string][] = [];
  colors.forEach((c, i) => {
    colorscale.push([i / n, c]);
    colorscale.push([(i + 1) / n, c]);
  });
  if (colorscale.length === 0) colorscale.push([0, '#cccccc'], [1, '#cccccc']);
  const data: Record<string, unknown>[] = [
    {
      type: 'heatmap',
      x: xLabels,
      y: ys,
      z,
      zmin: -0.5,
      zmax: n - 0.5,
      colorscale,
      showscale: false,
      text: hover,
      customdata: verdictOf,
      hovertemplate: '<b>%{customdata}</b><br>exception at %{y}<br>NMI at %{x}<br>%{text}<extra></extra>',
      xgap: 1,
      ygap: 1,
    },
  ];
  verdicts.forEach((v, i) =>
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: [null],
      y: [null],
      name: v,
      marker: { symbol: 'square', size: 12, color: colors[i] },
      hoverinfo: 'skip',
    }),
  );
  const height = Math.max(260, 120 + 26 * ys.length);
  const layout = {
    ...baseLayout(title, height),
    xaxis: { type: 'category', title: { text: 'NMI arrives at boundary' }, tickangle: -45, automargin: true },
    yaxis: { type: 'category', title: { text: 'exception point' }, autorange: 'reversed', automargin: true },
    legend: { orientation: 'h', y: 1.08, x: 1, xanchor: 'right' },
  };
  const fallback = staticFrame(title, outcomeGridHtml(ys, xLabels, verdicts, colors, z, cell, points));
  // Text: one letter per verdict.
  const letters = verdicts.map((v, i) => (v.match(/[a-z]/i) ? v.match(/[a-z]/i)![0].toUpperCase() : String(i)));
  const letterOf = verdicts.map((v, i) => (letters.indexOf(letters[i]) === i ? letters[i] : String(i)));
  const yW = Math.max(...ys.map((y) => y.length), 5);
  const textLines = [
    title,
    `${''.padEnd(yW)}  NMI arrival: ${xLabels[0] ?? ''} … ${xLabels[xLabels.length - 1] ?? ''}`,
  ];
  ys.forEach((y, yi) =>
    textLines.push(`${y.padEnd(yW)}  ${z[yi].map((v) => (v === null ? '.' : letterOf[v])).join('')}`),
  );
  textLines.push(verdicts.map((v, i) => `${letterOf[i]} = ${v}`).join(', ') + ', . = not explored');
  return { title, figure: { data, layout }, fallback, text: textLines.join('\n'), height };
}

/** Grid cells shrink to fit this many pixels of columns (a 900 px output, less the row labels). */
const GRID_PX = 620;

/**
 * The outcome map without scripts: a legend (colour, verdict, count) over the grid, whose cells
 * shrink so that the whole grid fits a notebook output, with arrival labels every few columns.
 * Cell colours go in bgcolor attributes as well, which survive sanitisers that drop styles.
 */
function outcomeGridHtml(
  ys: string[],
  xLabels: string[],
  verdicts: string[],
  colors: string[],
  z: (number | null)[][],
  cell: Map<string, OutcomePoint>,
  points: readonly OutcomePoint[],
): string {
  const w = Math.max(3, Math.min(18, Math.floor(GRID_PX / Math.max(1, xLabels.length))));
  const every = Math.max(1, Math.ceil(36 / w));
  const smallText = { 'font-family': SANS, 'font-size': '10px', 'font-weight': 'normal', color: '#555555' };
  const small = css(smallText);
  const legend = verdicts
    .map(
      (v, i) =>
        `<table style="${css({ display: 'inline-table', 'border-collapse': 'collapse', margin: '0px 14px 3px 0px', 'font-family': SANS, 'font-size': '11px' })}"><tr>` +
        `<td width="12" height="12" bgcolor="${colors[i]}" style="${css({ width: '12px', height: '12px', background: colors[i], padding: '0px' })}"></td>` +
        `<td style="${css({ padding: '0px 0px 0px 5px', 'white-space': 'nowrap' })}">${esc(v)} (${points.filter((p) => p.verdict === v).length})</td></tr></table>`,
    )
    .join('');
  const head: string[] = [];
  for (let i = 0; i < xLabels.length; i += every) {
    const span = Math.min(every, xLabels.length - i);
    head.push(
      `<th colspan="${span}" style="${css({ ...smallText, padding: '0px', 'text-align': 'left', 'white-space': 'nowrap', overflow: 'hidden', 'max-width': `${span * w}px` })}">${esc(xLabels[i])}</th>`,
    );
  }
  const rows = ys
    .map(
      (y, yi) =>
        `<tr><th height="15" style="${css({ 'font-family': SANS, 'font-size': '11px', 'font-weight': 'normal', 'text-align': 'right', padding: '0px 6px', 'white-space': 'nowrap', height: '15px' })}">${esc(y)}</th>${xLabels
          .map((x, xi) => {
            const v = z[yi][xi];
            const p = cell.get(`${y}\u0000${x}`);
            const bg = v === null ? '#f2f2f2' : colors[v];
            const tip = p ? `${p.verdict}: ${p.schedule}` : 'not explored';
            // Attributes only (hundreds of cells): bgcolor and width survive every sanitiser.
            return `<td width="${w}" bgcolor="${bg}" title="${esc(tip)}"></td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  const axis = `<div style="${small}">columns: the boundary the NMI arrives at, ${esc(xLabels[0] ?? '')}&ndash;${esc(xLabels[xLabels.length - 1] ?? '')}; rows: the exception point; hover a cell for its schedule</div>`;
  return (
    `<div style="${css({ 'margin-bottom': '4px' })}">${legend}</div>` +
    `<table cellspacing="0" cellpadding="0" style="${css({ 'border-collapse': 'separate', 'border-spacing': '0px 1px', 'table-layout': 'fixed' })}"><tr><th></th>${head.join('')}</tr>${rows}</table>${axis}`
  );
}

// ---- designs compared ------------------------------------------------------------------------

/** How many explored schedules broke one invariant under one design. */
export interface InvariantViolations {
  design: string;
  invariant: string;
  violations: number;
  /** Schedules explored for this design (for the hover text). */
  schedules?: number;
}

/** Grouped bars: violations per invariant, one colour per design. */
export function violationsChart(rows: readonly InvariantViolations[], options: { title?: string } = {}): Chart {
  const title = options.title ?? 'Invariant violations per design';
  const designs = uniqueInOrder(rows.map((r) => r.design));
  const invariants = uniqueInOrder(rows.map((r) => r.invariant));
  const palette = ['#ef6c00', '#1e88e5', '#43a047', '#8e24aa', '#6d4c41', '#00897b', '#c62828'];
  const get = (d: string, inv: string) => rows.filter((r) => r.design === d && r.invariant === inv)[0];
  const data = designs.map((d, i) => ({
    type: 'bar',
    name: d,
    x: invariants,
    y: invariants.map((inv) => get(d, inv)?.violations ?? 0),
    marker: { color: palette[i % palette.length] },
    hovertext: invariants.map((inv) => {
      const r = get(d, inv);
      return `${d}<br>${inv}: ${r?.violations ?? 0} violation(s)${r?.schedules !== undefined ? ` of ${r.schedules} schedules` : ''}`;
    }),
    hoverinfo: 'text',
  }));
  const height = 360;
  const layout = {
    ...baseLayout(title, height),
    barmode: 'group',
    margin: { l: 60, r: 20, t: 40, b: 90 },
    yaxis: { title: { text: 'violating schedules' }, rangemode: 'tozero', gridcolor: '#eeeeee' },
    xaxis: { automargin: true },
  };
  const max = Math.max(1, ...rows.map((r) => r.violations));
  const fallback = staticFrame(
    title,
    barTable(
      ['design', ...invariants],
      designs.map((d, i) => ({
        name: d,
        color: palette[i % palette.length],
        values: invariants.map((inv) => get(d, inv)?.violations ?? 0),
      })),
      max,
    ),
  );
  const text = textTable(
    title,
    ['design', ...invariants],
    designs.map((d) => [d, ...invariants.map((inv) => String(get(d, inv)?.violations ?? 0))]),
  );
  return { title, figure: { data, layout }, fallback, text, height };
}

/** What exploring one design cost. */
export interface ExplorerCost {
  design: string;
  schedules: number;
  states: number;
  seconds: number;
}

/** Three small bar charts side by side: schedules, states, seconds per design. */
export function explorerCostChart(rows: readonly ExplorerCost[], options: { title?: string } = {}): Chart {
  const title = options.title ?? 'What the explorer paid per design';
  const designs = rows.map((r) => r.design);
  const metrics: [keyof ExplorerCost, string, string][] = [
    ['schedules', 'schedules', '#1e88e5'],
    ['states', 'states', '#43a047'],
    ['seconds', 'seconds', '#ef6c00'],
  ];
  const data = metrics.map(([key, label, color], i) => ({
    type: 'bar',
    name: label,
    x: designs,
    y: rows.map((r) => r[key] as number),
    marker: { color },
    xaxis: i === 0 ? 'x' : `x${i + 1}`,
    yaxis: i === 0 ? 'y' : `y${i + 1}`,
    hovertext: rows.map((r) => `${r.design}: ${r[key]} ${label}`),
    hoverinfo: 'text',
    showlegend: false,
  }));
  const height = 340;
  const layout: Record<string, unknown> = {
    ...baseLayout(title, height),
    margin: { l: 50, r: 20, t: 60, b: 90 },
    annotations: [],
  };
  metrics.forEach(([, label], i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    layout[`xaxis${suffix}`] = { domain: [i / 3 + 0.03, (i + 1) / 3 - 0.03], anchor: `y${suffix}`, automargin: true };
    layout[`yaxis${suffix}`] = { anchor: `x${suffix}`, rangemode: 'tozero', gridcolor: '#eeeeee' };
    (layout.annotations as unknown[]).push({
      text: label,
      x: (i + 0.5) / 3,
      y: 1.04,
      xref: 'paper',
      yref: 'paper',
      showarrow: false,
      font: { size: 12 },
    });
  });
  const fallback = staticFrame(
    title,
    metrics
      .map(([key, label, color]) => {
        const max = Math.max(1e-9, ...rows.map((r) => r[key] as number));
        return `<div style="${css({ display: 'inline-block', 'vertical-align': 'top', 'margin-right': '18px' })}"><div style="${css({ 'font-family': SANS, 'font-size': '12px', 'font-weight': 'bold' })}">${esc(label)}</div>${barTable(
          ['design', label],
          rows.map((r) => ({ name: r.design, color, values: [r[key] as number] })),
          max,
        )}</div>`;
      })
      .join(''),
  );
  const text = textTable(
    title,
    ['design', 'schedules', 'states', 'seconds'],
    rows.map((r) => [r.design, String(r.schedules), String(r.states), r.seconds.toFixed(2)]),
  );
  return { title, figure: { data, layout }, fallback, text, height };
}

// ---- shared fallback pieces ------------------------------------------------------------------

function barTable(header: string[], rows: { name: string; color: string; values: number[] }[], max: number): string {
  const th = css({
    'font-family': SANS,
    'font-size': '11px',
    'font-weight': 'normal',
    color: '#555555',
    'text-align': 'left',
    padding: '1px 6px',
  });
  const body = rows
    .map(
      (r) =>
        `<tr><td style="${css({ 'font-family': SANS, 'font-size': '12px', padding: '1px 6px', 'white-space': 'nowrap' })}">${esc(r.name)}</td>${r.values
          .map((v) => {
            const w = Math.max(1, Math.round((90 * v) / max));
            const bar =
              v > 0
                ? `<table cellspacing="0" cellpadding="0" style="${css({ display: 'inline-table', 'border-collapse': 'collapse', 'vertical-align': 'middle', 'margin-right': '4px' })}"><tr><td width="${w}" height="10" bgcolor="${r.color}" style="${css({ width: `${w}px`, height: '10px', background: r.color, padding: '0px' })}"></td></tr></table>`
                : '';
            return `<td style="${css({ padding: '1px 6px', 'white-space': 'nowrap', 'font-family': SANS, 'font-size': '11px' })}">${bar}${esc(String(v))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<table style="${css({ 'border-collapse': 'collapse' })}"><tr>${header.map((h) => `<th style="${th}">${esc(h)}</th>`).join('')}</tr>${body}</table>`;
}

function textTable(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** What a fallback says about itself: where the interactive chart shows instead. */
export const STATIC_NOTE =
  'static view: JupyterLab and Notebook 7 draw this chart; the classic Notebook does once the notebook is trusted or the cell re-run';

/** The box a fallback sits in, saying what it is. */
function staticFrame(title: string, inner: string): string {
  return `<div style="${css({ border: '1px solid #dddddd', padding: '6px 8px', margin: '4px 0px', 'max-width': '880px', 'overflow-x': 'auto', background: '#ffffff' })}"><div style="${css({ 'font-family': SANS, 'font-size': '13px', 'font-weight': 'bold', 'margin-bottom': '4px' })}">${esc(title)} <span style="${css({ 'font-weight': 'normal', color: '#888888', 'font-size': '11px' })}">(${STATIC_NOTE})</span></div>${inner}</div>`;
}
