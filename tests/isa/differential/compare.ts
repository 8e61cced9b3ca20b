// Comparison of reference and emulator final states, failure reports and failure minimization.
import { GPR_NAMES, type GprName } from '../../../kernel-lib/exec';
import { caseLines, replayDefined, FLAG_NAMES, STATUS, type DiffCase } from './generate';
import type { Outcome } from './reference';

const MASK64 = (1n << 64n) - 1n;

/** RFLAGS bits compared for a case: everything except the status flags left undefined. */
export function comparedFlagBits(c: DiffCase): bigint {
  return MASK64 & ~BigInt(STATUS & ~c.definedFlags);
}

export interface Mismatch {
  id: number;
  /** Registers that differ. */
  regs: GprName[];
  /** Names of compared RFLAGS bits that differ (e.g. 'CF', 'bit9'). */
  flags: string[];
  /** Set when one side did not produce a state. */
  error?: string;
}

export function compareCase(c: DiffCase, ref: Outcome | undefined, emu: Outcome): Mismatch | null {
  if (!ref) return { id: c.id, regs: [], flags: [], error: 'reference produced no result' };
  if (!ref.ok) return { id: c.id, regs: [], flags: [], error: `reference error: ${ref.error}` };
  if (!emu.ok) return { id: c.id, regs: [], flags: [], error: `emulator: ${emu.error}` };
  const regs = GPR_NAMES.filter((r) => ref.state.regs[r] !== emu.state.regs[r]);
  const diff = (ref.state.rflags ^ emu.state.rflags) & comparedFlagBits(c);
  const flags: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!((diff >> BigInt(bit)) & 1n)) continue;
    const named = FLAG_NAMES.find(([, m]) => m === 1 << bit);
    flags.push(named ? named[0] : `bit${bit}`);
  }
  return regs.length || flags.length ? { id: c.id, regs, flags } : null;
}

function hex16(v: bigint): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

function flagList(v: bigint, defined: number): string {
  return FLAG_NAMES.map(([n, m]) => {
    const isStatus = (STATUS & m) !== 0;
    const val = (v & BigInt(m)) !== 0n ? 1 : 0;
    return isStatus && !(defined & m) ? `${n}=?` : `${n}=${val}`;
  }).join(' ');
}

/** A self-contained report of one failing case: source, expected vs actual, the differences. */
export function formatFailure(c: DiffCase, ref: Outcome | undefined, emu: Outcome, m: Mismatch, title = ''): string {
  const out: string[] = [];
  out.push(`--- case ${c.id}${title ? ' ' + title : ''}: ${describe(m)}`);
  out.push('source (run from _start; all GPRs 0, RSP=0xffffc90000008000, RFLAGS=0x2):');
  out.push('\t.text', '_start:', ...caseLines(c).map((l) => (l.endsWith(':') ? l : '\t' + l)), '\thlt');
  if (c.epilogue.length)
    out.push('(%rbp at the end = hash of the 64-byte scratch area, folded by the epilogue after the body)');
  if (m.error) {
    out.push(m.error);
    return out.join('\n');
  }
  if (ref?.ok && emu.ok) {
    out.push('register        expected (Unicorn)   actual (emulator)');
    for (const r of GPR_NAMES) {
      const e = ref.state.regs[r];
      const a = emu.state.regs[r];
      out.push(`${e === a ? ' ' : '*'} ${r.padEnd(4)}  ${hex16(e)}   ${hex16(a)}`);
    }
    const mark = m.flags.length ? '*' : ' ';
    out.push(
      `${mark} rflags ${hex16(ref.state.rflags)}   ${hex16(emu.state.rflags)}` +
        `   (compared bits ${hex16(comparedFlagBits(c))}; ?=undefined per SDM, not compared)`,
    );
    out.push(`  expected ${flagList(ref.state.rflags, c.definedFlags)}`);
    out.push(`  actual   ${flagList(emu.state.rflags, c.definedFlags)}`);
  }
  return out.join('\n');
}

export function describe(m: Mismatch): string {
  if (m.error) return m.error.split('\n')[0];
  const parts: string[] = [];
  if (m.regs.length) parts.push(`registers differ: ${m.regs.join(' ')}`);
  if (m.flags.length) parts.push(`flags differ: ${m.flags.join(' ')}`);
  return parts.join('; ');
}

/**
 * Shrink a failing case: repeatedly drop one body group (never a push/pop, which would move
 * %rsp-relative operands), a setup line (that register then starts at 0) or the epilogue, as long
 * as the flag model stays valid and the case still fails. `stillFails` judges a batch of
 * candidates at once (one reference run per round). Stops at `deadline` (Date.now() value).
 */
export function minimize(c: DiffCase, stillFails: (cands: DiffCase[]) => boolean[], deadline: number): DiffCase {
  let cur = c;
  const fixedSetup = (l: string) =>
    l.startsWith('leaq') || l.startsWith('movq %rsp') || l.startsWith('pushq') || l === 'popfq';
  for (;;) {
    if (Date.now() > deadline) return cur;
    const cands: DiffCase[] = [];
    const add = (setup: string[], body: DiffCase['body'], epilogue: string[]) => {
      const defined = replayDefined(body);
      if (defined !== null) cands.push({ id: cands.length, setup, body, epilogue, definedFlags: defined });
    };
    const removableSetup = cur.setup.map((l, i) => (fixedSetup(l) ? -1 : i)).filter((i) => i >= 0);
    if (removableSetup.length)
      add(
        cur.setup.filter((l) => fixedSetup(l)),
        cur.body,
        cur.epilogue,
      );
    if (cur.epilogue.length) add(cur.setup, cur.body, []);
    cur.body.forEach((g, i) => {
      if (!g.stackOp)
        add(
          cur.setup,
          cur.body.filter((_, j) => j !== i),
          cur.epilogue,
        );
    });
    for (const i of removableSetup)
      add(
        cur.setup.filter((_, j) => j !== i),
        cur.body,
        cur.epilogue,
      );
    if (!cands.length) return cur;
    const verdicts = stillFails(cands);
    const k = verdicts.indexOf(true);
    if (k < 0) return cur;
    cur = { ...cands[k], id: c.id };
  }
}
