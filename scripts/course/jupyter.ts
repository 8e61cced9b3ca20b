// npm run jupyter [-- --port N] [-- extra Jupyter arguments]
// Registers the tslab kernel inside the project (.jupyter-local/), then starts JupyterLab if it is
// installed, else the classic Notebook, on 127.0.0.1 only, in notebooks/. The token Jupyter prints
// is kept: the server runs code as you.
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { jupyterEnv, registerKernel } from './jupyter-env';

function has(env: NodeJS.ProcessEnv, sub: string): boolean {
  return spawnSync('jupyter', [sub, '--version'], { env, stdio: 'ignore' }).status === 0;
}

function main(argv: string[]): void {
  registerKernel();
  const env = jupyterEnv();
  const app = process.env.NMI_LAB_JUPYTER_APP ?? (has(env, 'lab') ? 'lab' : has(env, 'notebook') ? 'notebook' : null);
  if (!app) {
    process.stderr.write(
      'jupyter: neither JupyterLab nor the classic Notebook is installed.\n' +
        '  Debian/Ubuntu: sudo apt-get install jupyter-notebook   elsewhere: pip install jupyterlab\n',
    );
    process.exitCode = 2;
    return;
  }
  // Containers often run as root, which Jupyter refuses without --allow-root; it still listens on loopback only.
  const root = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--allow-root'] : [];
  const args = [
    app,
    '--no-browser',
    '--ip=127.0.0.1',
    `--notebook-dir=${path.join(PROJECT_ROOT, 'notebooks')}`,
    ...root,
    ...argv,
  ];
  process.stdout.write(
    `starting: jupyter ${args.join(' ')}\n(kernel "TypeScript" = tslab; open the URL with the token below; Ctrl-C to stop)\n`,
  );
  const child = spawn('jupyter', args, { env, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => {
    process.exitCode = code ?? 0;
  });
}

main(process.argv.slice(2));
