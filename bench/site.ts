// `npm run bench:site [-- --json] [-- --runs N]`: the playground's figures, measured in Debian's
// Chromium (headless, playwright-core) against the site built by scripts/site-build.js and served
// from 127.0.0.1:
//   - bundle size: main.js + worker.js (before plotly), and gzip -9 of each (about what a static
//     host sends); plotly.min.js on its own (loaded once, when the first chart is drawn);
//   - time to interactive: navigation start to the page ready (kernel built, views drawn, keys
//     live), each run in a fresh browser context (nothing cached);
//   - explore linux-3.3, all workloads, depth 2, in the browser's Web Workers: click to reports,
//     each run in a fresh page; the same exploration by the CLI in a fresh Node process (one
//     worker thread per core, as the CLI does) alternating with it, for comparison;
//   - step latency: key press (the event's timestamp) to the redrawn views, and to the next frame
//     after them, over many → and ← presses in the middle of a nested NMI.
// Medians of several fresh runs. On a shared, busy machine these move a lot between runs: report
// them with the machine's load, which this prints.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'http';
import { launchChromium } from '../scripts/chromium';
import type { Browser, Page } from 'playwright-core';
import { spawnSync } from 'child_process';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildSite } = require('../scripts/site-build.js') as {
  buildSite(o: { out: string }): Promise<{ sizes: Record<string, { bytes: number; gzip: number }> }>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { serveSite } = require('../scripts/site-serve.js') as {
  serveSite(dir: string, port?: number): Promise<{ server: Server; url: string }>;
};

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function fresh(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction('window.nmiLab && window.nmiLab.ready', undefined, { timeout: 60000 });
  return page;
}

async function timeToInteractive(browser: Browser, base: string, runs: number): Promise<number[]> {
  const out: number[] = [];
  // One untimed visit first: the browser's own start-up is not the page's.
  await (await fresh(browser, base)).context().close();
  for (let i = 0; i < runs; i++) {
    const page = await fresh(browser, `${base}#d=linux-3.3&w=kernel`);
    out.push((await page.evaluate('window.nmiLab.readyAt')) as number);
    await page.context().close();
  }
  return out;
}

async function exploreInBrowser(browser: Browser, base: string): Promise<{ ms: number; schedules: number }> {
  const page = await fresh(browser, `${base}#d=linux-3.3&w=kernel`);
  await page.click('#tab-explore');
  await page.selectOption('#x-workload', '');
  await page.fill('#x-depth', '2');
  await page.fill('#x-exceptions', '1');
  await page.click('#x-run');
  await page.waitForFunction('window.nmiLab.explored >= 1', undefined, { timeout: 300000 });
  const ms = (await page.evaluate('window.nmiLab.exploreMs')) as number;
  const reports = (await page.evaluate('window.nmiLab.reports')) as { schedules: number }[];
  await page.context().close();
  if (reports.length !== 4) throw new Error(`expected 4 workload reports, got ${reports.length}`);
  return { ms, schedules: reports.reduce((a, r) => a + r.schedules, 0) };
}

/** The CLI in a fresh process, as cold as a fresh page: `nmi-lab explore linux-3.3 --depth 2 --json`. */
function exploreInNode(): { ms: number; schedules: number } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      path.join(__dirname, '..', 'bin', 'nmi-lab.js'),
      'explore',
      'linux-3.3',
      '--depth',
      '2',
      '--exceptions',
      '1',
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  // Exit status 1 means "violations found" (linux-3.3 has some); 2 and up are errors.
  if (r.status === null || r.status > 1) throw new Error(`nmi-lab explore failed: ${r.stderr}`);
  const out = r.stdout;
  const reports = JSON.parse(out) as { schedules: number }[];
  return { ms: performance.now() - t0, schedules: reports.reduce((a, r) => a + r.schedules, 0) };
}

