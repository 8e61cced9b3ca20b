// A pool of explorer worker threads (Node's worker_threads). Each worker takes one share of one
// workload's root branches at a time and asks for the next when done, so a slow share never leaves
// the other cores idle. The pool lives as long as one exploreDesign() call: workers stay warm
// (JIT-compiled) from one workload to the next, and each keeps the kernel and explored states of
// the workload it is on.
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { ShareQueue } from './share-queue';
import type { SharePool, TimedResult, WorkerReply } from './share-queue';
import type { ShareTask } from './shares';

export type { SharePool, TimedResult } from './share-queue';

/** The number of worker threads worth using here. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(os.cpus().length, 8));
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
  private readonly shares = new ShareQueue<Worker>();

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker();
      w.on('message', (msg: WorkerReply) => this.shares.reply(w, msg));
      w.on('error', (e) => this.shares.fail(w, e));
      w.on('exit', (code) => {
        if (code !== 0) this.shares.fail(w, new Error(`explorer worker exited with ${code}`));
      });
      this.shares.add(w);
    }
  }

  broadcast(message: unknown): void {
    this.shares.broadcast(message);
  }

  run(tasks: readonly ShareTask[]): Promise<TimedResult[]> {
    return this.shares.run(tasks);
  }

  /** Stop every worker (the pool cannot be used afterwards). */
  async close(): Promise<void> {
    await Promise.all(this.shares.drain().map((w) => w.terminate()));
  }
}
