// The learner's side of grading: this file runs inside the sandbox (see sandbox.ts), never in the
// grader's process. It reads a job on stdin (the compiled program, the exercise id, the probes),
// runs the program cell by cell, turns the learner's definitions into answers for each probe
// through the exercise's answer() (the same code a notebook's check() uses), and writes reports
// to file descriptor 3, one JSON object per line.
//
// Nothing it reports is trusted: an answer is data the grader judges in its own process, against
// cases this process never sees, so code that forges a report only forges its own answer. The
// sandbox (Node's permission model, and bubblewrap where available) keeps this process from
// reading the hidden tests and the lessons, writing outside its scratch folder, starting processes
// or signalling the grader. What this file adds are clear reasons: a call to process.exit or a
// throw in a cell is reported as what it is.
import * as fs from 'fs';
import * as vm from 'vm';

interface Job {
  /** The library's build folder (absolute), for `nmi-lab` and `nmi-lab/course`. */
  build: string;
  program: string;
  /** The exercises to answer, in order, each with the probes its checks give. */
  exercises: { id: string; probes: unknown[] }[];
}

const write = fs.writeSync;
const stringify = JSON.stringify;
const realExit = process.exit.bind(process);

function report(message: Record<string, unknown>): void {
  try {
    write(3, `${stringify(message)}\n`);
  } catch {
    // The grader is gone or closed the pipe: nothing left to tell it.
  }
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 2000);
  try {
    return `threw ${String(e)}`.slice(0, 2000);
  } catch {
    return 'threw a value that cannot be shown';
  }
}

function readJob(): Job {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job;
}

async function main(): Promise<void> {
  const job = readJob();
  // Clear reasons for what a learner's code may try; the sandbox is what stops it.
  process.exit = ((code?: number) => {
    throw new Error(`process.exit(${code === undefined ? '' : code}) was called`);
  }) as typeof process.exit;
  process.abort = () => {
    throw new Error('process.abort() was called');
  };
  const p = process as unknown as Record<string, unknown>;
  p.kill = () => {
    throw new Error('process.kill is not available while grading');
  };
  delete p._kill;

  /* eslint-disable @typescript-eslint/no-require-imports */
  const lib = require(`${job.build}/index.js`) as Record<string, unknown>;
  const course = require(`${job.build}/course/index.js`) as typeof import('../../course');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const modules: Record<string, unknown> = {
    'nmi-lab': lib,
    'nmi-lab/course': course,
    // Notebooks may display things; while grading, displays go nowhere.
    tslab: { display: new Proxy({}, { get: () => () => undefined }) },
  };
  const helpers = {
    import(name: string): unknown {
      if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
      throw new Error(`cannot import '${name}' while grading (only nmi-lab and nmi-lab/course)`);
    },
    async cell(index: number, body: () => Promise<void>): Promise<void> {
      report({ type: 'running', index });
      try {
        await body();
        report({ type: 'cell', index, ok: true });
      } catch (e) {
        report({ type: 'cell', index, ok: false, error: messageOf(e) });
      }
    },
  };
  const compiled = vm.runInThisContext(job.program, { filename: 'submission.js' }) as (
    h: typeof helpers,
  ) => Promise<Record<string, () => unknown>>;
  const getters = await compiled(helpers);
  for (const job1 of job.exercises) {
    report({ type: 'begin', exercise: job1.id });
    const exercise = course.exerciseById(job1.id);
    if (!exercise) {
      report({ type: 'end', exercise: job1.id });
      continue;
    }
    const defs: Record<string, unknown> = {};
    for (const name of exercise.names) {
      if (!Object.prototype.hasOwnProperty.call(getters, name)) continue;
      try {
        defs[name] = getters[name]();
      } catch {
        // declared but never assigned (its cell failed first)
      }
    }
    for (let i = 0; i < job1.probes.length; i++) {
      try {
        const answer = await exercise.answer(defs, job1.probes[i]);
        report({ type: 'answer', exercise: job1.id, index: i, answer: course.encodeAnswer(answer) });
      } catch (e) {
        if (e instanceof course.CheckFailure)
          report({ type: 'answer', exercise: job1.id, index: i, failure: e.message });
        else report({ type: 'answer', exercise: job1.id, index: i, error: messageOf(e) });
      }
    }
    report({ type: 'end', exercise: job1.id });
  }
  report({ type: 'done' });
}

// As in a tslab kernel, an error thrown later by a timer or a forgotten promise is reported, and
// the run goes on.
process.on('uncaughtException', (e) => report({ type: 'note', error: `uncaught: ${messageOf(e)}` }));
process.on('unhandledRejection', (e) => report({ type: 'note', error: `unhandled rejection: ${messageOf(e)}` }));

main().then(
  () => realExit(0),
  (e) => {
    report({ type: 'fatal', error: messageOf(e) });
    realExit(1);
  },
);
