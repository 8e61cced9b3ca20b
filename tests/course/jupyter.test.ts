// `npm run jupyter` options: JupyterLab on the workspace by default; the reference copies, Notebook
// 7 or the classic Notebook instead; other arguments passed through, and a folder of the user's
// replaces the workspace (never two root-folder options: jupyter_server 2 refuses that).
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { planLaunch } from '../../scripts/course/jupyter';

const ws = path.join(PROJECT_ROOT, 'workspace');
const jupyter = path.join(PROJECT_ROOT, '.venv', 'bin', 'jupyter');

test('default: JupyterLab from the environment, loopback only, on the student workspace', () => {
  expect(planLaunch([])).toEqual({
    front: 'lab',
    workspace: 'student',
    command: jupyter,
    args: ['lab', '--no-browser', '--ip=127.0.0.1', `--ServerApp.root_dir=${ws}`],
  });
  expect(planLaunch([], PROJECT_ROOT, true).args).toContain('--allow-root');
});

test('--reference, --notebook7, --classic', () => {
  expect(planLaunch(['--reference'])).toMatchObject({
    workspace: 'reference',
    args: ['lab', '--no-browser', '--ip=127.0.0.1', `--ServerApp.root_dir=${path.join(ws, 'reference')}`],
  });
  expect(planLaunch(['--notebook7'])).toMatchObject({
    front: 'notebook7',
    command: jupyter,
    args: expect.arrayContaining(['notebook']),
  });
  expect(planLaunch(['--notebook7']).args[0]).toBe('notebook');
  const classic = planLaunch(['--classic', '--reference']);
  expect(classic).toMatchObject({ front: 'classic', command: '/usr/bin/jupyter-notebook', workspace: 'reference' });
  expect(classic.args).toContain(`--notebook-dir=${path.join(ws, 'reference')}`);
  expect(() => planLaunch(['--classic', '--notebook7'])).toThrow('choose one of --notebook7 and --classic');
});

test("other arguments pass through; a folder of the user's replaces the workspace", () => {
  expect(planLaunch(['--port=9999', '--ServerApp.token=x']).args.slice(-2)).toEqual([
    '--port=9999',
    '--ServerApp.token=x',
  ]);
  for (const own of [['--notebook-dir=/tmp'], ['--notebook-dir', '/tmp'], ['--ServerApp.root_dir=/tmp'], ['/tmp']]) {
    const plan = planLaunch(own);
    expect(plan.workspace).toBeNull();
    expect(plan.args.filter((a) => /root_dir|notebook-dir|notebook_dir/.test(a))).toEqual(
      own.filter((a) => a.startsWith('--')),
    );
    expect(plan.args.slice(-own.length)).toEqual(own);
  }
  // A value after an option is not a folder.
  expect(planLaunch(['--port', '9999']).workspace).toBe('student');
  expect(() => planLaunch(['--reference', '--notebook-dir=/tmp'])).toThrow(/cannot go with a folder of yours/);
});
