// Notebook glue, kept thin: turn a view into one text/html display output and hand it to a sink
// (tslab's display in a live kernel; anything with an `html` method in tests). The plotly bundle is
// sent once, inside the first chart's output, so later charts are small.
import { isChart, viewToHtml, viewToText } from './render';
import type { Viewable } from './render';
import { plotlyLoaderHtml } from './chart';

export interface DisplaySink {
  html(html: string): void;
  text?(text: string): void;
}

/** tslab's display when running inside a tslab kernel, else null. */
export function tslabSink(): DisplaySink | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tslab = require('tslab') as { display?: DisplaySink };
    if (!tslab.display) return null;
    const display = tslab.display;
    // Outside a kernel tslab's display throws "Not ready"; probe with nothing visible is impossible,
    // so wrap it and fall back to text on the first failure.
    return display;
  } catch {
    return null;
  }
}

export class NotebookDisplay {
  /** Whether this kernel already sent the plotly bundle (reset() after clearing outputs). */
  plotlySent = false;

  constructor(private readonly sink: DisplaySink | null = null) {}

  /** The HTML one display of `view` emits now (the bundle included if this is the first chart). */
  htmlFor(view: Viewable): string {
    const body = viewToHtml(view);
    if (isChart(view) && !this.plotlySent) {
      this.plotlySent = true;
      return plotlyLoaderHtml() + body;
    }
    return body;
  }

  /** Display a view: one text/html output (or text on a terminal when there is no sink). */
  show(view: Viewable): void {
    const sink = this.sink ?? tslabSink();
    if (sink) {
      try {
        sink.html(this.htmlFor(view));
        return;
      } catch (e) {
        if (!(e instanceof Error && /not ready/i.test(e.message))) throw e;
      }
    }
    process.stdout.write(`${viewToText(view)}\n`);
  }

  /** Send the plotly bundle with the next chart again (e.g. after "Clear All Outputs"). */
  reset(): void {
    this.plotlySent = false;
  }
}

let shared: NotebookDisplay | null = null;

/** The kernel-wide display (one per tslab kernel, so the bundle goes out once per notebook run). */
export function notebookDisplay(): NotebookDisplay {
  if (shared === null) shared = new NotebookDisplay();
  return shared;
}

/** Show a view in the notebook (or print it as text outside one). */
export function show(view: Viewable): void {
  notebookDisplay().show(view);
}
