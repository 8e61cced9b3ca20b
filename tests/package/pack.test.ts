// The package as a user gets it: `npm pack`, installed into an empty project, then used there the
// way the README says: a script that assembles, steps and explores (with worker threads, so the
// compiled worker is exercised), the `nmi-lab` command through the installed bin, and a notebook
// cell in the tslab kernel that imports the package by name. Nothing here may load TypeScript
// sources: the installed copy has none.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { jupyterEnv, pythonExecutable, registerKernel } from '../../scripts/course/jupyter-env';

const ROOT = path.resolve(__dirname, '../..');
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

jest.setTimeout(300_000);

let project: string;
let installed: string;

beforeAll(() => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-pack-'));
  // --ignore-scripts: the build is already fresh (tests/global-setup.js), and the prepare step's
  // clean rebuild would pull build/ from under the suites running alongside this one.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  // What the tarball carries: the compiled library and its data, no TypeScript sources or tests.
  expect(files).toContain('build/index.js');
  expect(files).toContain('build/index.d.ts');
  expect(files).toContain('build/explore/worker.js');
  expect(files).toContain('build/designs/linux-3.3.S');
  expect(files).toContain('build/harness/kernel.S');
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.some((f) => f.startsWith('tests/') || f.startsWith('kernel-lib/'))).toBe(false);

  project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "a-user-project", "private": true }\n');
  const tslab = (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    }
  ).peerDependencies.tslab;
  execFileSync('npm', ['install', ...NPM_QUIET, tarball, `tslab@${tslab}`], { cwd: project, stdio: 'pipe' });
  installed = path.join(project, 'node_modules', 'nmi-lab');
});

test('the installed package runs from its compiled code: assemble, step, explore with workers', () => {
  const script = `
const { assembleOrThrow, Machine, exploreDesign } = require('nmi-lab');
const program = assembleOrThrow({ files: [{ name: 'demo.S', text: '_start:\\n movq $6, %rax\\n addq $36, %rax\\n hlt\\n' }] });
const m = new Machine().load(program);
m.map(0xffffc90000000000n, 0x8000);
m.setReg('rsp', 0xffffc90000008000n).setReg('rip', m.symbol('_start'));
const r = m.run({ maxSteps: 10 });
exploreDesign({ design: 'linux-3.3', workload: 'syscall', depth: 2, workers: 2 }).then(([report]) => {
  console.log(JSON.stringify({ stop: r.stop, rax: m.reg('rax').toString(), verdict: report.verdict,
    invariants: report.violations.map((v) => v.invariant) }));
});`;
  fs.writeFileSync(path.join(project, 'use.js'), script);
  const out = execFileSync(process.execPath, ['use.js'], { cwd: project, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({
    stop: 'hlt',
    rax: '42',
    verdict: 'violated',
    invariants: expect.arrayContaining(['lost-nmi']),
  });
  // The installed copy has no TypeScript to fall back on.
  expect(fs.existsSync(path.join(installed, 'kernel-lib'))).toBe(false);
});

test('`nmi-lab` runs through the installed bin', () => {
  const bin = path.join(project, 'node_modules', '.bin', 'nmi-lab');
  const designs = execFileSync(bin, ['designs', '--json'], { cwd: project, encoding: 'utf8' });
  expect((JSON.parse(designs) as { id: string }[]).map((d) => d.id)).toContain('linux-3.3');
  const r = spawnSync(bin, ['explore', 'linux-3.3', '--workload', 'syscall', '--json'], {
    cwd: project,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1); // violated: CVE-2015-3291's lost NMI
  expect(JSON.parse(r.stdout).violations.map((v: { invariant: string }) => v.invariant)).toContain('lost-nmi');
});

test('a tslab notebook cell imports the installed package by name (types and code)', () => {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: [
      {
        cell_type: 'code',
        id: 'use-nmi-lab',
        metadata: {},
        execution_count: null,
        outputs: [],
        source: [
          "import { buildKernel, listDesigns } from 'nmi-lab';\n",
          "import { check } from 'nmi-lab/course';\n",
          "const k = buildKernel({ design: 'linux-3.3', workload: 'kernel' });\n",
          'k.machine.raiseNmi();\n',
          "k.machine.run({ until: 'first_nmi', maxSteps: 1000 });\n",
          'console.log(listDesigns().length, k.where(), typeof check);\n',
        ],
      },
    ],
  };
  const input = path.join(project, 'use.ipynb');
  fs.writeFileSync(input, JSON.stringify(notebook));
  registerKernel(project);
  const r = spawnSync(
    pythonExecutable(),
    [path.join(ROOT, 'scripts', 'course', 'run_notebook.py'), input, path.join(project, 'out.ipynb')],
    { cwd: project, encoding: 'utf8', env: jupyterEnv(project) },
  );
  const result = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ok: boolean; problems: unknown[] };
  expect(result.problems).toEqual([]);
  const executed = JSON.parse(fs.readFileSync(path.join(project, 'out.ipynb'), 'utf8'));
  const text = executed.cells[0].outputs.map((o: { text?: string }) => o.text ?? '').join('');
  expect(text).toMatch(/^\d+ first_nmi(\+0)? function\n$/);
});

test('`nmi-lab grade` works from the installed package, without the typescript package', () => {
  expect(() => require.resolve('typescript', { paths: [project] })).toThrow();
  const bin = path.join(project, 'node_modules', '.bin', 'nmi-lab');
  const r = spawnSync(bin, ['grade', path.join(installed, 'notebooks', '00-tour.ipynb')], {
    cwd: project,
    encoding: 'utf8',
  });
  expect(r.stdout).toMatch(/total +2 \/ 2/);
  expect(r.status).toBe(0);
});
