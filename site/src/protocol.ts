// The messages between the page and its explorer worker (worker.ts). Plain data: bigints, arrays
// and objects cross postMessage as they are.
import type { Chart, Diagnostic, Estimate, SampleReport, ScheduleEvent, WorkloadId, WorkloadReport } from './library';
import type { DesignRef } from './designs';

export type ExplorerRequest =
  | {
      id: number;
      kind: 'explore';
      design: DesignRef;
      workload: WorkloadId | null;
      depth: number;
      exceptions: number;
      force: boolean;
      /** Pool workers (default: one per logical core, at most 8). */
      workers?: number;
    }
  | {
      id: number;
      kind: 'sample';
      design: DesignRef;
      workload: WorkloadId | null;
      depth: number;
      exceptions: number;
      samples: number;
      seed: number;
    }
  | { id: number; kind: 'check'; base: string; text: string }
  /** Start up and assemble the design ahead of a request (no reply). */
  | { id: number; kind: 'warm'; design: DesignRef }
  | {
      id: number;
      kind: 'timeline';
      design: DesignRef;
      workload: WorkloadId;
      userRsp: bigint | null;
      events: ScheduleEvent[];
      /** Steps from the steady state: the window the chart covers. */
      from: number;
      to: number;
    };

export type ExplorerReply =
  | { id: number; kind: 'progress'; phase: string; done: number; total: number }
  | { id: number; kind: 'explored'; reports: WorkloadReport[] }
  | { id: number; kind: 'sampled'; reports: SampleReport[] }
  | { id: number; kind: 'refused'; message: string; estimates: Estimate[] }
  | { id: number; kind: 'checked'; ok: boolean; errors: Diagnostic[]; warnings: Diagnostic[]; text: string }
  | { id: number; kind: 'timeline'; chart: Chart; from: number; to: number }
  | { id: number; kind: 'error'; message: string };
