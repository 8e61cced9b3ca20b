// Differential test of the emulator's integer instructions against Unicorn (the reference).
//
// Seeded random straight-line programs over mov/movabs/movzx/movsx, lea, push/pop, pushf/popf,
// add/adc/sub/sbb/cmp/test/and/or/xor, not/neg/inc/dec, shl/sal/shr/sar, imul, xchg, cmpxchg,
// std/cld and jcc (as forward skips), at every operand width, with register, immediate and
// memory operands (see differential/generate.ts). Every case runs in Unicorn (code assembled
// once with GNU as, differential/unicorn_runner.py) and in the emulator (`execSource`); the final
// 16 GPRs and RFLAGS must agree, except status flags the SDM leaves undefined.
//
//   npx jest tests/isa/differential
//   NMI_DIFF_SEED=123 NMI_DIFF_CASES=50000 npx jest tests/isa/differential
//
// Needs Debian's /usr/bin/python3 with python3-unicorn, and binutils (as, ld, objcopy, nm);
// without them the test fails (it does not skip). The reference itself was cross-checked
// against a real CPU with differential/native/native_check.sh.
import { GPR_NAMES } from '../../kernel-lib/exec';
import {
  compareCase,
  describe as describeMismatch,
  formatFailure,
  minimize,
  type Mismatch,
} from './differential/compare';
import { emulatorAvailable, runEmulator, runEmulatorParallel } from './differential/emulator';
import {
  AF,
  CF,
  OF,
  PF,
  SF,
  STATUS,
  ZF,
  generateCases,
  replayDefined,
  shiftFlags,
  type DiffCase,
} from './differential/generate';
import { runReference, startReference, type Outcome } from './differential/reference';

const SEED = Number(process.env.NMI_DIFF_SEED ?? 20240611);
const COUNT = Number(process.env.NMI_DIFF_CASES ?? 10_000);
const SHOW_FAILURES = 3;
/** Worker threads that run the emulator cases (NMI_DIFF_WORKERS; 0 = the test's own thread). */
const WORKERS = Number(process.env.NMI_DIFF_WORKERS ?? 2);

/** A hand-written case (no epilogue: %rbp stays as the body leaves it). */
function handCase(id: number, lines: string[], definedFlags = STATUS): DiffCase {
  return { id, setup: [], body: [{ lines, reads: 0, flags: (b) => b }], epilogue: [], definedFlags };
}

const STACK_TOP = 0xffffc90000008000n;
/** Hand cases with results worked out by hand (SDM semantics). */
const KNOWN: Array<{ c: DiffCase; regs: Partial<Record<(typeof GPR_NAMES)[number], bigint>>; rflags: bigint }> = [
  // 5 + 7 = 12 = 0b1100: no carry out of bit 3 (AF=0), CF=ZF=SF=OF=0, two bits set (PF=1)
  { c: handCase(0, ['movq $5, %rax', 'addq $7, %rax']), regs: { rax: 12n, rsp: STACK_TOP }, rflags: 0x6n },
  // 32-bit writes zero the upper half, 8-bit (incl. %ah) writes do not; 0xffffffff + 1 = 0 sets CF ZF PF AF
  {
    c: handCase(1, ['movq $-1, %rax', 'movl $0x11, %eax', 'movb $0x22, %ah', 'movq $-1, %rbx', 'addl $1, %ebx']),
    regs: { rax: 0x2211n, rbx: 0n, rsp: STACK_TOP },
    rflags: 0x57n,
  },
  // pushq 8(%rsp) reads before RSP moves; popfq loads the status flags
  {
    c: handCase(2, ['pushq $0x8d7', 'pushq $7', 'pushq 8(%rsp)', 'popq %rcx', 'popq %rdx', 'popfq']),
    regs: { rcx: 0x8d7n, rdx: 7n, rsp: STACK_TOP },
    rflags: 0x8d7n,
  },
];

function checkKnown(name: string, get: (c: DiffCase) => Outcome | undefined): void {
  for (const k of KNOWN) {
    const o = get(k.c);
    if (!o || !o.ok) throw new Error(`${name}: hand case ${k.c.id} failed to run: ${o ? o.error : 'no result'}`);
    for (const r of GPR_NAMES) {
      const want = k.regs[r] ?? 0n;
      if (o.state.regs[r] !== want) {
        throw new Error(
          `${name}: hand case ${k.c.id}: ${r} = 0x${o.state.regs[r].toString(16)}, want 0x${want.toString(16)}`,
        );
      }
    }
    if (o.state.rflags !== k.rflags) {
      throw new Error(
        `${name}: hand case ${k.c.id}: rflags = 0x${o.state.rflags.toString(16)}, want 0x${k.rflags.toString(16)}`,
      );
    }
  }
}

