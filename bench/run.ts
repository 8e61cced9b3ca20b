// `npm run bench [-- --json] [-- --quick]`: the emulator's throughput, measured as medians of
// several runs in one process after an untimed warm-up run (absolute numbers on shared machines
// are noisy; compare ratios measured in one run). Without --quick it also runs the explorer, the
// course headless and the course in JupyterLab per chapter (bench/course-lab.ts; --no-lab skips
// it, --lab-runs N sets its runs, --lab-only runs nothing else).
import { execFileSync } from 'child_process';
import * as path from 'path';
// The compiled package, as users run it. Not the TypeScript source through tsx: loaded that way,
// module by module, the emulator's hot paths ran 3.5 times slower (loop_ips 21 against 72 million
// instructions/s, same host, same minute; the same source bundled by esbuild ran at 78-86).
import { assembleOrThrow, Machine } from '../build';
import { bareMachine } from '../build/exec';
import { loopSource } from './loop-source';
import { unicornRate } from './unicorn-reference';
import { cliStart } from './cli-start';
import { classGradingSeconds } from './grading';

interface Args {
  json: boolean;
  quick: boolean;
}

function parse(argv: string[]): Args {
  return { json: argv.includes('--json'), quick: argv.includes('--quick') };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Instructions per second through run() with a (trivial) boundary hook active, as NMI injection needs. */
function loopIps(iterations: number, repeats: number): number {
  const program = assembleOrThrow({ files: [{ name: 'loop.S', text: loopSource(iterations) }] });
  const rates: number[] = [];
  // Repeat 0 warms the JIT up and is not counted.
  for (let r = 0; r <= repeats; r++) {
    const m = bareMachine().load(program);
    m.setReg('rip', m.symbol('_start'));
    let boundaries = 0;
    m.onBoundary(() => {
      boundaries++;
    });
    let steps = 0;
    const t = seconds(() => {
      steps = m.run({ maxSteps: iterations * 20 }).steps;
    });
    if (m.reg('rbx') !== BigInt(iterations - 1) || boundaries < steps)
      throw new Error('loop benchmark computed a wrong result');
    if (r > 0) rates.push(steps / t);
    gauge();
  }
  return median(rates);
}

/** Steps per second through the public step() API. */
function stepIps(count: number, repeats: number): number {
  const program = assembleOrThrow({ files: [{ name: 'loop.S', text: loopSource(count) }] });
  const rates: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const m = bareMachine().load(program);
    m.setReg('rip', m.symbol('_start'));
    const t = seconds(() => {
      for (let i = 0; i < count; i++) m.step();
    });
    if (r > 0) rates.push(count / t);
    gauge();
  }
  return median(rates);
}

const TRIAL_KERNEL = `
.text
_start:
    xorl %eax, %eax
1:  pushq %rax
    movq (%rsp), %rdx
    addq $1, %rdx
    movq %rdx, counter(%rip)
    popq %rax
    incq %rax
    jmp 1b
nmi:
    pushq %rdx
    movq counter(%rip), %rdx
    popq %rdx
    iretq
.data
counter: .quad 0
`;

function trialMachine(): Machine {
  const m = bareMachine().load(assembleOrThrow({ files: [{ name: 'trial.S', text: TRIAL_KERNEL }] }));
  const nmiTop = 0xffff880000020000n;
  m.map(nmiTop - 0x1000n, 0x1000);
  m.installIdt(0xffff880000050000n, { 2: { handler: m.symbol('nmi'), ist: 3, type: 'interrupt', dpl: 0 } });
  m.installTss(0xffff880000051000n, { ist: { 3: nmiTop } });
  m.setReg('rip', m.symbol('_start'));
  return m;
}

/** Exploration trials per second: restore a snapshot, run 25 instructions, raise an NMI, reach its handler. */
function trialTps(trials: number, repeats: number): number {
  const m = trialMachine();
  m.run({ maxSteps: 10 });
  const snap = m.snapshot();
  const handler = m.symbol('nmi');
  const rates: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    let ok = 0;
    const t = seconds(() => {
      for (let i = 0; i < trials; i++) {
        m.restore(snap);
        m.run({ maxSteps: 25 });
        if (m.raiseNmi() === 'delivered') ok++;
      }
    });
    if (m.rip !== handler) throw new Error('trial benchmark: the NMI did not reach its handler');
    if (ok !== trials) throw new Error('trial benchmark: an NMI was not delivered');
    if (r > 0) rates.push(trials / t);
    gauge();
  }
  return median(rates);
}

