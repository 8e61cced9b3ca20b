// The playground in Chromium, built by scripts/site-build.js and served statically on 127.0.0.1:
// the bundle is free of Node modules; a new user steps linux-3.3's first NMI, raises a #BP in
// do_nmi and a nested NMI and sees the copied frame redirected to repeat_nmi (lessons/05); the
// explorer finds CVE-2015-3291's lost NMI on `syscall` in Web Workers, with the same schedules and
// violations as in Node; a shared URL opens the same moment; an assembler error shows at its line.
import * as path from 'path';
import type { Server } from 'http';
import type { Browser, Page } from 'playwright-core';
import { exploreDesign } from '../../kernel-lib/explore';
import { getDesign } from '../../kernel-lib/designs';
import type { WorkloadReport } from '../../kernel-lib/explore';
import { ARTIFACTS, buildSite, launch, nmiStackRow, openPage, probe, runTo, serve } from './fixture';
import type { BuiltSite } from './fixture';

let site: BuiltSite;
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  site = buildSite();
  ({ server, url: base } = await serve(site.dir));
  browser = await launch();
}, 60000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

const NODE_ONLY = /^(node:)?(fs|path|os|worker_threads|child_process)(\/|$)/;

test('the bundles carry no Node module, and the designs and harness as data', () => {
  const imports = Object.entries(site.meta.inputs).flatMap(([file, i]) => i.imports.map((x) => `${file} -> ${x.path}`));
  expect(imports.filter((x) => NODE_ONLY.test(x.split(' -> ')[1]))).toEqual([]);
  const outputs = Object.entries(site.meta.outputs);
  expect(outputs.map(([f]) => path.basename(f)).sort()).toEqual(['main.js', 'worker.js']);
  for (const [, o] of outputs) {
    expect(o.imports.filter((x) => NODE_ONLY.test(x.path))).toEqual([]);
    const inputs = Object.keys(o.inputs);
    // The Node modules that read files or start threads are replaced, not bundled.
    for (const seam of ['kernel-lib/designs/files.ts', 'kernel-lib/harness/files.ts', 'kernel-lib/explore/pool.ts'])
      expect(inputs).not.toContain(seam);
  }
  const worker = Object.keys((outputs.find(([f]) => f.endsWith('worker.js')) as (typeof outputs)[number])[1].inputs);
  expect(worker).toEqual(expect.arrayContaining(['site/src/web-pool.ts', 'kernel-lib/explore/explore.ts']));
  expect(worker.some((f) => f.endsWith('kernel-lib/designs/files.ts') && f.startsWith('nmi-lab-data:'))).toBe(true);
  // The page's own code stays small next to plotly (loaded separately, once).
  expect(site.sizes['main.js'].bytes + site.sizes['worker.js'].bytes).toBeLessThan(1.5 * 1024 * 1024);
  expect(site.sizes['plotly.min.js'].bytes).toBeGreaterThan(1024 * 1024);
});

/** The scenario of chapter 5, by keyboard as a user would do it. */
async function nestedNmi(page: Page): Promise<void> {
  await runTo(page, 'kernel_fault_point');
  await page.keyboard.press('n'); // the first NMI
  expect(await page.textContent('#status')).toContain('NMIs blocked');
  expect(await nmiStackRow(page, 'hardware RIP')).toContain('<kernel_fault_point+0>');
  await runTo(page, 'do_nmi');
  expect(await nmiStackRow(page, 'Saved RIP')).toContain('<kernel_fault_point+0>');
  expect(await nmiStackRow(page, 'copied RIP')).toContain('<kernel_fault_point+0>');
  await runTo(page, 'nmi_point_early');
  await page.keyboard.press('b'); // a breakpoint in do_nmi: its IRET unblocks NMIs
  expect(await page.textContent('#events')).toContain('#BP delivered');
  await runTo(page, 'nmi_point_middle');
  expect(await page.textContent('#status')).toContain('NMIs unblocked');
  await page.keyboard.press('n'); // the nested NMI
  await runTo(page, 'nested_nmi_out');
}

