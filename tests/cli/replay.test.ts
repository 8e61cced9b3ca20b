// `nmi-lab replay`: the step-through trace, text stack diagrams at chosen steps, the verdict.
import { main } from '../../kernel-lib/cli/main';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('replays the CVE-2015-3291 schedule on linux-3.3 with stack diagrams at chosen steps', async () => {
  const r = await run([
    'replay',
    'linux-3.3',
    '--workload',
    'syscall',
    '--schedule',
    'rsp=0xffff880000203800,nmi@system_call+0',
    '--stacks-at',
    '19,43',
  ]);
  expect(r.code).toBe(1); // an invariant is violated
  expect(r.out).toMatch(/nested_nmi\+0/);
  expect(r.out).toMatch(/stacks at step 19:\nNMI stack \(IST 3\)/);
  expect(r.out).toMatch(/T-40 .*<system_call\+0>/);
  expect(r.out).toMatch(/stacks at step 43:/);
  expect(r.out).toMatch(/\[1\] .*never handled/);
}, 60000);

test('a bad --stacks-at value is a usage error', async () => {
  const r = await run(['replay', 'linux-3.3', '--schedule', 'nmi@3', '--stacks-at', 'soon']);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--stacks-at takes step numbers/);
});
