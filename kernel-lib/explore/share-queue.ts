// The scheduling half of an explorer pool: shares wait in order and go to whichever worker is
// free, each result comes back to the run() call that asked for it, and a failing worker fails
// what was waiting. It knows nothing of how a worker is started or talked to, so the Node pool
// (pool.ts, worker threads) and the playground's pool (Web Workers) both use it.
import type { ShareResult, ShareTask } from './shares';

/** A share's result, with when (Date.now()) a worker took it and finished it. */
export interface TimedResult {
  result: ShareResult;
  started: number;
  finished: number;
}

/** What exploreDesign() needs of a pool: the Node one (pool.ts), or another runtime's. */
export interface SharePool {
  broadcast(message: unknown): void;
  run(tasks: readonly ShareTask[]): Promise<TimedResult[]>;
  close(): Promise<void>;
}

/** What a worker answers for a share (worker.ts). */
export interface WorkerReply {
  result?: ShareResult;
  error?: string;
}

/** What the queue needs of a worker: Node's worker threads and Web Workers both have it. */
export interface ShareWorker {
  postMessage(message: unknown): void;
}

interface Pending {
  task: ShareTask;
  started: number;
  resolve: (r: TimedResult) => void;
  reject: (e: Error) => void;
}

export class ShareQueue<W extends ShareWorker> {
  private readonly idle: W[] = [];
  private readonly all: W[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<W, Pending>();
  private failed: Error | null = null;

  /** `onFinished`: called as each share's result arrives (a progress bar's tick). */
  constructor(private readonly onFinished?: () => void) {}

  /** A started worker, ready for shares. */
  add(w: W): void {
    this.all.push(w);
    this.idle.push(w);
  }

  /** Send every worker a message before its tasks (messages to a worker arrive in order). */
  broadcast(message: unknown): void {
    for (const w of this.all) w.postMessage(message);
  }

  /** Run tasks, in this order as workers become free; results in the order of `tasks`. */
  run(tasks: readonly ShareTask[]): Promise<TimedResult[]> {
    return Promise.all(
      tasks.map(
        (task) =>
          new Promise<TimedResult>((resolve, reject) => {
            if (this.failed !== null) {
              reject(this.failed);
              return;
            }
            this.queue.push({ task, started: 0, resolve, reject });
            this.dispatch();
          }),
      ),
    );
  }

  /** Forget every worker and return them, for the caller to stop (the queue cannot be used afterwards). */
  drain(): W[] {
    this.idle.length = 0;
    return this.all.splice(0);
  }

  /** A worker's answer to the share it was given. */
  reply(w: W, msg: WorkerReply): void {
    const p = this.busy.get(w);
    this.busy.delete(w);
    this.idle.push(w);
    if (p !== undefined) {
      if (msg.error !== undefined) p.reject(new Error(`explorer worker: ${msg.error}`));
      else {
        this.onFinished?.();
        p.resolve({ result: msg.result as ShareResult, started: p.started, finished: Date.now() });
      }
    }
    this.dispatch();
  }

  /** A worker failed: its share and every waiting one fail with `e`, and so does every later run(). */
  fail(w: W, e: Error): void {
    if (!this.all.includes(w)) return; // stopped by the caller after drain()
    this.failed = e;
    const p = this.busy.get(w);
    this.busy.delete(w);
    p?.reject(e);
    for (const q of this.queue.splice(0)) q.reject(e);
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as W;
      const p = this.queue.shift() as Pending;
      p.started = Date.now();
      this.busy.set(w, p);
      w.postMessage({ task: p.task });
    }
  }
}
