#!/usr/bin/env node
// A static file server for the built playground, on 127.0.0.1 only: `npm run site:serve` (after
// `npm run site`) for a local look, and what the browser tests and the benchmark serve it with.
// It serves files and nothing else, as any static host would.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Serve `dir` on 127.0.0.1:`port` (0: any free port). Resolves with the server and its base URL. */
function serveSite(dir, port = 0) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(root, `.${rel}`);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://127.0.0.1:${p}/` });
    });
  });
}

module.exports = { serveSite };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const at = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const dir = at('--dir') ?? path.join(__dirname, '..', 'dist', 'site');
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    process.stderr.write(`site:serve: no ${path.join(dir, 'index.html')}; run \`npm run site\` first\n`);
    process.exit(2);
  }
  serveSite(dir, Number(at('--port') ?? 8080)).then(
    ({ url }) => process.stdout.write(`serving ${dir} at ${url} (Ctrl+C stops)\n`),
    (e) => {
      process.stderr.write(`site:serve: ${e.message}\n`);
      process.exit(1);
    },
  );
}