/** Microseconds per snapshot after writing `pages` pages, for two sizes of mapped memory. */
function snapshotCost(pages: number, mappedPages: number, repeats: number): number {
  const m = bareMachine();
  const base = 0xffff888000000000n;
  m.map(base, mappedPages * 4096);
  m.snapshot();
  const costs: number[] = [];
  for (let r = 0; r < repeats + 5; r++) {
    for (let p = 0; p < pages; p++) m.memory.write64(p * 4096 + 8 * r, Number(base >> 32n) | 0, r, 0, 0);
    const us = seconds(() => m.snapshot()) * 1e6;
    if (r >= 5) costs.push(us); // the first few warm the JIT up
    gauge();
  }
  return median(costs);
}

// The host gauge (control_mops): how fast the shared host is running while a metric runs (it
// swings by nearly 2x between spells). A round is taken between the metric's repeats so that it
// sees the same spell; the report gives the median over all metrics, so that figures from
// different runs can be read against the host's state.
const gaugeRates: number[] = [];

function gauge(): void {
  gaugeRates.push(controlRound(gaugeRates.length));
}

/** Millions of iterations per second of a fixed pure-JavaScript loop (no NMI Lab code). */
function controlRound(seed: number): number {
  // Locals only (a variable captured by a closure would make every iteration a memory access,
  // and the gauge would stop tracking the host's speed).
  const words = new Int32Array(4096);
  const n = 5_000_000;
  let x = seed;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 31) + i) | 0;
    words[i & 4095] ^= x;
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (words[x & 4095] === 0x7fffffff) return 0; // keeps the result live
  return n / s / 1e6;
}

type Metric =
  'loop_ips' | 'step_ips' | 'trial_tps' | 'snapshot_us_4_dirty_of_64_pages' | 'snapshot_us_4_dirty_of_4096_pages';
const METRICS: Metric[] = [
  'loop_ips',
  'step_ips',
  'trial_tps',
  'snapshot_us_4_dirty_of_64_pages',
  'snapshot_us_4_dirty_of_4096_pages',
];

function measure(metric: Metric, quick: boolean, repeats: number): number {
  switch (metric) {
    case 'loop_ips':
      return Math.round(loopIps(quick ? 200_000 : 1_000_000, repeats));
    case 'step_ips':
      return Math.round(stepIps(quick ? 200_000 : 1_000_000, repeats));
    case 'trial_tps':
      return Math.round(trialTps(quick ? 20_000 : 100_000, repeats));
    case 'snapshot_us_4_dirty_of_64_pages':
      return Number(snapshotCost(4, 64, 31).toFixed(2));
    default:
      return Number(snapshotCost(4, 4096, 31).toFixed(2));
  }
}

/**
 * Each metric runs in a fresh process: V8's type feedback from one workload (say the step()
 * loop) would otherwise slow the next one down, which a real explorer process never sees.
 */
function measureInChild(metric: Metric, quick: boolean): { value: number; control: number } {
  // tsx's CommonJS hook only: its --import form also starts an ESM loader thread, which took 1-2%
  // off the host gauge and about 6% off loop_ips (alternating fresh processes).
  const args = ['--require', 'tsx/cjs', __filename, '--only', metric];
  if (quick) args.push('--quick');
  const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
  return { value: Number(out[metric]), control: Number(out.control_mops) };
}

interface SlowFigures {
  explore_linux33_d2_ms: number;
  explore_linux33_d2_schedules_per_s: number;
  explore_linux33_d2_states_per_s: number;
  explore_linux33_d2_rss_mib: number;
  explore_linux33_d3_ms: number | null;
  explore_linux33_d3_rss_mib: number | null;
  course_s: number | null;
  grade_class30_s: number | null;
  grade_class30_runs_s: number[] | null;
}

const EXPLORE_D2_RUNS = 3;

/**
 * The explorer at depth 2 (the median of 3 runs, each in a fresh process, so each pays for
 * starting its workers as the CLI does) and at depth 3 with --full (one run), and the course headless.
 */
