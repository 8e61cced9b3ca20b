/// <reference lib="dom" />
// The course in a real browser: JupyterLab 4 and Notebook 7 from the project's environment on
// 127.0.0.1, with the project's tslab kernel, in Debian's Chromium through playwright-core.
//  - JupyterLab: Run All on every chapter (two at a time), with no error or stderr output, every
//    stack diagram shown, every chart drawn by the plotly renderer (jupyterlab-plotly's SVG), every
//    check's result showing, and every output inside a sub-900 px output area; then a page reload
//    with the kernel alive and a chart cell re-run; then the executed notebook opened untrusted
//    (a second server forgetting signatures): its charts still draw; and the HTML export of two
//    executed chapters opens offline with every chart interactive.
//  - Notebook 7: Run All on chapter 2 (stacks and a chart).
// Copies of the reference notebooks run in dist/ (git-ignored), never the committed ones. Timings
// go to test-artifacts/course/lab-run-all.json, screenshots next to it.
//
// Never skipped: if Chromium or the Jupyter environment is missing the test fails and says what to
// install (scripts/setup.sh installs both). Servers run in their own process groups and are
// stopped in afterAll whatever happened; every wait has a bound.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { plotlyBundlePath } from '../../kernel-lib/view/chart';
import { pythonExecutable } from '../../scripts/course/jupyter-env';
import {
  chartsOnPage,
  firstChartCell,
  newCoursePage,
  openInLab,
  runAllInLab,
  runCellInLab,
  saveInLab,
  scratchCopies,
  shutdownKernel,
  startJupyterServer,
} from '../../scripts/course/jupyter-driver';
import { launchChromium } from '../../scripts/chromium';
import type { JupyterServer, LabRunReport } from '../../scripts/course/jupyter-driver';

jest.setTimeout(900_000);

