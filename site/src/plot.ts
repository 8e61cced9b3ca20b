// Charts: the library's figure specs (view/plots.ts) drawn with plotly.js, which the site ships as
// plotly.min.js next to the page and loads once, the first time a chart is drawn (1.5 MB, the cartesian build:
// loading it up front would cost every visit its parse time). Offline: no CDN.
import type { Chart } from './library';

interface PlotlyGlobal {
  react(el: HTMLElement, data: unknown[], layout: unknown, config: unknown): Promise<unknown>;
  purge(el: HTMLElement): void;
}

let loading: Promise<PlotlyGlobal> | null = null;

function plotly(): Promise<PlotlyGlobal> {
  const w = window as unknown as { Plotly?: PlotlyGlobal };
  if (w.Plotly) return Promise.resolve(w.Plotly);
  if (loading === null) {
    loading = new Promise<PlotlyGlobal>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'plotly.min.js';
      s.async = true;
      s.onload = () => (w.Plotly ? resolve(w.Plotly) : reject(new Error('plotly.min.js did not define Plotly')));
      s.onerror = () => {
        loading = null;
        reject(new Error('plotly.min.js could not be loaded'));
      };
      document.head.appendChild(s);
    });
  }
  return loading;
}

/** Draw (or redraw) a chart in `el`; its static fallback stays if plotly cannot load. */
export async function drawChart(el: HTMLElement, chart: Chart): Promise<void> {
  let p: PlotlyGlobal;
  try {
    p = await plotly();
  } catch {
    el.innerHTML = chart.fallback;
    return;
  }
  el.classList.add('plotly-host');
  await p.react(
    el,
    chart.figure.data,
    { ...chart.figure.layout, autosize: true },
    {
      responsive: true,
      displaylogo: false,
      ...(chart.figure.config ?? {}),
    },
  );
}
