// Views: stack diagrams, traces and plots, as text (terminal) and HTML (notebooks, exported pages).
export { captureAround, captureStack, captureStacks } from '../record/stack';
export type {
  CaptureOptions,
  SlotOwner,
  SlotWrites,
  StackAnnotation,
  StackDiagram,
  DiagramSlot,
  StackSpec,
} from '../record/stack';
export { beforeAfterHtml, stackToHtml, stackToText, stacksToHtml, stacksToText } from './stack-render';
export type { StackHtmlOptions } from './stack-render';
export {
  ContextTracker,
  classifyByLabels,
  currentContext,
  eventContexts,
  frameSlotNames,
  interruptedRsp,
} from '../record/contexts';
export type { ContextClassifier, ContextHistory, EventContext } from '../record/contexts';
export { TraceRecorder, recordTrace } from '../record/trace';
export type { MemoryChange, RegisterChange, Trace, TraceOptions, TraceStep, WatchedStack } from '../record/trace';
export { eventText, traceToHtml, traceToText } from './trace-render';
export type { TraceViewOptions } from './trace-render';
export { contextSegments, explorerCostChart, outcomeMapChart, timelineChart, violationsChart } from './plots';
export type { Chart, ExplorerCost, InvariantViolations, OutcomePoint, PlotlyFigure, Segment } from './plots';
export {
  PLOTLY_MIME,
  chartBundle,
  chartHtml,
  newChartId,
  plotlyBundlePath,
  plotlyLoaderHtml,
  plotlySpec,
  plotlyVersion,
  scriptJson,
} from './chart';
export type { MimeBundle } from './chart';
export { viewToHtml, viewToText } from './render';
export type { TraceView, Viewable } from './render';
export { NotebookDisplay, notebookDisplay, show, tslabDisplayWriter, tslabSink, viewBundle } from './notebook';
export type { DisplaySink } from './notebook';
export { exportHtmlPage } from './page';
export type { PageOptions } from './page';
export { esc, swatch } from './html';
export type { Swatch } from './html';
