// ts-jest runs with isolatedModules (no type checking), so type errors would otherwise only show in
// an editor: check the whole project (library, tests, bench) with the pinned TypeScript, strict.
import { spawnSync } from 'child_process';
import * as path from 'path';

test('the project type-checks (tsc --noEmit, strict)', () => {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json'), '--noEmit'],
    { encoding: 'utf8' },
  );
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 120000);