test('step linux-3.3: first NMI, a #BP in do_nmi, a nested NMI redirects the copied frame to repeat_nmi', async () => {
  const { page, errors, offsite } = await openPage(browser, base, '#d=linux-3.3&w=kernel');
  await nestedNmi(page);
  const copied = await nmiStackRow(page, 'copied RIP');
  expect(copied).toContain('<repeat_nmi+0>');
  expect(copied).toContain('changed'); // starred: the nested NMI rewrote it
  expect(await nmiStackRow(page, 'Saved RIP')).toContain('<kernel_fault_point+0>');
  expect(await nmiStackRow(page, 'hardware RIP')).toContain('<nmi_point_middle+0>');
  const state = await probe(page);
  expect(state.schedule).toMatch(/^nmi@\d+,bp@\d+,nmi@\d+$/);
  // Stepping back and forth lands on the same diagram.
  const before = await page.innerText('#stacks');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowRight');
  expect((await probe(page)).step).toBe(state.step);
  // (Compared without the change marks: they are relative to the previous view. A mark sits under
  // the slot's new value, in the value's cell: it ends at the next column.)
  const unstarred = (text: string) => text.replace(/\n?✱ changed[^\t\n]*/g, '').replace(/\n\s*\n/g, '\n');
  expect(unstarred(await page.innerText('#stacks'))).toBe(unstarred(before));
  // The timeline of the run so far, drawn by plotly (loaded once, from the site itself).
  await page.waitForSelector('#timeline .main-svg', { timeout: 30000 });
  expect(await page.locator('script[src="plotly.min.js"]').count()).toBe(1);
  await page.screenshot({ path: path.join(ARTIFACTS, 'nested-nmi-1280x720.png') });
  expect(errors).toEqual([]);
  expect(offsite).toEqual([]);

  // The URL holds the moment: a fresh page opens the same step, schedule and stacks.
  await page.waitForFunction((at) => location.hash.includes(`at=${at}`), state.step);
  const url = page.url();
  const other = await openPage(browser, base, new URL(url).hash);
  expect(await probe(other.page)).toEqual(state);
  expect(await nmiStackRow(other.page, 'copied RIP')).toContain('<repeat_nmi+0>');
  expect(other.errors).toEqual([]);
  await other.page.context().close();
  await page.context().close();
});

test('explore linux-3.3 syscall at depth 2 in Web Workers: the lost NMI, as in Node; replay it', async () => {
  const { page, errors } = await openPage(browser, base, '#d=linux-3.3&w=kernel');
  await page.click('#tab-explore');
  await page.selectOption('#x-workload', 'syscall');
  await page.fill('#x-depth', '2');
  await page.fill('#x-exceptions', '1');
  await page.click('#x-run');
  await page.waitForFunction('window.nmiLab.explored >= 1', undefined, { timeout: 60000 });
  const inBrowser = (await page.evaluate('window.nmiLab.reports')) as WorkloadReport[];
  expect(await page.textContent('#x-results')).toContain('No NMI lost');
  const [report] = inBrowser;
  const lost = report.violations.find((v) => v.invariant === 'lost-nmi');
  expect(lost?.schedule).toMatch(/^rsp=0x[0-9a-f]+,nmi@system_call\+0$/);

  // The same exploration in Node (one thread): the same schedules and violations.
  const [inNode] = await exploreDesign({ design: 'linux-3.3', workload: 'syscall', depth: 2, exceptions: 1 });
  const same = (r: WorkloadReport) => ({
    verdict: r.verdict,
    schedules: r.schedules,
    runs: r.runs,
    violations: r.violations.map((v) => ({
      invariant: v.invariant,
      schedule: v.schedule,
      scheduleSteps: v.scheduleSteps,
      events: v.events,
      userRsp: v.userRsp,
      summary: v.summary,
    })),
  });
  expect(same(report)).toEqual(same(inNode));

  // Clicking the violation replays its schedule in the stepper.
  await page.click('button.violation >> text=No NMI lost');
  const state = await probe(page);
  expect(state.workload).toBe('syscall');
  expect(state.schedule).toBe(lost?.scheduleSteps);
  await page.waitForFunction('location.hash.includes("w=syscall")');
  expect(errors).toEqual([]);
  await page.context().close();
}, 90000);

test('an assembler error in an edited listing is marked at its line; a link carries the edit', async () => {
  const { page, errors } = await openPage(browser, base, '#d=linux-3.3&w=kernel');
  await page.keyboard.press('i'); // edit
  // A bad instruction after the line `lea 6*8(%rsp), %rdx`: the new line is number `at + 1`.
  const at =
    getDesign('linux-3.3')
      .text.split('\n')
      .findIndex((l) => l.includes('lea 6*8(%rsp), %rdx')) + 1;
  await page.keyboard.press('Control+Alt+g'); // CodeMirror's "go to line"
  await page.keyboard.type(String(at));
  await page.keyboard.press('Enter');
  expect(await page.textContent('.cm-activeLine')).toContain('lea 6*8(%rsp), %rdx');
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('frobq %rax');
  await page.waitForSelector('.cm-lint-marker-error', { timeout: 20000 });
  const diag = await page.textContent('#diagnostics');
  expect(diag).toMatch(new RegExp(`^linux-3\\.3\\.S:${at + 1}:\\d+: error: .*frobq`, 'm'));
  // The marker sits in the gutter row of line 48.
  const markerLine = await page.evaluate(() => {
    const marker = document.querySelector('.cm-lint-marker-error') as HTMLElement;
    const top = marker.getBoundingClientRect().top;
    const numbers = Array.from(document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')) as HTMLElement[];
    const row = numbers.find((n) => Math.abs(n.getBoundingClientRect().top - top) < 4);
    return row?.textContent;
  });
  expect(markerLine).toBe(String(at + 1));
  await page.keyboard.press('Control+Enter');
  expect(await page.textContent('#message')).toMatch(/does not assemble: 1 error/);

  // A correct edit runs, and its link (compressed listing) opens it again.
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type('nop');
  await page.keyboard.press('Control+Enter');
  expect(await page.textContent('#message')).toMatch(/running your listing/);
  await page.waitForFunction('location.hash.includes("src=")');
  const other = await openPage(browser, base, new URL(page.url()).hash);
  const listing = (await other.page.evaluate('window.nmiLab.listing()')) as string;
  expect(listing.split('\n')[at].trim()).toBe('nop');
  expect((await probe(other.page)).design).toBe('linux-3.3-edited');
  expect(other.errors).toEqual([]);
  await other.page.context().close();
  expect(errors).toEqual([]);
  await page.context().close();
}, 60000);

test('bad input gets a message, not a broken page; a long exploration can be cancelled', async () => {
  const { page, errors } = await openPage(browser, base, '#d=linux-9.9&w=kernel&s=nmi@nowhere&at=x');
  const message = await page.textContent('#message');
  expect(message).toContain("unknown design 'linux-9.9'");
  expect(message).toContain("unknown label 'nowhere'");
  expect(message).toContain("'at=x' is not a step count");
  await page.keyboard.press('ArrowRight');
  expect((await probe(page)).step).toBe(1);
  // A bound too large is refused with the estimate, as the CLI does.
  await page.click('#tab-explore');
  await page.fill('#x-depth', '4');
  await page.click('#x-run');
  await page.waitForSelector('#x-sample', { timeout: 60000 });
  expect(await page.textContent('#x-results')).toMatch(/the bound is too large: about [\d,]+ runs estimated/);
  // Cancel stops the workers; the page goes on.
  await page.fill('#x-depth', '2');
  await page.click('#x-run');
  await page.waitForSelector('#x-progress:not([hidden])');
  await page.keyboard.press('Escape');
  try {
    await page.waitForSelector('#x-results >> text=Cancelled.', { timeout: 10000 });
  } catch (e) {
    console.log(
      await page.evaluate('document.activeElement.outerHTML'),
      await page.textContent('#x-results'),
      await page.textContent('#message'),
      await page.textContent('#x-phase'),
    );
    throw e;
  }
  await page.keyboard.press('ArrowRight');
  expect((await probe(page)).step).toBe(2);
  expect(errors).toEqual([]);
  await page.context().close();
}, 60000);

test('every example in the menu opens its moment', async () => {
  const { page, errors } = await openPage(browser, base, '#d=linux-3.3&w=kernel');
  const links = await page.$$eval('.examples a', (as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
  expect(links.length).toBeGreaterThanOrEqual(3);
  for (const href of links as string[]) {
    await page.click('.examples summary');
    await page.click(`.examples a[href="${href}"]`);
    const at = /at=(\d+)/.exec(href)?.[1];
    await page.waitForFunction(
      (want) => {
        const p = (window as unknown as { nmiLab: { state(): { step: number; design: string } } }).nmiLab.state();
        return location.hash.includes(`d=${want.d}`) && p.design === want.d && (want.at === null || p.step === want.at);
      },
      { d: /d=([^&]+)/.exec(href)?.[1], at: at === undefined ? null : Number(at) },
    );
    expect(await page.getAttribute('#message', 'class')).not.toContain('bad');
  }
  expect(errors).toEqual([]);
  await page.context().close();
});
