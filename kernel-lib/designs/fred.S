/*
 * fred: the NMI entry FRED allows (Linux 6.9+, Intel's Flexible Return and Event Delivery).
 *
 * Written for NMI Lab after Linux's FRED NMI path (arch/x86/kernel/fred.c dispatching to the
 * NMI handler in nmi.c); the shape of the code is NMI Lab's.
 *
 * There is nothing left to defend against. Every event enters through the harness's FRED entry
 * points (kernel.S, CONFIG_FRED), which push pt_regs below the 64-byte FRED frame and dispatch on
 * the event type; an event of type NMI comes here. What changed in the hardware:
 *
 *  - NMI blocking ends only at an ERETS/ERETU whose frame is marked as an NMI's (the nmi bit in
 *    the frame's SS slot). A #BP, #DB or #PF inside do_nmi returns with ERETS through its own,
 *    unmarked frame: NMIs stay blocked, and a second NMI waits in the latch. No nesting, so no
 *    "NMI executing" word, no Saved and copied frames, no repeat_nmi.
 *  - Stack levels replace IST: the NMI runs on level 2; an event switches stacks only to a
 *    higher level, so a #DB (level 1) or #BP/#PF (level 0) inside the NMI handler pushes its
 *    frame below the current RSP instead of resetting a fixed stack top.
 *  - The frame carries CR2 (the event data), so no CR2 save around the handler either.
 *  - Delivery from ring 3 switches GS itself and ERETU switches it back: no SWAPGS, and no
 *    "which GS is loaded?" question for an NMI.
 *  - SYSCALL is an event with its own stack (level 0): no syscall gap for an NMI to land in.
 *
 * The NMI stack (level 2, T = its top): the FRED frame at T-64 .. T-8 (error code, RIP, CS,
 * RFLAGS, RSP, SS, event data, reserved), pt_regs' registers below it.
 */

/* Called by fred_entry_dispatch with pt_regs in %rdi and the kernel's GS. */
ENTRY(nmi)
	movq $-1, %rsi			/* do_nmi(regs, error_code) */
	call do_nmi
	ret				/* back to the entry, which returns with ERETS or ERETU */
END(nmi)
