/*
 * linux-3.4: the nested-NMI entry as Linux 3.4 had it. Written for NMI Lab; structure and labels
 * follow the code in a Linux 3.4.y tree (see docs/sources.md).
 *
 * One change from linux-3.3.S: repeat_nmi is inline. first_nmi builds the Saved frame and then
 * falls through into repeat_nmi, which makes the copied frame; a repeated round enters at
 * repeat_nmi from the first NMI's IRET. So the first round and every repeated round run the same
 * copy instructions, and the nested path's "ignore it" window (repeat_nmi .. end_repeat_nmi)
 * covers exactly the copy of the copied frame. There is no restart_nmi any more.
 *
 * Not yet here (see linux-3.6.S and linux-3.8.S): CR2 is not saved around do_nmi, and the
 * copied frame still doubles as the top of pt_regs.
 *
 * The NMI stack (T = IST3 top), as in linux-3.3.S:
 *   T-8 .. T-40     hardware frame
 *   T-48            %rdx
 *   T-56            "NMI executing"
 *   T-64 .. T-96    Saved frame: pristine
 *   T-104 .. T-136  copied frame: the final IRET uses it; a nested NMI rewrites it; pt_regs' RIP..SS
 *   T-144           orig_rax; below, the registers
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
	pushq_cfi %rdx			/* our one scratch register */

	/* From user mode: never nested. */
	cmpl $__KERNEL_CS, 16(%rsp)
	jne first_nmi

	/* "NMI executing" set: nested. */
	cmpl $1, -8(%rsp)
	je nested_nmi

	/* Interrupted RSP on the NMI stack (after the word was cleared, before the IRET): nested. */
	lea 6*8(%rsp), %rdx
	test_in_nmi rdx, 4*8(%rsp), nested_nmi, first_nmi
	CFI_REMEMBER_STATE

nested_nmi:
	/* Inside repeat_nmi .. end_repeat_nmi the first NMI is about to run do_nmi again: leave. */
	movq $repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja 1f
	movq $end_repeat_nmi, %rdx
	cmpq 8(%rsp), %rdx
	ja nested_nmi_out

1:
	/* Point the first NMI's copied frame at repeat_nmi, on the NMI stack (RSP = T-96). */
	leaq -6*8(%rsp), %rdx
	movq %rdx, %rsp
	CFI_ADJUST_CFA_OFFSET 6*8
	pushq_cfi $__KERNEL_DS
	pushq_cfi %rdx
	pushfq_cfi
	pushq_cfi $__KERNEL_CS
	pushq_cfi $repeat_nmi

	/* Back to the %rdx slot. */
	addq $(11*8), %rsp
	CFI_ADJUST_CFA_OFFSET -11*8

nested_nmi_out:
	popq_cfi %rdx
	CFI_RESTORE rdx
	INTERRUPT_RETURN

	CFI_RESTORE_STATE
first_nmi:
	/* Take %rdx back now; its slot stays reserved for nested NMIs. */
	movq (%rsp), %rdx
	CFI_RESTORE rdx

	/* "NMI executing" := 1 */
	pushq_cfi $1

	/* Saved frame := the hardware frame. */
	.rept 5
	pushq_cfi 6*8(%rsp)
	.endr
	CFI_DEF_CFA_OFFSET SS+8-RIP

	/* Nothing above can be hurt by a nested NMI. */

	/*
	 * The first round falls through to here; a repeated round arrives here from the first
	 * NMI's IRET (RSP = T-96, the Saved RIP slot). A nested NMI that interrupts the copying
	 * below is ignored, so it cannot leave a half-written copied frame.
	 */
repeat_nmi:
	/* "NMI executing" := 1 (already 1 on the first round) */
	movq $1, 5*8(%rsp)

	/* copied frame := Saved */
	.rept 5
	pushq_cfi 4*8(%rsp)
	.endr
	CFI_DEF_CFA_OFFSET SS+8-RIP
end_repeat_nmi:

	/* From here on a nested NMI makes the final IRET go to repeat_nmi. */
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
