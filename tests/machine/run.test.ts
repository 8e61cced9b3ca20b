// Stepping and running: budgets, breakpoints, the boundary hook, injection, and the event log.
import fc from 'fast-check';
import { Machine, Vector } from '../../kernel-lib';
import { LAB, labMachine } from '../../kernel-lib/harness/lab-machine';

describe('budgets: guest code never hangs the host', () => {
  test('an endless loop stops at the step budget with a message', () => {
    const m = labMachine({ source: '.text\n_start:\n  jmp _start\n' });
    const r = m.run({ maxSteps: 5000 });
    expect(r.stop).toBe('budget');
    expect(r.steps).toBe(5000);
    expect(r.message).toMatch(/step budget of 5000/);
  });

  test('an endless fault loop is bounded too', () => {
    // #UD handler returns to the ud2 again: forever, one attempt per step.
    const m = labMachine({ source: '.text\n_start:\n  ud2\ninvalid_op:\n  iretq\n' });
    const r = m.run({ maxSteps: 1000 });
    expect(r.stop).toBe('budget');
  });

  test('run() without options still has a budget', () => {
    const m = labMachine({ source: '.text\n_start:\n  jmp _start\n' });
    expect(m.run().stop).toBe('budget');
  });
});

describe('breakpoints and until', () => {
  const SRC = '.text\n_start:\n  movq $1, %rax\nmid:\n  movq $2, %rax\n  movq $3, %rax\n  hlt\n';

  test('a breakpoint on a label stops before that instruction; run() again continues past it', () => {
    const m = labMachine({ source: SRC });
    m.addBreakpoint('mid');
    let r = m.run();
    expect(r.stop).toBe('breakpoint');
    expect(m.rip).toBe(m.symbol('mid'));
    expect(m.reg('rax')).toBe(1n);
    r = m.run();
    expect(r.stop).toBe('hlt');
    expect(m.reg('rax')).toBe(3n);
  });

  test('until: a label, an address or a predicate', () => {
    const m = labMachine({ source: SRC });
    expect(m.run({ until: 'mid' }).stop).toBe('until');
    expect(m.rip).toBe(m.symbol('mid'));
    const m2 = labMachine({ source: SRC });
    m2.run({ until: (mm) => mm.reg('rax') === 2n });
    expect(m2.reg('rax')).toBe(2n);
  });
});

describe('the boundary hook', () => {
  test('is called at every instruction boundary and can raise an NMI there', () => {
    const m = labMachine({
      source:
        '.text\n_start:\n  nop\n  nop\ntarget:\n  nop\n  hlt\nnmi:\n  incq count\n  iretq\n.data\ncount: .quad 0\n',
    });
    const seen: bigint[] = [];
    m.onBoundary((mm) => {
      seen.push(mm.rip);
      if (mm.rip === mm.symbol('target') && mm.log.every((e) => e.kind !== 'deliver')) mm.raiseNmi();
    });
    m.run({ maxSteps: 100 });
    expect(m.readU64(m.symbol('count'))).toBe(1n);
    expect(seen.slice(0, 3)).toEqual([m.symbol('_start'), m.symbol('_start') + 1n, m.symbol('target')]);
    expect(seen).toContain(m.symbol('nmi'));
    const d = m.log.find((e) => e.kind === 'deliver');
    expect(d?.rip).toBe(m.symbol('target'));
  });

  test('can stop the run', () => {
    const m = labMachine({ source: '.text\n_start:\n  jmp _start\n' });
    let n = 0;
    m.onBoundary((mm) => {
      if (++n === 10) mm.requestStop();
    });
    expect(m.run().stop).toBe('hook');
  });
});

