/*
 * iret-fault: a RECONSTRUCTION of Steven Rostedt's first, unpublished attempt (2011) at Linus's
 * 2010 proposal, before the RFC of 2011-12-08. The RFC says only: "The iret already had a fault
 * handler for userspace faulting with bad segment registers, and getting NMI to trigger a fault
 * and detect it was very tricky. But for strange reasons, the system would usually take a double
 * fault and crash. I never figured out why". The RFC does not say how the attempt used that
 * handler. Nothing of that code is public: every line below is NMI Lab's guess at a plausible
 * version, built from documented ingredients (docs/sources.md), and the double fault is not
 * scripted. It comes out of:
 *
 *  1. a faulting IRET unblocks NMIs before its fault is delivered (Intel SDM vol. 3, 6.7.1);
 *  2. #GP has no IST (Linux 3.x trap_init), so the fault lands on the NMI stack, below the frame
 *     that faulted;
 *  3. Linux 3.x error_entry treats a kernel-mode fault at irq_return as a failed return to *user*
 *     mode and does SWAPGS. In Linux the fix-up (bad_iret) then swaps back before it reports the
 *     fault; this reconstruction does its own detection in its #GP handler and has no bad_iret,
 *     so the GS flip seen here is the reconstruction's result, not Linux's;
 *  4. a fault that cannot be delivered (its frame would go below mapped memory) becomes a #PF
 *     during delivery, then #DF (SDM 6.15). With Linux 3.x's contiguous exception stacks (the
 *     harness's default) the #GP frames first run through the #DF and #SS stacks below the NMI
 *     stack; the harness leaves the page below those unmapped (harness/layout.ts).
 *
 * The guess, in the RFC's own terms:
 *  - State on the NMI stack (Peter Zijlstra's suggestion, which the RFC adopted after the %gs
 *    gotcha): the word at T-56 holds the address of the frame the running NMI will return
 *    through, 0 when no NMI runs (Linus's "NMI stack frame pointer", moved onto the stack).
 *  - A nested NMI marks that frame invalid (bit 15 of its CS: a selector beyond the GDT) and
 *    returns with IRET, as the RFC's nested path does (the RFC explains why popf/ret was given up).
 *  - The NMI exit clears the word and leaves through the kernel's one irq_return, so a marked
 *    frame faults there, in the fault handling that "already" existed.
 *  - The #GP handler recognises the marked frame, repairs it and re-runs the delayed NMI inside
 *    the trap handler; the #GP then returns to irq_return, which retries the repaired IRET. Like
 *    the first NMI, the re-run publishes the frame it will return through: the #GP's own frame.
 *
 * That is stable for one nested NMI. But the re-run runs with NMIs unblocked (1) on the NMI stack
 * below the faulting frame (2). Under a stream of NMIs (perf sampling, a watchdog), each re-run
 * is hit by a nested NMI that marks the #GP's frame, so the #GP's own IRET faults and the next
 * #GP lands 48 bytes lower, and so on until a #GP cannot be pushed any more: double fault (4).
 * Meanwhile every IRET fault flips GS (3, this reconstruction's own behaviour), so even a run
 * that unwinds can leave the interrupted kernel code running on the user's GS.
 *
 * The NMI stack (T = IST3 top):
 *   T-8 .. T-40   hardware frame (every NMI)
 *   T-48          saved %rdx
 *   T-56          "NMI frame": the frame the running NMI returns through, 0 if none
 *   T-64 .. T-96  return frame: a copy of the hardware frame (pt_regs' RIP..SS)
 *   T-104         orig_rax; below, the saved registers; below those, #GP frames when IRETs fault
 */

/* Bit 15 of a saved CS: a selector far beyond the GDT, so an IRET through the frame raises #GP. */
	.set NMI_FRAME_INVALID, 0x8000

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	pushq_cfi %rdx				/* T-48 */
	movq -8(%rsp), %rdx			/* T-56: the frame of a running NMI, or 0 */
	testq %rdx, %rdx
	jnz nested_nmi

first_nmi:
	pushq_cfi $0				/* T-56, set below */
	.rept 5
	pushq_cfi 6*8(%rsp)			/* return frame := hardware frame */
	.endr
	movq %rsp, 5*8(%rsp)			/* T-56 := the return frame */
	movq 6*8(%rsp), %rdx

