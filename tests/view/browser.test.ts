// Real-browser checks of the rendering paths, in Debian's Chromium through playwright-core:
//  1. an exported page (exportHtmlPage) with scripts on: plotly draws every chart offline;
//  2. the same page with scripts off: diagrams and each chart's static fallback are visible;
//  3. the views after the sanitiser Jupyter applies to untrusted outputs (the one shipped with the
//     installed classic Notebook, which is JupyterLab's: once with JupyterLab's style filter, once
//     with the classic Notebook's untrusted options, which drop inline styles);
//  4. an nbconvert HTML export of a notebook whose outputs NotebookDisplay produced: charts drawn
//     with every network request blocked.
// Screenshots go to test-artifacts/view/ (git-ignored). Chromium is required: the test fails if it
// is missing (CI installs it).
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { NotebookDisplay, exportHtmlPage, viewToHtml } from '../../kernel-lib/view';
import { buildStory, storyParts } from './fixtures/story';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/view');
const SANITIZER = '/usr/lib/python3/dist-packages/notebook/static/components/sanitizer/index.js';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let browser: Browser;
const story = buildStory();
const parts = storyParts(story);
const chartCount = story.charts.length;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser test needs it (Debian: apt-get install -y chromium; scripts/setup.sh does this)`,
    );
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 30000);

afterAll(async () => {
  if (browser) await browser.close();
});

/** Open a page that may load file: URLs only; returns the other URLs it tried. */
async function offlinePage(options: {
  javaScriptEnabled: boolean;
}): Promise<{ page: Page; blocked: string[]; errors: string[] }> {
  const context = await browser.newContext({
    javaScriptEnabled: options.javaScriptEnabled,
    viewport: { width: 1400, height: 900 },
  });
  const page = await context.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url === 'about:blank') return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, blocked, errors };
}

test('exported page, scripts on: every chart drawn by plotly offline, diagrams shown, fallbacks hidden', async () => {
  const file = path.join(ARTIFACTS, 'export.html');
  fs.writeFileSync(file, exportHtmlPage(parts, { title: 'NMI Lab: nested NMI views' }));
  const { page, blocked, errors } = await offlinePage({ javaScriptEnabled: true });
  await page.goto(`file://${file}`);
  await page.waitForFunction(
    `document.querySelectorAll('.js-plotly-plot .main-svg').length >= ${chartCount}`,
    undefined,
    { timeout: 20000 },
  );
  expect(await page.locator('.js-plotly-plot').count()).toBe(chartCount);
  await expect(page.getByText('NMI stack (IST 3)').first().isVisible()).resolves.toBe(true);
  await expect(page.getByText('<repeat_nmi+0>').first().isVisible()).resolves.toBe(true);
  // The heatmap and bars really have marks in them.
  expect(
    await page.locator('.js-plotly-plot .heatmaplayer image, .js-plotly-plot .heatmaplayer .hm').count(),
  ).toBeGreaterThan(0);
  expect(await page.locator('.js-plotly-plot .bars .point').count()).toBeGreaterThan(5);
  expect(await page.getByText('static view').first().isVisible()).toBe(false);
  expect(blocked).toEqual([]);
  expect(errors).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'export-interactive.png'), fullPage: true });
  // Close-ups for reading: the NMI stack as the nested NMI enters, the before/after pair, the timeline.
  await page
    .locator('section')
    .nth(1)
    .locator('table')
    .first()
    .screenshot({ path: path.join(ARTIFACTS, 'stack-nmi.png') });
  await page
    .locator('section')
    .nth(3)
    .screenshot({ path: path.join(ARTIFACTS, 'stack-before-after.png') });
  await page
    .locator('.js-plotly-plot')
    .first()
    .screenshot({ path: path.join(ARTIFACTS, 'timeline.png') });
  await page.context().close();
}, 40000);

test('exported page, scripts off: diagrams and every chart fallback still visible', async () => {
  const file = path.join(ARTIFACTS, 'export.html');
  if (!fs.existsSync(file)) fs.writeFileSync(file, exportHtmlPage(parts, { title: 'NMI Lab: nested NMI views' }));
  const { page } = await offlinePage({ javaScriptEnabled: false });
  await page.goto(`file://${file}`);
  expect(await page.locator('.main-svg').count()).toBe(0);
  await expect(page.getByText('<repeat_nmi+0>').first().isVisible()).resolves.toBe(true);
  const fallbacks = page.getByText('static view;');
  expect(await fallbacks.count()).toBe(chartCount);
  for (let i = 0; i < chartCount; i++) expect(await fallbacks.nth(i).isVisible()).toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'export-no-scripts.png'), fullPage: true });
  await page.context().close();
}, 30000);