const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'course');
const NOTEBOOKS = fs
  .readdirSync(path.join(PROJECT_ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const CH5 = '05-repeat-nmi.ipynb';
const CH2 = '02-the-problem.ipynb';
// A 1320 px window with the file browser open leaves JupyterLab an output area under 900 px.
const VIEWPORT = { width: 1320, height: 1000 };
const JOBS = 2;

/** Page errors the front ends raise by themselves, with any kernel and any notebook. */
const HARMLESS = [
  /No active debugger session/, // JupyterLab's debugger sidebar, once per executed cell with tslab
  /reading 'schema'/, // Notebook 7.6 on load, also without the course
];

let dir = '';
let server: JupyterServer | null = null;
let browser: Browser | null = null;
const pages: Page[] = [];
const pageErrors: string[] = [];
const reports = new Map<string, LabRunReport & { openMs: number; savedBytes: number }>();
/** The page chapter 5 ran in; its kernel is kept for the reload test. */
let ch5Page: Page | null = null;

async function coursePage(): Promise<Page> {
  const page = await newCoursePage(browser!, VIEWPORT);
  page.on('pageerror', (e) => {
    const text = String(e);
    if (!HARMLESS.some((h) => h.test(text))) pageErrors.push(text);
  });
  pages.push(page);
  return page;
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = scratchCopies(
    'browser-lab',
    NOTEBOOKS.map((f) => `notebooks/${f}`),
  );
  server = await startJupyterServer({ front: 'lab', rootDir: dir });
  browser = await launchChromium('the course browser tests');
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  if (browser) await browser.close().catch(() => undefined);
  if (server) await server.stop();
}, 60_000);

test('JupyterLab 4: Run All on every chapter, clean, with every diagram, chart and check showing, inside 900 px', async () => {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    let page = await coursePage();
    while (next < NOTEBOOKS.length) {
      const file = NOTEBOOKS[next++];
      const t = Date.now();
      await openInLab(page, server!, file);
      const openMs = Date.now() - t;
      const report = await runAllInLab(page, file);
      await saveInLab(page);
      reports.set(file, { ...report, openMs, savedBytes: fs.statSync(path.join(dir, file)).size });
      if (file === CH5) {
        ch5Page = page;
        await page.screenshot({ path: path.join(ARTIFACTS, 'lab-ch5.png') });
        page = await coursePage(); // chapter 5's page and kernel stay for the reload test
        continue;
      }
      await shutdownKernel(page);
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  const seconds = (Date.now() - started) / 1000;
  fs.writeFileSync(
    path.join(ARTIFACTS, 'lab-run-all.json'),
    `${JSON.stringify({ seconds, jobs: JOBS, chapters: Object.fromEntries(reports) }, null, 1)}\n`,
  );
  expect([...reports.keys()].sort()).toEqual(NOTEBOOKS);
  for (const [file, r] of reports) {
    const seen = {
      file,
      problems: r.problems,
      charts: `${r.chartsDrawn} drawn of ${r.chartOutputs}`,
      stacks: `${r.stacksVisible} shown of ${r.stackOutputs}`,
      checks: `${r.checksVisible} shown of ${r.checkCells}`,
      overflowing: r.overflowing,
      fits: r.outputAreaPx <= 900,
      // As JupyterLab saves it (jupyterlab-plotly adds a PNG of each chart), with no plotly.js.
      small: r.savedBytes < 500_000,
    };
    expect(seen).toEqual({
      file,
      problems: [],
      charts: `${r.chartOutputs} drawn of ${r.chartOutputs}`,
      stacks: `${r.stackOutputs} shown of ${r.stackOutputs}`,
      checks: `${r.checkCells} shown of ${r.checkCells}`,
      overflowing: [],
      fits: true,
      small: true,
    });
    expect(r.checkCells).toBeGreaterThan(0);
  }
  // The course has charts and diagrams, and they were seen.
  expect([...reports.values()].reduce((n, r) => n + r.chartOutputs, 0)).toBeGreaterThanOrEqual(5);
  expect([...reports.values()].reduce((n, r) => n + r.stackOutputs, 0)).toBeGreaterThanOrEqual(10);
  expect(pageErrors).toEqual([]);
});

test('JupyterLab 4: after a page reload (the kernel lives on) a re-run chart cell is drawn again', async () => {
  expect({ needs: 'the Run All test above', ran: ch5Page !== null }).toEqual({
    needs: 'the Run All test above',
    ran: true,
  });
  const page = ch5Page!;
  await page.reload({ timeout: 60000 });
  await openInLab(page, server!, CH5); // the same kernel: it was not shut down
  const cell = await firstChartCell(page);
  expect(cell).toBeGreaterThan(0);
  // Saved charts come back from the file: jupyterlab-plotly shows its stored picture, then the
  // interactive chart as soon as the pointer is on it.
  await page.locator('.jp-RenderedPlotly').first().hover();
  await page.waitForSelector('.jp-RenderedPlotly .main-svg', { timeout: 30000 });
  await runCellInLab(page, cell);
  await page.waitForFunction(
    () => document.querySelectorAll('.jp-RenderedPlotly.js-plotly-plot .main-svg').length > 0,
    undefined,
    { timeout: 30000 },
  );
  const after = await chartsOnPage(page);
  expect(after.outputs).toBeGreaterThanOrEqual(1);
  expect(after.drawn).toBe(after.outputs);
  await page
    .locator('.jp-RenderedPlotly')
    .first()
    .screenshot({ path: path.join(ARTIFACTS, 'lab-ch5-chart-rerun.png') });
  await shutdownKernel(page);
  expect(pageErrors).toEqual([]);
});

test('JupyterLab 4: an executed notebook opened untrusted still draws its charts, and its diagrams read', async () => {
  expect({ needs: 'the Run All test above', ran: reports.has(CH5) }).toEqual({
    needs: 'the Run All test above',
    ran: true,
  });
  const untrusted = await startJupyterServer({ front: 'lab', rootDir: dir, untrusted: true });
  try {
    const page = await coursePage();
    await openInLab(page, untrusted, CH5);
    const state = await chartsOnPage(page);
    expect(state.untrustedCells).toBeGreaterThan(0);
    expect(state.outputs).toBeGreaterThanOrEqual(1);
    await page.locator('.jp-RenderedPlotly').first().hover();
    await page.waitForSelector('.jp-RenderedPlotly .main-svg', { timeout: 30000 });
    // Untrusted HTML is sanitised: the diagrams lose nothing they need.
    const diagram = page.locator('.jp-OutputArea-output', { hasText: 'moment 3: the nested NMI, at its IRET' }).first();
    await diagram.scrollIntoViewIfNeeded();
    const text = (await diagram.textContent()) ?? '';
    expect(text).toContain('copied RIP');
    expect(text).toMatch(/changed, was 0x/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'lab-ch5-untrusted.png') });
    await shutdownKernel(page);
  } finally {
    await untrusted.stop();
  }
  expect(pageErrors).toEqual([]);
});

