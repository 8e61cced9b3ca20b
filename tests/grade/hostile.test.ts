// Hostile submissions: each gets a score of 0 for what it did not solve and a reason; no forged
// report raises a score; nothing outside the submission's scratch folder changes (the project, the
// grader's scratch root, TMPDIR); the hidden tests, the lessons and the reference notebooks cannot
// be read; and no process a submission tried to start is left when grading ends. Run under
// bubblewrap (when this machine allows it) and under Node's permission model alone.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { gradeMany, GradeReport } from '../../kernel-lib/grade/grader';
import { isolationInfo } from '../../kernel-lib/grade/sandbox';
import { reference, scratchRoot, withExercise } from './submissions';

jest.setTimeout(600_000);

const MARK = `nmihostile${crypto.randomBytes(4).toString('hex')}`;
const ROOT = PROJECT_ROOT;
const TMP = os.tmpdir();
const q = JSON.stringify;

// Paths the submission tries to reach, as the runner would find them (it knows where it lives).
const SECRETS = [
  path.join(ROOT, 'build', 'grade', 'hidden.js'),
  path.join(ROOT, 'build', 'grade', 'wrong-answers.js'),
  path.join(ROOT, 'kernel-lib', 'grade', 'hidden.ts'),
  path.join(ROOT, 'lessons', '00-tour.md'),
  path.join(ROOT, 'notebooks', '00-tour.ipynb'),
  '/etc/passwd',
];

const req = 'process.mainModule.require';

/** A wrong interruptedRsp, after the hostile code: every case below earns 0 for ch0-ex2 unless the attack works. */
const WRONG = 'function interruptedRsp(m: Machine): bigint { return 1n; }';

