// Notebook glue with a fake display sink (no kernel): plotly goes out once, inside the first chart's
// output; chart snippets find their own elements; JSON in scripts cannot close the script element.
import * as fs from 'fs';
import {
  NotebookDisplay,
  chartHtml,
  outcomeMapChart,
  plotlyBundlePath,
  plotlyLoaderHtml,
  scriptJson,
  viewToText,
} from '../../kernel-lib/view';
import { buildStory } from './fixtures/story';

const story = buildStory();

test('plotly is sent once per kernel, with the first chart; other views never carry it', () => {
  const outputs: string[] = [];
  const d = new NotebookDisplay({ html: (h) => outputs.push(h) });
  d.show(story.atNested);
  d.show(story.charts[0]);
  d.show(story.charts[1]);
  d.show({ before: story.before, after: story.after });
  d.show(story.charts[2]);
  expect(outputs).toHaveLength(5);
  const withBundle = outputs.map((o) => o.includes('window.Plotly') && o.length > 1_000_000);
  expect(withBundle).toEqual([false, true, false, false, false]);
  expect(outputs[0]).not.toMatch(/<script/);
  expect(outputs[2].length).toBeLessThan(200_000);
  d.reset();
  d.show(story.charts[3]);
  expect(outputs[5].length).toBeGreaterThan(1_000_000);
});

test('the bundle comes from node_modules and installs window.Plotly whatever module loader the page has', () => {
  expect(plotlyBundlePath()).toMatch(/node_modules[\\/]plotly\.js-dist[\\/]plotly\.js$/);
  const loader = plotlyLoaderHtml();
  expect(loader.length).toBeGreaterThan(fs.statSync(plotlyBundlePath()).size * 0.99);
  expect(loader).toMatch(/^<script type="text\/javascript">/);
  expect(loader).toContain('(function(module,exports,define){');
  expect(loader.slice(0, -'</script>'.length)).not.toMatch(/<\/script/i);
  // (The bundle mentions CDN URLs for optional parts such as map topologies; the browser test checks
  // that drawing these charts requests nothing from the network.)
});

test('chart snippet: fallback first, hidden plot div, a script that needs window.Plotly; hostile text is escaped', () => {
  const chart = outcomeMapChart([{ exceptionPoint: '</script><b>', arrival: 1, verdict: 'ok', schedule: '<!-- x' }]);
  const html = chartHtml(chart, { id: 'c1' });
  expect(html.indexOf('id="c1-static"')).toBeLessThan(html.indexOf('id="c1"'));
  expect(html).toContain('id="c1" style="display:none');
  const script = html.slice(html.indexOf('<script'));
  expect(script.match(/<\/script/gi)).toHaveLength(1);
  expect(script).not.toContain('<!--');
  expect(script).toContain('if(!el||!window.Plotly){return;}');
  expect(JSON.parse(scriptJson({ a: '</script>\u2028' }))).toEqual({ a: '</script>\u2028' });
});

test('outside a kernel, show() prints text', () => {
  const writes: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    writes.push(String(s));
    return true;
  });
  try {
    new NotebookDisplay({
      html: () => {
        throw new Error('Not ready');
      },
    }).show(story.before);
  } finally {
    spy.mockRestore();
  }
  expect(writes.join('')).toContain(viewToText(story.before));
  expect(viewToText(story.charts[0])).toContain('Who runs when');
});
