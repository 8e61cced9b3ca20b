// The playground's Web Worker (worker.js). One script, two jobs, told apart by the messages it gets:
// - the explorer, started by the page: explores, samples or checks a listing on request, with
//   exploreDesign() as the CLI runs it; its pool (web-pool.ts) starts more workers of this script;
// - a pool worker, started by the explorer: takes one share of root branches per message, exactly
//   like a Node worker thread (kernel-lib/explore/worker.ts).
// The page cancels by terminating the explorer, which ends its pool workers with it.
import { exploreShareCached, primeWorker } from '../../kernel-lib/explore/shares';
import type { ShareTask, WorkerPrime } from '../../kernel-lib/explore/shares';
import { assembleDesign, ExploreRefused, exploreDesign, formatDiagnostic, sampleDesign } from './library';
import type { WorkloadId } from './library';
import { checkEdited, resolveRef, shippedDesign } from './designs';
import type { DesignRef } from './designs';
import { defaultWorkers, onPoolProgress } from './web-pool';
import type { ExplorerReply, ExplorerRequest } from './protocol';
import { Session } from './session';
import { timelineChart } from './library';

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

function post(reply: ExplorerReply): void {
  scope.postMessage(reply);
}

/** The design, or a reply saying why there is none. */
function designOf(id: number, ref: DesignRef) {
  try {
    return resolveRef(ref);
  } catch (e) {
    post({ id, kind: 'error', message: (e as Error).message });
    return null;
  }
}

async function explore(r: Extract<ExplorerRequest, { kind: 'explore' }>): Promise<void> {
  const design = designOf(r.id, r.design);
  if (design === null) return;
  post({ id: r.id, kind: 'progress', phase: 'estimating the work', done: 0, total: 0 });
  onPoolProgress((done, total) => post({ id: r.id, kind: 'progress', phase: 'exploring', done, total }));
  try {
    const reports = await exploreDesign({
      design,
      workload: r.workload ?? undefined,
      depth: r.depth,
      exceptions: r.exceptions,
      force: r.force,
      workers: r.workers ?? defaultWorkers(),
    });
    post({ id: r.id, kind: 'explored', reports });
  } catch (e) {
    if (e instanceof ExploreRefused) post({ id: r.id, kind: 'refused', message: e.message, estimates: e.estimates });
    else post({ id: r.id, kind: 'error', message: (e as Error).message });
  } finally {
    onPoolProgress(null);
  }
}

function sample(r: Extract<ExplorerRequest, { kind: 'sample' }>): void {
  const design = designOf(r.id, r.design);
  if (design === null) return;
  post({
    id: r.id,
    kind: 'progress',
    phase: `sampling ${r.samples.toLocaleString('en-US')} schedules`,
    done: 0,
    total: 0,
  });
  try {
    const reports = sampleDesign({
      design,
      workload: (r.workload ?? undefined) as WorkloadId | undefined,
      depth: r.depth,
      exceptions: r.exceptions,
      samples: r.samples,
      seed: r.seed,
    });
    post({ id: r.id, kind: 'sampled', reports });
  } catch (e) {
    post({ id: r.id, kind: 'error', message: (e as Error).message });
  }
}

function check(r: Extract<ExplorerRequest, { kind: 'check' }>): void {
  try {
    const c = checkEdited(shippedDesign(r.base), r.text);
    const lines = (c.ok ? c.warnings : [...c.errors, ...c.warnings]).map(formatDiagnostic);
    post({
      id: r.id,
      kind: 'checked',
      ok: c.ok,
      errors: c.ok ? [] : c.errors,
      warnings: c.warnings,
      text: lines.join('\n'),
    });
  } catch (e) {
    post({ id: r.id, kind: 'error', message: (e as Error).message });
  }
}

function timeline(r: Extract<ExplorerRequest, { kind: 'timeline' }>): void {
  const design = designOf(r.id, r.design);
  if (design === null) return;
  try {
    const s = new Session({ design, workload: r.workload, userRsp: r.userRsp ?? undefined });
    s.setEvents(r.events);
    const trace = s.recordTrace(r.from, r.to);
    const m = s.machine;
    const chart = timelineChart(trace, {
      title: `${design.id} · ${r.workload}: steps ${r.from}–${r.to}`,
      symbolize: (a) => m.symbolize(a),
    });
    post({ id: r.id, kind: 'timeline', chart, from: r.from, to: r.to });
  } catch (e) {
    post({ id: r.id, kind: 'error', message: (e as Error).message });
  }
}

scope.onmessage = (e) => {
  const msg = e.data as ExplorerRequest | { task?: ShareTask; prime?: WorkerPrime };
  // A pool worker's messages, as in kernel-lib/explore/worker.ts.
  if ('prime' in msg && msg.prime !== undefined) {
    primeWorker(msg.prime);
    return;
  }
  if ('task' in msg && msg.task !== undefined) {
    let reply;
    try {
      reply = { result: exploreShareCached(msg.task) };
    } catch (err) {
      reply = { error: err instanceof Error && err.stack ? err.stack : String(err) };
    }
    scope.postMessage(reply);
    return;
  }
  const r = msg as ExplorerRequest;
  if (r.kind === 'explore') void explore(r);
  else if (r.kind === 'sample') sample(r);
  else if (r.kind === 'check') check(r);
  else if (r.kind === 'timeline') timeline(r);
  else if (r.kind === 'warm') {
    // The explorer's first work is assembling the design: done now, it is cached when asked for.
    try {
      assembleDesign(resolveRef(r.design));
    } catch {
      // A listing that does not assemble: the request that follows says so.
    }
  }
};