describe('inject()', () => {
  test('an exception injected for the next boundary is delivered as a fault of that instruction', () => {
    const m = labMachine({ source: '.text\n_start:\n  nop\nsecond:\n  nop\n  hlt\npage_fault:\n  hlt\n' });
    m.step();
    m.inject({ type: 'exception', vector: Vector.PF, errorCode: 2, cr2: 0xdead000n });
    m.step();
    expect(m.log.find((e) => e.kind === 'deliver')?.rip).toBe(m.symbol('second'));
    expect(m.readU64(LAB.kernelStackTop - 48n)).toBe(2n);
    expect(m.cpu.cr2Lo >>> 0).toBe(0xdead000);
  });

  test('an injected NMI is delivered at the next boundary', () => {
    const m = labMachine({ source: '.text\n_start:\n  nop\n  hlt\n' });
    m.inject({ type: 'nmi' });
    m.step();
    expect(m.log.some((e) => e.kind === 'deliver' && e.vector === Vector.NMI)).toBe(true);
  });
});

describe('snapshots (property tests)', () => {
  // A little program that writes memory, pushes, calls and takes NMIs, so snapshots have work to do.
  const SRC = `
.text
_start:
    movq $0, %rcx
1:  incq %rcx
    pushq %rcx
    movq %rcx, buf(,%rcx,8)
    andq $63, %rcx
    call sub1
    popq %rdx
    addq %rdx, %rax
    jmp 1b
sub1:
    xorq %rcx, %rax
    shlq $1, %rax
    ret
nmi:
    incq nmis
    iretq
.data
nmis: .quad 0
buf: .skip 8*64
`;
  const state = (m: Machine) => ({
    regs: m.registers(),
    rip: m.rip,
    rflags: m.rflags,
    nmiBlocked: m.nmiBlocked,
    nmiPending: m.nmiPending,
    steps: m.steps,
    log: m.log.length,
    buf: Buffer.from(m.readBytes(m.symbol('buf'), 8 * 64)).toString('hex'),
    stack: Buffer.from(m.readBytes(LAB.kernelStackTop - 0x100n, 0x100)).toString('hex'),
  });

  test('restore then replay reaches an identical state', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 300 }),
        fc.nat({ max: 300 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 4 }),
        (before, after, nmiAt) => {
          const m = labMachine({ source: SRC });
          const hook = (mm: Machine) => {
            if (nmiAt.includes(mm.steps)) mm.raiseNmi();
          };
          m.onBoundary(hook);
          m.run({ maxSteps: before });
          const snap = m.snapshot();
          const at = state(m);
          m.run({ maxSteps: after });
          const end = state(m);
          m.restore(snap);
          expect(state(m)).toEqual(at);
          m.run({ maxSteps: after });
          expect(state(m)).toEqual(end);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('checkpoints: rewinding undoes exactly what ran since, nested checkpoints newest first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 120 }), { minLength: 1, maxLength: 5 }),
        fc.nat({ max: 200 }),
        (legs, wander) => {
          const m = labMachine({ source: SRC });
          m.memory.setJournalCapacity(1 << 14);
          m.run({ maxSteps: 20 });
          m.snapshot(); // the journal counts from here
          const marks = [];
          for (const leg of legs) {
            m.run({ maxSteps: leg });
            if (leg % 3 === 0) m.raiseNmi();
            const c = m.checkpoint();
            expect(c).not.toBeNull();
            marks.push({ c: c!, at: state(m) });
          }
          for (let i = marks.length - 1; i >= 0; i--) {
            m.raiseNmi();
            m.run({ maxSteps: wander });
            expect(m.rewind(marks[i].c)).toBe(true);
            expect(state(m)).toEqual(marks[i].at);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a checkpoint no longer applies after a restore or once the journal overflowed; rewind() then changes nothing', () => {
    const m = labMachine({ source: SRC });
    const snap = m.snapshot();
    m.run({ maxSteps: 10 });
    const c = m.checkpoint()!;
    m.restore(snap);
    const at = state(m);
    expect(m.rewind(c)).toBe(false);
    expect(state(m)).toEqual(at);
    // Default journal: 512 slots. A slot is journaled once per segment and every checkpoint
    // opens a segment, so a checkpoint per step makes the loop's two writes per 8 instructions
    // journal entries each time.
    const d = m.checkpoint()!;
    let steps = 0;
    while (steps < 4000 && m.checkpoint() !== null) steps += m.run({ maxSteps: 1 }).steps;
    expect(steps).toBeGreaterThan(1000);
    expect(steps).toBeLessThan(4000);
    expect(m.checkpoint()).toBeNull();
    expect(m.rewind(d)).toBe(false);
  });

  test('the same snapshot can be restored many times (trial loops)', () => {
    const m = labMachine({ source: SRC });
    m.run({ maxSteps: 50 });
    const snap = m.snapshot();
    const at = state(m);
    for (let i = 0; i < 20; i++) {
      m.run({ maxSteps: 17 + i });
      m.restore(snap);
    }
    expect(state(m)).toEqual(at);
  });
});

describe("hookScope 'changes': the hook only where something may have changed", () => {
  const SRC = `.text
_start:
  movq $1, %rax
  call f
  movq $2, %rbx
  int3
  movq $3, %rcx
  hlt
f:
  addq $1, %rax
  ret
int3:
  iretq
`;
  function seen(scope: 'every' | 'changes', step: boolean): string[] {
    const m = labMachine({ source: SRC });
    const at: string[] = [];
    m.hookScope = scope;
    m.onBoundary((mm) => at.push((mm.symbolize(mm.rip) ?? '?').replace(/\+0$/, '')));
    if (step) while (m.step() === null);
    else m.run();
    return at;
  }

  test('straight-line code and direct branches skip it; returns, deliveries and IRET reach it', () => {
    expect(seen('every', false)).toEqual([
      '_start',
      '_start+0x7',
      'f',
      'f+0x4',
      '_start+0xc',
      '_start+0x13',
      'int3',
      '_start+0x14',
      '_start+0x1b',
    ]);
    // The first boundary, after `ret` (looked up at run time), after #BP's delivery (logged), and
    // after IRET; `call f` is a direct branch: not a change.
    expect(seen('changes', false)).toEqual(['_start', '_start+0xc', 'int3', '_start+0x14']);
    expect(seen('changes', true)).toEqual(seen('changes', false));
    // run() with an `until` predicate checks every boundary itself; the hook scope still holds.
    const m = labMachine({ source: SRC });
    const at: string[] = [];
    m.hookScope = 'changes';
    m.onBoundary((mm) => at.push((mm.symbolize(mm.rip) ?? '?').replace(/\+0$/, '')));
    m.run({ until: () => false, maxSteps: 100 });
    expect(at).toEqual(seen('changes', false));
  });

  test('the boundary after a RET knows which RET ran (the explorer reads it to see returns without IRET)', () => {
    const m = labMachine({ source: SRC });
    m.hookScope = 'changes';
    const rets: string[] = [];
    m.onBoundary((mm) => {
      if (mm.cpu.lastRetStep === mm.steps - 1 && mm.cpu.lastRet !== null)
        rets.push(`${mm.symbolize(mm.cpu.lastRet.src?.address ?? 0n)} -> ${mm.symbolize(mm.rip)}`);
    });
    m.run();
    // Only the RET: the IRET after int3 and the direct call are no RETs.
    expect(rets).toEqual(['f+0x4 -> _start+0xc']);
  });

  test('the machine ends in the same state either way, and an NMI raised from outside reaches the hook', () => {
    const a = labMachine({ source: SRC });
    const b = labMachine({ source: SRC });
    b.hookScope = 'changes';
    let calls = 0;
    b.onBoundary(() => calls++);
    a.run();
    b.run();
    expect(b.registers()).toEqual(a.registers());
    expect(b.steps).toBe(a.steps);
    const c = labMachine({ source: '.text\n_start:\n  jmp _start\nnmi:\n  iretq\n' });
    c.hookScope = 'changes';
    const where: string[] = [];
    c.onBoundary((mm) => where.push((mm.symbolize(mm.rip) ?? '?').replace(/\+0$/, '')));
    c.run({ maxSteps: 10 });
    c.raiseNmi();
    c.run({ maxSteps: 10 });
    expect(where).toEqual(['_start', 'nmi', '_start']);
  });
});
