// Charts as HTML: a placeholder div, a static fallback, and a small script that draws the plotly
// chart and hides the fallback. Scripts run in live (trusted) notebooks and in exported pages; in an
// untrusted notebook they are stripped and the fallback stays. plotly.js itself comes from the
// installed plotly.js-dist package, inlined once per notebook or page (no CDN, no network).
import * as fs from 'fs';
import type { Chart } from './plots';
import { css } from './html';

let counter = 0;

/** A page-unique element id (notebooks keep outputs of many runs side by side). */
export function newChartId(): string {
  counter++;
  const rand = Math.floor(Math.random() * 0x100000000).toString(36);
  return `nmilab-chart-${Date.now().toString(36)}-${rand}-${counter}`;
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The chart's HTML: the fallback (visible by default), an empty div for plotly, and a script. The
 * script does nothing when window.Plotly is missing, so the fallback stays readable.
 */
export function chartHtml(chart: Chart, options: { id?: string } = {}): string {
  const id = options.id ?? newChartId();
  const spec = {
    data: chart.figure.data,
    layout: chart.figure.layout,
    config: { responsive: true, displaylogo: false, ...(chart.figure.config ?? {}) },
  };
  const script =
    `(function(){var id=${scriptJson(id)};var el=document.getElementById(id);var fb=document.getElementById(id+"-static");` +
    `if(!el||!window.Plotly){return;}var spec=${scriptJson(spec)};el.style.display="block";` +
    `var restore=function(){el.style.display="none";if(fb){fb.style.display="block";}};` +
    `try{if(fb){fb.style.display="none";}var p=window.Plotly.newPlot(el,spec.data,spec.layout,spec.config);if(p&&p.then){p.then(null,restore);}}catch(e){restore();}})();`;
  return (
    `<div class="nmilab-chart" style="${css({ margin: '6px 0px 10px 0px' })}">` +
    `<div id="${id}-static">${chart.fallback}</div>` +
    `<div id="${id}" style="${css({ display: 'none', width: '100%', height: `${chart.height}px` })}"></div>` +
    `<script type="text/javascript">${script}</script></div>`
  );
}

let bundleCache: string | null = null;

/** Where the installed plotly.js bundle is. */
export function plotlyBundlePath(): string {
  return require.resolve('plotly.js-dist/plotly.js');
}

/** The installed plotly.js version. */
export function plotlyVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('plotly.js-dist/package.json') as { version: string }).version;
}

/**
 * A <script> that defines window.Plotly from the installed bundle (about 10 MB: emit it once per
 * notebook or page). `module`, `exports` and `define` are shadowed so the bundle always installs the
 * global, whatever module loader the page has (the classic Notebook ships require.js).
 */
export function plotlyLoaderHtml(): string {
  if (bundleCache === null) {
    const source = fs
      .readFileSync(plotlyBundlePath(), 'utf8')
      .replace(/<\/(script)/gi, '<\\/$1')
      .replace(/<!--/g, '<\\!--');
    bundleCache =
      `<script type="text/javascript">/* plotly.js ${plotlyVersion()} from node_modules/plotly.js-dist, inlined by NMI Lab */\n` +
      `if(!window.Plotly){(function(module,exports,define){\n${source}\n}).call(window);}\n</script>`;
  }
  return bundleCache;
}
