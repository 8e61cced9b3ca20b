// The invariants a design must keep on every schedule, as the explorer checks them. Each one is
// decided from the machine's event log, its registers and a few harness counters, never from a
// list of expected answers.

export type InvariantId = 'lost-nmi' | 'reentrant-handler' | 'transparency' | 'fault' | 'termination' | 'privilege';

export interface InvariantInfo {
  id: InvariantId;
  /** Bit in the explorer's violation masks. */
  bit: number;
  number: number;
  title: string;
  /** The precise rule, in words. */
  rule: string;
}

export const INVARIANTS: readonly InvariantInfo[] = [
  {
    id: 'lost-nmi',
    bit: 1,
    number: 1,
    title: 'No NMI lost',
    rule:
      'Every NMI the CPU accepts (delivers through the IDT, at once or later from its one-deep latch) is followed by a ' +
      'run of the handler body (do_nmi) that begins after that delivery, by the time the interrupted code is running ' +
      'again with NMIs unblocked and nothing latched. NMIs that arrive while one is already latched are merged by the ' +
      'hardware itself; the explorer never counts them (it does not even schedule them: they change nothing). One ' +
      'do_nmi run serves every NMI delivered before it began, as the latch does in hardware.',
  },
  {
    id: 'reentrant-handler',
    bit: 2,
    number: 2,
    title: 'The handler body never runs re-entrantly',
    rule:
      'do_nmi never begins while an earlier run has not finished (the harness counts this in the per-CPU ' +
      'nmi_reentered counter).',
  },
  {
    id: 'transparency',
    bit: 4,
    number: 3,
    title: 'Transparency',
    rule:
      "Whenever execution returns (IRET, or a RET the design declares a return without IRET, like linus-2010's " +
      'popf/ret) to the RIP and CS an event interrupted, every general register, RSP, ' +
      'RFLAGS, RIP, CS, SS, GS.base (and, for kernel code, CR2) are exactly as they were when the event was delivered (GS.base ' +
      'because per-CPU data and every later SWAPGS depend on it; CR2 because a ' +
      "page-fault handler interrupted before it read CR2 needs it: commit 7fbb98c5cb07), and the interrupted code's live stack " +
      '(from its RSP to the top of its stack, up to 1 KiB; not on the NMI or #DF stacks, which belong to the entry ' +
      'machinery) is unchanged.',
  },
  {
    id: 'fault',
    bit: 8,
    number: 4,
    title: 'No double fault, triple fault or unexpected fault',
    rule:
      'No #DF, no shutdown, no kernel oops, and no exception that the schedule did not inject, that the ' +
      'undisturbed workload does not raise by itself (its own int3, say), and that the design does not raise on purpose ' +
      "(its manifest's intendedFaults: the IRET that linus-2010 and iret-fault make fault).",
  },
  {
    id: 'termination',
    bit: 16,
    number: 5,
    title: 'Termination',
    rule:
      'After the last scheduled event the machine is back in the interrupted code (every delivered event has ' +
      'returned, NMIs unblocked, nothing latched) within the step budget, and never repeats a whole machine state on ' +
      'the way (an exact cycle is a hang).',
  },
  {
    id: 'privilege',
    bit: 32,
    number: 6,
    title: 'No privilege confusion',
    rule:
      'The CPU never executes at a user-space address (the lower canonical half, which user programs control) ' +
      'with CPL 0, for example after an IRET to a user RIP with the kernel CS.',
  },
];

export function invariantInfo(id: InvariantId): InvariantInfo {
  return INVARIANTS.find((i) => i.id === id) as InvariantInfo;
}
