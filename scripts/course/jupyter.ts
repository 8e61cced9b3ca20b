// npm run jupyter [-- --reference] [-- --notebook7 | --classic] [-- JUPYTER ARGUMENTS...]
// Registers the tslab kernel inside the project (.jupyter-local/), fills the student workspace
// (workspace/, git-ignored; never overwritten: workspace.ts), and starts JupyterLab from the
// project's Python environment (.venv/) on 127.0.0.1, opened on the workspace. The token Jupyter
// prints is kept: the server runs code as you.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { installClassicPlotly, jupyterEnv, jupyterExecutable, registerKernel } from './jupyter-env';
import { describeSync, syncWorkspace, workspaceDir } from './workspace';
import type { WorkspaceKind } from './workspace';

export const USAGE = `usage: npm run jupyter [-- OPTIONS] [-- JUPYTER ARGUMENTS...]
  (no option)      JupyterLab on 127.0.0.1, opened on your workspace (workspace/: your copies of
                   the exercise notebooks; nothing in the project overwrites them)
  --reference      open copies of the reference notebooks instead (workspace/reference/)
  --notebook7      Notebook 7 instead of JupyterLab
  --classic        the classic Notebook 6 instead (Debian: apt-get install jupyter-notebook)
  --help           this text
Any other argument goes to Jupyter as is, e.g. --port=9999, or --notebook-dir=DIR to open a
folder of your own instead of the workspace.`;

export type Front = 'lab' | 'notebook7' | 'classic';

export interface LaunchPlan {
  front: Front;
  workspace: WorkspaceKind | null;
  /** The program and its arguments. */
  command: string;
  args: string[];
}

/** Jupyter options that choose the folder to serve; with one of them the workspace is not used. */
const ROOT_OPTION = /^--(notebook-dir|(ServerApp|NotebookApp)\.(root_dir|notebook_dir))(=|$)/;

/** The Debian classic Notebook (6.x): it must not be the Notebook 7 of the environment on PATH. */
const CLASSIC_NOTEBOOK = '/usr/bin/jupyter-notebook';

/** Reads our options; everything else is passed through. Throws Error with a one-line message. */
export function planLaunch(argv: readonly string[], root: string = PROJECT_ROOT, isRoot = false): LaunchPlan {
  let front: Front = 'lab';
  let reference = false;
  const pass: string[] = [];
  for (const a of argv) {
    if (a === '--reference') reference = true;
    else if (a === '--notebook7' || a === '--classic') {
      const f: Front = a === '--classic' ? 'classic' : 'notebook7';
      if (front !== 'lab' && front !== f) throw new Error('choose one of --notebook7 and --classic');
      front = f;
    } else pass.push(a);
  }
  // A folder of the user's: an explicit option, or a path given as a positional argument.
  const ownFolder = pass.some(
    (a, i) =>
      ROOT_OPTION.test(a) ||
      (!a.startsWith('-') && !(i > 0 && /^--[^=]+$/.test(pass[i - 1])) && fs.existsSync(path.resolve(a))),
  );
  if (ownFolder && reference)
    throw new Error('--reference opens the workspace copies; it cannot go with a folder of yours');
  const workspace: WorkspaceKind | null = ownFolder ? null : reference ? 'reference' : 'student';
  const dir =
    workspace === null
      ? []
      : [
          front === 'classic'
            ? `--notebook-dir=${workspaceDir(workspace, root)}`
            : `--ServerApp.root_dir=${workspaceDir(workspace, root)}`,
        ];
  // Containers often run as root, which Jupyter refuses without --allow-root; it still listens on loopback only.
  const common = ['--no-browser', '--ip=127.0.0.1', ...(isRoot ? ['--allow-root'] : []), ...dir, ...pass];
  if (front === 'classic') return { front, workspace, command: CLASSIC_NOTEBOOK, args: common };
  return {
    front,
    workspace,
    command: jupyterExecutable(root),
    args: [front === 'lab' ? 'lab' : 'notebook', ...common],
  };
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let plan: LaunchPlan;
  try {
    plan = planLaunch(argv, PROJECT_ROOT, typeof process.getuid === 'function' && process.getuid() === 0);
    registerKernel();
    if (plan.front === 'classic') {
      const probe = spawnSync(plan.command, ['--version'], { encoding: 'utf8' });
      if (probe.status !== 0 || !/^6\./.test(probe.stdout.trim()))
        throw new Error(
          `the classic Notebook 6 is not installed at ${CLASSIC_NOTEBOOK} (Debian/Ubuntu: sudo apt-get install jupyter-notebook)`,
        );
      installClassicPlotly();
    }
    if (plan.workspace)
      for (const line of describeSync(syncWorkspace(plan.workspace))) process.stdout.write(`${line}\n`);
  } catch (e) {
    process.stderr.write(`jupyter: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  process.stdout.write(
    `starting: ${path.relative(PROJECT_ROOT, plan.command) || plan.command} ${plan.args.join(' ')}\n` +
      '(kernel "TypeScript" = tslab; open the URL with the token below; Ctrl-C to stop)\n',
  );
  const child = spawn(plan.command, plan.args, { env: jupyterEnv(), stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`jupyter: cannot start ${plan.command}: ${e.message}\n`);
    process.exitCode = 2;
  });
  child.on('exit', (code) => {
    process.exitCode = code ?? 0;
  });
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
