// Worker thread of the explorer pool (pool.ts): explores one share of root branches per message.
import { parentPort } from 'worker_threads';
import { exploreShareCached, primeWorker, ShareTask, WorkerPrime } from './shares';

const port = parentPort;
if (port === null) throw new Error('explore/worker runs only as a worker thread (see pool.ts)');

port.on('message', ({ task, prime }: { task?: ShareTask; prime?: WorkerPrime }) => {
  if (prime !== undefined) {
    primeWorker(prime); // no reply: the tasks that follow are what the pool waits for
    return;
  }
  let reply;
  try {
    reply = { result: exploreShareCached(task as ShareTask) };
  } catch (e) {
    reply = { error: e instanceof Error && e.stack ? e.stack : String(e) };
  }
  port.postMessage(reply);
});
