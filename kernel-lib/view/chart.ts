// Charts for notebooks and pages. In a notebook a chart is one display output carrying a MIME
// bundle (chartBundle): plotly's own MIME type, which JupyterLab and Notebook 7 draw with the
// jupyterlab-plotly renderer (trusted or not, with no plotly.js stored in the notebook), plus a
// text/html fallback for front ends without that renderer (the classic Notebook, nbconvert's HTML)
// and text/plain. The HTML holds a static view, visible by default, and a small script that draws
// the chart with window.Plotly and hides the static view. Where window.Plotly is missing, the
// script loads plotly.js at most once per page: in the classic Notebook from the project's copy that
// `npm run jupyter` puts under nbextensions/; exported pages carry the bundle once in their head
// (plotlyLoaderHtml). Elsewhere, or with scripts off (untrusted classic notebooks), the static view
// stays.
import * as fs from 'fs';
import type { Chart } from './plots';
import { css } from './html';

/** The MIME type plotly's renderers (jupyterlab-plotly, nteract, VS Code) draw. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** A display output's data: MIME type -> content (a string, or JSON for JSON types). */
export type MimeBundle = Record<string, unknown>;

/** Where the classic Notebook serves the project's plotly.js build, relative to its base URL. */
export const CLASSIC_PLOTLY_PATH = 'nbextensions/nmi-lab/plotly.min';

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

/** The figure as plotly's MIME type carries it: {data, layout, config}. */
export function plotlySpec(chart: Chart): { data: unknown[]; layout: Record<string, unknown>; config: object } {
  return {
    data: chart.figure.data,
    layout: chart.figure.layout,
    config: { responsive: true, displaylogo: false, ...(chart.figure.config ?? {}) },
  };
}

// The loader shared by every chart on a page: one promise on window, so plotly.js is fetched once
// however many charts (or re-runs) there are. The classic Notebook marks its pages with
// data-base-url and ships require.js, which must load the UMD bundle (a bare <script> would trip
// require.js's anonymous-define check); other pages get a plain <script>.
const LOADER =
  'function load(){var w=window;if(w.Plotly){return Promise.resolve(w.Plotly);}' +
  'if(!w.nmilabPlotly){w.nmilabPlotly=new Promise(function(ok){' +
  'var base=document.body&&document.body.getAttribute("data-base-url");if(base===null||base===undefined){ok(null);return;}' +
  `var url=base+${JSON.stringify(CLASSIC_PLOTLY_PATH)};` +
  'if(typeof w.requirejs==="function"){w.requirejs.config({paths:{"nmi-lab-plotly":url}});' +
  'w.requirejs(["nmi-lab-plotly"],function(P){w.Plotly=w.Plotly||P;ok(w.Plotly);},function(){ok(null);});return;}' +
  'var s=document.createElement("script");s.src=url+".js";s.onload=function(){ok(w.Plotly||null);};s.onerror=function(){ok(null);};document.head.appendChild(s);' +
  '});}return w.nmilabPlotly;}';

/**
 * The chart's HTML: the static view (visible by default), an empty div for plotly, and a script
 * that draws into the div when plotly.js is (or can be) loaded, else leaves the static view.
 */
export function chartHtml(chart: Chart, options: { id?: string } = {}): string {
  const id = options.id ?? newChartId();
  const script =
    `(function(){var id=${scriptJson(id)};var el=document.getElementById(id);var fb=document.getElementById(id+"-static");if(!el){return;}` +
    `var spec=${scriptJson(plotlySpec(chart))};${LOADER}` +
    `var restore=function(){el.style.display="none";if(fb){fb.style.display="block";}};` +
    `load().then(function(P){if(!P){return;}el.style.display="block";if(fb){fb.style.display="none";}` +
    `try{var p=P.newPlot(el,spec.data,spec.layout,spec.config);if(p&&p.then){p.then(null,restore);}}catch(e){restore();}});})();`;
  return (
    `<div class="nmilab-chart" style="${css({ margin: '6px 0px 10px 0px' })}">` +
    `<div id="${id}-static">${chart.fallback}</div>` +
    `<div id="${id}" style="${css({ display: 'none', width: '100%', height: `${chart.height}px` })}"></div>` +
    `<script type="text/javascript">${script}</script></div>`
  );
}

/** The display output of a chart: plotly's MIME type, the HTML fallback, and text. */
export function chartBundle(chart: Chart, options: { id?: string } = {}): MimeBundle {
  return { [PLOTLY_MIME]: plotlySpec(chart), 'text/html': chartHtml(chart, options), 'text/plain': chart.text };
}

let bundleCache: string | null = null;

/** Where the installed plotly.js build is (the cartesian partial bundle: bar, heatmap, scatter, ...). */
export function plotlyBundlePath(): string {
  return require.resolve('plotly.js-cartesian-dist-min/plotly-cartesian.min.js');
}

/** The installed plotly.js version. */
export function plotlyVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('plotly.js-cartesian-dist-min/package.json') as { version: string }).version;
}

/**
 * A <script> that defines window.Plotly from the installed build (about 1.5 MB: put it once in a
 * page's head, never in a notebook). `module`, `exports` and `define` are shadowed so the bundle
 * always installs the global, whatever module loader the page has.
 */
export function plotlyLoaderHtml(): string {
  if (bundleCache === null) {
    const source = fs
      .readFileSync(plotlyBundlePath(), 'utf8')
      .replace(/<\/(script)/gi, '<\\/$1')
      .replace(/<!--/g, '<\\!--');
    bundleCache =
      `<script type="text/javascript">/* plotly.js ${plotlyVersion()} (cartesian build), inlined by NMI Lab */\n` +
      `if(!window.Plotly){(function(module,exports,define){\n${source}\n}).call(window);}\n</script>`;
  }
  return bundleCache;
}
