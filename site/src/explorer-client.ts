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

  /** The latest waiting request of each kind (a check does not replace a timeline). */
  private readonly queued = new Map<
    string,
    { body: RequestBody; resolve: (r: Final) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly script = 'worker.js') {}

  /**
   * The latest of a stream of requests (checks while typing, timelines while stepping): sent when
   * the worker is free; one of the same kind waiting is replaced by the newer one (and rejected
   * as Cancelled). The worker is never terminated, so it stays warm.
   */
  latest(body: RequestBody): Promise<Final> {
    if (this.pending === null) return this.send(body);
    this.queued.get(body.kind)?.reject(new Cancelled('superseded'));
    return new Promise<Final>((resolve, reject) => {
      this.queued.set(body.kind, { body, resolve, reject });
    });
  }

  private rejectQueued(why: string): void {
    for (const q of this.queued.values()) q.reject(new Cancelled(why));
    this.queued.clear();
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
    this.rejectQueued('cancelled');
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
      const [kind, q] = this.queued.entries().next().value ?? [null, null];
      if (kind !== null && q !== null) {
        this.queued.delete(kind);
        this.send(q.body).then(q.resolve, q.reject);
      }
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const p = this.pending;
      this.pending = null;
      this.worker?.terminate();
      this.worker = null;
      p?.reject(new Error(`the explorer worker failed: ${e.message || 'could not start worker.js'}`));
      this.rejectQueued('the worker failed');
    };
    this.worker = w;
    return w;
  }
}
