// Notebook glue with a fake display sink (no kernel): a chart is one output carrying plotly's MIME
// type plus an HTML fallback, no output carries plotly.js, and chart snippets load plotly.js at most
// once per page. JSON in scripts cannot close the script element. The tslab route is checked with
// a stand-in for tslab's Jupyter module (the browser tests check it in a real kernel).
import * as fs from 'fs';
import * as path from 'path';
import {
  NotebookDisplay,
  PLOTLY_MIME,
  chartBundle,
  chartHtml,
  outcomeMapChart,
  plotlyBundlePath,
  plotlyLoaderHtml,
  plotlySpec,
  scriptJson,
  tslabDisplayWriter,
  tslabSink,
  viewToText,
} from '../../kernel-lib/view';
import type { MimeBundle } from '../../kernel-lib/view';
import { buildStory } from './fixtures/story';

const story = buildStory();

test('each view is one output; a chart carries the plotly figure, an HTML fallback and text, never plotly.js', () => {
  const outputs: MimeBundle[] = [];
  const d = new NotebookDisplay({ display: (b) => outputs.push(b) });
  d.show(story.atNested);
  d.show(story.charts[0]);
  d.show({ before: story.before, after: story.after });
  d.show(story.charts[1]);
  expect(outputs.map((o) => Object.keys(o).sort())).toEqual([
    ['text/html', 'text/plain'],
    [PLOTLY_MIME, 'text/html', 'text/plain'],
    ['text/html', 'text/plain'],
    [PLOTLY_MIME, 'text/html', 'text/plain'],
  ]);
  const chart = outputs[1];
  expect(chart[PLOTLY_MIME]).toEqual(plotlySpec(story.charts[0]));
  expect(JSON.parse(JSON.stringify(chart[PLOTLY_MIME]))).toEqual(chart[PLOTLY_MIME]);
  expect(chart['text/plain']).toBe(story.charts[0].text);
  for (const o of outputs) expect(JSON.stringify(o).length).toBeLessThan(200_000);
  expect(outputs[0]['text/html']).not.toMatch(/<script/);
});

test("chart HTML: static view first, hidden plot div, one loader promise per page from the classic Notebook's base URL", () => {
  const chart = outcomeMapChart([{ exceptionPoint: '</script><b>', arrival: 1, verdict: 'ok', schedule: '<!-- x' }]);
  const html = chartHtml(chart, { id: 'c1' });
  expect(html.indexOf('id="c1-static"')).toBeLessThan(html.indexOf('id="c1"'));
  expect(html).toContain('id="c1" style="display:none');
  const script = html.slice(html.indexOf('<script'));
  expect(script.match(/<\/script/gi)).toHaveLength(1);
  expect(script).not.toContain('<!--');
  expect(script).toContain('if(!w.nmilabPlotly){w.nmilabPlotly=new Promise(');
  expect(script).toContain('getAttribute("data-base-url")');
  expect(script).toContain('"nbextensions/nmi-lab/plotly.min"');
  expect(JSON.parse(scriptJson({ a: '</script>\u2028' }))).toEqual({ a: '</script>\u2028' });
  expect(chartBundle(chart, { id: 'c1' })['text/html']).toBe(html);
});

test('the plotly.js build comes from node_modules and installs window.Plotly whatever module loader the page has', () => {
  expect(plotlyBundlePath()).toMatch(/node_modules[\\/]plotly\.js-cartesian-dist-min[\\/]plotly-cartesian\.min\.js$/);
  const size = fs.statSync(plotlyBundlePath()).size;
  expect(size).toBeLessThan(2_500_000);
  const loader = plotlyLoaderHtml();
  expect(loader.length).toBeGreaterThan(size * 0.99);
  expect(loader).toMatch(/^<script type="text\/javascript">/);
  expect(loader).toContain('(function(module,exports,define){');
  expect(loader.slice(0, -'</script>'.length)).not.toMatch(/<\/script/i);
});

test('every trace type the chart builders use is in the plotly.js build', () => {
  const source = fs.readFileSync(plotlyBundlePath(), 'utf8');
  const used = new Set<string>();
  for (const c of story.charts) for (const t of c.figure.data) used.add(String(t.type));
  expect(used.size).toBeGreaterThan(1);
  for (const type of used)
    expect({ type, inBuild: source.includes(`moduleType:"trace",name:"${type}"`) }).toEqual({ type, inBuild: true });
});

test("in a tslab kernel the bundle goes out through tslab's display-data writer, as one display_data", () => {
  // A stand-in for tslab/dist/jupyter.js as the kernel loads it: the writer is set while a cell runs.
  const file = path.join(path.sep, 'opt', 'kernel', 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const sent: { content: { data: MimeBundle; metadata: object }; update: boolean }[] = [];
  const fake = {
    lastWriteDisplayData: null as null | ((content: { data: MimeBundle; metadata: object }, update: boolean) => void),
  };
  // (Jest gives each test module its own require.cache, so the module cache is passed in.)
  const cache = { '/opt/kernel/node_modules/lodash/index.js': { exports: {} }, [file]: { exports: fake } };
  expect(tslabDisplayWriter(cache)).toBeNull(); // loaded, but no cell running
  expect(tslabSink(cache)).toBeNull();
  expect(tslabDisplayWriter({})).toBeNull(); // not a tslab kernel
  fake.lastWriteDisplayData = (content, update) => sent.push({ content, update });
  new NotebookDisplay(tslabSink(cache)).show(story.charts[0]);
  expect(sent).toHaveLength(1);
  expect(sent[0].update).toBe(false);
  expect(Object.keys(sent[0].content.data).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain']);
  expect(sent[0].content.metadata).toEqual({});
});

test('outside a kernel, show() prints text', () => {
  const writes: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    writes.push(String(s));
    return true;
  });
  try {
    new NotebookDisplay().show(story.before);
  } finally {
    spy.mockRestore();
  }
  expect(writes.join('')).toContain(viewToText(story.before));
  expect(viewToText(story.charts[0])).toContain('Who runs when');
});
