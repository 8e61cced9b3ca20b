// The C side of the NMI entry, by kernel release. Some protections against nested NMIs live in
// do_nmi (arch/x86/kernel/nmi.c), not in the entry code, and which ones changed between releases.
// An entry listing from a real kernel is judged faithfully only together with the do_nmi of its
// own release: each preset names the harness options that model that do_nmi and the kernel source
// it follows. The facts were read in the kernel trees named below.

/** The harness options that model do_nmi's own protections (see HarnessOptions). */
export interface DoNmiOptions {
  /** The debug-stack switch: load an IDT whose #DB/#BP gates have no IST while an NMI interrupted the debug stack. */
  nmiIdtTable: boolean;
  /** The NOT_RUNNING / EXECUTING / LATCHED nmi_state latch. */
  doNmiLatch: boolean;
  /** CR2 saved when do_nmi starts and put back when it ends (nmi_cr2). */
  doNmiCr2: boolean;
}

export interface DoNmiPreset {
  /** The release it is named after: the first whose 64-bit do_nmi (or entry) looks like this. */
  release: string;
  harness: DoNmiOptions;
  /** What this do_nmi does. */
  models: string;
  /** What the entry code of these releases does for itself, so that the listing must do it. */
  entry: string;
  /** Where each fact comes from. */
  sources: string[];
}

export const DO_NMI_PRESETS: readonly DoNmiPreset[] = [
  {
    release: '3.2',
    harness: { nmiIdtTable: false, doNmiLatch: false, doNmiCr2: false },
    models: 'do_nmi with no protection of its own: Linux 3.2 and earlier',
    entry: 'the plain paranoid entry: no nesting protection, CR2 not saved',
    sources: ['Linux 3.2 arch/x86/kernel/nmi.c and entry_64.S, before commit 3f3c8b8c4b2a (Linux 3.3)'],
  },
  {
    release: '3.3',
    harness: { nmiIdtTable: true, doNmiLatch: false, doNmiCr2: false },
    models:
      'the debug-stack switch: when the NMI interrupted code on the debug stack, do_nmi loads an IDT whose #DB and #BP gates have no IST and loads the normal IDT again on the way out (nmi.c, nmi_nesting_preprocess/postprocess, 64-bit branch); the nmi_state latch exists for 32-bit kernels only',
    entry: 'the 3.3 nesting entry (NMI executing variable, Saved and copied frames, repeat_nmi); CR2 not saved',
    sources: [
      'commit 3f3c8b8c4b2a, x86: Add workaround to NMI iret woes (Linux 3.3), with its companion nmi_idt_table change in nmi.c',
      'Linux 3.6 arch/x86/kernel/nmi.c (the same 64-bit code): nmi_nesting_preprocess tests is_debug_stack(regs->sp), calls debug_stack_set_zero() and sets update_debug_stack; nmi_state sits under CONFIG_X86_32',
    ],
  },
  {
    release: '3.6',
    harness: { nmiIdtTable: true, doNmiLatch: false, doNmiCr2: false },
    models: 'the same 64-bit do_nmi as 3.3 (the debug-stack switch); nmi_state and nmi_cr2 are still 32-bit only',
    entry:
      'the entry saves CR2 before do_nmi and writes it back if do_nmi changed it (commit 7fbb98c5cb07, x86: Save cr2 in NMI in case NMIs take a page fault: present in a 3.6 tree, absent from a 3.4 tree)',
    sources: [
      'Linux 3.6 arch/x86/kernel/nmi.c: nmi_state and nmi_cr2 under CONFIG_X86_32, the debug-stack switch for x86_64',
      'Linux 3.6 arch/x86/kernel/entry_64.S: CR2 read into %r12 before do_nmi and written back after it',
    ],
  },
  {
    release: '4.2',
    harness: { nmiIdtTable: true, doNmiLatch: true, doNmiCr2: true },
    models:
      'the 32-bit protections on 64-bit kernels too: the nmi_state latch (an NMI that finds do_nmi running marks it LATCHED and returns; the running one goes round again) and CR2 saved into nmi_cr2 and put back before the latch is released, plus the debug-stack switch inside the restart loop',
    entry:
      'the 4.2 entry: NMIs from user mode run on the kernel stack (9b6e6a8334d5), the repeat_nmi RIP test comes first (a27507ca2d79), DF marks the NMI exit (810bc075f78f); CR2 is no longer saved in the entry',
    sources: [
      'commit 0e181bb58143, x86/nmi: Enable nested do_nmi handling for 64-bit kernels (Linux 4.2)',
      'Linux 4.14 arch/x86/kernel/nmi.c: do_nmi checks and sets nmi_state, saves read_cr2() into nmi_cr2 before the nmi_restart label, restores it before this_cpu_dec_return(nmi_state); the debug-stack switch, under CONFIG_X86_64, runs inside the restart loop',
      'Linux 4.1 and 4.4 stable entry_64.S (arch/x86/kernel/ and arch/x86/entry/): the nmi entry no longer touches CR2',
    ],
  },
];

/** The preset for a release name ('3.3'), or undefined. */
export function doNmiPreset(release: string): DoNmiPreset | undefined {
  return DO_NMI_PRESETS.find((p) => p.release === release.replace(/^v/, ''));
}

/** The releases there are presets for, as a phrase for error messages: '3.2, 3.3, 3.6 or 4.2'. */
export function doNmiReleases(): string {
  const names = DO_NMI_PRESETS.map((p) => p.release);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
