// One entry point for "show this": any view (a stack diagram, several, a before/after pair, a trace,
// a chart, raw HTML or text) to HTML for notebooks and pages, or to text for terminals.
import type { StackDiagram } from '../record/stack';
import type { Trace } from '../record/trace';
import type { Chart } from './plots';
import { beforeAfterHtml, stackToHtml, stackToText, stacksToHtml, stacksToText } from './stack-render';
import { traceToHtml, traceToText } from './trace-render';
import type { TraceViewOptions } from './trace-render';
import { chartHtml } from './chart';
import { SANS, css, esc } from './html';

/** A trace with the options to show it with. */
export interface TraceView {
  trace: Trace;
  options?: TraceViewOptions;
}

export type Viewable =
  | StackDiagram
  | readonly StackDiagram[]
  | { before: StackDiagram; after: StackDiagram; title?: string }
  | Trace
  | TraceView
  | Chart
  | { html: string; text?: string }
  | { heading: string }
  | string;

export function isChart(x: unknown): x is Chart {
  return typeof x === 'object' && x !== null && 'figure' in x && 'fallback' in x;
}

function isDiagram(x: unknown): x is StackDiagram {
  return typeof x === 'object' && x !== null && 'slots' in x && 'top' in x;
}

function isTrace(x: unknown): x is Trace {
  return typeof x === 'object' && x !== null && 'steps' in x && 'contexts' in x;
}

function isTraceView(x: unknown): x is TraceView {
  return typeof x === 'object' && x !== null && 'trace' in x && isTrace((x as TraceView).trace);
}

function isPair(x: unknown): x is { before: StackDiagram; after: StackDiagram; title?: string } {
  return typeof x === 'object' && x !== null && 'before' in x && 'after' in x;
}

/** HTML for any view; charts get their placeholder and script (the plotly bundle is not included). */
export function viewToHtml(x: Viewable): string {
  if (typeof x === 'string') return `<pre style="${css({ 'font-size': '12px' })}">${esc(x)}</pre>`;
  if (Array.isArray(x)) return stacksToHtml(x as StackDiagram[]);
  if (isChart(x)) return chartHtml(x);
  if (isDiagram(x)) return stackToHtml(x);
  if (isPair(x)) return beforeAfterHtml(x.before, x.after, x.title);
  if (isTraceView(x)) return traceToHtml(x.trace, x.options);
  if (isTrace(x)) return traceToHtml(x);
  if ('heading' in (x as object))
    return `<h3 style="${css({ 'font-family': SANS, margin: '18px 0px 6px 0px' })}">${esc((x as { heading: string }).heading)}</h3>`;
  return (x as { html: string }).html;
}

/** Plain text for any view (terminal, CLI, tests). */
export function viewToText(x: Viewable): string {
  if (typeof x === 'string') return x;
  if (Array.isArray(x)) return stacksToText(x as StackDiagram[]);
  if (isChart(x)) return x.text;
  if (isDiagram(x)) return stackToText(x);
  if (isPair(x)) return `${x.title ? `${x.title}\n\n` : ''}${stackToText(x.before)}\n\n${stackToText(x.after)}`;
  if (isTraceView(x)) return traceToText(x.trace, x.options);
  if (isTrace(x)) return traceToText(x);
  if ('heading' in (x as object)) {
    const h = (x as { heading: string }).heading;
    return `${h}\n${'='.repeat(h.length)}`;
  }
  const v = x as { html: string; text?: string };
  return v.text ?? v.html.replace(/<[^>]*>/g, '');
}
