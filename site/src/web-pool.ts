// The explorer's worker pool in a browser: Web Workers running worker.js (this bundle's worker
// entry), with the exports of kernel-lib/explore/pool.ts, which the site build replaces with this
// module. exploreDesign() therefore runs unchanged: it primes every worker with the assembled
// design and hands out shares, and each worker runs exploreShareCached(), the same unit of work as a
// Node worker thread. Shares are plain data, so they cross postMessage as they cross worker_threads.
import type * as NodePool from '../../kernel-lib/explore/pool';
import type { ShareResult, ShareTask } from '../../kernel-lib/explore/shares';

/** A share's result, with when (Date.now()) a worker took it and finished it. */
export interface TimedResult {
  result: ShareResult;
  started: number;
  finished: number;
}

/** What exploreDesign() needs of a pool (the same interface as the Node pool's). */
export interface SharePool {
  broadcast(message: unknown): void;
  run(tasks: readonly ShareTask[]): Promise<TimedResult[]>;
  close(): Promise<void>;
}

/** Shares finished and shares handed to the pools so far (for a progress bar). */
export type PoolProgress = (done: number, total: number) => void;

interface Pending {
  task: ShareTask;
  started: number;
  resolve: (r: TimedResult) => void;
  reject: (e: Error) => void;
}

let progress: PoolProgress | null = null;
let given = 0;
let finished = 0;

/** Report shares as they finish; the counts start again from zero. */
export function onPoolProgress(listener: PoolProgress | null): void {
  progress = listener;
  given = 0;
  finished = 0;
}

function workerScript(): string {
  // In a worker (the explorer's own) the pool starts more of the same script; on the page, worker.js.
  const g = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  if (g.document === undefined && g.location !== undefined) return g.location.href;
  return new URL('worker.js', g.document?.baseURI ?? 'http://localhost/').href;
}

/** The number of workers worth using here: one per logical core, at most 8. */
export function defaultWorkers(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(cores ?? 2, 8));
}

export function createPool(size: number): SharePool {
  return new ExplorerPool(size);
}

export class ExplorerPool implements SharePool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private failed: Error | null = null;

  constructor(size: number) {
    const script = workerScript();
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { name: `nmi-lab explorer ${i + 1}` });
      w.onmessage = (e: MessageEvent<{ result?: ShareResult; error?: string }>) => this.done(w, e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.fail(w, new Error(`explorer worker: ${e.message || 'failed to start'}`));
      };
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
    given += tasks.length;
    progress?.(finished, given);
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
    for (const w of this.all.splice(0)) w.terminate();
    this.idle.length = 0;
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
      else {
        finished++;
        progress?.(finished, given);
        p.resolve({ result: msg.result as ShareResult, started: p.started, finished: Date.now() });
      }
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

// The bundle swaps this module in for the Node one: keep the two interchangeable.
const sameCreatePool: typeof NodePool.createPool = createPool;
const sameDefaultWorkers: typeof NodePool.defaultWorkers = defaultWorkers;
void sameCreatePool;
void sameDefaultWorkers;
