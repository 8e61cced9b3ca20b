'use strict';
// A minimal require hook: .ts files are transpiled to CommonJS (no type check: that is the
// tests' job). Output is cached under node_modules/.cache so only changed files pay for
// loading the TypeScript compiler.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'nmi-lab-ts');
let ts = null;

function transpile(source, filename) {
  if (ts === null) ts = require('typescript');
  return ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      sourceMap: false,
    },
  }).outputText;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let js;
  try {
    js = fs.readFileSync(cached, 'utf8');
  } catch {
    js = transpile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      // Write then rename: worker threads and processes load modules concurrently, and a reader
      // must never see a half-written file.
      const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(tmp, js);
      fs.renameSync(tmp, cached);
    } catch {
      // A read-only install still works, just slower.
    }
  }
  module._compile(js, filename);
};