function loadSanitizer(): { sanitize(html: string, options?: object): string } {
  if (!fs.existsSync(SANITIZER))
    throw new Error(`the classic Notebook's sanitizer is missing (${SANITIZER}): install jupyter-notebook (Debian)`);
  let mod: { defaultSanitizer: { sanitize(html: string, options?: object): string } } | null = null;
  // The file is an AMD module: `define(() => exports)`.
  new Function('define', fs.readFileSync(SANITIZER, 'utf8'))((factory: () => typeof mod) => {
    mod = factory();
  });
  if (!mod) throw new Error('sanitizer did not load');
  return (mod as { defaultSanitizer: { sanitize(html: string, options?: object): string } }).defaultSanitizer;
}

test("untrusted notebook: after Jupyter's sanitiser (JupyterLab and classic options) diagrams, tables and chart fallbacks still read", async () => {
  const sanitizer = loadSanitizer();
  const display = new NotebookDisplay({ html: () => undefined });
  // The bundle's output is left out here: the sanitiser removes its <script> like any other (checked
  // below on the chart outputs), and running 10 MB through it would only slow the test.
  display.plotlySent = true;
  const outputs = parts.map((p) => display.htmlFor(p));
  for (const [name, options] of [
    ['jupyterlab', undefined],
    ['classic', { allowedStyles: {} }],
  ] as [string, object | undefined][]) {
    const clean = outputs.map((o) => sanitizer.sanitize(o, options)).join('\n');
    expect(clean).not.toMatch(/<script|<style|<svg/i);
    const { page } = await offlinePage({ javaScriptEnabled: false });
    await page.setContent(
      `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">${clean}</body></html>`,
    );
    await expect(page.getByText('<repeat_nmi+0>').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText('copied frame').first().isVisible()).resolves.toBe(true);
    // Colours survive through bgcolor attributes even where inline styles are dropped.
    expect(await page.locator('td[bgcolor="#ef9191"]').count()).toBeGreaterThan(0); // nested NMI's frame
    expect(await page.getByText('static view;').count()).toBe(chartCount);
    expect(await page.locator('td[bgcolor="#d93b3b"]').count()).toBeGreaterThan(0); // outcome map cells
    await page.screenshot({ path: path.join(ARTIFACTS, `untrusted-${name}.png`), fullPage: true });
    await page.context().close();
  }
}, 30000);

function nbconvertAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import nbconvert, nbformat'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('nbconvert HTML export of NotebookDisplay outputs: bundle inlined once, charts interactive offline', async () => {
  if (!nbconvertAvailable())
    throw new Error('nbconvert is not installed: apt-get install -y jupyter-nbconvert (scripts/setup.sh does this)');
  const display = new NotebookDisplay({ html: () => undefined });
  const cells = parts.map((p, i) => ({
    cell_type: 'code',
    execution_count: i + 1,
    id: `cell-${i}`,
    metadata: {},
    source: [`show(view${i});`],
    outputs: [
      { output_type: 'display_data', data: { 'text/html': display.htmlFor(p), 'text/plain': [''] }, metadata: {} },
    ],
  }));
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
      language_info: { name: 'typescript' },
    },
    cells,
  };
  const ipynb = path.join(ARTIFACTS, 'nbconvert-views.ipynb');
  fs.writeFileSync(ipynb, JSON.stringify(nb));
  const bundles = cells.filter((c) => (c.outputs[0].data['text/html'] as string).includes('plotly.js-dist')).length;
  expect(bundles).toBe(1);
  execFileSync('/usr/bin/python3', ['-m', 'nbconvert', '--to', 'html', '--output-dir', ARTIFACTS, ipynb], {
    stdio: 'pipe',
    timeout: 60000,
  });
  const html = path.join(ARTIFACTS, 'nbconvert-views.html');
  const { page, errors } = await offlinePage({ javaScriptEnabled: true });
  await page.goto(`file://${html}`);
  await page.waitForFunction(
    `document.querySelectorAll('.js-plotly-plot .main-svg').length >= ${chartCount}`,
    undefined,
    { timeout: 20000 },
  );
  await expect(page.getByText('<repeat_nmi+0>').first().isVisible()).resolves.toBe(true);
  expect(errors.filter((e) => !/require|MathJax/i.test(e))).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'nbconvert-export.png'), fullPage: true });
  await page.context().close();
}, 60000);

test('a single diagram renders the same from viewToHtml', () => {
  expect(viewToHtml(story.before)).toContain('NMI stack (IST 3)');
});
