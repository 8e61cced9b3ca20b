// The page's code type-checks against the DOM (site/tsconfig.json), strict, with the pinned
// TypeScript; the project's own check (tests/typecheck.test.ts) covers the library without the DOM.
import { spawnSync } from 'child_process';
import * as path from 'path';

test('the playground type-checks (tsc -p site, strict, DOM)', () => {
  const root = path.resolve(__dirname, '../..');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'site/tsconfig.json'), '--noEmit'],
    { encoding: 'utf8' },
  );
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 120000);
