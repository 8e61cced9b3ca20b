// `nmi-lab exec`: JSON shape, exit statuses, and errors on stderr.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../kernel-lib/cli/main';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-cli-'));

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('--json prints one object: every register, rip and rflags as hex strings, steps and stop', async () => {
  const file = write('ok.S', '_start:\n  movq $-1, %rax\n  movl $7, %eax\n  addq $1, %rbx\n  hlt\n');
  const r = await run(['exec', file, '--json']);
  expect(r.code).toBe(0);
  const obj = JSON.parse(r.out);
  expect(obj.rax).toBe('0x7'); // the 32-bit write cleared the upper half
  expect(obj.rbx).toBe('0x1');
  expect(obj.rsp).toBe('0xffffc90000008000');
  expect(obj.rip).toMatch(/^0x[0-9a-f]+$/);
  expect(obj.rflags).toBe('0x2');
  expect(obj.steps).toBe(4);
  expect(obj.stop).toBe('hlt');
  expect(Object.keys(obj)).toHaveLength(16 + 4);
});

test('--entry and --max-steps: a runaway guest stops at the budget with status 1', async () => {
  const file = write('loop.S', '_start:\n  hlt\nspin:\n  jmp spin\n');
  const r = await run(['exec', file, '--entry', 'spin', '--max-steps', '1000', '--json']);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.out)).toMatchObject({ steps: 1000, stop: 'budget' });
});

test('a triple fault is a shutdown, reported, status 1', async () => {
  const file = write('tf.S', '_start:\n  ud2\n');
  const r = await run(['exec', file]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/shutdown/);
});

test('bad source: every error on stderr with file:line:column, status 2, nothing on stdout', async () => {
  const file = write('bad.S', '_start:\n  movq %rax\n  nosuch %eax\n  jmp nowhere\n');
  const r = await run(['exec', file, '--json']);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toContain(`${file}:2:3: error:`);
  expect(r.err).toContain(`${file}:3:3: error:`);
  expect(r.err).toMatch(/nowhere/);
});

test('usage errors: status 2 with a message', async () => {
  expect((await run(['exec'])).code).toBe(2);
  expect((await run(['exec', 'x.S', '--max-steps', 'lots'])).err).toMatch(/positive integer/);
  expect((await run(['frobnicate'])).err).toMatch(/unknown command/);
  expect((await run(['exec', path.join(tmp, 'missing.S')])).err).toMatch(/cannot read/);
});

test('the installed bin runs as a process', () => {
  const out = execFileSync(
    process.execPath,
    [path.join(ROOT, 'bin/nmi-lab.js'), 'exec', path.join(ROOT, 'examples/hello.S'), '--json'],
    { encoding: 'utf8' },
  );
  expect(JSON.parse(out).rax).toBe('0x37');
  const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/nmi-lab.js'), 'exec', write('b2.S', 'mov\n')], {
    encoding: 'utf8',
  });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/b2\.S:1:1/);
});
