/// <reference lib="dom" />
// Chapter 5 in a real browser (issue 6): the classic Notebook server on 127.0.0.1 with the
// project's tslab kernel, Debian's Chromium through playwright-core, "Restart & Run All", and the
// rendered stack diagrams and plotly chart checked in the page. A screenshot is kept under
// test-artifacts/course/ (git-ignored).
//
// Never skipped: if Chromium or Jupyter is missing the test fails and says what to install
// (scripts/setup.sh installs both; CI runs it). The server runs in its own process group and is
// killed in afterAll, whatever happened; every wait has a bound.
import { spawn, spawnSync } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { jupyterEnv, registerKernel } from '../../scripts/course/jupyter-env';

const CHROMIUM = '/usr/bin/chromium';
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
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'course');
// A copy of the notebook inside the project (dist/ is git-ignored): the browser run saves outputs
// into it, never into the committed notebooks/, and 'nmi-lab' resolves from there as it does there.
const WORKDIR = path.join(PROJECT_ROOT, 'dist', 'browser-test');
const NOTEBOOK = '05-repeat-nmi.ipynb';

jest.setTimeout(300_000);

let server: ChildProcess | null = null;
let serverLog = '';
let browser: Browser | null = null;
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function get(url: string): Promise<number> {
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

async function waitForServer(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (server && server.exitCode !== null)
      throw new Error(`the Notebook server exited with code ${server.exitCode}:\n${serverLog.slice(-2000)}`);
    if ((await get(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the Notebook server did not answer ${url} within ${ms / 1000} s:\n${serverLog.slice(-2000)}`);
}

function stopServer(): Promise<void> {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const pid = child.pid as number;
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
    // The whole group: the server and the kernels it started.
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** Waits for the kernel indicator to say idle; on timeout says what it showed instead. */
async function waitForIdle(page: import('playwright-core').Page, ms: number): Promise<void> {
  try {
    await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { state: 'attached', timeout: ms });
  } catch (e) {
    const state = await page.evaluate(() => {
      const icon = document.querySelector('#kernel_indicator_icon');
      const name = document.querySelector('.kernel_indicator_name');
      const dialog = document.querySelector('.modal-dialog');
      return `indicator '${icon ? icon.className : 'missing'}', kernel '${name ? (name as HTMLElement).innerText : '?'}'${dialog ? `, dialog: ${(dialog as HTMLElement).innerText.slice(0, 300)}` : ''}`;
    });
    throw new Error(
      `the kernel did not become idle within ${ms / 1000} s (${state}); server log:\n${serverLog.slice(-1500)}`,
      { cause: e },
    );
  }
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: this test needs it (Debian: apt-get install -y chromium; scripts/setup.sh does this)`,
    );
  }
  const env = jupyterEnv();
  const probe = spawnSync('jupyter', ['notebook', '--version'], { env, encoding: 'utf8', timeout: 30000 });
  if (probe.status !== 0) {
    throw new Error(
      `the classic Jupyter Notebook is not installed (\`jupyter notebook --version\` failed: ${(probe.stderr || String(probe.error ?? '')).trim()}); Debian: apt-get install -y jupyter-notebook (scripts/setup.sh does this)`,
    );
  }
  registerKernel();
  fs.rmSync(WORKDIR, { recursive: true, force: true });
  fs.mkdirSync(WORKDIR, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'notebooks', NOTEBOOK), path.join(WORKDIR, NOTEBOOK));
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  port = await freePort();
  const root = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--allow-root'] : [];
  server = spawn(
    'jupyter',
    [
      'notebook',
      '--no-browser',
      ...root,
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--port-retries=0',
      "--NotebookApp.token=''",
      "--NotebookApp.password=''",
      `--notebook-dir=${WORKDIR}`,
    ],
    {
      env,
      cwd: WORKDIR,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server.stdout?.on('data', (d) => {
    serverLog += String(d);
  });
  server.stderr?.on('data', (d) => {
    serverLog += String(d);
  });
  await waitForServer(`http://127.0.0.1:${port}/api`, 60000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
}, 120_000);

afterAll(async () => {
  if (browser) await browser.close().catch(() => undefined);
  browser = null;
  await stopServer();
  fs.rmSync(WORKDIR, { recursive: true, force: true });
}, 30_000);

test('chapter 5: Restart & Run All in the classic Notebook draws the stack diagrams and the timeline chart, with every check passing', async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/notebooks/${NOTEBOOK}`, { timeout: 60000 });
  await page.waitForSelector('#kernellink', { timeout: 60000 });
  // The kernel must be up before "Restart & Run All" makes sense.
  await waitForIdle(page, 90000);

  await page.click('#kernellink');
  await page.click('#restart_run_all');
  await page.click('.modal-dialog .modal-footer button.btn-danger', { timeout: 20000 });

  // The last check cell's result, then the kernel back to idle: the whole notebook ran.
  await page.waitForFunction(() => /Pass\s+ch5-ex3:/.test(document.body.innerText), undefined, {
    timeout: 180000,
    polling: 500,
  });
  await waitForIdle(page, 60000);

  const chart = page.locator('.js-plotly-plot .main-svg').first();
  await chart.waitFor({ state: 'visible', timeout: 30000 });
  const diagram = page.locator('.output_area', { hasText: 'moment 3: the nested NMI, at its IRET' }).first();
  await diagram.waitFor({ state: 'visible', timeout: 10000 });
  const diagramText = await diagram.innerText();
  expect(diagramText).toContain('copied RIP');
  expect(diagramText).toContain('repeat_nmi');

  const text = await page.evaluate(() => document.body.innerText);
  expect(text).not.toMatch(/FAIL ch5|Not yet/);
  const stderr = await page.locator('.output_stderr').allInnerTexts();
  expect(stderr).toEqual([]);
  expect(await page.locator('.output_error').count()).toBe(0);
  expect(pageErrors).toEqual([]);

  await diagram.scrollIntoViewIfNeeded();
  const shot = path.join(ARTIFACTS, 'ch5-restart-run-all.png');
  await page.screenshot({ path: shot, fullPage: true });
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, 'ch5-timeline.png') });
  expect(fs.statSync(shot).size).toBeGreaterThan(10000);
  await page.close();
});
