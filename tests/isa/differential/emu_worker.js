'use strict';
// Worker thread for the differential test: runs a share of the cases in the emulator.
// The TypeScript sources are loaded through tsx's require hook.
const { parentPort, workerData } = require('worker_threads');
require(workerData.tsx).register();
const { runEmulatorSource } = require(workerData.emulator);
const out = workerData.cases.map(({ id, src }) => [id, runEmulatorSource(id, src)]);
parentPort.postMessage(out);
