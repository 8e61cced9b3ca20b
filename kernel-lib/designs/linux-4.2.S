/*
 * linux-4.2: the 2015 hardening (Andy Lutomirski's series, Linux 4.2, stable 4.1.6). Written for
 * NMI Lab; structure and labels follow the kernel code of the time.
 *
 * Changes from linux-3.8.S:
 *  - NMIs from user mode leave the NMI stack at once: they switch to the task's kernel stack,
 *    run do_nmi there and return through the ordinary return-to-user path (commit 9b6e6a8334d5,
 *    the fix for CVE-2015-3290 and CVE-2015-5157). Only kernel-mode NMIs use the nesting
 *    machinery below.
 *  - The repeat_nmi..end_repeat_nmi RIP test comes first (commit a27507ca2d79).
 *  - The RSP test alone could be fooled: a user program can point RSP into the NMI stack and
 *    execute SYSCALL, and an NMI in the first instructions of the syscall entry (kernel CS, the
 *    user's RSP) looked nested and was dropped (CVE-2015-3291). SYSCALL clears DF (Linux's
 *    FMASK), and the NMI exit now sets DF (std) between clearing "NMI executing" and its IRET,
 *    so the RSP test also requires DF = 1 in the interrupted RFLAGS (commit 810bc075f78f).
 *
 *
 * Kept from linux-3.8.S although 4.2 changed it: the CR2 save and restore around do_nmi. Linux 4.2
 * moved it into do_nmi in C (commit 0e181bb58143, "x86/nmi/64: Remove asm code that saves CR2";
 * not verified here); this listing keeps the 3.6 assembly on the kernel-mode path, where the
 * harness compares CR2 (NMIs from user mode never interrupt a page-fault handler).
 *
 * The NMI stack for a kernel-mode NMI (T = IST3 top); 4.2's comments call the copied frame the
 * "iret" frame and the Saved frame the "outermost" frame:
 *   T-8 .. T-40 hardware frame; T-48 %rdx; T-56 "NMI executing";
 *   T-64 .. T-96 "iret" (copied) frame; T-104 .. T-136 "outermost" (Saved) frame; then pt_regs.
 */

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	PARAVIRT_ADJUST_EXCEPTION_FRAME
	pushq_cfi %rdx

	/* Interrupted CPL = CS & 3 (CS at 2*8 after the push). */
	testb $3, 2*8(%rsp)
	jz nmi_from_kernel

	/*
	 * From user mode. Go to the task's kernel stack and handle the NMI there like an exception
	 * from user mode; the NMI stack is no longer in use after the frame is copied. Interrupts
	 * stay off and NMIs stay blocked until the final IRET.
	 */
	SWAPGS
	cld
	movq %rsp, %rdx			/* %rdx -> the saved %rdx, then the hardware frame */
	movq PER_CPU_VAR(cpu_current_top_of_stack), %rsp
	pushq 5*8(%rdx)			/* ss */
	pushq 4*8(%rdx)			/* rsp */
	pushq 3*8(%rdx)			/* rflags */
	pushq 2*8(%rdx)			/* cs */
	pushq 1*8(%rdx)			/* rip */
	pushq $-1			/* orig_rax */
	pushq %rdi
	pushq %rsi
	pushq (%rdx)			/* the interrupted %rdx */
	pushq %rcx
	pushq %rax
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
nmi_user_on_kernel_stack:
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	/* do_nmi preserved the callee-saved registers; pop the rest and IRET to user mode. */
	SWAPGS
	jmp restore_c_regs_and_iret

nmi_from_kernel:
	/* Interrupted repeat_nmi .. end_repeat_nmi: the handler will run again anyway; leave. */
	movq $repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja 1f
	movq $end_repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja nested_nmi_out
1:
	/* "NMI executing" set: nested. */
	cmpl $1, -8(%rsp)
	je nested_nmi

	/*
	 * The word is clear; nested only if we interrupted the exit of an NMI, between clearing it
	 * and IRET. There RSP is on the NMI stack *and* DF = 1 (the exit sets it). A syscall entry
	 * whose user RSP points into the NMI stack has DF = 0, because SYSCALL clears it.
	 */
	lea 6*8(%rsp), %rdx		/* top of the NMI stack */
	cmpq %rdx, 4*8(%rsp)		/* interrupted RSP above it: first NMI */
	ja first_nmi
	subq $EXCEPTION_STKSZ, %rdx
	cmpq %rdx, 4*8(%rsp)		/* below it: first NMI */
	jb first_nmi
	testb $(X86_EFLAGS_DF >> 8), (3*8 + 1)(%rsp)
	jz first_nmi			/* DF clear: RSP was the user's, not an NMI exit */

nested_nmi:
	/* Make the "iret" (copied) frame return to repeat_nmi, with RSP = the outermost RIP slot. */
	subq $8, %rsp
	leaq -10*8(%rsp), %rdx
	pushq $__KERNEL_DS
	pushq %rdx
	pushfq
	pushq $__KERNEL_CS
	pushq $repeat_nmi

	/* Back to the %rdx slot. */
	addq $(6*8), %rsp

nested_nmi_out:
	popq %rdx
	/* Returning to kernel mode: this IRET cannot fault. */
	INTERRUPT_RETURN

first_nmi:
	movq (%rsp), %rdx		/* %rdx back; its slot stays reserved */
	pushq $1			/* "NMI executing" */
	subq $(5*8), %rsp		/* room for the "iret" frame */
	.rept 5
	pushq 11*8(%rsp)		/* outermost (Saved) frame := hardware frame */
	.endr

	/* Everything above is safe from nested NMIs. */

repeat_nmi:
	/* RSP = the outermost RIP slot, on every round. */
	movq $1, 10*8(%rsp)		/* "NMI executing" := 1 */

	/* "iret" frame := outermost frame. A nested NMI here is ignored (see the RIP test). */
	addq $(10*8), %rsp
	.rept 5
	pushq -6*8(%rsp)
	.endr
	subq $(5*8), %rsp
end_repeat_nmi:

	/* From here a nested NMI sends the final IRET back to repeat_nmi. */
	pushq $-1			/* orig_rax */
	ALLOC_PT_GPREGS_ON_STACK
	call paranoid_entry		/* registers saved, kernel GS; %ebx = 0 if it swapped */

	movq %cr2, %r12			/* CR2 as before the NMI (linux-3.6.S; 4.2 does this in C) */

	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi

	movq %cr2, %rcx			/* put CR2 back if do_nmi changed it */
	cmpq %rcx, %r12
	je 2f
	movq %r12, %cr2
2:
	testl %ebx, %ebx
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_EXTRA_REGS
	RESTORE_C_REGS
	REMOVE_PT_GPREGS_FROM_STACK 6*8	/* and the outermost frame: RSP at the "iret" frame */

	/*
	 * DF := 1 before the word is cleared: between here and the IRET, an NMI sees DF set and an
	 * RSP on the NMI stack, and knows it interrupted an NMI exit. The IRET restores the
	 * interrupted code's own DF.
	 */
	std
	movq $0, 5*8(%rsp)		/* "NMI executing" := 0 */
	INTERRUPT_RETURN
	CFI_ENDPROC
END(nmi)