function slowFigures(full: boolean, withCourse: boolean, withGrading: boolean): SlowFigures {
  const run = (depth: number) => {
    const script = path.join(__dirname, 'explore.js');
    return JSON.parse(
      execFileSync(process.execPath, [script, String(depth)], { encoding: 'utf8', maxBuffer: 1 << 24 })
        .trim()
        .split('\n')
        .pop() as string,
    );
  };
  const d2runs = Array.from({ length: EXPLORE_D2_RUNS }, () => run(2)).sort((a, b) => a.ms - b.ms);
  const d2 = d2runs[EXPLORE_D2_RUNS >> 1];
  const d3 = full ? run(3) : null;
  let course: number | null = null;
  if (withCourse) {
    const out = execFileSync('npm', ['run', '-s', 'course', '--', '--json'], {
      encoding: 'utf8',
      cwd: path.join(__dirname, '..'),
      maxBuffer: 1 << 26,
    });
    course = Number(JSON.parse(out.trim().split('\n').pop() as string).course_s);
  }
  const grading = withGrading ? classGradingSeconds('05-repeat-nmi', 3) : null;
  return {
    explore_linux33_d2_ms: d2.ms,
    explore_linux33_d2_schedules_per_s: d2.schedulesPerSecond,
    explore_linux33_d2_states_per_s: d2.statesPerSecond,
    explore_linux33_d2_rss_mib: d2.rssMiB,
    explore_linux33_d3_ms: d3 === null ? null : d3.ms,
    explore_linux33_d3_rss_mib: d3 === null ? null : d3.rssMiB,
    course_s: course,
    grade_class30_s: grading === null ? null : grading.median,
    grade_class30_runs_s: grading === null ? null : grading.runs,
  };
}

/** The trial kernel as flat code for Unicorn: the counter moves into .text, right after the code. */
const UNICORN_TRIAL_CODE = TRIAL_KERNEL.replace('.data\n', '');

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toExponential(2);
}

/** The JupyterLab figures (bench/course-lab.ts) from a child process: its table, or its JSON. */
function labFigures(argv: string[], json: boolean): string {
  const i = argv.indexOf('--lab-runs');
  const runs = i >= 0 ? ['--runs', argv[i + 1]] : [];
  return execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'course-lab.ts'), ...runs, ...(json ? ['--json'] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] },
  ).trim();
}

