#!/usr/bin/env node
'use strict';
// The `nmi-lab` command: runs the compiled library (build/, made by `npm run build`).
let main;
try {
  ({ main } = require('../build/cli/main.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('build/cli/main')) {
    process.stderr.write('nmi-lab: the compiled library is missing: run `npm run build` in the NMI Lab checkout\n');
    process.exit(2);
  }
  throw e;
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`nmi-lab: internal error: ${(err && err.stack) || err}\n`);
    process.exitCode = 1;
  },
);
