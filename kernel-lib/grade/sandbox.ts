// Runs a learner's program (runner/runner.js) in a sandbox made of existing mechanisms, not a
// home-made one:
//
// - Node's permission model (Node 20, --experimental-permission): the process may read only the
//   library's compiled code it needs (not build/grade/, where the hidden tests are, nor lessons/ or
//   notebooks/) and its scratch folder, write only in its scratch folder, and start no child
//   process, worker thread, native addon or inspector.
// - bubblewrap (Debian's `bubblewrap`), where it can create namespaces: new PID, network, IPC, UTS,
//   cgroup and user namespaces; a root file system holding only /usr (and the loader's links), the
//   library's code, read-only, and the scratch folder as a size-limited tmpfs; a new session; and
//   --die-with-parent. The PID namespace means that every process the learner's code could start
//   dies with it, and that it cannot see or signal a process outside.
// - prlimit (util-linux): RLIMIT_DATA bounds all the memory the process allocates (V8's heap and
//   ArrayBuffers alike) and RLIMIT_FSIZE the size of a file it writes.
//
// Without bubblewrap (not installed, or namespaces not allowed, as in some containers) the
// permission model alone still stops reads, writes, child processes and workers; what it does not
// stop is signalling other processes of the same user or using the network, so the runner removes
// process.kill first, and the report says which isolation was used and why.
//
// The scratch folder is a fresh folder under a per-user cache directory (mode 0700), never in a
// shared TMPDIR; it is deleted when the run ends. The process runs in its own process group, which
// is killed (SIGKILL) at the time limit and again when it exits.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The package root: the folder holding build/ (from kernel-lib/grade or build/grade). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_DIR = path.join(PACKAGE_ROOT, 'build');
export const RUNNER = path.join(BUILD_DIR, 'grade', 'runner', 'runner.js');

/** Folders of build/ a learner's process may read (the library); the rest (grade, cli, lessons) it may not. */
const PRIVATE_BUILD = new Set(['grade', 'cli', 'lessons']);

export type Isolation = 'bwrap' | 'node';

export interface SandboxLimits {
  /** Wall-clock limit (ms) for the cells, and again for each exercise the runner begins (its 'begin' reports). */
  timeoutMs: number;
  /** How many 'begin' reports may restart the clock (the number of exercises in the job). */
  phases?: number;
  /** V8 heap limit (MiB); all memory is bounded at twice this plus 256 MiB. */
  memoryMb: number;
  /** Output kept for the report (bytes); more than this is noted in a time-out's reason. */
  outputCap: number;
  /** 'auto' (bubblewrap when it works), 'bwrap' (required) or 'node' (the permission model only). */
  isolation?: 'auto' | Isolation;
  /** Where scratch folders are made (default: a per-user cache folder). */
  scratchRoot?: string;
}

export interface RunnerMessage {
  type: string;
  [key: string]: unknown;
}

export interface SandboxRun {
  messages: RunnerMessage[];
  timedOut: boolean;
  outputFlood: boolean;
  /** The first bytes of stderr (for "ran out of memory" and similar). */
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  /** Bytes the process wrote to stdout and stderr. */
  printed: number;
  isolation: Isolation;
}

/** Which isolation a run gets, and why not bubblewrap when it does not. */
export interface IsolationInfo {
  mode: Isolation;
  reason: string | null;
}

function readableBuildPaths(): { dirs: string[]; files: string[] } {
  const dirs: string[] = [path.join(BUILD_DIR, 'grade', 'runner')];
  const files: string[] = [];
  for (const e of fs.readdirSync(BUILD_DIR, { withFileTypes: true })) {
    const p = path.join(BUILD_DIR, e.name);
    if (e.isDirectory() && !PRIVATE_BUILD.has(e.name)) dirs.push(p);
    else if (e.isFile() && e.name.endsWith('.js')) files.push(p);
  }
  return { dirs, files };
}

let prlimitPath: string | null | undefined;
function prlimit(): string | null {
  if (prlimitPath !== undefined) return prlimitPath;
  prlimitPath = null;
  for (const p of ['/usr/bin/prlimit', '/bin/prlimit']) if (fs.existsSync(p)) prlimitPath = p;
  return prlimitPath;
}

function findBwrap(): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const p = path.join(dir, 'bwrap');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

/** bubblewrap arguments for a run whose scratch folder is `scratch` (see the header comment). */
function bwrapArgs(scratch: string, scratchBytes: number): string[] {
  const args = [
    '--die-with-parent',
    '--new-session',
    '--unshare-all',
    '--cap-drop',
    'ALL',
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/bin:/bin',
    '--setenv',
    'HOME',
    scratch,
    '--setenv',
    'TMPDIR',
    scratch,
    '--setenv',
    'NODE_ENV',
    'grading',
    // The mounts that replace whole trees first, so the binds below land on top of them (a
    // package installed under /tmp must stay visible).
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const top of ['/lib', '/lib64', '/lib32', '/bin', '/sbin']) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(top);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(top), top);
    else if (st.isDirectory()) args.push('--ro-bind', top, top);
  }
  args.push('--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache');
  const node = fs.realpathSync(process.execPath);
  if (!node.startsWith('/usr/')) {
    const prefix = path.dirname(path.dirname(node));
    args.push('--ro-bind', prefix, prefix);
  }
  const { dirs, files } = readableBuildPaths();
  for (const p of [...dirs, ...files]) args.push('--ro-bind', p, p);
  args.push('--size', String(scratchBytes), '--tmpfs', scratch);
  args.push('--chdir', scratch);
  return args;
}