/** Name, the ch0-ex2 cell, and what the reason must say. */
const CASES: [string, string, RegExp][] = [
  ['endless loop in a cell', `while (true) {}\n${WRONG}`, /stopped after 6 s: cell \d+ did not finish/],
  [
    'endless loop in the answer',
    'function interruptedRsp(m: Machine): bigint { for (;;) {} }',
    /stopped after 6 s: the code did not finish/,
  ],
  [
    'huge output',
    `for (;;) console.log("x".repeat(100000));\n${WRONG}`,
    /(did not finish|ran out of memory).*printed [\d.]+ MiB of output/,
  ],
  [
    'heap bomb',
    `const hog: number[][] = []; for (;;) hog.push(new Array(1e6).fill(1.5));\n${WRONG}`,
    /ran out of memory/,
  ],
  [
    'buffer bomb (memory outside the heap)',
    `const hog: Buffer[] = []; for (;;) hog.push(Buffer.allocUnsafe(256 * 1024 * 1024));\n${WRONG}`,
    /stopped with an error: RangeError: Array buffer allocation failed|ran out of memory/,
  ],
  ['process.exit', `process.exit(0);\n${WRONG}`, /process\.exit\(0\) was called/],
  [
    'process.exit inside the answer',
    'function interruptedRsp(m: Machine): bigint { process.exit(3); return 0n; }',
    /your code threw Error: process\.exit\(3\) was called/,
  ],
  ['self-kill', `(process as any).reallyExit(9);\n${WRONG}`, /process ended before answering \(exit code 9/],
  ['signal the grader', `process.kill(process.ppid, 'SIGKILL');\n${WRONG}`, /process\.kill is not available/],
  [
    'forged report: the reporter on globalThis',
    `(globalThis as any).__nmiLabCheckReporter__?.report({ id: 'ch0-ex2', ok: true, message: 'forged' });\n${WRONG}`,
    /interruptedRsp returned 0x1, not the RSP/,
  ],
  [
    'forged report: file descriptor 3',
    `const fs3 = ${req}('fs');\nfor (const t of ['check', 'done']) fs3.writeSync(3, JSON.stringify({ type: t, result: { id: 'ch0-ex2', ok: true }, ok: true }) + '\\n');\nfor (let i = 0; i < 8; i++) fs3.writeSync(3, JSON.stringify({ type: 'answer', exercise: 'ch0-ex2', index: i, answer: { $: 'object', v: { value: { $: 'bigint', v: '66' }, changed: false } } }) + '\\n');\n${WRONG}`,
    /interruptedRsp returned 0x(42|1),/,
  ],
  [
    'forged report: from an exit handler',
    `process.on('exit', () => ${req}('fs').writeSync(3, JSON.stringify({ type: 'answer', exercise: 'ch0-ex2', index: 0, answer: { $: 'object', v: { value: { $: 'bigint', v: '1' }, changed: false } } }) + '\\n'));\n${WRONG}`,
    /interruptedRsp returned 0x1/,
  ],
  [
    'patched library: the exercise answers for it, the machine lies',
    `const c = ${req}(${q(path.join(ROOT, 'build', 'course', 'index.js'))});\nconst e = c.exerciseById('ch0-ex2'); e.answer = () => ({ value: 1n, changed: false }); e.judge = () => undefined;\n(Machine.prototype as any).readU64 = () => 1n;\n${WRONG}`,
    /interruptedRsp returned 0x1/,
  ],
  [
    'writes and deletes outside the scratch folder',
    `const fsw = ${req}('fs'); const p = ${req}('path');\nconst targets = [p.join(process.cwd(), '..', ${q(MARK)}), p.join(${q(TMP)}, ${q(MARK)}), ${q(path.join(ROOT, 'lessons', '00-tour.md'))}, ${q(path.join(ROOT, 'build', 'grade', 'hidden.js'))}, ${q(path.join(ROOT, MARK))}];\nfor (const t of targets) { try { fsw.writeFileSync(t, 'pwned'); } catch {} try { fsw.appendFileSync(t, 'pwned'); } catch {} }\nfor (const t of [p.join(process.cwd(), '..'), ${q(path.join(ROOT, 'lessons'))}]) { try { fsw.rmSync(t, { recursive: true, force: true }); } catch {} }\ntry { fsw.symlinkSync('/', p.join(process.cwd(), 'root')); fsw.writeFileSync(p.join(process.cwd(), 'root', 'tmp', ${q(MARK)}), 'x'); } catch {}\n${WRONG}`,
    /interruptedRsp returned 0x1/,
  ],
  [
    'detached and daemonised processes',
    `const cp = (() => { try { return ${req}('child_process'); } catch { return null; } })();\nconst tries: (() => unknown)[] = [\n  () => cp.spawn('sleep', ['1000'], { detached: true, stdio: 'ignore', argv0: ${q(MARK)} }).unref(),\n  () => cp.spawn('sh', ['-c', 'nohup sleep 1000 >/dev/null 2>&1 &', ${q(MARK)}], { detached: true, stdio: 'ignore' }).unref(),\n  () => cp.execSync('setsid sleep 1000 ${MARK} &'),\n  () => new (${req}('worker_threads').Worker)('setInterval(() => {}, 1000)', { eval: true }),\n];\nlet started = 0; for (const t of tries) { try { t(); started++; } catch {} }\nfunction interruptedRsp(m: Machine): bigint { return BigInt(1000 + started); }`,
    /interruptedRsp returned 0x3e8, not the RSP/, // 1000 + 0 processes started
  ],
  [
    'reads the hidden tests, the lessons and the reference notebooks',
    `const fsr = ${req}('fs');\nconst leaked = ${q(SECRETS)}.filter((f: string) => { try { fsr.readFileSync(f); return true; } catch { return false; } });\nfunction interruptedRsp(m: Machine): bigint { return BigInt(2000 + leaked.length); }`,
    /interruptedRsp returned 0x7d0, not the RSP/, // 2000 + 0 files read
  ],
];

function snapshotTree(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      h.update(p);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Processes whose command line mentions the marker (or a sleep 1000 started after `since`). */
function leftovers(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(MARK) || /^sleep 1000\b/.test(cmd)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

const modes = isolationInfo().mode === 'bwrap' ? (['bwrap', 'node'] as const) : (['node'] as const);

test.each(modes.map((m) => [m]))('hostile submissions under %s isolation', async (mode) => {
  const { dir, cleanup } = scratchRoot();
  try {
    const guarded = ['lessons', 'notebooks', path.join('build', 'grade'), path.join('kernel-lib', 'grade')].map((d) =>
      path.join(ROOT, d),
    );
    const before = guarded.map(snapshotTree);
    const rootBefore = fs.readdirSync(ROOT).sort();
    const tmpBefore = fs.readdirSync(TMP).filter((f) => f.includes(MARK));
    const base = reference('00-tour');
    const files = CASES.map(([, code], i) => {
      const f = path.join(dir, `hostile-${i}.ipynb`);
      fs.writeFileSync(f, withExercise(base, 'ch0-ex2', code));
      return f;
    });
    const scratch = path.join(dir, 'scratch');
    const reports: GradeReport[] = await gradeMany(files, {
      concurrency: 2,
      timeoutMs: 6000,
      memoryMb: 96,
      isolation: mode,
      scratchRoot: scratch,
    });
    const seen = reports.map((r, i) => ({
      name: CASES[i][0],
      isolation: r.isolation,
      ex2: r.exercises.find((e) => e.id === 'ch0-ex2')!.score,
      reason: r.exercises.find((e) => e.id === 'ch0-ex2')!.reason,
    }));
    expect(seen).toEqual(
      CASES.map(([name, , reason]) => ({ name, isolation: mode, ex2: 0, reason: expect.stringMatching(reason) })),
    );
    reports.forEach((r, i) => {
      const [name, , reason] = CASES[i];
      const e1 = r.exercises.find((e) => e.id === 'ch0-ex1')!;
      const e2 = r.exercises.find((e) => e.id === 'ch0-ex2')!;
      expect({ name, isolation: r.isolation, score: e2.score }).toEqual({ name, isolation: mode, score: 0 });
      expect({ name, reason: e2.reason }).toEqual({ name, reason: expect.stringMatching(reason) });
      // The reference solution of the other exercise still scores, unless the cells never finish.
      if (!/cell \d+ did not finish|huge output|bomb|self-kill|exit/.test(`${name} ${e2.reason}`))
        expect({ name, ex1: e1.score }).toEqual({ name, ex1: 1 });
    });
    expect(guarded.map(snapshotTree)).toEqual(before);
    expect(fs.readdirSync(ROOT).sort()).toEqual(rootBefore);
    expect(fs.readdirSync(TMP).filter((f) => f.includes(MARK))).toEqual(tmpBefore);
    // Every run's scratch folder is gone, and nothing else was made next to them.
    expect(fs.readdirSync(scratch)).toEqual([]);
    expect(leftovers()).toEqual([]);
  } finally {
    cleanup();
  }
});
