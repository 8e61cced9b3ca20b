// Runs a batch of cases through the Unicorn reference (unicorn_runner.py, one Python process,
// one GNU `as` run) and parses its JSON-lines output.
import { spawn, spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXEC_LAYOUT, GPR_NAMES, type GprName } from '../../../kernel-lib/exec';
import { batchSource, type DiffCase } from './generate';

export interface MachineState {
  regs: Record<GprName, bigint>;
  rflags: bigint;
}

export type Outcome = { ok: true; state: MachineState } | { ok: false; error: string };

/** The interpreter that has python3-unicorn (Debian's, not a pyenv one first on PATH). */
export const PYTHON = process.env.NMI_DIFF_PYTHON ?? '/usr/bin/python3';
export const RUNNER = path.join(__dirname, 'unicorn_runner.py');

export interface ReferenceRun {
  results: Map<number, Outcome>;
  /** Temp dir holding batch.S, batch.elf and unicorn.jsonl (removed by `cleanup`). */
  dir: string;
  /** Wall time of the reference process as it measured itself (GNU tools, Unicorn). */
  assembleMs: number;
  runMs: number;
  cleanup(): void;
}

/** Thrown when the reference cannot run at all (Unicorn, binutils or Python missing). */
export class ReferenceUnavailable extends Error {}

function prepare(cases: DiffCase[]): { dir: string; out: string; args: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-diff-'));
  const batch = path.join(dir, 'batch.S');
  const out = path.join(dir, 'unicorn.jsonl');
  fs.writeFileSync(batch, batchSource(cases));
  const args = [
    RUNNER,
    batch,
    out,
    '0x' + EXEC_LAYOUT.textBase.toString(16),
    '0x' + EXEC_LAYOUT.stackTop.toString(16),
    '0x' + EXEC_LAYOUT.stackSize.toString(16),
  ];
  return { dir, out, args };
}

/** Run the reference and wait for it. */
export function runReference(cases: DiffCase[], opts: { keep?: boolean } = {}): ReferenceRun {
  const { dir, out, args } = prepare(cases);
  const p = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return finish(p, dir, out, opts);
}

/** Run the reference in the background (so the emulator can run meanwhile). */
export function startReference(cases: DiffCase[], opts: { keep?: boolean } = {}): Promise<ReferenceRun> {
  const { dir, out, args } = prepare(cases);
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (status) => {
      const p = { pid: child.pid ?? 0, output: [], stdout, stderr, status, signal: null, error: spawnError };
      try {
        resolve(finish(p, dir, out, opts));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function finish(p: SpawnSyncReturns<string>, dir: string, out: string, opts: { keep?: boolean }): ReferenceRun {
  const cleanup = () => {
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  };
  if (p.error) {
    cleanup();
    throw new ReferenceUnavailable(
      `cannot start ${PYTHON} (${p.error.message}). The differential test needs Debian's python3 ` +
        'with python3-unicorn and binutils: apt-get install -y python3-unicorn binutils',
    );
  }
  if (p.status !== 0) {
    const msg = `reference runner failed (exit ${p.status}; batch kept in ${dir}):\n${p.stderr}`;
    throw new ReferenceUnavailable(
      p.status === 2 ? `${msg}\nInstall the reference tools: apt-get install -y python3-unicorn binutils` : msg,
    );
  }
  const results = new Map<number, Outcome>();
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { case: number; error?: string; regs?: Record<string, string>; rflags?: string };
    if (d.error !== undefined || !d.regs || !d.rflags) {
      results.set(d.case, { ok: false, error: d.error ?? 'no registers' });
      continue;
    }
    const regs = {} as Record<GprName, bigint>;
    for (const r of GPR_NAMES) regs[r] = BigInt(d.regs[r]);
    results.set(d.case, { ok: true, state: { regs, rflags: BigInt(d.rflags) } });
  }
  let assembleMs = -1;
  let runMs = -1;
  try {
    const t = JSON.parse(p.stdout.trim().split('\n').pop() ?? '{}') as { assemble_ms?: number; run_ms?: number };
    assembleMs = t.assemble_ms ?? -1;
    runMs = t.run_ms ?? -1;
  } catch {
    // timings are informational only
  }
  return { results, dir, assembleMs, runMs, cleanup };
}
