/*
 * linux-3.8: the nested-NMI entry as the Linux 3.8 series had it (read in a 3.8.13 tree; see
 * docs/sources.md). Written for NMI Lab; structure and labels follow that code.
 *
 * One change from linux-3.6.S: the copied frame sits above the Saved frame (commit 28696f434fef),
 * so pt_regs' RIP..SS are the Saved frame and a nested NMI no longer rewrites the running
 * handler's pt_regs. first_nmi leaves room for the copied frame, fills Saved below it, and
 * repeat_nmi copies Saved up into the room. Kept from earlier releases: repeat_nmi inline (3.4)
 * and the CR2 save around do_nmi (7fbb98c5cb07, 3.6).
 *
 * The NMI stack (T = IST3 top):
 *   T-8 .. T-40     hardware frame
 *   T-48            %rdx
 *   T-56            "NMI executing"
 *   T-64 .. T-96    copied frame: the final IRET uses it; a nested NMI rewrites it
 *   T-104 .. T-136  Saved frame: pristine; also pt_regs' RIP..SS
 *   T-144           orig_rax; below, the registers
 */

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
	pushq_cfi %rdx			/* our scratch register */

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
	/* Rewrite the copied frame (T-64 .. T-96) to return to repeat_nmi with RSP = T-136. */
	leaq -1*8(%rsp), %rdx
	movq %rdx, %rsp
	CFI_ADJUST_CFA_OFFSET 1*8
	leaq -10*8(%rsp), %rdx
	pushq_cfi $__KERNEL_DS
	pushq_cfi %rdx
	pushfq_cfi
	pushq_cfi $__KERNEL_CS
	pushq_cfi $repeat_nmi

	/* Back to the %rdx slot. */
	addq $(6*8), %rsp
	CFI_ADJUST_CFA_OFFSET -6*8

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

	/* Skip the copied frame's five words; repeat_nmi fills them. */
	subq $(5*8), %rsp
	CFI_ADJUST_CFA_OFFSET 5*8

	/* Saved frame := the hardware frame. */
	.rept 5
	pushq_cfi 11*8(%rsp)
	.endr

	/* Nothing above can be hurt by a nested NMI. */

	/*
	 * The first round falls through to here; a repeated round arrives here from the first
	 * NMI's IRET (RSP = T-136, the Saved RIP slot). A nested NMI that interrupts the copying
	 * below is ignored, so it cannot leave a half-written copied frame.
	 */
repeat_nmi:
	/* "NMI executing" := 1 (already 1 on the first round) */
	movq $1, 10*8(%rsp)

	/* copied frame := Saved */
	addq $(10*8), %rsp
	CFI_ADJUST_CFA_OFFSET -10*8
	.rept 5
	pushq_cfi -6*8(%rsp)
	.endr
	subq $(5*8), %rsp
	CFI_DEF_CFA_OFFSET SS+8-RIP
end_repeat_nmi:

	/* From here on a nested NMI makes the final IRET go to repeat_nmi. */
	pushq_cfi $-1			/* orig_rax */
	subq $ORIG_RAX-R15, %rsp
	CFI_ADJUST_CFA_OFFSET ORIG_RAX-R15
	call save_paranoid
	DEFAULT_FRAME 0

	/*
	 * CR2 as it was before the NMI (%r12 is callee-saved and already in pt_regs): if do_nmi
	 * page-faults, CR2 changes under a page-fault handler we may have interrupted.
	 */
	movq %cr2, %r12

	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi

	/* Put CR2 back if do_nmi changed it. */
	movq %cr2, %rcx
	cmpq %rcx, %r12
	je 1f
	movq %r12, %cr2
1:
	testl %ebx, %ebx
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	/* Registers, orig_rax and the Saved frame in one go: RSP at the copied frame. */
	RESTORE_ALL 6*8

	/* "NMI executing" := 0 */
	movq $0, 5*8(%rsp)
	jmp irq_return
	CFI_ENDPROC
END(nmi)
