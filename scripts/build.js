#!/usr/bin/env node
// Builds the package: compiles kernel-lib/ to JavaScript with declarations in build/ (tsc, with
// tsconfig.build.json), then copies the data files the library reads at run time (the designs'
// listings and manifests, the harness kernel and prelude), which tsc does not copy.
// `--clean` removes build/ first (npm's prepare step); without it the compile is incremental, and
// outputs whose sources are gone are removed.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'kernel-lib');
const out = path.join(root, 'build');
const DATA = /\.(S|h|json)$/;

function copyData(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copyData(from);
    else if (DATA.test(entry.name)) {
      const to = path.join(out, path.relative(source, from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}

/**
 * Removes outputs whose source is gone (tsc's incremental build never deletes): a stale
 * explore/invariants.js would shadow a new explore/invariants/index.js, for instance.
 */
function pruneStale(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    const rel = path.relative(out, at);
    if (entry.isDirectory()) {
      pruneStale(at);
      if (fs.readdirSync(at).length === 0) fs.rmdirSync(at);
      continue;
    }
    const compiled = /^(.*)\.(js|d\.ts)$/.exec(rel);
    const from = compiled ? path.join(source, `${compiled[1]}.ts`) : path.join(source, rel);
    if (rel !== '.tsbuildinfo' && !fs.existsSync(from)) fs.rmSync(at);
  }
}

function build({ clean = false } = {}) {
  if (clean) fs.rmSync(out, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status})`);
  copyData(source);
  pruneStale(out);
}

module.exports = { build };

if (require.main === module) {
  try {
    build({ clean: process.argv.includes('--clean') });
  } catch (e) {
    process.stderr.write(`build: ${e.message}\n`);
    process.exit(1);
  }
}
