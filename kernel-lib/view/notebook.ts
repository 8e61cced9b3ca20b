// Notebook glue, kept thin: turn a view into one display output (a MIME bundle) and hand it to a
// sink: tslab's display-data writer in a live kernel, anything with a `display` method in tests.
// Charts carry plotly's MIME type plus an HTML fallback (chart.ts); other views carry HTML and text.
import { isChart, viewToHtml, viewToText } from './render';
import type { Viewable } from './render';
import { chartBundle } from './chart';
import type { MimeBundle } from './chart';

export interface DisplaySink {
  /** Sends one display output holding every MIME type of `bundle`. */
  display(bundle: MimeBundle): void;
}

type DisplayDataWriter = (content: { data: MimeBundle; metadata: object }, update: boolean) => void;

/**
 * tslab's writer for display_data messages, when this process is a tslab kernel running a cell.
 *
 * tslab's public `display` (html, raw, ...) sends one MIME type per output. It does so through the
 * writer its Jupyter module keeps as `lastWriteDisplayData` (declared in tslab/dist/jupyter.d.ts)
 * for the cell being executed; that writer takes a whole display_data content, so it carries a
 * bundle as is. The module is looked up among the modules the kernel already loaded, whichever
 * tslab install the kernel runs from, and never loaded here: outside a kernel there is none.
 */
export function tslabDisplayWriter(
  cache: Record<string, { exports?: unknown } | undefined> | undefined = typeof require === 'function'
    ? require.cache
    : undefined,
): DisplayDataWriter | null {
  if (!cache) return null;
  for (const file of Object.keys(cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const writer = (cache[file]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === 'function') return writer as DisplayDataWriter;
  }
  return null;
}

/** A sink sending bundles through tslab, or null outside a tslab kernel's cell. */
export function tslabSink(cache?: Parameters<typeof tslabDisplayWriter>[0]): DisplaySink | null {
  const writer = cache === undefined ? tslabDisplayWriter() : tslabDisplayWriter(cache);
  if (!writer) return null;
  return { display: (bundle) => writer({ data: bundle, metadata: {} }, false) };
}

/** The display output for a view: a chart's plotly bundle, or HTML and text. */
export function viewBundle(view: Viewable): MimeBundle {
  if (isChart(view)) return chartBundle(view);
  return { 'text/html': viewToHtml(view), 'text/plain': viewToText(view) };
}

export class NotebookDisplay {
  constructor(private readonly sink: DisplaySink | null = null) {}

  /** Display a view: one output in a notebook, or its text on stdout outside one. */
  show(view: Viewable): void {
    const sink = this.sink ?? tslabSink();
    if (sink) {
      sink.display(viewBundle(view));
      return;
    }
    process.stdout.write(`${viewToText(view)}\n`);
  }
}

let shared: NotebookDisplay | null = null;

/** The kernel-wide display. */
export function notebookDisplay(): NotebookDisplay {
  if (shared === null) shared = new NotebookDisplay();
  return shared;
}

/** Show a view in the notebook (or print it as text outside one). */
export function show(view: Viewable): void {
  notebookDisplay().show(view);
}
