// Running Jupyter for the course: the project's Python environment (.venv/, made by
// scripts/setup.sh), a project-local tslab kernelspec, and the environment for both. Nothing is
// installed outside the checkout: the kernelspec lives in .jupyter-local/ (git-ignored) and Jupyter
// finds it through JUPYTER_PATH.
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { CLASSIC_PLOTLY_PATH, plotlyBundlePath } from '../../kernel-lib/view/chart';

export const KERNEL_NAME = 'tslab';

/** The project's Python environment, relative to the root. */
export const VENV_DIR = '.venv';

const SETUP_HINT = 'run: bash scripts/setup.sh';

/** A program in the project's Python environment (e.g. 'python', 'jupyter'). */
export function venvBin(name: string, root: string = PROJECT_ROOT): string {
  return path.join(root, VENV_DIR, 'bin', name);
}

/**
 * The Python that runs nbclient/nbconvert: the project's environment, or NMI_LAB_PYTHON when set
 * (a Python of your own with nbclient and nbconvert). Throws a one-line error when neither exists.
 */
export function pythonExecutable(root: string = PROJECT_ROOT): string {
  if (process.env.NMI_LAB_PYTHON) return process.env.NMI_LAB_PYTHON;
  const python = venvBin('python', root);
  if (!fs.existsSync(python))
    throw new Error(`the project's Jupyter environment is missing (${path.join(root, VENV_DIR)}/): ${SETUP_HINT}`);
  return python;
}

/** The `jupyter` command of the project's environment; throws a one-line error when it is missing. */
export function jupyterExecutable(root: string = PROJECT_ROOT): string {
  const jupyter = venvBin('jupyter', root);
  if (!fs.existsSync(jupyter))
    throw new Error(`JupyterLab is not installed in ${path.join(root, VENV_DIR)}/: ${SETUP_HINT}`);
  return jupyter;
}

export function jupyterDataDir(root: string = PROJECT_ROOT): string {
  return path.join(root, '.jupyter-local', 'share', 'jupyter');
}

function writeIfChanged(file: string, text: string | Buffer): void {
  let old: Buffer | null;
  try {
    old = fs.readFileSync(file);
  } catch {
    old = null;
  }
  if (old !== null && old.equals(Buffer.isBuffer(text) ? text : Buffer.from(text))) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/**
 * Writes the tslab kernelspec under .jupyter-local, the same file `tslab install --prefix` writes,
 * but with the absolute path of the project's tslab, so the kernel starts whatever PATH Jupyter has.
 * Returns the kernelspec path.
 */
export function registerKernel(root: string = PROJECT_ROOT): string {
  const tslab = path.join(root, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab)) throw new Error(`${tslab} is missing: run npm ci (tslab is a dependency)`);
  const file = path.join(jupyterDataDir(root), 'kernels', KERNEL_NAME, 'kernel.json');
  const spec = {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript',
    language: 'typescript',
  };
  writeIfChanged(file, `${JSON.stringify(spec, null, 1)}\n`);
  return file;
}

/**
 * Puts the project's plotly.js build where the classic Notebook serves static files from
 * (.jupyter-local/share/jupyter/nbextensions/nmi-lab/): chart outputs load it from there once per
 * page. JupyterLab and Notebook 7 do not need it (jupyterlab-plotly draws the charts).
 */
export function installClassicPlotly(root: string = PROJECT_ROOT): string {
  const file = path.join(jupyterDataDir(root), ...`${CLASSIC_PLOTLY_PATH}.js`.split('/'));
  writeIfChanged(file, fs.readFileSync(plotlyBundlePath()));
  return file;
}

/**
 * The environment for Jupyter processes: the project kernelspec first, the project's bin and its
 * Python environment's bin on PATH.
 */
export function jupyterEnv(root: string = PROJECT_ROOT, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const sep = path.delimiter;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env.JUPYTER_PATH = [jupyterDataDir(root), process.env.JUPYTER_PATH].filter(Boolean).join(sep);
  env.PATH = [path.join(root, 'node_modules', '.bin'), path.join(root, VENV_DIR, 'bin'), process.env.PATH]
    .filter(Boolean)
    .join(sep);
  // The environment's Python must not pick up modules of another Python (pyenv, conda).
  delete env.PYTHONHOME;
  delete env.PYTHONPATH;
  // jupyter_core 5 otherwise warns on every start that it will move its per-user folders.
  if (env.JUPYTER_PLATFORM_DIRS === undefined) env.JUPYTER_PLATFORM_DIRS = '1';
  return env;
}