async function stepLatency(
  browser: Browser,
  base: string,
  presses: number,
): Promise<{ views: number[]; frame: number[] }> {
  // The middle of linux-3.3's nested NMI (lessons/05): three events, the copied frame rewritten.
  const page = await fresh(browser, `${base}#d=linux-3.3&w=kernel&s=nmi@1,bp@58,nmi@128&at=130`);
  for (let i = 0; i < presses; i++) {
    // Forward and back over the nested NMI's entry; a pause like a person's between presses.
    await page.keyboard.press(i % 40 < 20 ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForTimeout(20);
  }
  await page.waitForTimeout(200);
  const views = (await page.evaluate('window.nmiLab.latencies')) as number[];
  const frame = (await page.evaluate('window.nmiLab.frameLatencies')) as number[];
  await page.context().close();
  return { views, frame };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
  const load = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-site-bench-'));
  const { sizes } = await buildSite({ out: dir });
  const { server, url } = await serveSite(dir, 0);
  const browser = await launchChromium('the playground benchmark');
  try {
    const tti = await timeToInteractive(browser, url, runs);
    const browserRuns: number[] = [];
    const nodeRuns: number[] = [];
    const workers = Math.max(1, Math.min(os.cpus().length, 8));
    const exploreRuns = Math.max(3, Math.ceil(runs / 2));
    let schedules = 0;
    for (let i = 0; i < exploreRuns; i++) {
      const b = await exploreInBrowser(browser, url);
      const n = exploreInNode();
      if (b.schedules !== n.schedules)
        throw new Error(`the browser explored ${b.schedules} schedules, Node ${n.schedules}`);
      schedules = b.schedules;
      browserRuns.push(b.ms);
      nodeRuns.push(n.ms);
    }
    const steps = await stepLatency(browser, url, 200);
    const own = sizes['main.js'].bytes + sizes['worker.js'].bytes;
    const ownGzip = sizes['main.js'].gzip + sizes['worker.js'].gzip;
    const figures = {
      machine: { cores: os.cpus().length, loadavg: load.map((l) => Number(l.toFixed(2))) },
      bundle: {
        mainBytes: sizes['main.js'].bytes,
        mainGzip: sizes['main.js'].gzip,
        workerBytes: sizes['worker.js'].bytes,
        workerGzip: sizes['worker.js'].gzip,
        beforePlotlyBytes: own,
        beforePlotlyGzip: ownGzip,
        plotlyBytes: sizes['plotly.min.js'].bytes,
        plotlyGzip: sizes['plotly.min.js'].gzip,
      },
      timeToInteractiveMs: { median: median(tti), runs: tti.map(Math.round) },
      exploreLinux33Depth2: {
        schedules,
        browserMs: { median: median(browserRuns), runs: browserRuns.map(Math.round) },
        nodeMs: { median: median(nodeRuns), runs: nodeRuns.map(Math.round), workers },
      },
      stepLatencyMs: {
        presses: steps.views.length,
        views: { median: median(steps.views), p95: quantile(steps.views, 0.95) },
        nextFrame: { median: median(steps.frame), p95: quantile(steps.frame, 0.95) },
      },
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      return;
    }
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `machine: ${figures.machine.cores} cores, load average ${figures.machine.loadavg.join(' ')} (shared: figures vary between runs)`,
      `bundle before plotly: ${kb(own)} (gzip ${kb(ownGzip)}): main.js ${kb(sizes['main.js'].bytes)} (gzip ${kb(sizes['main.js'].gzip)}), worker.js ${kb(sizes['worker.js'].bytes)} (gzip ${kb(sizes['worker.js'].gzip)}); target < 1.5 MB`,
      `plotly.min.js, loaded once with the first chart: ${kb(sizes['plotly.min.js'].bytes)} (gzip ${kb(sizes['plotly.min.js'].gzip)})`,
      `time to interactive: median ${Math.round(median(tti))} ms over ${tti.length} fresh contexts (${tti.map(Math.round).join(', ')}); target < 1 s`,
      `explore linux-3.3, all workloads, depth 2 (${schedules.toLocaleString('en-US')} schedules): browser median ${s(median(browserRuns))} (${browserRuns.map((x) => s(x)).join(', ')}); the CLI with ${workers} worker threads ${s(median(nodeRuns))} (${nodeRuns.map((x) => s(x)).join(', ')}); target < 5 s`,
      `step latency over ${steps.views.length} key presses: to the redrawn views median ${median(steps.views).toFixed(1)} ms (p95 ${quantile(steps.views, 0.95).toFixed(1)}), to the next frame median ${median(steps.frame).toFixed(1)} ms (p95 ${quantile(steps.frame, 0.95).toFixed(1)}); target < 16 ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:site: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
