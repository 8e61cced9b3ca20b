// Judges run in worker threads of the grader's process: a learner's answer can be a listing that
// makes the explorer work hard, or a schedule of thousands of events, so each judgement gets a time
// limit (the worker is terminated and replaced) and a heap limit, and one slow judgement does not
// hold up the others.
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { CheckVerdict, JudgeJob } from './judge';
import { BUILD_DIR } from './sandbox';

interface Pending {
  seq: number;
  job: JudgeJob;
  resolve: (v: CheckVerdict) => void;
}

/** The compiled worker: judges always run the build, like the learner's side. */
const WORKER = path.join(BUILD_DIR, 'grade', 'judge-worker.js');

export class JudgePool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, { p: Pending; timer: NodeJS.Timeout }>();
  private seq = 0;
  private live = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly memoryMb = 1024,
  ) {}

  judge(job: JudgeJob): Promise<CheckVerdict> {
    return new Promise((resolve) => {
      this.queue.push({ seq: ++this.seq, job, resolve });
      this.pump();
    });
  }

  private start(): Worker {
    const w = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: this.memoryMb } });
    this.live++;
    w.on('message', (msg: { seq: number; verdict: CheckVerdict }) => {
      const b = this.busy.get(w);
      if (!b || b.p.seq !== msg.seq) return;
      clearTimeout(b.timer);
      this.busy.delete(w);
      b.p.resolve(msg.verdict);
      this.idle.push(w);
      this.pump();
    });
    let dead = false;
    const fail = (why: string) => {
      if (dead) return;
      dead = true;
      const b = this.busy.get(w);
      this.busy.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      this.live--;
      if (b) {
        clearTimeout(b.timer);
        b.p.resolve({ check: b.p.job.check, ok: false, message: why });
      }
      this.pump();
    };
    w.on('error', (e) => fail(`the judge stopped: ${e.message}`));
    w.on('exit', () => fail('the judge stopped (out of memory?)'));
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let w = this.idle.pop();
      if (!w) {
        if (this.live >= this.size) return;
        w = this.start();
      }
      const p = this.queue.shift() as Pending;
      const worker = w;
      const timer = setTimeout(() => {
        if (this.busy.get(worker)?.p !== p) return;
        this.busy.delete(worker);
        this.live--;
        worker.removeAllListeners('exit');
        void worker.terminate();
        p.resolve({
          check: p.job.check,
          ok: false,
          message: `judging took longer than ${Math.round(this.timeoutMs / 1000)} s (an answer that makes the machine or the explorer run too long)`,
        });
        this.pump();
      }, this.timeoutMs);
      this.busy.set(worker, { p, timer });
      worker.postMessage({ seq: p.seq, job: p.job });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.busy.keys()];
    for (const b of this.busy.values()) clearTimeout(b.timer);
    await Promise.all(
      all.map((w) => {
        w.removeAllListeners('exit');
        return w.terminate();
      }),
    );
  }
}
