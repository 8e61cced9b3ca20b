// Driving a harness kernel through a scenario: run to a label (optionally with NMIs unblocked, or
// back in the interrupted code), list the labels passed, and the set-up most nesting stories start
// from. The course's lessons, the checks and the tests all use these, so a scenario reads the same
// everywhere. Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import { EXCEPTION_STKSZ } from './layout';
import type { Kernel } from './kernel';

/** A step budget ran out, or the kernel failed, before a scenario reached where it wanted to be. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

function describeFailure(k: Kernel): string {
  const f = k.failure();
  return f === null ? 'no failure recorded' : `${f.kind}: ${f.message}${f.where ? ` at ${f.where}` : ''}`;
}

/** Run until RIP is at `label` (and `when` holds, if given); throws ScenarioError otherwise. */
export function runTo(k: Kernel, label: string, when?: (k: Kernel) => boolean, maxSteps = 3000): void {
  const at = k.machine.symbol(label);
  const r = k.machine.run({ until: (m) => m.rip === at && (when === undefined || when(k)), maxSteps });
  if (r.stop !== 'until')
    throw new ScenarioError(`did not reach ${label}: ${r.message} (now at ${k.where()}; ${describeFailure(k)})`);
}

/** Run until RIP is at `label` with NMIs unblocked (after an exception's IRET inside the handler). */
export function runToUnblocked(k: Kernel, label: string, maxSteps = 3000): void {
  runTo(k, label, (kk) => !kk.machine.nmiBlocked, maxSteps);
}

/** Run until the next instruction is an IRET (not executing it). */
export function runToIret(k: Kernel, maxSteps = 3000): void {
  const r = k.machine.run({ until: (m) => m.instructionAt()?.op === 'iret', maxSteps });
  if (r.stop !== 'until') throw new ScenarioError(`no IRET reached: ${r.message} (now at ${k.where()})`);
}

/** Whether RSP is off the NMI stack (the interrupted code runs on its own stack again). */
export function offNmiStack(k: Kernel): boolean {
  const rsp = k.machine.reg('rsp');
  return rsp > k.nmiStackTop || rsp < k.nmiStackTop - BigInt(EXCEPTION_STKSZ);
}

/** Run until the interrupted code is back at `label` on its own stack; throws ScenarioError otherwise. */
export function runBackTo(k: Kernel, label: string, maxSteps = 3000): void {
  runTo(k, label, offNmiStack, maxSteps);
}

/**
 * Step until `stop` holds (checked before each step, so the stopping instruction has not run),
 * and return the labels passed, each once per visit in a row: ['nmi', 'nested_nmi', ...].
 */
export function labelsUntil(k: Kernel, stop: (k: Kernel) => boolean, maxSteps = 3000): string[] {
  const out: string[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const label = k.where().replace(/\+.*$/, '');
    if (out[out.length - 1] !== label) out.push(label);
    if (stop(k)) return out;
    k.machine.step();
  }
  throw new ScenarioError(`did not stop within ${maxSteps} steps; now at ${k.where()}`);
}

/** The labels passed from here up to (not including) the next IRET. */
export function labelsToIret(k: Kernel, maxSteps = 3000): string[] {
  return labelsUntil(k, (kk) => kk.machine.instructionAt()?.op === 'iret', maxSteps);
}

/**
 * The set-up of most nesting stories: the first NMI interrupts the workload at `interruptAt`, a
 * breakpoint inside its do_nmi (at `breakAt`) returns with IRET and so unblocks NMIs, and the
 * kernel runs on to `nestAt`, where a second NMI would nest. Returns the interrupted RIP.
 */
export function nestAfterBreakpoint(
  k: Kernel,
  options: { interruptAt?: string; breakAt?: string; nestAt?: string } = {},
): bigint {
  runTo(k, options.interruptAt ?? 'kernel_fault_point');
  const interrupted = k.machine.rip;
  k.machine.raiseNmi();
  k.armException({ at: options.breakAt ?? 'nmi_point_early', kind: 'bp', run: 1 });
  runToUnblocked(k, options.nestAt ?? 'nmi_point_middle');
  return interrupted;
}
