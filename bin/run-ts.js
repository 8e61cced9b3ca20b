#!/usr/bin/env node
// Runs a TypeScript entry point without a build step: .ts files are transpiled on
// require with the project's pinned TypeScript (type checking is the tests' job).
'use strict';
const path = require('path');
require('./ts-register');
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: run-ts.js FILE.ts [args...]\n');
  process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(entry));
