// Real-browser checks of the rendering paths, in Debian's Chromium through playwright-core:
//  1. an exported page (exportHtmlPage) with scripts on: plotly draws every chart offline;
//  2. the same page with scripts off: diagrams and each chart's static fallback are visible;
//  3. the views after the sanitiser Jupyter applies to untrusted outputs (the one shipped with the
//     installed classic Notebook, which is JupyterLab's: once with JupyterLab's style filter, once
//     with the classic Notebook's untrusted options, which drop inline styles);
//  4. the course's HTML export (run_notebook.py's nbconvert template) of a notebook holding the
//     display outputs show() produces: charts drawn with every network request blocked.
// Screenshots go to test-artifacts/view/ (git-ignored). Chromium is required: the test fails if it
// is missing (CI installs it).
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { launchChromium } from '../../scripts/chromium';
import type { Browser, Page } from 'playwright-core';
import { exportHtmlPage, outcomeMapChart, plotlyBundlePath, viewBundle, viewToHtml } from '../../kernel-lib/view';
import type { OutcomePoint } from '../../kernel-lib/view';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { pythonExecutable } from '../../scripts/course/jupyter-env';
import { buildStory, storyParts } from './fixtures/story';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/view');
const SANITIZER = '/usr/lib/python3/dist-packages/notebook/static/components/sanitizer/index.js';

let browser: Browser;
const story = buildStory();
const parts = storyParts(story);
const chartCount = story.charts.length;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium('the view browser tests');
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
  const fallbacks = page.getByText('static view:');
  expect(await fallbacks.count()).toBe(chartCount);
  for (let i = 0; i < chartCount; i++) expect(await fallbacks.nth(i).isVisible()).toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'export-no-scripts.png'), fullPage: true });
  await page.context().close();
}, 30000);

test('every view fits a 900 px notebook output: diagrams, the trace, and each chart fallback (a 140-column outcome map too)', async () => {
  const wide: OutcomePoint[] = [];
  for (const ep of ['none', 'bp@nmi_point_early', 'pf@nmi_point_middle'])
    for (let a = 1; a <= 140; a++)
      wide.push({
        exceptionPoint: ep,
        arrival: a,
        verdict: a % 5 === 0 ? 're-entered do_nmi + hang (no return)' : a % 3 === 0 ? 'hang (no return)' : 'ok',
        schedule: `nmi@${a}`,
      });
  const views = [...parts, outcomeMapChart(wide, { design: 'linux-3.2' })];
  const { page } = await offlinePage({ javaScriptEnabled: false });
  await page.setViewportSize({ width: 1000, height: 900 });
  const body = views
    .map((v) => `<div class="out" style="width:900px;overflow-x:auto;margin:0 0 12px 0">${viewToHtml(v)}</div>`)
    .join('');
  await page.setContent(
    `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:8px">${body}</body></html>`,
  );
  const widths = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.out')).map((e) => [e.scrollWidth, (e.textContent ?? '').slice(0, 50)]),
  );
  expect(widths.filter(([w]) => (w as number) > 900)).toEqual([]);
  // The old-value notes and the RSP arrows are inside that width, not behind a scrollbar.
  await expect(
    page
      .getByText(/changed, was 0x/)
      .first()
      .isVisible(),
  ).resolves.toBe(true);
  await expect(page.getByText('◀ RSP').first().isVisible()).resolves.toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'fit-900.png'), fullPage: true });
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
  const outputs = parts.map((p) => viewBundle(p)['text/html'] as string);
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
    expect(await page.getByText('static view:').count()).toBe(chartCount);
    expect(await page.locator('td[bgcolor="#d93b3b"]').count()).toBeGreaterThan(0); // outcome map cells
    await page.screenshot({ path: path.join(ARTIFACTS, `untrusted-${name}.png`), fullPage: true });
    await page.context().close();
  }
}, 30000);

test('HTML export of a notebook (run_notebook.py, nmi-lab template): plotly.js once in the head, charts interactive offline', async () => {
  const python = pythonExecutable();
  const cells = parts.map((p, i) => ({
    cell_type: 'code',
    execution_count: i + 1,
    id: `cell-${i}`,
    metadata: {},
    source: [`show(view${i});`],
    outputs: [{ output_type: 'display_data', data: viewBundle(p), metadata: {} }],
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
  expect(fs.statSync(ipynb).size).toBeLessThan(500_000);
  const html = path.join(ARTIFACTS, 'nbconvert-views.html');
  const script = [
    'import sys, nbformat',
    `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'scripts', 'course'))})`,
    'from run_notebook import export_html',
    'export_html(nbformat.read(sys.argv[1], as_version=4), sys.argv[2], sys.argv[3])',
  ].join('\n');
  execFileSync(python, ['-c', script, ipynb, html, plotlyBundlePath()], { stdio: 'pipe', timeout: 60000 });
  const page = fs.readFileSync(html, 'utf8');
  expect(page.split('inlined by NMI Lab').length - 1).toBe(1);
  expect(page.indexOf('inlined by NMI Lab')).toBeLessThan(page.indexOf('</head>'));
  expect(page).not.toMatch(/<script[^>]+src="https?:/);
  expect(page.length).toBeLessThan(5_000_000);
  const { page: tab, blocked, errors } = await offlinePage({ javaScriptEnabled: true });
  await tab.goto(`file://${html}`);
  await tab.waitForFunction(
    `document.querySelectorAll('.js-plotly-plot .main-svg').length >= ${chartCount}`,
    undefined,
    { timeout: 20000 },
  );
  await expect(tab.getByText('<repeat_nmi+0>').first().isVisible()).resolves.toBe(true);
  expect(await tab.getByText('static view').first().isVisible()).toBe(false);
  expect(blocked).toEqual([]);
  expect(errors).toEqual([]);
  await tab.screenshot({ path: path.join(ARTIFACTS, 'nbconvert-export.png'), fullPage: true });
  await tab.context().close();
}, 60000);

test('a single diagram renders the same from viewToHtml', () => {
  expect(viewToHtml(story.before)).toContain('NMI stack (IST 3)');
});