function main(): void {
  const argv = process.argv.slice(2);
  const args = parse(argv);
  if (argv.includes('--lab-only')) {
    process.stdout.write(`${labFigures(argv, args.json)}\n`);
    return;
  }
  const q = args.quick;
  const repeats = q ? 3 : 7;
  const only = argv.indexOf('--only');
  if (only >= 0) {
    const metric = argv[only + 1] as Metric;
    const value = measure(metric, q, repeats);
    process.stdout.write(
      `${JSON.stringify({ [metric]: value, control_mops: Number(median(gaugeRates.slice(1)).toFixed(1)) })}\n`,
    );
    return;
  }
  const measured = {} as Record<Metric | 'control_mops', number>;
  const controls: number[] = [];
  const reference: {
    unicorn_loop_ips: number | null;
    unicorn_loop_hook_ips: number | null;
    unicorn_trial_tps: number | null;
  } = { unicorn_loop_ips: null, unicorn_loop_hook_ips: null, unicorn_trial_tps: null };
  for (const metric of METRICS) {
    const { value, control } = measureInChild(metric, q);
    measured[metric] = value;
    controls.push(control);
    // Unicorn right after, on the same code, so that both see the same spell of the host.
    const n = q ? 200_000 : 1_000_000;
    if (metric === 'loop_ips') {
      reference.unicorn_loop_ips = unicornRate('loop', loopSource(n), n, repeats);
      reference.unicorn_loop_hook_ips = unicornRate('loop_hook', loopSource(n), n, repeats);
    }
    if (metric === 'trial_tps')
      reference.unicorn_trial_tps = unicornRate('trial', UNICORN_TRIAL_CODE, q ? 5_000 : 20_000, repeats);
  }
  measured.control_mops = Number(median(controls).toFixed(1));
  const ratio = (a: number, b: number | null) => (b === null ? null : Number((a / b).toFixed(2)));
  const versus = {
    ...reference,
    loop_ips_per_unicorn_hook: ratio(measured.loop_ips, reference.unicorn_loop_hook_ips),
    trial_tps_per_unicorn: ratio(measured.trial_tps, reference.unicorn_trial_tps),
  };
  // --quick skips the explorer and the course; --full adds the explorer at depth 3 (minutes).
  const slow = q
    ? null
    : slowFigures(argv.includes('--full'), !argv.includes('--no-course'), !argv.includes('--no-grading'));
  const withLab = !q && !argv.includes('--no-lab');
  const cli = cliStart(q ? 5 : 9);
  const results = { ...measured, ...versus, ...cli, ...(slow ?? {}), repeats, node: process.version };
  if (args.json) {
    const lab = withLab ? { course_lab: JSON.parse(labFigures(argv, true)) } : {};
    process.stdout.write(`${JSON.stringify({ ...results, ...lab })}\n`);
    return;
  }
  const rows: [string, string, string][] = [
    [
      'loop_ips',
      results.loop_ips.toExponential(2),
      '10-instruction loop via run(), boundary hook active (target >= 5e7)',
    ],
    ['step_ips', results.step_ips.toExponential(2), 'public step() calls (target >= 2e6)'],
    ['trial_tps', results.trial_tps.toExponential(2), 'restore + 25 instructions + NMI to handler (target >= 1e6)'],
    [
      'snapshot_us_4_dirty_of_64_pages',
      String(results.snapshot_us_4_dirty_of_64_pages),
      'µs per snapshot, 4 pages written, 64 mapped',
    ],
    [
      'snapshot_us_4_dirty_of_4096_pages',
      String(results.snapshot_us_4_dirty_of_4096_pages),
      'µs per snapshot, 4 pages written, 4096 mapped',
    ],
    [
      'control_mops',
      String(results.control_mops),
      'a fixed pure-JS loop, M iterations/s: how busy the host was (no target)',
    ],
    [
      'unicorn_loop_ips',
      fmt(results.unicorn_loop_ips),
      'Unicorn 2 (C API), the same loop, no hook, run right after loop_ips',
    ],
    ['unicorn_loop_hook_ips', fmt(results.unicorn_loop_hook_ips), 'the same with a per-instruction code hook'],
    [
      'loop_ips_per_unicorn_hook',
      String(results.loop_ips_per_unicorn_hook ?? 'n/a'),
      'loop_ips / unicorn_loop_hook_ips (same spell of the host)',
    ],
    [
      'unicorn_trial_tps',
      fmt(results.unicorn_trial_tps),
      'Unicorn: restore context + 4 KiB stack, run 25 instructions of the trial code (no NMI)',
    ],
    ['trial_tps_per_unicorn', String(results.trial_tps_per_unicorn ?? 'n/a'), 'trial_tps / unicorn_trial_tps'],
    ['node_start_ms', String(results.node_start_ms), 'a bare `node -e 0`, the floor for any command'],
    ['cli_help_ms', String(results.cli_help_ms), '`nmi-lab --help`, a fresh process (target < 200)'],
    ['cli_designs_ms', String(results.cli_designs_ms), '`nmi-lab designs --json`, a fresh process (target < 200)'],
  ];
  if (slow !== null) {
    rows.push([
      'explore_linux33_d2_ms',
      String(slow.explore_linux33_d2_ms),
      `linux-3.3, all workloads, depth 2, a worker per core, median of ${EXPLORE_D2_RUNS} (target < 2000)`,
    ]);
    rows.push([
      'explore_linux33_d2_schedules_per_s',
      String(slow.explore_linux33_d2_schedules_per_s),
      'schedules judged per second',
    ]);
    rows.push([
      'explore_linux33_d2_states_per_s',
      String(slow.explore_linux33_d2_states_per_s),
      'distinct states per second',
    ]);
    rows.push([
      'explore_linux33_d2_rss_mib',
      String(slow.explore_linux33_d2_rss_mib),
      'resident memory of the exploring process, MiB (target < 1024)',
    ]);
    rows.push([
      'explore_linux33_d3_ms',
      String(slow.explore_linux33_d3_ms ?? 'not run (add --full)'),
      'the same at depth 3, one run (target < 60000)',
    ]);
    rows.push([
      'explore_linux33_d3_rss_mib',
      String(slow.explore_linux33_d3_rss_mib ?? 'not run'),
      'resident memory at depth 3, MiB (target < 1024)',
    ]);
    rows.push([
      'course_s',
      String(slow.course_s ?? 'not run'),
      'every notebook executed headless, 2 at a time (target < 90)',
    ]);
    rows.push([
      'grade_class30_s',
      String(slow.grade_class30_s ?? 'not run'),
      `nmi-lab grade of 30 chapter-5 submissions, 2 jobs, median of 3 fresh runs (${(slow.grade_class30_runs_s ?? []).join(', ')}) (target < 120)`,
    ]);
  }
  process.stdout.write(`median of ${repeats} runs after a warm-up, one process per metric, ${process.version}\n`);
  for (const [k, v, d] of rows) process.stdout.write(`${k.padEnd(34)} ${v.padStart(10)}  ${d}\n`);
  if (withLab) process.stdout.write(`\n${labFigures(argv, false)}\n`);
}

main();
