// Debian's Chromium through playwright-core, for the browser tests and the benchmarks: one place for
// the path and the flags. playwright-core never downloads a browser; this uses the system's.
import * as fs from 'fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, without the sandbox (it needs user namespaces that containers often lack) and the GPU,
 * and with nothing reaching out to the network on its own (updates, sync, QUIC probes), so a run
 * measures and tests only the pages it opens.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Start Chromium, or say what to install (`what`: who needs it, for the message). */
export function launchChromium(what = 'the browser tests'): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: ${what} need it (Debian: apt-get install -y chromium; scripts/setup.sh does this)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}