describe('differential test against Unicorn', () => {
  test('the generator is deterministic and its flag model replays', () => {
    const a = generateCases(7, 50);
    const b = generateCases(7, 50);
    expect(a.map((c) => c.body.map((g) => g.lines.join('|')).join('\n'))).toEqual(
      b.map((c) => c.body.map((g) => g.lines.join('|')).join('\n')),
    );
    for (const c of a) expect(replayDefined(c.body)).toBe(c.definedFlags);
  });

  test('undefined-flag rules for shifts (SDM SAL/SAR/SHL/SHR)', () => {
    const SZP = SF | ZF | PF;
    expect(shiftFlags('shl', 1, 0)(STATUS)).toBe(STATUS); // count 0: flags unchanged
    expect(shiftFlags('shl', 8, 64)(STATUS)).toBe(STATUS); // 64-bit counts are masked to 6 bits
    expect(shiftFlags('shl', 4, 32)(STATUS)).toBe(STATUS); // others to 5 bits
    expect(shiftFlags('shr', 2, 1)(0)).toBe(SZP | CF | OF); // 1-bit shift: OF defined, AF not
    expect(shiftFlags('shl', 1, 9)(0)).toBe(SZP); // SHL/SHR count >= width: CF undefined
    expect(shiftFlags('sar', 1, 9)(0)).toBe(SZP | CF); // SAR: CF is the sign bit
    expect(shiftFlags('shl', 4, 3)(0)).toBe(SZP | CF); // OF only for 1-bit shifts
    expect(shiftFlags('shr', 1, null)(STATUS)).toBe(SZP); // unknown %cl: intersection
    expect(shiftFlags('shr', 8, null)(STATUS)).toBe(SZP | CF);
  });

  test('the comparison reports differences and ignores only undefined flags', () => {
    const c = handCase(0, ['nop'], STATUS & ~AF);
    const regs = Object.fromEntries(GPR_NAMES.map((r) => [r, 0n])) as Record<(typeof GPR_NAMES)[number], bigint>;
    const at = (rflags: bigint, extra: Partial<typeof regs> = {}): Outcome => ({
      ok: true,
      state: { regs: { ...regs, ...extra }, rflags },
    });
    expect(compareCase(c, at(0x2n), at(0x2n))).toBeNull();
    expect(compareCase(c, at(0x2n), at(0x2n | BigInt(AF)))).toBeNull();
    expect(compareCase(c, at(0x2n), at(0x3n))?.flags).toEqual(['CF']);
    expect(compareCase(c, at(0x2n), at(0x202n))?.flags).toEqual(['bit9']);
    expect(compareCase(c, at(0x2n), at(0x2n | BigInt(OF), { r9: 1n }))).toMatchObject({ regs: ['r9'], flags: ['OF'] });
    expect(compareCase(c, at(0x2n), { ok: false, error: 'did not assemble' })?.error).toMatch(/did not assemble/);
  });

  test('reference self-check: hand cases with known results', () => {
    const ref = runReference(KNOWN.map((k) => k.c));
    ref.cleanup();
    checkKnown('Unicorn', (c) => ref.results.get(c.id));
  }, 60_000);

  test('emulator self-check: the same hand cases', () => {
    const missing = emulatorAvailable();
    if (missing) throw new Error(missing);
    checkKnown('emulator', (c) => runEmulator(c));
  });

  test(`emulator agrees with Unicorn on ${COUNT} random cases (seed ${SEED})`, async () => {
    console.log(`differential: seed ${SEED} (NMI_DIFF_SEED), ${COUNT} cases (NMI_DIFF_CASES)`);
    const missing = emulatorAvailable();
    if (missing) throw new Error(missing);
    const t0 = Date.now();
    const cases = generateCases(SEED, COUNT);
    const tGen = Date.now() - t0;
    // The reference runs in its own process while the emulator runs in worker threads.
    const refPromise = startReference(cases, { keep: true });
    refPromise.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
    const t1 = Date.now();
    const emuResults = await runEmulatorParallel(cases, WORKERS);
    const tEmu = Date.now() - t1;
    const ref = await refPromise;
    const failures: Array<{ c: DiffCase; emu: Outcome; m: Mismatch }> = [];
    for (const c of cases) {
      const emu = emuResults.get(c.id) as Outcome;
      const m = compareCase(c, ref.results.get(c.id), emu);
      if (m) failures.push({ c, emu, m });
    }
    const timing =
      `generate ${tGen} ms, reference: GNU as/ld ${ref.assembleMs} ms + Unicorn ${ref.runMs} ms, ` +
      `emulator ${tEmu} ms (${WORKERS} worker threads; concurrently with the reference)`;
    if (failures.length === 0) {
      ref.cleanup();
      console.log(`differential: ${COUNT} cases agree; ${timing}`);
      return;
    }

    // Report: a census of failure kinds, then the first few cases in full (and minimized).
    const kinds = new Map<string, number[]>();
    for (const f of failures) {
      const k = describeMismatch(f.m).replace(/case_\d+\.S/g, 'case.S');
      kinds.set(k, [...(kinds.get(k) ?? []), f.c.id]);
    }
    const report: string[] = [
      `${failures.length} of ${COUNT} cases differ (seed ${SEED}; ${timing}; reference files in ${ref.dir})`,
      'kinds:',
      ...[...kinds]
        .sort((x, y) => y[1].length - x[1].length)
        .slice(0, 20)
        .map(([k, ids]) => `  ${ids.length}x ${k.slice(0, 160)}  (e.g. case ${ids.slice(0, 5).join(', ')})`),
    ];
    const deadline = Date.now() + 20_000;
    for (const f of failures.slice(0, SHOW_FAILURES)) {
      report.push('', formatFailure(f.c, ref.results.get(f.c.id), f.emu, f.m));
      if (f.m.error) continue;
      const small = minimize(
        f.c,
        (cands) => {
          const r = runReference(cands);
          r.cleanup();
          return cands.map((v) => compareCase(v, r.results.get(v.id), runEmulator(v)) !== null);
        },
        deadline,
      );
      if (small !== f.c) {
        const r = runReference([small]);
        r.cleanup();
        const emu = runEmulator(small);
        const m = compareCase(small, r.results.get(small.id), emu);
        if (m) report.push('', formatFailure(small, r.results.get(small.id), emu, m, '(minimized)'));
      }
    }
    throw new Error(report.join('\n'));
  }, 300_000);
});
