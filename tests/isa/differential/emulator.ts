// Runs one case in the NMI Lab emulator through the public `execSource` API.
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as exec from '../../../kernel-lib/exec';
import { caseSource, type DiffCase } from './generate';
import type { Outcome } from './reference';

/** Each case is short and straight-line; anything near this budget is a bug. */
const MAX_STEPS = 10_000;

export function emulatorAvailable(): string | null {
  return typeof exec.execSource === 'function'
    ? null
    : 'kernel-lib/exec.ts does not export an implemented execSource yet (the emulator side is missing)';
}

export function runEmulator(c: DiffCase): Outcome {
  return runEmulatorSource(c.id, caseSource(c));
}

export function runEmulatorSource(id: number, src: string): Outcome {
  let r: exec.ExecResult;
  try {
    r = exec.execSource(src, { file: `case_${id}.S`, entry: '_start', maxSteps: MAX_STEPS });
  } catch (e) {
    return { ok: false, error: `execSource threw: ${(e as Error)?.stack ?? String(e)}` };
  }
  if (!r.ok) {
    const diags = r.diagnostics.map(
      (d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n    ${d.text}`,
    );
    return { ok: false, error: `did not assemble:\n${diags.join('\n')}` };
  }
  if (r.stop !== 'hlt' || !r.regs || r.rflags === undefined) {
    return {
      ok: false,
      error: `stopped with '${r.stop}' after ${r.steps} steps at rip=0x${r.rip?.toString(16)}: ${r.message ?? ''}`,
    };
  }
  return { ok: true, state: { regs: r.regs, rflags: r.rflags } };
}

/**
 * Run cases in the emulator on `workers` worker threads (0: on this thread). Worker threads load
 * the TypeScript with the project's plain transpile hook, which runs markedly faster than code
 * under jest's module sandbox; CI has 2 cores. A worker that fails to start is replaced by
 * running its share here.
 */
export async function runEmulatorParallel(cases: DiffCase[], workers: number): Promise<Map<number, Outcome>> {
  const results = new Map<number, Outcome>();
  if (workers <= 0) {
    for (const c of cases) results.set(c.id, runEmulator(c));
    return results;
  }
  const shares: DiffCase[][] = Array.from({ length: workers }, () => []);
  cases.forEach((c, i) => shares[i % shares.length].push(c));
  const pending = shares.map((share) =>
    runInWorker(share).catch(() => {
      const m = new Map<number, Outcome>();
      for (const c of share) m.set(c.id, runEmulator(c));
      return m;
    }),
  );
  for (const m of await Promise.all(pending)) for (const [k, v] of m) results.set(k, v);
  return results;
}

function runInWorker(share: DiffCase[]): Promise<Map<number, Outcome>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'emu_worker.js'), {
      workerData: {
        tsx: require.resolve('tsx/cjs/api'),
        emulator: path.join(__dirname, 'emulator.ts'),
        cases: share.map((c) => ({ id: c.id, src: caseSource(c) })),
      },
    });
    w.once('message', (msg: Array<[number, Outcome]>) => {
      resolve(new Map(msg));
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`emulator worker exited with ${code}`));
    });
  });
}
