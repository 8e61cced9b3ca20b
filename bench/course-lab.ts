// The course in JupyterLab, per chapter (docs/performance.md, "Course in JupyterLab", says how to
// read these figures):
//   first_cell_ms   kernel ready (idle after its start) -> the first code cell finished
//   first_chart_ms  the first chart's output in the notebook model -> jupyterlab-plotly's SVG drawn
//   run_all_ms      Run All, from the command to the last cell finished (kernel already started)
//   notebook_kb     the notebook as JupyterLab saves it after Run All
//   export_kb       that notebook's HTML export (the course's template, plotly.js inlined once)
//   compile_ms      tslab's type-check and emit of the first cell alone, in a fresh process: the
//                   part of first_cell_ms that is compilation (the rest runs the cell)
// Every run starts a fresh kernel in a fresh browser context (empty caches): "cold". Then the same
// context opens the chapter again with another fresh kernel: "warm" (plotly.js and JupyterLab
// already in the browser's caches), the usual case after a learner's first chapter. Figures are
// medians over --runs runs (default 3); chapters run one after another, never two at once.
//
// usage: tsx bench/course-lab.ts [--runs N] [--chapters 02,05] [--json]
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../kernel-lib/lessons/course-tree';
import { plotlyBundlePath } from '../kernel-lib/view/chart';
import { pythonExecutable } from '../scripts/course/jupyter-env';
import {
  openInLab,
  runAllInLab,
  saveInLab,
  scratchCopies,
  shutdownKernel,
  startJupyterServer,
} from '../scripts/course/jupyter-driver';
import { launchChromium } from '../scripts/chromium';
import type { JupyterServer, LabRunReport } from '../scripts/course/jupyter-driver';

export interface ChapterFigures {
  chapter: string;
  runs: number;
  first_cell_ms: number;
  first_cell_warm_ms: number;
  first_chart_ms: number | null;
  first_chart_warm_ms: number | null;
  run_all_ms: number;
  run_all_warm_ms: number;
  notebook_kb: number;
  export_kb: number;
  compile_ms: number;
  /** The host's 1-minute load average when the chapter's runs started and ended (2 cores here: above 2 means queueing). */
  load: [number, number];
  /** Every run's figures, cold then warm, for the record. */
  samples: {
    cold: Pick<LabRunReport, 'firstCellMs' | 'firstChartMs' | 'runAllMs'>;
    warm: Pick<LabRunReport, 'firstCellMs' | 'firstChartMs' | 'runAllMs'>;
  }[];
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function medianOrNull(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : Math.round(median(v));
}

/** tslab's compile of a notebook's first code cell, in a fresh Node process inside the project. */
function compileFirstCell(dir: string, file: string): number {
  const script = `
const { performance } = require('perf_hooks');
const conv = require('tslab/dist/converter').createConverter({ isJS: false, isBrowser: false });
const nb = JSON.parse(require('fs').readFileSync(${JSON.stringify(path.join(dir, file))}, 'utf8'));
const cell = nb.cells.find((c) => c.cell_type === 'code');
const t = performance.now();
const out = conv.convert('', [].concat(cell.source).join(''));
const ms = performance.now() - t;
if (out.diagnostics.length) throw new Error(out.diagnostics.map((d) => d.messageText).join('; '));
console.log(JSON.stringify({ ms }));
conv.close();`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string).ms;
}

function exportSize(notebook: string, html: string): number {
  const script = [
    'import sys, nbformat',
    `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'scripts', 'course'))})`,
    'from run_notebook import export_html',
    'export_html(nbformat.read(sys.argv[1], as_version=4), sys.argv[2], sys.argv[3])',
  ].join('\n');
  execFileSync(pythonExecutable(), ['-c', script, notebook, html, plotlyBundlePath()], { stdio: 'pipe' });
  return fs.statSync(html).size;
}

async function oneRun(browser: Browser, server: JupyterServer, dir: string, file: string) {
  const context = await browser.newContext({ viewport: { width: 1320, height: 1000 } });
  try {
    const page = await context.newPage();
    await page.addInitScript({ content: 'window.__name = function (f) { return f; };' });
    await openInLab(page, server, file);
    const cold = await runAllInLab(page, file);
    if (cold.problems.length > 0) throw new Error(`${file}: ${cold.problems.map((p) => p[1]).join('\n')}`);
    await saveInLab(page);
    const saved = path.join(dir, file);
    const notebookBytes = fs.statSync(saved).size;
    const exportBytes = exportSize(saved, path.join(dir, file.replace(/\.ipynb$/, '.html')));
    await shutdownKernel(page);
    await openInLab(page, server, file);
    const warm = await runAllInLab(page, file);
    await shutdownKernel(page);
    return { cold, warm, notebookBytes, exportBytes };
  } finally {
    await context.close();
  }
}

