// A pool of explorer worker threads. Each worker takes one share of one workload's root branches
// at a time and asks for the next when done, so a slow share never leaves the other cores idle.
// The pool lives as long as one exploreDesign() call: workers stay warm (JIT-compiled) from one
// workload to the next, and each keeps the kernel and explored states of the workload it is on.
import * as path from 'path';
import * as v8 from 'v8';
import { Worker } from 'worker_threads';
import type { ShareResult, ShareTask } from './explore';

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

/** Cumulative bytecode TurboFan may inline into one function, for explorer workers (see below). */
const WORKER_INLINING_BUDGET = 400;

export class ExplorerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private failed: Error | null = null;

  constructor(size: number) {
    // A fresh worker spends most of its first second waiting for TurboFan, and on two cores the
    // workers' compile jobs compete with their own work. A smaller inlining budget (V8's default
    // is 920 bytecodes) makes those compiles about a third cheaper. Depth 2 on linux-3.3, fresh
    // processes run alternately with and without it: about 8-10% faster; depth 3, where warm code
    // dominates, unchanged (31.1/28.6 s against 32.6/25.0 s). V8 flags are per process, so this
    // also applies to code compiled later in the calling process; it changes speed, never results.
    v8.setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${WORKER_INLINING_BUDGET}`);
    const root = path.resolve(__dirname, '..', '..');
    for (let i = 0; i < size; i++) {
      const w = new Worker(path.join(__dirname, 'worker.js'), {
        workerData: {
          tsRegister: path.join(root, 'bin', 'ts-register.js'),
          module: path.join(__dirname, 'explore.ts'),
        },
      });
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
