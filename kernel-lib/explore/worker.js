'use strict';
// Worker thread of the explorer pool (pool.ts): explores one share of root branches per message.
// The TypeScript sources are loaded through the project's transpile-only require hook
// (bin/ts-register.js).
const { parentPort, workerData } = require('worker_threads');
require(workerData.tsRegister);
const { exploreShareCached, primeWorker } = require(workerData.module);

parentPort.on('message', ({ task, prime }) => {
  if (prime !== undefined) {
    primeWorker(prime); // no reply: the tasks that follow are what the pool waits for
    return;
  }
  let reply;
  try {
    reply = { result: exploreShareCached(task) };
  } catch (e) {
    reply = { error: e && e.stack ? e.stack : String(e) };
  }
  parentPort.postMessage(reply);
});
