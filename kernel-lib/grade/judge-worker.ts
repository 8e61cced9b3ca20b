// A worker thread of the judge pool (judge-pool.ts): judges one check at a time.
import { parentPort } from 'worker_threads';
import { judgeCheck } from './judge';
import type { JudgeJob } from './judge';

parentPort!.on('message', (msg: { seq: number; job: JudgeJob }) => {
  judgeCheck(msg.job).then(
    (verdict) => parentPort!.postMessage({ seq: msg.seq, verdict }),
    (e) =>
      parentPort!.postMessage({
        seq: msg.seq,
        verdict: { check: msg.job.check, ok: false, message: `the judge failed: ${(e as Error).message}` },
      }),
  );
});