test('the HTML export of chapters as JupyterLab saved them opens offline, with plotly.js once and every chart interactive', async () => {
  expect({ needs: 'the Run All test above', ran: reports.has(CH5) }).toEqual({
    needs: 'the Run All test above',
    ran: true,
  });
  const script = [
    'import sys, nbformat',
    `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'scripts', 'course'))})`,
    'from run_notebook import export_html',
    'export_html(nbformat.read(sys.argv[1], as_version=4), sys.argv[2], sys.argv[3])',
  ].join('\n');
  const context = await browser!.newContext({ viewport: VIEWPORT });
  try {
    for (const file of [CH5, '06-proving-it.ipynb']) {
      const html = path.join(ARTIFACTS, file.replace(/\.ipynb$/, '.html'));
      execFileSync(pythonExecutable(), ['-c', script, path.join(dir, file), html, plotlyBundlePath()], {
        stdio: 'pipe',
        timeout: 120000,
      });
      expect(fs.statSync(html).size).toBeLessThan(5_000_000);
      const charts = reports.get(file)!.chartOutputs;
      const page = await context.newPage();
      const requested: string[] = [];
      const errors: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:') || url === 'about:blank') return route.continue();
        requested.push(url);
        return route.abort();
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${html}`);
      await page.waitForFunction(
        (n) =>
          Array.from(document.querySelectorAll('.js-plotly-plot')).filter((e) => !!e.querySelector('.main-svg'))
            .length === n,
        charts,
        { timeout: 60000 },
      );
      expect(await page.getByText('static view:').first().isVisible()).toBe(false);
      expect(requested).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }
  } finally {
    await context.close();
  }
});

test('Notebook 7: Run All on chapter 2, clean, with its diagrams and its chart drawn by the plotly renderer', async () => {
  const nb7 = await startJupyterServer({ front: 'notebook7', rootDir: dir });
  try {
    const page = await coursePage();
    await openInLab(page, nb7, CH2);
    const r = await runAllInLab(page, CH2);
    expect(r.problems).toEqual([]);
    expect(r.chartOutputs).toBeGreaterThanOrEqual(1);
    expect(r.chartsDrawn).toBe(r.chartOutputs);
    expect(r.stacksVisible).toBe(r.stackOutputs);
    expect(r.checksVisible).toBe(r.checkCells);
    expect(r.overflowing).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'notebook7-ch2.png') });
    await shutdownKernel(page);
  } finally {
    await nb7.stop();
  }
  expect(pageErrors).toEqual([]);
});

// The classic Notebook 6 (Debian's) has no plotly renderer: charts draw from their HTML fallback,
// which loads the project's plotly.js once per page from nbextensions/. A two-chart notebook keeps
// this cheap.
test('classic Notebook 6: two charts, plotly.js fetched once per page, and after a reload a re-run chart draws', async () => {
  const file = 'two-charts.ipynb';
  const code = (source: string, id: string) => ({
    cell_type: 'code',
    id,
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
  });
  fs.writeFileSync(
    path.join(dir, file),
    JSON.stringify({
      cells: [
        code("import { explorerCostChart, show, violationsChart } from 'nmi-lab';", 'imports'),
        code("show(explorerCostChart([{ design: 'a', schedules: 10, states: 99, seconds: 0.5 }]));", 'cost'),
        code("show(violationsChart([{ design: 'a', invariant: 'no lost NMI', violations: 3 }]));", 'violations'),
      ],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const classic = await startJupyterServer({ front: 'classic', rootDir: dir });
  try {
    const page = await coursePage();
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('nbextensions/nmi-lab/plotly.min')) fetched.push(r.url());
    });
    type Classic = {
      Jupyter: {
        notebook: {
          kernel: { is_connected(): boolean } | null;
          execute_all_cells(): void;
          execute_cells(indices: number[]): void;
          save_notebook(): Promise<unknown>;
          get_cells(): { cell_type: string; input_prompt_number: number | string | null | undefined }[];
        };
      };
    };
    const ready = () =>
      page.waitForFunction(
        () => {
          const nb = (window as unknown as Partial<Classic>).Jupyter?.notebook;
          return !!(
            nb &&
            nb.kernel &&
            nb.kernel.is_connected() &&
            document.querySelector('#kernel_indicator_icon.kernel_idle_icon')
          );
        },
        undefined,
        { timeout: 120000, polling: 200 },
      );
    const finished = (count: number) =>
      page.waitForFunction(
        (n) => {
          const nb = (window as unknown as Classic).Jupyter.notebook;
          const done = nb
            .get_cells()
            .filter((c) => c.cell_type === 'code' && typeof c.input_prompt_number === 'number');
          return done.length >= n && !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon');
        },
        count,
        { timeout: 120000, polling: 200 },
      );
    const drawn = (n: number) =>
      page.waitForFunction(
        (k) =>
          Array.from(document.querySelectorAll('.output_area .js-plotly-plot')).filter(
            (e) => !!e.querySelector('.main-svg'),
          ).length === k,
        n,
        { timeout: 60000, polling: 200 },
      );

    await page.goto(classic.notebookUrl(file), { timeout: 60000 });
    await ready();
    await page.evaluate(() => (window as unknown as Classic).Jupyter.notebook.execute_all_cells());
    await finished(3);
    await drawn(2);
    expect(fetched).toHaveLength(1);
    await page.evaluate(() => (window as unknown as Classic).Jupyter.notebook.save_notebook().then(() => undefined));

    fetched.length = 0;
    await page.reload({ timeout: 60000 });
    await ready();
    // The saved (and so trusted) outputs draw again from the file, with one fetch for the page.
    await drawn(2);
    await page.evaluate(() => (window as unknown as Classic).Jupyter.notebook.execute_cells([2]));
    await page.waitForFunction(
      () => {
        const cells = (window as unknown as Classic).Jupyter.notebook.get_cells();
        return typeof cells[2].input_prompt_number === 'number' && (cells[2].input_prompt_number as number) > 3;
      },
      undefined,
      { timeout: 60000 },
    );
    await drawn(2);
    expect(fetched.length).toBeLessThanOrEqual(1);
    expect(await page.locator('.output_stderr, .output_error').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'classic-two-charts.png') });
  } finally {
    await classic.stop();
  }
  expect(pageErrors).toEqual([]);
});
