// The explorer's worker pool in a browser: Web Workers running worker.js (this bundle's worker
// entry), with the exports of kernel-lib/explore/pool.ts, which the site build replaces with this
// module. exploreDesign() therefore runs unchanged: it primes every worker with the assembled
// design and hands out shares, and each worker runs exploreShareCached(), the same unit of work as a
// Node worker thread. Shares are plain data, so they cross postMessage as they cross worker_threads.
import type * as NodePool from '../../kernel-lib/explore/pool';
import { ShareQueue } from '../../kernel-lib/explore/share-queue';
import type { SharePool, TimedResult, WorkerReply } from '../../kernel-lib/explore/share-queue';
import type { ShareTask } from '../../kernel-lib/explore/shares';

export type { SharePool, TimedResult } from '../../kernel-lib/explore/share-queue';

/** Shares finished and shares handed to the pools so far (for a progress bar). */
export type PoolProgress = (done: number, total: number) => void;

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
  private readonly shares = new ShareQueue<Worker>(() => {
    finished++;
    progress?.(finished, given);
  });

  constructor(size: number) {
    const script = workerScript();
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { name: `nmi-lab explorer ${i + 1}` });
      w.onmessage = (e: MessageEvent<WorkerReply>) => this.shares.reply(w, e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.shares.fail(w, new Error(`explorer worker: ${e.message || 'failed to start'}`));
      };
      this.shares.add(w);
    }
  }

  broadcast(message: unknown): void {
    this.shares.broadcast(message);
  }

  run(tasks: readonly ShareTask[]): Promise<TimedResult[]> {
    given += tasks.length;
    progress?.(finished, given);
    return this.shares.run(tasks);
  }

  /** Stop every worker (the pool cannot be used afterwards). */
  async close(): Promise<void> {
    for (const w of this.shares.drain()) w.terminate();
  }
}

// The bundle swaps this module in for the Node one: keep the two interchangeable.
const sameCreatePool: typeof NodePool.createPool = createPool;
const sameDefaultWorkers: typeof NodePool.defaultWorkers = defaultWorkers;
void sameCreatePool;
void sameDefaultWorkers;
