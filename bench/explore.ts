// Explorer benchmarks: linux-3.3, every workload, at a given depth, with a worker per core, run as
// `nmi-lab explore` runs it: the compiled package (build/, so `npm run build` first) with the
// command's V8 tuning.
import * as os from 'os';
import { exploreDesign } from '../build/explore';
import { tuneForExploring } from '../build/cli/explorer-tuning';

export interface ExploreFigures {
  ms: number;
  schedules: number;
  states: number;
  schedulesPerSecond: number;
  statesPerSecond: number;
  rssMiB: number;
}

export async function exploreBench(depth: number): Promise<ExploreFigures> {
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
