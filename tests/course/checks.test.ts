// check() in a tslab kernel: the learner's definitions come from tslab's table, a failed cell just
// before the check is reported (a type error: tslab never ran it; a throw), and the result is one
// output with an HTML and a text form. tslab itself is simulated here: the headless notebook runs
// (run-notebooks.test.ts) cannot show it, because tslab aborts the cells queued after an error.
// The module object itself (tslab calls vm.runInThisContext on it), not an import namespace.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vm = require('vm') as typeof import('vm');

type CheckModule = typeof import('../../kernel-lib/course/checks');

function inFakeTslab<T>(run: (checks: CheckModule, cell: (code: () => void) => void, outputs: string[]) => T): T {
  const g = globalThis as Record<string, unknown>;
  const stream = process.stderr as unknown as Record<string, unknown>;
  const ownWrite = Object.getOwnPropertyDescriptor(stream, 'write');
  const runInThisContext = vm.runInThisContext;
  const outputs: string[] = [];
  g.__tslab__ = { exports: {} };
  // tslab assigns process.stderr.write at the start of every cell it executes.
  const cell = (code: () => void) => {
    stream.write = (chunk: unknown) => {
      outputs.push(`stderr: ${String(chunk)}`);
      return true;
    };
    code();
  };
  try {
    let checks!: CheckModule;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      checks = require('../../kernel-lib/course/checks');
      checks.allExercises(); // the chapters register with this instance of the module
    });
    return run(checks, cell, outputs);
  } finally {
    delete g.__tslab__;
    delete g.__nmiLabCellTracker__;
    if (ownWrite) Object.defineProperty(stream, 'write', ownWrite);
    else delete stream.write;
    vm.runInThisContext = runInThisContext;
  }
}

const SUM = `.text\n_start:\n movq %rdi, %rcx\n xorq %rax, %rax\n testq %rcx, %rcx\n jz 2f\n1:\n addq %rcx, %rax\n decq %rcx\n jnz 1b\n2:\n hlt\n`;

test('a check reads the exercise cell’s definitions from tslab and says when that cell has not run', () => {
  inFakeTslab((checks, cell) => {
    const exports = (globalThis as unknown as { __tslab__: { exports: Record<string, unknown> } }).__tslab__.exports;
    let r = checks.checkResult('ch0-ex1') as { ok: boolean; message: string };
    expect(r.message).toMatch(/`sumSource` is not defined: run the exercise cell/);
    cell(() => vm.runInThisContext('1'));
    exports.sumSource = SUM;
    cell(() => undefined);
    r = checks.checkResult('ch0-ex1') as { ok: boolean; message: string };
    expect(r.ok).toBe(true);
  });
});

test('after a cell tslab refused to run (a type error), the check says so and why', () => {
  inFakeTslab((checks, cell) => {
    const exports = (globalThis as unknown as { __tslab__: { exports: Record<string, unknown> } }).__tslab__.exports;
    exports.sumSource = SUM; // an earlier version that ran
    cell(() => process.stderr.write("3:7 - Type 'number' is not assignable to type 'string'.\n"));
    let r = { ok: true, message: '' };
    cell(() => {
      vm.runInThisContext('0');
      r = checks.checkResult('ch0-ex1') as typeof r;
    });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(
      /^the cell run before this check did not run to its end, so ch0-ex1 was not updated: tslab did not run it: 3:7 - Type 'number' is not assignable/,
    );
  });
});

test('after a cell that threw, the check says what it threw', () => {
  inFakeTslab((checks, cell) => {
    cell(() => {
      expect(() => vm.runInThisContext('throw new TypeError("no such thing")')).toThrow();
    });
    let r = { ok: true, message: '' };
    cell(() => {
      vm.runInThisContext('0');
      r = checks.checkResult('ch0-ex1') as typeof r;
    });
    expect(r.message).toMatch(/did not run to its end.*your code threw TypeError: no such thing/);
  });
});

test('outside a kernel a result is one text line; a failure has its hint on the next line', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const checks = require('../../kernel-lib/course/checks') as CheckModule;
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    checks.check('ch0-ex1', { sumSource: SUM });
    checks.check('ch0-ex1', { sumSource: '.text\n_start:\n hlt\n' });
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
      'PASS ch0-ex1: the program halts with 1 + 2 + ... + N in RAX, for every N tried',
      expect.stringMatching(/^FAIL ch0-ex1: with N = 10 in RDI .*\n {5}hint: Use RDI as the counter/),
    ]);
  } finally {
    log.mockRestore();
  }
  const html = checks.formatCheckHtml({ id: 'x<y', ok: false, message: 'a & b', hint: '"h"' });
  expect(html).toMatch(
    /Not yet<\/b> <code>x&lt;y<\/code>: a &amp; b<div style="margin-top:4px"><b>Hint:<\/b> &quot;h&quot;/,
  );
});
