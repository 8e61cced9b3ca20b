'use strict';
// Entry point for `require('nmi-lab')`: the library is TypeScript, loaded through the project's
// transpile-on-require hook (bin/ts-register.js). Types come from kernel-lib/index.ts.
require('./bin/ts-register');
module.exports = require('./kernel-lib/index.ts');
