// `nmi-lab explore`: the documented JSON shape, --source, refusal of a bound too large.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../kernel-lib/cli/main';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const KEYS = ['design', 'workload', 'depth', 'schedules', 'states', 'ms', 'violations'];

test('--workload W --json: one object; the lost NMI of CVE-2015-3291 with a replayable schedule', async () => {
  const r = await run([
    'explore',
    'linux-3.3',
    '--workload',
    'syscall',
    '--depth',
    '1',
    '--exceptions',
    '0',
    '--json',
    '--workers',
    '2',
  ]);
  expect(r.err).toBe('');
  const o = JSON.parse(r.out);
  expect(Object.keys(o)).toEqual(expect.arrayContaining(KEYS));
  expect(o).toMatchObject({ design: 'linux-3.3', workload: 'syscall', depth: 1 });
  const lost = o.violations.find((v: { invariant: string }) => v.invariant === 'lost-nmi');
  expect(lost.schedule).toMatch(/^rsp=0x[0-9a-f]+,nmi@system_call\+0$/);
  const replay = await run(['replay', 'linux-3.3', '--workload', 'syscall', '--schedule', lost.schedule, '--json']);
  expect(JSON.parse(replay.out).violations.map((v: { invariant: string }) => v.invariant)).toContain('lost-nmi');
}, 120000);

test('without --workload: an array, one object per workload', async () => {
  const r = await run(['explore', 'linux-4.2', '--depth', '1', '--exceptions', '0', '--json', '--workers', '2']);
  const all = JSON.parse(r.out);
  expect(all.map((o: { workload: string }) => o.workload)).toEqual(['kernel', 'user', 'syscall', 'debug']);
  for (const o of all) {
    expect(Object.keys(o)).toEqual(expect.arrayContaining(KEYS));
    expect(o.violations).toEqual([]);
    expect(o.schedules).toBeGreaterThan(0);
  }
}, 120000);

test('--source FILE.S judges a design of your own; bad source is reported with file:line:column', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-explore-'));
  // A plain entry: no nesting protection at all, but with no exceptions in the handler it is safe.
  const good = path.join(dir, 'plain.S');
  fs.writeFileSync(
    good,
    `ENTRY(nmi)
	pushq $-1
	ALLOC_PT_GPREGS_ON_STACK
	call save_paranoid
	movq %rsp, %rdi
	call do_nmi
	testl %ebx, %ebx
	jnz 1f
	SWAPGS
1:	RESTORE_ALL 8
	INTERRUPT_RETURN
END(nmi)
`,
  );
  const r = await run([
    'explore',
    '--source',
    good,
    '--workload',
    'kernel',
    '--depth',
    '1',
    '--exceptions',
    '0',
    '--json',
    '--workers',
    '0',
  ]);
  expect(r.err).toBe('');
  expect(JSON.parse(r.out)).toMatchObject({ design: 'plain', violations: [] });
  const bad = path.join(dir, 'bad.S');
  fs.writeFileSync(bad, 'ENTRY(nmi)\n\tmovq %rax\n\tiretq\nEND(nmi)\n');
  const b = await run(['explore', '--source', bad]);
  expect(b.code).toBe(2);
  expect(b.err).toContain(`${bad}:2:`);
}, 120000);

test('a bound too large is refused with an estimate before it starts', async () => {
  const r = await run(['explore', 'linux-3.3', '--workload', 'kernel', '--depth', '6', '--exceptions', '3']);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/schedules/);
  expect(r.out).toBe('');
}, 60000);

test('--sample N [--seed S]: random schedules where the exhaustive bound is refused, and says it sampled', async () => {
  const refused = await run(['explore', 'linux-3.3', '--depth', '4']);
  expect(refused.code).toBe(2);
  expect(refused.err).toMatch(/--sample N/);
  const r = await run([
    'explore',
    'linux-3.3',
    '--workload',
    'syscall',
    '--depth',
    '4',
    '--sample',
    '300',
    '--seed',
    '2',
    '--json',
  ]);
  const o = JSON.parse(r.out);
  expect(Object.keys(o)).toEqual(expect.arrayContaining(KEYS));
  expect(o).toMatchObject({
    design: 'linux-3.3',
    workload: 'syscall',
    depth: 4,
    mode: 'sampled',
    samples: 300,
    seed: 2,
    states: null,
  });
  expect(o.schedules).toBeLessThanOrEqual(300);
  expect(r.code).toBe(o.violations.length > 0 ? 1 : 0);
  const text = await run(['explore', 'linux-4.2', '--workload', 'kernel', '--sample', '20']);
  expect(text.out).toMatch(/no violation found in 20 random schedules \(seed 1\)/);
  expect(text.out).toMatch(/not a proof/);
  expect((await run(['explore', 'linux-4.2', '--seed', '3'])).code).toBe(2);
  expect((await run(['explore', 'linux-4.2', '--sample', 'many'])).err).toMatch(/--sample must be a positive integer/);
}, 120000);
