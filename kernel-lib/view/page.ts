// A standalone, offline HTML page holding views, the way an nbconvert export holds a notebook's
// outputs: plotly.js inlined once in the head when there is a chart, everything else inline-styled
// HTML.
import { isChart, viewToHtml } from './render';
import type { Viewable } from './render';
import { plotlyLoaderHtml } from './chart';
import { SANS, css, esc } from './html';

export interface PageOptions {
  title?: string;
  /** Leave plotly out (the charts then show their static fallbacks). */
  withoutPlotly?: boolean;
}

export function exportHtmlPage(parts: readonly Viewable[], options: PageOptions = {}): string {
  const title = options.title ?? 'NMI Lab';
  const plotly = !options.withoutPlotly && parts.some(isChart) ? `\n${plotlyLoaderHtml()}` : '';
  const body = parts
    .map((p) => `<section style="${css({ margin: '0px 0px 14px 0px' })}">${viewToHtml(p)}</section>`)
    .join('\n');
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>${plotly}</head>\n` +
    `<body style="${css({ 'font-family': SANS, margin: '16px 24px', color: '#222222', background: '#ffffff' })}">\n<h1 style="${css({ 'font-size': '20px', margin: '0px 0px 12px 0px' })}">${esc(title)}</h1>\n${body}\n</body></html>\n`
  );
}
