/// <reference lib="dom" />
// Driving the course in a real browser, for the browser tests and the benchmark: a Jupyter server
// from the project's environment on 127.0.0.1 (its own process group, killed whatever happens),
// Debian's Chromium through playwright-core, and JupyterLab / Notebook 7 pages driven through the
// application object they expose (`window.jupyterapp`, with expose_app_in_browser). Every wait
// has a bound and says what it saw when it runs out.
import { spawn, spawnSync } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { installClassicPlotly, jupyterEnv, jupyterExecutable, registerKernel } from './jupyter-env';

/** The classic Notebook 6 (Debian's), not the Notebook 7 of the project's environment. */
export const CLASSIC_NOTEBOOK = '/usr/bin/jupyter-notebook';

export type Front = 'lab' | 'notebook7' | 'classic';

export interface JupyterServer {
  front: Front;
  base: string;
  token: string;
  rootDir: string;
  /** The URL of a notebook (relative to rootDir) in this front end, with the token. */
  notebookUrl(file: string, front?: Front): string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * A page for driving Jupyter. Page functions are compiled by whatever runs the caller (ts-jest, tsx);
 * tsx names functions through an `__name` helper that the page lacks, so the page gets a no-op one.
 */
export async function newCoursePage(browser: Browser, viewport = { width: 1400, height: 1000 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript({ content: 'window.__name = function (f) { return f; };' });
  return page;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      resolve();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM'); // the server and the kernels it started
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export interface ServerOptions {
  front: Front;
  rootDir: string;
  /** Forget notebook signatures (an in-memory notary): every saved notebook opens untrusted. */
  untrusted?: boolean;
  startTimeoutMs?: number;
}

/** Starts a Jupyter server for the course and waits until it answers. */
export async function startJupyterServer(options: ServerOptions): Promise<JupyterServer> {
  registerKernel();
  const { front, rootDir } = options;
  const port = await freePort();
  const token = `nmi-lab-${Math.random().toString(36).slice(2)}`;
  // Lab's layout and settings from a scratch folder: a run never depends on, or changes, the user's.
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-jupyter-'));
  // No question about fetching Jupyter news (a toast over the notebook) and no update checks.
  const notifications = path.join(state, 'settings', '@jupyterlab', 'apputils-extension');
  fs.mkdirSync(notifications, { recursive: true });
  fs.writeFileSync(
    path.join(notifications, 'notification.jupyterlab-settings'),
    JSON.stringify({ fetchNews: 'false', checkForUpdates: false }),
  );
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--allow-root'] : [];
  const common = ['--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', ...asRoot];
  let command: string;
  let args: string[];
  if (front === 'classic') {
    if (spawnSync(CLASSIC_NOTEBOOK, ['--version'], { encoding: 'utf8' }).status !== 0)
      throw new Error(
        `the classic Notebook is not installed at ${CLASSIC_NOTEBOOK} (Debian: apt-get install -y jupyter-notebook; scripts/setup.sh does this)`,
      );
    installClassicPlotly();
    command = CLASSIC_NOTEBOOK;
    args = [
      ...common,
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${rootDir}`,
      ...(options.untrusted ? ['--NotebookNotary.db_file=:memory:'] : []),
    ];
  } else {
    // One server serves both front ends (JupyterLab at /lab, Notebook 7 at /tree and /notebooks):
    // both expose their application object and keep their state in the scratch folder.
    command = jupyterExecutable();
    args = [
      front === 'lab' ? 'lab' : 'notebook',
      ...common,
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${rootDir}`,
      ...['LabApp', 'JupyterNotebookApp'].flatMap((app) => [
        `--${app}.expose_app_in_browser=True`,
        `--${app}.workspaces_dir=${path.join(state, 'workspaces')}`,
        `--${app}.user_settings_dir=${path.join(state, 'settings')}`,
      ]),
      ...(options.untrusted ? ['--NotebookNotary.db_file=:memory:'] : []),
    ];
  }
  const child = spawn(command, args, {
    env: jupyterEnv(),
    cwd: rootDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => (log += String(d)));
  child.stderr?.on('data', (d) => (log += String(d)));
  let spawnError: Error | null = null;
  child.on('error', (e) => (spawnError = e));
  const base = `http://127.0.0.1:${port}`;
  const server: JupyterServer = {
    front,
    base,
    token,
    rootDir,
    notebookUrl: (file, which = front) =>
      `${base}/${which === 'lab' ? 'lab/tree' : 'notebooks'}/${file.split('/').map(encodeURIComponent).join('/')}?token=${token}`,
    log: () => log,
    stop: async () => {
      await killGroup(child);
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
  const end = Date.now() + (options.startTimeoutMs ?? 60000);
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${command}: ${(spawnError as Error).message}`);
    if (child.exitCode !== null) throw new Error(`${command} exited with code ${child.exitCode}:\n${log.slice(-2000)}`);
    if ((await status(`${base}/api/status?token=${token}`)) === 200) return server;
    if (Date.now() > end) {
      await server.stop();
      throw new Error(
        `the Jupyter server did not answer within ${(options.startTimeoutMs ?? 60000) / 1000} s:\n${log.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A fresh folder inside the project (dist/ is git-ignored; 'nmi-lab' resolves from there) holding copies of notebooks. */
export function scratchCopies(name: string, files: readonly string[]): string {
  const dir = path.join(PROJECT_ROOT, 'dist', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, path.basename(f)));
  return dir;
}

// ---- JupyterLab and Notebook 7 pages ---------------------------------------------------------

/** What a notebook run looked like, read from the notebook model and the page. */
export interface LabRunReport {
  /** Kernel ready (idle after start) -> the first code cell's execution finished, ms. */
  firstCellMs: number;
  /** Run All, from the command to the last cell finished, ms (includes the first cell). */
  runAllMs: number;
  /** The first chart output attached to the page -> its plotly SVG drawn, ms (null: no chart). */
  firstChartMs: number | null;
  codeCells: number;
  /** Outputs that are errors or stderr text: [cell index, text]. */
  problems: [number, string][];
  /** Chart outputs in the model, and charts drawn by the plotly renderer in the page. */
  chartOutputs: number;
  chartsDrawn: number;
  /** Stack diagram outputs in the model, and diagrams visible in the page. */
  stackOutputs: number;
  stacksVisible: number;
  /** Check cells, and those whose output shows their exercise id. */
  checkCells: number;
  checksVisible: number;
  /** Widest output content, and the output area's width, px. */
  widestOutputPx: number;
  outputAreaPx: number;
  /** Outputs wider than their area (hidden behind a scrollbar): [cell index, content px, area px]. */
  overflowing: [number, number, number][];
}

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** A chart drawn by jupyterlab-plotly: its output widget (.jp-RenderedPlotly) holding plotly's SVG. */
export const PLOTLY_RENDERED = '.jp-RenderedPlotly.js-plotly-plot';

/** Opens a notebook in Lab or Notebook 7 and waits until its kernel is idle. Returns when that happened (ms, page clock). */
export async function openInLab(
  page: Page,
  server: JupyterServer,
  file: string,
  options: { front?: 'lab' | 'notebook7'; timeoutMs?: number } = {},
): Promise<number> {
  const front = options.front ?? (server.front === 'notebook7' ? 'notebook7' : 'lab');
  const timeoutMs = options.timeoutMs ?? 120000;
  // `reset`: a fresh layout with only this notebook open (Lab otherwise restores earlier tabs).
  await page.goto(`${server.notebookUrl(file, front)}${front === 'lab' ? '&reset' : ''}`, { timeout: 60000 });
  try {
    await page.waitForFunction(
      () => {
        const app = (window as unknown as { jupyterapp?: LabApp }).jupyterapp;
        const panel = app?.shell?.currentWidget as NotebookPanel | undefined;
        const kernel = panel?.sessionContext?.session?.kernel;
        return !!(
          panel?.content?.widgets?.length &&
          kernel &&
          kernel.status === 'idle' &&
          kernel.connectionStatus === 'connected'
        );
      },
      undefined,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch (e) {
    const seen = await page
      .evaluate(() => {
        const app = (window as unknown as { jupyterapp?: LabApp }).jupyterapp;
        const panel = app?.shell?.currentWidget as NotebookPanel | undefined;
        const k = panel?.sessionContext?.session?.kernel;
        return `app ${app ? 'up' : 'missing'}, notebook ${panel?.content ? 'open' : 'not open'}, kernel ${k ? `${k.name} ${k.status}/${k.connectionStatus}` : 'none'}`;
      })
      .catch(() => 'page not readable');
    throw new Error(
      `${file}: the notebook and its kernel were not ready within ${timeoutMs / 1000} s (${seen}); server log:\n${server.log().slice(-1500)}`,
      { cause: e },
    );
  }
  return page.evaluate(() => performance.now());
}

// Minimal shapes of the Lab objects the page code touches (the page code runs in the browser).
interface LabApp {
  shell: { currentWidget: unknown };
  commands: { execute(id: string, args?: unknown): Promise<unknown> };
}
interface NotebookPanel {
  node: HTMLElement;
  sessionContext: {
    session?: { kernel?: { status: string; connectionStatus: string; name: string } };
    shutdown(): Promise<void>;
  };
  content: { widgets: LabCell[]; activeCellIndex: number };
  context: { save(): Promise<void> };
}
interface LabCell {
  node: HTMLElement;
  model: {
    type: string;
    executionCount: number | null;
    executionState?: string;
    trusted: boolean;
    getMetadata(key: string): unknown;
    outputs: {
      toJSON(): {
        output_type: string;
        name?: string;
        text?: string | string[];
        data?: Record<string, unknown>;
        traceback?: string[];
      }[];
      changed: { connect(fn: () => void): void };
    };
  };
}

/**
 * Clears the outputs, runs every cell, and waits for the last one; then reads the model and the
 * page. Timings come from the page's clock, sampled every 20 ms.
 */
export async function runAllInLab(page: Page, file: string, timeoutMs = 240000): Promise<LabRunReport> {
  // (Page functions are plain, not async: the test compiler may target a version that needs helpers.)
  await page.evaluate(() =>
    (window as unknown as { jupyterapp: LabApp }).jupyterapp.commands
      .execute('notebook:clear-all-cell-outputs')
      .then(() => undefined),
  );
  await page.evaluate(
    ([mime, rendered]) => {
      const w = window as unknown as { jupyterapp: LabApp; nmilabRun?: Record<string, number | null> };
      const panel = w.jupyterapp.shell.currentWidget as NotebookPanel;
      const code = panel.content.widgets.filter((c) => c.model.type === 'code');
      const run: Record<string, number | null> = {
        start: performance.now(),
        firstCell: null,
        chartArrived: null,
        chartDrawn: null,
        end: null,
      };
      w.nmilabRun = run;
      // A chart's arrival: the first plotly output entering the model (the kernel's message handled).
      for (const c of code)
        c.model.outputs.changed.connect(() => {
          if (run.chartArrived !== null) return;
          if (c.model.outputs.toJSON().some((o) => !!(o.data && o.data[mime]))) run.chartArrived = performance.now();
        });
      // Its drawing: plotly's SVG inside the renderer's widget.
      const observer = new MutationObserver(() => {
        if (run.chartDrawn === null && panel.node.querySelector(`${rendered} .main-svg`)) {
          run.chartDrawn = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(panel.node, { childList: true, subtree: true });
      const tick = () => {
        const now = performance.now();
        if (
          run.firstCell === null &&
          code[0] &&
          code[0].model.executionCount !== null &&
          code[0].model.executionState !== 'running'
        )
          run.firstCell = now;
        const done = code.every((c) => c.model.executionCount !== null && c.model.executionState !== 'running');
        const k = panel.sessionContext.session?.kernel;
        if (done && k && k.status === 'idle' && run.end === null) run.end = now;
        if (run.end === null) setTimeout(tick, 20);
      };
      void w.jupyterapp.commands.execute('notebook:run-all-cells');
      setTimeout(tick, 20);
    },
    [PLOTLY_MIME, PLOTLY_RENDERED] as const,
  );
  try {
    await page.waitForFunction(
      () => {
        const run = (window as unknown as { nmilabRun: Record<string, number | null> }).nmilabRun;
        return run.end !== null && (run.chartArrived === null || run.chartDrawn !== null);
      },
      undefined,
      { timeout: timeoutMs, polling: 200 },
    );
  } catch (e) {
    const seen = await page.evaluate(() => {
      const panel = (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel;
      const code = panel.content.widgets.filter((c) => c.model.type === 'code');
      const pending = code.filter(
        (c) => c.model.executionCount === null || c.model.executionState === 'running',
      ).length;
      return `${pending} of ${code.length} code cells not finished, kernel ${panel.sessionContext.session?.kernel?.status}`;
    });
    throw new Error(`${file}: Run All did not finish within ${timeoutMs / 1000} s (${seen})`, { cause: e });
  }
  const report = await page.evaluate(
    ([mime, rendered]) => {
      const w = window as unknown as { jupyterapp: LabApp; nmilabRun: Record<string, number> };
      const panel = w.jupyterapp.shell.currentWidget as NotebookPanel;
      const run = w.nmilabRun;
      const cells = panel.content.widgets;
      const problems: [number, string][] = [];
      let chartOutputs = 0;
      let stackOutputs = 0;
      let checkCells = 0;
      let checksVisible = 0;
      const visible = (el: Element) => {
        const r = (el as HTMLElement).getBoundingClientRect();
        return r.width > 0 && r.height > 0;
      };
      cells.forEach((cell, i) => {
        if (cell.model.type !== 'code') return;
        for (const o of cell.model.outputs.toJSON()) {
          const text = Array.isArray(o.text) ? o.text.join('') : (o.text ?? '');
          if (o.output_type === 'error') problems.push([i, (o.traceback ?? []).join('\n') || 'error']);
          if (o.output_type === 'stream' && o.name === 'stderr') problems.push([i, text]);
          if (o.data && o.data[mime]) chartOutputs++;
          const html = o.data && typeof o.data['text/html'] === 'string' ? (o.data['text/html'] as string) : '';
          if (html.includes('nmilab-stack')) stackOutputs += html.split('nmilab-stack').length - 1;
        }
        const meta = cell.model.getMetadata('nmi_lab') as { role?: string; exercise?: string } | undefined;
        if (meta?.role === 'check' && meta.exercise) {
          checkCells++;
          const area = cell.node.querySelector('.jp-OutputArea');
          if (area && visible(area) && (area.textContent ?? '').includes(meta.exercise)) checksVisible++;
        }
      });
      const chartsDrawn = Array.from(panel.node.querySelectorAll(rendered)).filter(
        (e) => !!e.querySelector('.main-svg'),
      ).length;
      const stacksVisible = Array.from(panel.node.querySelectorAll('.nmilab-stack')).filter(visible).length;
      let widest = 0;
      let areaPx = 0;
      const overflowing: [number, number, number][] = [];
      cells.forEach((cell, i) => {
        for (const out of Array.from(cell.node.querySelectorAll('.jp-OutputArea-output'))) {
          const el = out as HTMLElement;
          areaPx = Math.max(areaPx, el.clientWidth);
          widest = Math.max(widest, el.scrollWidth);
          if (el.scrollWidth > el.clientWidth + 1) overflowing.push([i, el.scrollWidth, el.clientWidth]);
        }
      });
      return {
        firstCellMs: run.firstCell - run.start,
        runAllMs: run.end - run.start,
        firstChartMs: run.chartArrived === null ? null : run.chartDrawn - run.chartArrived,
        codeCells: cells.filter((c) => c.model.type === 'code').length,
        problems,
        chartOutputs,
        chartsDrawn,
        stackOutputs,
        stacksVisible,
        checkCells,
        checksVisible,
        widestOutputPx: widest,
        outputAreaPx: areaPx,
        overflowing,
      };
    },
    [PLOTLY_MIME, PLOTLY_RENDERED] as const,
  );
  return { ...report, firstCellMs: Math.round(report.firstCellMs), runAllMs: Math.round(report.runAllMs) };
}

/** Saves the open notebook (Lab signs it, so it reopens trusted on this server). */
export async function saveInLab(page: Page): Promise<void> {
  await page.evaluate(() =>
    ((window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel).context.save(),
  );
}

/** Charts drawn by the plotly renderer now on the page, and chart outputs in the model. */
export async function chartsOnPage(page: Page): Promise<{ drawn: number; outputs: number; untrustedCells: number }> {
  return page.evaluate(
    ([mime, rendered]) => {
      const panel = (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel;
      let outputs = 0;
      let untrustedCells = 0;
      for (const c of panel.content.widgets) {
        if (c.model.type !== 'code') continue;
        if (!c.model.trusted) untrustedCells++;
        for (const o of c.model.outputs.toJSON()) if (o.data && o.data[mime]) outputs++;
      }
      const drawn = Array.from(panel.node.querySelectorAll(rendered)).filter(
        (e) => !!e.querySelector('.main-svg'),
      ).length;
      return { drawn, outputs, untrustedCells };
    },
    [PLOTLY_MIME, PLOTLY_RENDERED] as const,
  );
}

/** Shuts down the open notebook's kernel (the next notebook then has the machine to itself). */
export async function shutdownKernel(page: Page): Promise<void> {
  await page.evaluate(() =>
    (
      (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel
    ).sessionContext.shutdown(),
  );
}

/** Index of the first code cell with a chart output. */
export async function firstChartCell(page: Page): Promise<number> {
  return page.evaluate((mime) => {
    const panel = (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel;
    return panel.content.widgets.findIndex(
      (c) => c.model.type === 'code' && c.model.outputs.toJSON().some((o) => !!(o.data && o.data[mime])),
    );
  }, PLOTLY_MIME);
}

/** Runs one cell (by index) and waits until it finished. */
export async function runCellInLab(page: Page, index: number, timeoutMs = 60000): Promise<void> {
  const before = await page.evaluate((i) => {
    const w = window as unknown as { jupyterapp: LabApp };
    const panel = w.jupyterapp.shell.currentWidget as NotebookPanel;
    const count = panel.content.widgets[i].model.executionCount;
    panel.content.activeCellIndex = i;
    return w.jupyterapp.commands.execute('notebook:run-cell').then(() => count);
  }, index);
  await page.waitForFunction(
    ([i, was]) => {
      const panel = (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.currentWidget as NotebookPanel;
      const m = panel.content.widgets[i as number].model;
      const k = panel.sessionContext.session?.kernel;
      return (
        m.executionCount !== null && m.executionCount !== was && m.executionState !== 'running' && k?.status === 'idle'
      );
    },
    [index, before] as const,
    { timeout: timeoutMs, polling: 100 },
  );
}