/** The node command line of the runner: the permission model's grants and the heap limit. */
function nodeArgs(scratch: string, memoryMb: number): string[] {
  const { dirs, files } = readableBuildPaths();
  return [
    '--experimental-permission',
    '--no-warnings',
    ...dirs.map((d) => `--allow-fs-read=${d}/*`),
    ...files.map((f) => `--allow-fs-read=${f}`),
    `--allow-fs-read=${scratch}/*`,
    `--allow-fs-write=${scratch}/*`,
    `--max-old-space-size=${memoryMb}`,
    RUNNER,
  ];
}

let isolationCache: IsolationInfo | null = null;

/** Whether bubblewrap works here (tried once: it starts Node in a sandbox like a real run's). */
export function isolationInfo(): IsolationInfo {
  if (isolationCache) return isolationCache;
  const bwrap = findBwrap();
  if (!bwrap) {
    isolationCache = {
      mode: 'node',
      reason: 'bubblewrap is not installed (Debian package bubblewrap): Node’s permission model only',
    };
    return isolationCache;
  }
  const root = scratchRootDir();
  const scratch = fs.mkdtempSync(path.join(root, 'probe-'));
  try {
    const r = spawnSync(bwrap, [...bwrapArgs(scratch, 1 << 20), '--', process.execPath, '-e', '0'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.status === 0) isolationCache = { mode: 'bwrap', reason: null };
    else {
      const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
      isolationCache = {
        mode: 'node',
        reason: `bubblewrap cannot create its namespaces here (${why}): Node’s permission model only`,
      };
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return isolationCache;
}

let defaultRoot: string | null = null;

/**
 * The per-user folder scratch folders are made in: $XDG_CACHE_HOME/nmi-lab/grading, else
 * ~/.cache/nmi-lab/grading (mode 0700). Not the system's TMPDIR, which other users share; only
 * when the home folder cannot be written (a user without one) a private folder (mode 0700) in
 * TMPDIR holds them, so that a scratch folder's parent is still the grader's own.
 */
export function scratchRootDir(explicit?: string): string {
  if (explicit) {
    fs.mkdirSync(explicit, { recursive: true, mode: 0o700 });
    return explicit;
  }
  if (defaultRoot) return defaultRoot;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(cache, 'nmi-lab', 'grading');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.accessSync(dir, fs.constants.W_OK);
    defaultRoot = dir;
  } catch {
    defaultRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-grading-'));
    fs.chmodSync(defaultRoot, 0o700);
  }
  return defaultRoot;
}

const MAX_REPORT_BYTES = 16 * 1024 * 1024;

/** Runs the runner on `job` (sent on stdin) in the sandbox, within `limits`. Never throws for what the job does. */
export function runInSandbox(job: unknown, limits: SandboxLimits): Promise<SandboxRun> {
  const info = limits.isolation === 'node' ? { mode: 'node' as const, reason: null } : isolationInfo();
  if (limits.isolation === 'bwrap' && info.mode !== 'bwrap')
    throw new Error(info.reason ?? 'bubblewrap is not available');
  const root = scratchRootDir(limits.scratchRoot);
  const scratch = fs.mkdtempSync(path.join(root, 'run-'));
  const dataBytes = (limits.memoryMb * 2 + 256) * 1024 * 1024;
  const fileBytes = 16 * 1024 * 1024;
  let command: string;
  let args: string[];
  const node = [process.execPath, ...nodeArgs(scratch, limits.memoryMb)];
  const limit = prlimit();
  const limited = limit ? [limit, `--data=${dataBytes}`, `--fsize=${fileBytes}`, '--core=0', '--', ...node] : node;
  if (info.mode === 'bwrap') {
    command = findBwrap() as string;
    args = [...bwrapArgs(scratch, fileBytes * 2), '--', ...limited];
  } else {
    command = limited[0];
    args = limited.slice(1);
  }
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: scratch,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: a kill reaches everything in it
      env: { PATH: '/usr/bin:/bin', HOME: scratch, TMPDIR: scratch, NODE_ENV: 'grading' },
    });
    const out: SandboxRun = {
      messages: [],
      timedOut: false,
      outputFlood: false,
      stderr: '',
      exitCode: null,
      signal: null,
      seconds: 0,
      printed: 0,
      isolation: info.mode,
    };
    let printed = 0;
    let reportBytes = 0;
    let buffer = '';
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onOutput = (keep: boolean) => (d: Buffer) => {
      printed += d.length;
      if (keep && out.stderr.length < limits.outputCap)
        out.stderr += d.toString('utf8').slice(0, limits.outputCap - out.stderr.length);
      if (printed > limits.outputCap) out.outputFlood = true;
    };
    child.stdout!.on('data', onOutput(false));
    child.stderr!.on('data', onOutput(true));
    const reports = child.stdio[3] as NodeJS.ReadableStream;
    reports.on('data', (d: Buffer) => {
      reportBytes += d.length;
      if (reportBytes > MAX_REPORT_BYTES) return;
      buffer += d.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as RunnerMessage;
          if (msg && typeof msg === 'object' && typeof msg.type === 'string') {
            out.messages.push(msg);
            if (msg.type === 'begin' && restarts < (limits.phases ?? 0)) {
              restarts++;
              arm();
            }
          }
        } catch {
          // not a report line
        }
      }
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(JSON.stringify(job));
    let restarts = 0;
    let timer: NodeJS.Timeout | null = null;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        out.timedOut = true;
        killGroup();
      }, limits.timeoutMs);
    };
    arm();
    child.on('error', (e) => {
      out.stderr += `could not start the sandbox: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      killGroup();
      out.exitCode = code;
      out.signal = signal;
      out.seconds = (Date.now() - started) / 1000;
      out.printed = printed;
      fs.rmSync(scratch, { recursive: true, force: true });
      resolve(out);
    });
  });
}
