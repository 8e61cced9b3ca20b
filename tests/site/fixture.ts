// The built playground for the browser tests: `npm run site`'s script run into a temporary folder
// (as a child process, as a user runs it), that folder served on 127.0.0.1, and Debian's Chromium
// through playwright-core. Screenshots go to test-artifacts/site/ (git-ignored).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'http';
import { execFileSync } from 'child_process';
import { launchChromium } from '../../scripts/chromium';
import type { Browser, Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'site');

export interface Metafile {
  inputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }>;
  outputs: Record<
    string,
    { bytes: number; inputs: Record<string, { bytesInOutput: number }>; imports: { path: string }[] }
  >;
}

export interface BuiltSite {
  dir: string;
  meta: Metafile;
  sizes: Record<string, { bytes: number; gzip: number }>;
  buildMs: number;
}

/** Build the site into a fresh temporary folder with scripts/site-build.js. */
export function buildSite(): BuiltSite {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-site-'));
  const dir = path.join(tmp, 'site');
  const metaFile = path.join(tmp, 'meta.json');
  const out = execFileSync(
    process.execPath,
    [path.join(ROOT, 'scripts/site-build.js'), '--out', dir, '--meta', metaFile, '--json'],
    { encoding: 'utf8', cwd: ROOT },
  );
  const r = JSON.parse(out) as { sizes: BuiltSite['sizes']; ms: number };
  return { dir, meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Metafile, sizes: r.sizes, buildMs: r.ms };
}

export async function serve(dir: string): Promise<{ server: Server; url: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { serveSite } = require('../../scripts/site-serve.js') as {
    serveSite(dir: string, port?: number): Promise<{ server: Server; url: string }>;
  };
  return serveSite(dir, 0);
}

export async function launch(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return launchChromium('the playground tests');
}

/**
 * A fresh page (its own context: no cache, no storage) at 1280x720 that may load only the served
 * site: any other request fails the test. Page errors are collected.
 */
export async function openPage(
  browser: Browser,
  base: string,
  fragment = '',
): Promise<{ page: Page; errors: string[]; offsite: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const offsite: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}${fragment}`);
  await page.waitForFunction('window.nmiLab && window.nmiLab.ready', undefined, { timeout: 30000 });
  return { page, errors, offsite };
}

export interface ProbeState {
  design: string;
  workload: string;
  step: number;
  schedule: string;
  where: string;
}

export function probe(page: Page): Promise<ProbeState> {
  return page.evaluate(() => (window as unknown as { nmiLab: { state(): ProbeState } }).nmiLab.state());
}

/** Type a label into "run to" and run there. */
export async function runTo(page: Page, label: string): Promise<void> {
  await page.keyboard.press('g');
  await page.keyboard.type(label);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (l) =>
      (window as unknown as { nmiLab: { state(): ProbeState } }).nmiLab.state().where.startsWith(`${l}+`) ||
      /not reached|stopped|no label/.test(document.getElementById('message')?.textContent ?? ''),
    label,
  );
}

/** The NMI stack diagram's row for a slot name ('copied RIP'), as text. */
export async function nmiStackRow(page: Page, slot: string): Promise<string> {
  return page.evaluate((name) => {
    const table = document.querySelector('#stacks .stack table');
    if (!table) return '';
    for (const tr of Array.from(table.querySelectorAll('tr'))) {
      const cells = Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '');
      if (cells.some((c) => c === name)) return cells.join(' | ');
    }
    return '';
  }, slot);
}
