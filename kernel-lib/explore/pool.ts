// A pool of explorer worker threads (Node's worker_threads). Each worker takes one share of one
// workload's root branches at a time and asks for the next when done, so a slow share never leaves
// the other cores idle. The pool lives as long as one exploreDesign() call: workers stay warm
// (JIT-compiled) from one workload to the next, and each keeps the kernel and explored states of
// the workload it is on.
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ShareResult, ShareTask } from './shares';

/** A share's result, with when (Date.now()) a worker took it and finished it. */
export interface TimedResult {
  result: ShareResult;
  started: number;
  finished: number;
}

interface Pending {
  task: ShareTask;
  started: number;
  resolve: (r: TimedResult) => void;
  reject: (e: Error) => void;
}

/** The number of worker threads worth using here. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(os.cpus().length, 8));
}

/** What exploreDesign() needs of a pool: the Node one here, or another runtime's (e.g. Web Workers). */
export interface SharePool {
  broadcast(message: unknown): void;
  run(tasks: readonly ShareTask[]): Promise<TimedResult[]>;
  close(): Promise<void>;
}

export function createPool(size: number): SharePool {
  return new ExplorerPool(size);
}

/**
 * A worker thread running worker.ts. From the compiled package that is worker.js next to this file;
 * from the TypeScript sources (tests, tsx), the worker first registers tsx's require hook.
 */
function startWorker(): Worker {
  if (path.extname(__filename) === '.js') return new Worker(path.join(__dirname, 'worker.js'));
  const tsx = JSON.stringify(require.resolve('tsx/cjs/api'));
  const entry = JSON.stringify(path.join(__dirname, 'worker.ts'));
  return new Worker(`require(${tsx}).register(); require(${entry});`, { eval: true });
}

export class ExplorerPool implements SharePool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private failed: Error | null = null;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker();
      w.on('message', (msg: { result?: ShareResult; error?: string }) => this.done(w, msg));
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(w, new Error(`explorer worker exited with ${code}`));
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Send every worker a message before its tasks (messages to a worker arrive in order). */
  broadcast(message: unknown): void {
    for (const w of this.all) w.postMessage(message);
  }

  /** Run tasks on the pool, in this order as workers become free; results in the order of `tasks`. */
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

  /** Stop every worker (the pool cannot be used afterwards). */
  async close(): Promise<void> {
    const workers = this.all.splice(0);
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as Worker;
      const p = this.queue.shift() as Pending;
      p.started = Date.now();
      this.busy.set(w, p);
      w.postMessage({ task: p.task });
    }
  }

  private done(w: Worker, msg: { result?: ShareResult; error?: string }): void {
    const p = this.busy.get(w);
    this.busy.delete(w);
    this.idle.push(w);
    if (p !== undefined) {
      if (msg.error !== undefined) p.reject(new Error(`explorer worker: ${msg.error}`));
      else p.resolve({ result: msg.result as ShareResult, started: p.started, finished: Date.now() });
    }
    this.dispatch();
  }

  private fail(w: Worker, e: Error): void {
    if (!this.all.includes(w)) return; // terminated by close()
    this.failed = e;
    const p = this.busy.get(w);
    this.busy.delete(w);
    p?.reject(e);
    for (const q of this.queue.splice(0)) q.reject(e);
  }
}
