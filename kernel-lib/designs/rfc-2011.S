/*
 * rfc-2011: Steven Rostedt's RFC, "[RFC][PATCH 3/3] x86: Add workaround to NMI iret woes",
 * lkml 2011-12-08 (the seed). Written for NMI Lab; structure and labels follow the patch so the
 * two can be read side by side. The body from restart_nmi to nmi_restore is the paranoid entry
 * the patch applies to, as its diff context shows it: Linux 3.2's, with the earlier patches of
 * the series applied (no return-to-user work loop between nmi_restore and irq_return).
 *
 * The idea: keep NMI state on the NMI stack itself (per-CPU data would need GS, and an NMI from
 * user mode has the user's GS). A first NMI sets an "NMI executing" word and keeps two copies of
 * its hardware frame: a Saved one nobody touches and a copied one its final IRET uses. A nested
 * NMI (possible once an exception's IRET inside do_nmi has unblocked NMIs) does not run the
 * handler: it rewrites the copied frame to return into repeat_nmi and leaves. The first NMI's
 * IRET then lands in repeat_nmi, which restores the copy from Saved and runs the handler again.
 *
 * The NMI stack (T = IST3 top), after first_nmi:
 *   T-8  .. T-40    hardware frame; every NMI, nested ones too, writes it
 *   T-48            %rdx, pushed on entry (a nested NMI overwrites it)
 *   T-56            "NMI executing"
 *   T-64 .. T-96    Saved frame (pristine copy)
 *   T-104 .. T-136  copied frame: the one the final IRET uses, rewritten by a nested NMI;
 *                   it is also pt_regs' RIP..SS for do_nmi
 *   T-144           orig_rax; T-264 .. T-152 the saved registers
 */

/*
 * Is \stack (an interrupted RSP) inside the NMI stack whose top is in %\reg? Jumps to \nmi_ret
 * if top-4096 <= stack <= top, else to \normal_ret. Clobbers %\reg.
 */
	.macro test_in_nmi reg stack nmi_ret normal_ret
	cmpq %\reg, \stack
	ja \normal_ret
	subq $4096, %\reg
	cmpq %\reg, \stack
	jb \normal_ret
	jmp \nmi_ret
	.endm

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	PARAVIRT_ADJUST_EXCEPTION_FRAME
	/*
	 * An exception in do_nmi ends with IRET, which unblocks NMIs: a second NMI can then arrive
	 * while this one runs, on the same stack top. Decide which case this is: first or nested.
	 * %rdx is the only scratch register until first_nmi.
	 */
	pushq_cfi %rdx

	/* The "NMI executing" word, just below the %rdx slot. (No size suffix: GAS assumes l.) */
	cmp $1, -8(%rsp)
	je nested_nmi

	/*
	 * Not set: still nested if we interrupted code on the NMI stack. That covers the race
	 * after the first NMI cleared the word and before its IRET. The word is needed too: the
	 * first NMI may be inside a breakpoint handler, on the debug stack, when we arrive.
	 */
	lea 6*8(%rsp), %rdx		/* the top of this stack */
	test_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi

nested_nmi:
	/*
	 * If the first NMI is already between repeat_nmi and end_repeat_nmi, it is about to run
	 * the handler again anyway: just leave.
	 */
	leaq repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja 1f
	leaq end_repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja nested_nmi_out

1:
	/* Rewrite the first NMI's copied frame so that its IRET goes to repeat_nmi. */
	leaq -6*8(%rsp), %rdi
	movq %rdi, %rsp
	pushq $__KERNEL_DS
	pushq %rdi
	pushfq
	pushq $__KERNEL_CS
	leaq repeat_nmi, %rdx
	pushq_cfi %rdx

	/* Back to where %rdx was pushed. */
	addq $(11*8), %rsp

nested_nmi_out:
	popq_cfi %rdx

	/* Back into the first NMI; NMIs stay unblocked (the first NMI lost that already). */
	INTERRUPT_RETURN

first_nmi:
	/* "NMI executing" := 1 */
	pushq_cfi $1

	/* Saved frame: a copy of the hardware frame (each push reads six words up). */
	pushq_cfi 6*8(%rsp)
	pushq_cfi 6*8(%rsp)
	pushq_cfi 6*8(%rsp)
	pushq_cfi 6*8(%rsp)
	pushq_cfi 6*8(%rsp)

	/* copied frame: a copy of Saved, the one a nested NMI may rewrite. */
	pushq_cfi 4*8(%rsp)
	pushq_cfi 4*8(%rsp)
	pushq_cfi 4*8(%rsp)
	pushq_cfi 4*8(%rsp)
	pushq_cfi 4*8(%rsp)

	/* %rdx from its slot (a nested NMI can overwrite the slot, so read it, never pop it). */
	movq 11*8(%rsp), %rdx

restart_nmi:
	pushq_cfi $-1			/* orig_rax */
	subq $ORIG_RAX-R15, %rsp
	CFI_ADJUST_CFA_OFFSET ORIG_RAX-R15
	call save_paranoid
	DEFAULT_FRAME 0
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	testl %ebx, %ebx
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_ALL 8
	/* "NMI executing" := 0; from here to the IRET only the RSP test sees a nested NMI. */
	movq $0, 10*8(%rsp)
	jmp irq_return
	CFI_ENDPROC
END(nmi)

repeat_nmi:
	/* We come here from the first NMI's IRET when a nested NMI asked for another round. */
	movq $1, 5*8(%rsp)

	/* The copied frame := Saved, again. */
	pushq 4*8(%rsp)
	pushq 4*8(%rsp)
	pushq 4*8(%rsp)
	pushq 4*8(%rsp)
	pushq 4*8(%rsp)

	jmp restart_nmi
end_repeat_nmi:
