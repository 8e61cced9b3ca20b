#!/usr/bin/env node
'use strict';
require('./ts-register');
const { main } = require('../kernel-lib/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`nmi-lab: internal error: ${(err && err.stack) || err}\n`);
    process.exitCode = 1;
  },
);
