// Executes notebooks headless with a real Jupyter client and the tslab kernel, two at a time,
// writing executed copies and HTML write-ups. Each notebook runs in its own Python process
// (scripts/course/run_notebook.py, nbclient + nbconvert, from the project's .venv/) with its own
// kernel.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { plotlyBundlePath } from '../../kernel-lib/view/chart';
import { jupyterEnv, pythonExecutable, registerKernel } from './jupyter-env';

export interface NotebookProblem {
  /** Cell index in the notebook (null: the run as a whole failed, e.g. the kernel died). */
  cell: number | null;
  id: string | null;
  kind: 'stderr' | 'error' | 'runner' | 'timeout';
  text: string;
}

export interface NotebookRun {
  /** Relative to the root, e.g. notebooks/00-tour.ipynb. */
  notebook: string;
  ok: boolean;
  /** Kernel start plus execution, as measured by the Python runner. */
  seconds: number;
  /** Wall time of the whole child process (Python start, kernel start, execution, HTML export). */
  wallSeconds: number;
  problems: NotebookProblem[];
  executed: string;
  html: string;
}

export interface RunOptions {
  root?: string;
  /** Where executed copies and HTML go (default dist/notebooks). */
  outDir?: string;
  /** Notebooks run at once (default 2: one per core here; each kernel is one busy Node process). */
  concurrency?: number;
  /** Per-cell timeout in seconds (default 120). */
  cellTimeout?: number;
  /** Whole-notebook timeout in seconds (default 600). */
  notebookTimeout?: number;
  /** Called as each notebook finishes. */
  onResult?: (run: NotebookRun) => void;
}

const RUNNER_SCRIPT = path.join('scripts', 'course', 'run_notebook.py');

/** Runs one notebook. Never throws for a notebook's own failures: they are in `problems`. */
export function runNotebook(notebook: string, options: RunOptions = {}): Promise<NotebookRun> {
  const root = options.root ?? PROJECT_ROOT;
  const outDir = options.outDir ?? path.join(root, 'dist', 'notebooks');
  const rel = path.relative(root, path.resolve(root, notebook));
  const base = rel.replace(/^notebooks[\\/]/, '').replace(/\.ipynb$/, '');
  const executed = path.join(outDir, `${base}.ipynb`);
  const html = path.join(outDir, `${base}.html`);
  fs.mkdirSync(path.dirname(executed), { recursive: true });
  const args = [
    path.join(root, RUNNER_SCRIPT),
    path.join(root, rel),
    executed,
    '--html',
    html,
    '--plotly-js',
    plotlyBundlePath(),
    '--timeout',
    String(options.cellTimeout ?? 120),
  ];
  const started = Date.now();
  let python: string;
  try {
    python = pythonExecutable();
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const problem: NotebookProblem = { cell: null, id: null, kind: 'runner', text };
    return Promise.resolve({
      notebook: rel,
      ok: false,
      seconds: 0,
      wallSeconds: 0,
      problems: [problem],
      executed,
      html,
    });
  }
  return new Promise((resolve) => {
    const child = spawn(python, args, {
      cwd: root,
      env: jupyterEnv(root, { NMI_LAB_STRICT_CHECKS: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let timedOut = false;
    const limit = (options.notebookTimeout ?? 600) * 1000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limit);
    const finish = (code: number | null, spawnError?: Error) => {
      clearTimeout(timer);
      const wallSeconds = (Date.now() - started) / 1000;
      const lastLine = stdout.trim().split('\n').pop() ?? '';
      let parsed: { ok: boolean; seconds: number; problems: NotebookProblem[] } | null;
      try {
        parsed = JSON.parse(lastLine);
      } catch {
        parsed = null;
      }
      const problems: NotebookProblem[] = parsed ? parsed.problems : [];
      if (timedOut)
        problems.push({
          cell: null,
          id: null,
          kind: 'timeout',
          text: `the notebook did not finish within ${limit / 1000} s`,
        });
      if (spawnError)
        problems.push({
          cell: null,
          id: null,
          kind: 'runner',
          text: `cannot start ${python}: ${spawnError.message}`,
        });
      else if (!parsed && !timedOut)
        problems.push({
          cell: null,
          id: null,
          kind: 'runner',
          text: `the runner exited with ${code} and no report:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`,
        });
      resolve({
        notebook: rel,
        ok: problems.length === 0 && code === 0,
        seconds: parsed ? parsed.seconds : wallSeconds,
        wallSeconds,
        problems,
        executed,
        html,
      });
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code));
  });
}

/** Runs notebooks with at most `concurrency` at once; results in the order given. */
export async function runNotebooks(notebooks: string[], options: RunOptions = {}): Promise<NotebookRun[]> {
  registerKernel(options.root ?? PROJECT_ROOT);
  const results: NotebookRun[] = new Array(notebooks.length);
  let next = 0;
  const worker = async () => {
    while (next < notebooks.length) {
      const i = next++;
      results[i] = await runNotebook(notebooks[i], options);
      options.onResult?.(results[i]);
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 2, notebooks.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

/** A failure report a learner or CI log can act on: notebook, cell, and the kernel's own words. */
export function formatRun(run: NotebookRun): string {
  const head = `${run.ok ? 'ok  ' : 'FAIL'} ${run.notebook} (${run.seconds.toFixed(1)} s kernel, ${run.wallSeconds.toFixed(1)} s wall)`;
  if (run.ok) return head;
  const details = run.problems.map((p) => {
    const where = p.cell === null ? 'run' : `cell ${p.cell}${p.id ? ` [${p.id}]` : ''}`;
    const text =
      p.text.length > 3000 ? `${p.text.slice(0, 3000)}\n... (${p.text.length - 3000} more characters)` : p.text;
    return `  ${where}: ${p.kind}\n${text.replace(/^/gm, '    ')}`;
  });
  return [head, ...details, `  executed copy: ${run.executed}`].join('\n');
}
