// How long the `nmi-lab` command takes to start: the wall time of fresh processes running
// `nmi-lab --help` and `nmi-lab designs --json` from the compiled package (build/), next to a bare
// `node -e 0` for the floor Node itself sets. Medians of several runs, alternating the three.
import { spawnSync } from 'child_process';
import * as path from 'path';

const BIN = path.join(__dirname, '..', 'bin', 'nmi-lab.js');

export interface CliStartFigures {
  node_start_ms: number;
  cli_help_ms: number;
  cli_designs_ms: number;
}

function wallMs(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function cliStart(runs = 9): CliStartFigures {
  const node: number[] = [];
  const help: number[] = [];
  const designs: number[] = [];
  wallMs([BIN, 'designs', '--json']); // warms the file cache, not counted
  for (let i = 0; i < runs; i++) {
    node.push(wallMs(['-e', '0']));
    help.push(wallMs([BIN, '--help']));
    designs.push(wallMs([BIN, 'designs', '--json']));
  }
  return {
    node_start_ms: Math.round(median(node)),
    cli_help_ms: Math.round(median(help)),
    cli_designs_ms: Math.round(median(designs)),
  };
}
