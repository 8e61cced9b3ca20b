// The page's side of a worker.js explorer: one request at a time per client, progress as it comes,
// and cancel(), which terminates the worker (and its pool with it) and starts afresh next time.
import type { ExplorerReply, ExplorerRequest } from './protocol';

type Final = Exclude<ExplorerReply, { kind: 'progress' }>;
type Progress = Extract<ExplorerReply, { kind: 'progress' }>;
// Omit<> over a union, member by member.
type RequestBody = ExplorerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The request was cancelled (cancel(), or a newer request replaced it). */
export class Cancelled extends Error {}

export class ExplorerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending: {
    id: number;
    resolve: (r: Final) => void;
    reject: (e: Error) => void;
    progress?: (p: Progress) => void;
  } | null = null;

  private queued: { body: RequestBody; resolve: (r: Final) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly script = 'worker.js') {}

  /**
   * The latest of a stream of requests (checks while typing, timelines while stepping): sent when
   * the worker is free; one waiting is replaced by a newer one (and rejected as Cancelled). The
   * worker is never terminated, so it stays warm.
   */
  latest(body: RequestBody): Promise<Final> {
    if (this.pending === null) return this.send(body);
    this.queued?.reject(new Cancelled('superseded'));
    return new Promise<Final>((resolve, reject) => {
      this.queued = { body, resolve, reject };
    });
  }

  /** Whether a request is running. */
  get busy(): boolean {
    return this.pending !== null;
  }

  /**
   * Start the worker and give it something to prepare (no reply), unless it is busy: a request
   * sent later waits behind it, and finds its work done.
   */
  warm(body: RequestBody): void {
    if (this.pending !== null) return;
    this.start().postMessage({ ...body, id: 0 });
  }

  /** Send a request; an earlier one still running is cancelled first. */
  request(body: RequestBody, progress?: (p: Progress) => void): Promise<Final> {
    if (this.pending !== null) this.cancel();
    return this.send(body, progress);
  }

  private send(body: RequestBody, progress?: (p: Progress) => void): Promise<Final> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Final>((resolve, reject) => {
      this.pending = { id, resolve, reject, progress };
      w.postMessage({ ...body, id });
    });
  }

  /** Stop the running request now: the worker is terminated, with any pool it started. */
  cancel(): void {
    const p = this.pending;
    this.pending = null;
    this.worker?.terminate();
    this.worker = null;
    p?.reject(new Cancelled('cancelled'));
    this.queued?.reject(new Cancelled('cancelled'));
    this.queued = null;
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    const w = new Worker(this.script, { name: 'nmi-lab explorer' });
    w.onmessage = (e: MessageEvent<ExplorerReply>) => {
      const p = this.pending;
      if (p === null || e.data.id !== p.id) return;
      if (e.data.kind === 'progress') {
        p.progress?.(e.data);
        return;
      }
      this.pending = null;
      p.resolve(e.data);
      const q = this.queued;
      this.queued = null;
      if (q !== null) this.send(q.body).then(q.resolve, q.reject);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const p = this.pending;
      this.pending = null;
      this.worker?.terminate();
      this.worker = null;
      p?.reject(new Error(`the explorer worker failed: ${e.message || 'could not start worker.js'}`));
      this.queued?.reject(new Cancelled('the worker failed'));
      this.queued = null;
    };
    this.worker = w;
    return w;
  }
}
