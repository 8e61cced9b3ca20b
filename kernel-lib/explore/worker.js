'use strict';
// Worker thread for the explorer: explores one share of the root branches. The TypeScript sources
// are loaded through the project's transpile-only require hook (bin/ts-register.js).
const { parentPort, workerData } = require('worker_threads');
require(workerData.tsRegister);
const { exploreShare } = require(workerData.module);
parentPort.postMessage(exploreShare(workerData.task));