export async function labFigures(options: { runs?: number; chapters?: string[] } = {}): Promise<ChapterFigures[]> {
  const runs = options.runs ?? 3;
  const all = fs
    .readdirSync(path.join(PROJECT_ROOT, 'notebooks'))
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const chapters = options.chapters ? all.filter((f) => options.chapters!.some((c) => f.startsWith(c))) : all;
  if (chapters.length === 0) throw new Error(`no chapter matches ${options.chapters?.join(', ')}`);
  const dir = scratchCopies(
    'bench-lab',
    chapters.map((f) => `notebooks/${f}`),
  );
  const server = await startJupyterServer({ front: 'lab', rootDir: dir });
  const browser = await launchChromium('the JupyterLab benchmark');
  const figures: ChapterFigures[] = [];
  try {
    for (const file of chapters) {
      const loadBefore = os.loadavg()[0];
      const samples: Awaited<ReturnType<typeof oneRun>>[] = [];
      const compiles: number[] = [];
      for (let r = 0; r < runs; r++) {
        // A fresh copy each time: Run All starts from the unexecuted notebook.
        fs.copyFileSync(path.join(PROJECT_ROOT, 'notebooks', file), path.join(dir, file));
        samples.push(await oneRun(browser, server, dir, file));
        compiles.push(compileFirstCell(dir, file));
      }
      const pick = (r: LabRunReport) => ({
        firstCellMs: r.firstCellMs,
        firstChartMs: r.firstChartMs === null ? null : Math.round(r.firstChartMs),
        runAllMs: r.runAllMs,
      });
      figures.push({
        chapter: file.replace(/\.ipynb$/, ''),
        runs,
        first_cell_ms: Math.round(median(samples.map((s) => s.cold.firstCellMs))),
        first_cell_warm_ms: Math.round(median(samples.map((s) => s.warm.firstCellMs))),
        first_chart_ms: medianOrNull(samples.map((s) => s.cold.firstChartMs)),
        first_chart_warm_ms: medianOrNull(samples.map((s) => s.warm.firstChartMs)),
        run_all_ms: Math.round(median(samples.map((s) => s.cold.runAllMs))),
        run_all_warm_ms: Math.round(median(samples.map((s) => s.warm.runAllMs))),
        notebook_kb: Math.round(median(samples.map((s) => s.notebookBytes)) / 1024),
        export_kb: Math.round(median(samples.map((s) => s.exportBytes)) / 1024),
        compile_ms: Math.round(median(compiles)),
        load: [Number(loadBefore.toFixed(1)), Number(os.loadavg()[0].toFixed(1))],
        samples: samples.map((s) => ({ cold: pick(s.cold), warm: pick(s.warm) })),
      });
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
  return figures;
}

/** The table `npm run bench` prints. */
export function labTable(figures: readonly ChapterFigures[]): string {
  const cols: [string, (f: ChapterFigures) => string][] = [
    ['chapter', (f) => f.chapter],
    ['first cell', (f) => `${f.first_cell_ms} / ${f.first_cell_warm_ms}`],
    ['compile', (f) => String(f.compile_ms)],
    ['first chart', (f) => (f.first_chart_ms === null ? '-' : `${f.first_chart_ms} / ${f.first_chart_warm_ms}`)],
    ['Run All', (f) => `${f.run_all_ms} / ${f.run_all_warm_ms}`],
    ['notebook KB', (f) => String(f.notebook_kb)],
    ['export KB', (f) => String(f.export_kb)],
    ['host load', (f) => `${f.load[0]}-${f.load[1]}`],
  ];
  const widths = cols.map(([h, get]) => Math.max(h.length, ...figures.map((f) => get(f).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `JupyterLab, per chapter: medians of ${figures[0]?.runs ?? 0} fresh runs; times in ms, cold / warm browser caches`,
    line(cols.map(([h]) => h)),
    line(widths.map((w) => '-'.repeat(w))),
    ...figures.map((f) => line(cols.map(([, get]) => get(f)))),
    'targets: first cell < 2000, first chart < 1000, Run All of chapter 5 < 12000, notebook < 500 KB, export < 5000 KB',
    `host load: the 1-minute load average before and after the chapter's runs, on ${os.cpus().length} cores`,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(value('--runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive whole number');
  const chapters = value('--chapters')?.split(',');
  const figures = await labFigures({ runs, chapters });
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(figures)}\n` : `${labTable(figures)}\n`);
}

if (require.main === module)
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
