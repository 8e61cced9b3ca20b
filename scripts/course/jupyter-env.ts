// Running Jupyter for the course: a project-local tslab kernelspec and the environment for it.
// Nothing is installed outside the checkout: the kernelspec lives in .jupyter-local/ (git-ignored)
// and Jupyter finds it through JUPYTER_PATH.
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';

export const KERNEL_NAME = 'tslab';

/** Debian's Python has nbclient/nbconvert (there is no PyPI here); the first python3 on PATH may not. */
export function pythonExecutable(): string {
  if (process.env.NMI_LAB_PYTHON) return process.env.NMI_LAB_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export function jupyterDataDir(root: string = PROJECT_ROOT): string {
  return path.join(root, '.jupyter-local', 'share', 'jupyter');
}

/**
 * Writes the tslab kernelspec under .jupyter-local, the same file `tslab install --prefix` writes,
 * but with the absolute path of the project's tslab, so the kernel starts whatever PATH Jupyter has.
 * Returns the kernelspec path.
 */
export function registerKernel(root: string = PROJECT_ROOT): string {
  const tslab = path.join(root, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab)) throw new Error(`${tslab} is missing: run npm ci (tslab is a dependency)`);
  const dir = path.join(jupyterDataDir(root), 'kernels', KERNEL_NAME);
  const spec = `${JSON.stringify({ argv: [tslab, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' }, null, 1)}\n`;
  const file = path.join(dir, 'kernel.json');
  let old: string | null;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch {
    old = null;
  }
  if (old !== spec) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, spec);
  }
  return file;
}

/** The environment for Jupyter processes: the project kernelspec first, the project's bin on PATH. */
export function jupyterEnv(root: string = PROJECT_ROOT, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const sep = path.delimiter;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env.JUPYTER_PATH = [jupyterDataDir(root), process.env.JUPYTER_PATH].filter(Boolean).join(sep);
  env.PATH = [path.join(root, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(sep);
  // Debian's Python must not pick up modules of another Python first on PATH (e.g. pyenv).
  delete env.PYTHONHOME;
  delete env.PYTHONPATH;
  return env;
}
