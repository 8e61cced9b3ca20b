'use strict';
// A minimal require hook: transpile .ts to CommonJS in memory (no type check).
const fs = require('fs');
const ts = require('typescript');
require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  module._compile(out.outputText, filename);
};
