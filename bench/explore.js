// `node bench/explore.js DEPTH`: linux-3.3, every workload, at DEPTH, with a worker per core, run as
// `nmi-lab explore` runs it: plain Node on the compiled package (build/, so `npm run build` first)
// with the command's V8 tuning. Plain JavaScript on purpose: under a TypeScript loader (tsx) every
// worker thread would load the loader too (workers inherit the process's --import), which cost 40
// MiB and a few percent of the time the command itself never spends. Prints one JSON line.
'use strict';
const os = require('os');
const { exploreDesign } = require('../build/explore');
const { tuneForExploring } = require('../build/cli/explorer-tuning');

async function exploreBench(depth) {
  tuneForExploring();
  const t = process.hrtime.bigint();
  const reports = await exploreDesign({ design: 'linux-3.3', depth, workers: os.cpus().length, force: true });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const schedules = reports.reduce((a, r) => a + r.schedules, 0);
  const states = reports.reduce((a, r) => a + r.states, 0);
  return {
    ms: Math.round(ms),
    schedules,
    states,
    schedulesPerSecond: Math.round(schedules / (ms / 1000)),
    statesPerSecond: Math.round(states / (ms / 1000)),
    // Peak resident memory of the process over the run, worker threads included (maxRSS is in KiB).
    rssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const depth = Number(process.argv[2]);
if (!Number.isInteger(depth) || depth < 1) {
  process.stderr.write('usage: node bench/explore.js DEPTH\n');
  process.exit(2);
}
exploreBench(depth).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