restart_nmi:
	pushq_cfi $-1				/* orig_rax */
	ALLOC_PT_GPREGS_ON_STACK
	call save_paranoid
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	testl %ebx, %ebx
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_ALL 8				/* RSP at the return frame */
	movq $0, 5*8(%rsp)			/* T-56 := 0 */
	jmp irq_return				/* the kernel's IRET, whose faults the #GP handler knows */

nested_nmi:
	/* %rdx = the frame the interrupted NMI will return through: make its IRET fault. */
	orq $NMI_FRAME_INVALID, 8(%rdx)
	popq_cfi %rdx
nested_nmi_out:
	INTERRUPT_RETURN			/* back into the NMI (this IRET ends NMI blocking) */
	CFI_ENDPROC
END(nmi)

/*
 * #GP (harness.gates: vector 13), shaped like Linux 3.x's errorentry general_protection: no IST,
 * so the frame lands on the current stack. The error code sits in pt_regs' orig_rax slot.
 */
ENTRY(iret_general_protection)
	XCPT_FRAME
	subq $ORIG_RAX-R15, %rsp
	call iret_error_entry
	movq %rsp, %rdi
	movq ORIG_RAX(%rsp), %rsi
	movq $-1, ORIG_RAX(%rsp)
	call iret_do_general_protection
	jmp error_exit				/* harness: SWAPGS if %ebx = 0, registers, irq_return */
END(iret_general_protection)

/*
 * Linux 3.x error_entry, with the part that matters here: a fault in kernel mode at irq_return
 * is taken to be a failed IRET to *user* mode, which had already loaded the user's GS, so it
 * does SWAPGS. For an NMI returning to kernel code that is the wrong way round, and %ebx = 1
 * (kernel) means error_exit never swaps back.
 */
ENTRY(iret_error_entry)
	cld
	SAVE_C_REGS 8
	SAVE_EXTRA_REGS 8
	xorl %ebx, %ebx
	testl $3, CS+8(%rsp)
	jz iret_error_kernelspace
iret_error_swapgs:
	SWAPGS
	ret
iret_error_kernelspace:
	incl %ebx
	leaq irq_return(%rip), %rcx
	cmpq %rcx, RIP+8(%rsp)
	je iret_error_swapgs			/* "the iret already had a fault handler for userspace" */
	ret
END(iret_error_entry)

/* do_general_protection(regs, error_code): our NMI's marked frame, or a fatal #GP. */
ENTRY(iret_do_general_protection)
	leaq irq_return(%rip), %rax
	cmpq %rax, RIP(%rdi)
	jne 1f
	movq RSP(%rdi), %rax			/* the frame the IRET was reading */
	testl $NMI_FRAME_INVALID, 8(%rax)	/* marked by a nested NMI? */
	jnz nmi_iret_fixup
1:	movq RIP(%rdi), %rsi
	movq $OOPS_GENERAL_PROTECTION, %rdi
	jmp die
END(iret_do_general_protection)

/*
 * Re-do the delayed NMI from the trap handler: %rdi = the #GP's pt_regs, %rax = the faulting
 * frame. Repair the frame, publish the frame this run returns through (the #GP's own), run the
 * NMI body with a fresh pt_regs, clear the word, and return: the #GP's exit retries the IRET.
 */
ENTRY(nmi_iret_fixup)
	andq $~NMI_FRAME_INVALID, 8(%rax)
repeat_nmi:
	pushq %rdi				/* the #GP's pt_regs */
	pushq $-1				/* orig_rax of the re-run */
	ALLOC_PT_GPREGS_ON_STACK
	call save_paranoid			/* GS may be either: error_entry may have swapped it */
	movq INIT_TSS_IST(3), %rcx		/* T */
	movq ORIG_RAX+8(%rsp), %rdx		/* the #GP's pt_regs, pushed above */
	leaq RIP(%rdx), %rax
	movq %rax, -56(%rcx)			/* T-56 := the #GP's frame */
end_repeat_nmi:
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	movq INIT_TSS_IST(3), %rcx
	movq $0, -56(%rcx)			/* T-56 := 0 */
	testl %ebx, %ebx
	jnz 1f
	SWAPGS					/* GS as save_paranoid found it */
1:	RESTORE_ALL 8
	popq %rdi
	ret
END(nmi_iret_fixup)
