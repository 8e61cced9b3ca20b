/*
 * linux-3.3: the RFC as merged in Linux 3.3, commit 3f3c8b8c4b2a "x86: Add workaround to NMI
 * iret woes". Written for NMI Lab; structure and labels follow the merged code.
 *
 * Differences from the RFC (rfc-2011.S): the interrupted CS is checked first, so every NMI from
 * user mode goes straight to first_nmi (an NMI cannot nest inside user code); explicit cmpl;
 * EXCEPTION_STKSZ for the stack size; the nested path uses only %rdx; .rept 5 for the copies.
 * The 3.3 companion patch that loads nmi_idt_table while an NMI has interrupted a debug-stack
 * user lives in the harness's do_nmi (this manifest turns it on).
 *
 * The NMI stack is laid out as in the RFC (T = IST3 top):
 *   T-8 .. T-40 hardware frame; T-48 %rdx; T-56 "NMI executing"; T-64 .. T-96 Saved frame;
 *   T-104 .. T-136 copied frame (pt_regs' RIP..SS); T-144 orig_rax; below, the registers.
 */

/* top-EXCEPTION_STKSZ <= \stack <= top (top in %\reg): \nmi_ret, else \normal_ret. */
	.macro test_in_nmi reg stack nmi_ret normal_ret
	cmpq %\reg, \stack
	ja \normal_ret
	subq $EXCEPTION_STKSZ, %\reg
	cmpq %\reg, \stack
	jb \normal_ret
	jmp \nmi_ret
	.endm

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	PARAVIRT_ADJUST_EXCEPTION_FRAME
	/* %rdx is our one scratch register until first_nmi. */
	pushq_cfi %rdx

	/* Interrupted code was not kernel code: this cannot be a nested NMI. */
	cmpl $__KERNEL_CS, 16(%rsp)
	jne first_nmi

	/* "NMI executing" set? */
	cmpl $1, -8(%rsp)
	je nested_nmi

	/*
	 * Not set, but the interrupted RSP may still be on the NMI stack: the first NMI cleared the
	 * word and has not reached its IRET yet. (The word itself covers a first NMI that is in a
	 * breakpoint handler, on the debug stack.)
	 */
	lea 6*8(%rsp), %rdx
	test_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi
	CFI_REMEMBER_STATE

nested_nmi:
	/* Interrupted repeat_nmi .. end_repeat_nmi? The handler is about to run again: leave. */
	leaq repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja 1f
	leaq end_repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja nested_nmi_out

1:
	/* Point the first NMI's copied frame at repeat_nmi, on the NMI stack (RSP = T-96). */
	leaq -6*8(%rsp), %rdx
	movq %rdx, %rsp
	pushq $__KERNEL_DS
	pushq %rdx
	pushfq
	pushq $__KERNEL_CS
	pushq_cfi $repeat_nmi

	/* Back to the %rdx slot. */
	addq $(11*8), %rsp
	CFI_ADJUST_CFA_OFFSET -11*8

nested_nmi_out:
	popq_cfi %rdx

	/* Straight back into the first NMI. */
	INTERRUPT_RETURN

	CFI_RESTORE_STATE
first_nmi:
	/* "NMI executing" := 1 */
	pushq_cfi $1

	/* Saved frame: copy the hardware frame. */
	.rept 5
	pushq_cfi 6*8(%rsp)
	.endr

	/* copied frame: copy Saved (this one a nested NMI may rewrite). */
	.rept 5
	pushq_cfi 4*8(%rsp)
	.endr

	/* Reload %rdx rather than pop it: a nested NMI may have used its slot. */
	movq 11*8(%rsp), %rdx

restart_nmi:
	pushq_cfi $-1			/* orig_rax */
	subq $ORIG_RAX-R15, %rsp
	CFI_ADJUST_CFA_OFFSET ORIG_RAX-R15
	/* save_paranoid handles GS; no paranoid_exit: an NMI must not schedule. */
	call save_paranoid
	DEFAULT_FRAME 0
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	testl %ebx, %ebx		/* did we swap GS? */
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_ALL 8
	/* "NMI executing" := 0; the RSP test covers the instructions from here to the IRET. */
	movq $0, 10*8(%rsp)
	jmp irq_return
	CFI_ENDPROC
END(nmi)

	/*
	 * The first NMI's IRET comes here when a nested NMI rewrote its copied frame (RSP = T-96,
	 * the Saved RIP slot). A nested NMI that interrupts these instructions is ignored (see
	 * nested_nmi): the handler is about to run again anyway.
	 */
repeat_nmi:
	INTR_FRAME
	/* "NMI executing" := 1 again */
	movq $1, 5*8(%rsp)

	/* copied frame := Saved */
	.rept 5
	pushq_cfi 4*8(%rsp)
	.endr

	jmp restart_nmi
	CFI_ENDPROC
end_repeat_nmi:
