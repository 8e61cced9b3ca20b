// The invariants a design must keep on every schedule, as the explorer checks them: the one place
// where they are registered. Each is decided from the machine's event log, its registers and a few
// harness counters, never from a list of expected answers. Order gives each its number and its bit
// in the explorer's violation masks.
import type { Invariant } from '../invariant';
import { lostNmi } from './lost-nmi';
import { reentrantHandler } from './reentrant-handler';
import { transparency } from './transparency';
import { fault } from './fault';
import { termination } from './termination';
import { privilege } from './privilege';

export type InvariantId = 'lost-nmi' | 'reentrant-handler' | 'transparency' | 'fault' | 'termination' | 'privilege';

/** What reports and views show of an invariant. */
export interface InvariantInfo {
  id: InvariantId;
  /** Bit in the explorer's violation masks. */
  bit: number;
  number: number;
  title: string;
  /** The precise rule, in words. */
  rule: string;
}

/** The registered invariants, in number order (their checks: see ../invariant.ts). */
export const INVARIANT_CHECKS: readonly Invariant[] = [
  lostNmi,
  reentrantHandler,
  transparency,
  fault,
  termination,
  privilege,
];

export const INVARIANTS: readonly InvariantInfo[] = INVARIANT_CHECKS.map((inv, i) => {
  if (inv.number !== i + 1) throw new Error(`invariant '${inv.id}' is registered as number ${i + 1}`);
  return { id: inv.id as InvariantId, bit: 1 << i, number: inv.number, title: inv.title, rule: inv.rule };
});

export function invariantInfo(id: InvariantId): InvariantInfo {
  return INVARIANTS.find((i) => i.id === id) as InvariantInfo;
}
