/*
 * unprotected: the x86-64 NMI entry before Linux 3.3.
 *
 * Written for NMI Lab after the shape of Linux 3.2's arch/x86/kernel/entry_64.S `nmi` (a
 * paranoid entry: save everything, fix GS, call do_nmi, restore, IRET). It trusts the hardware
 * to keep NMIs blocked until the handler's own IRET. That trust fails when do_nmi takes a
 * breakpoint or a page fault: the exception handler's IRET unblocks NMIs (SDM 6.7.1), and the
 * next NMI, whose gate loads RSP from IST3 unconditionally (SDM 6.14.5), writes its hardware frame
 * over this one's, at the same addresses T-8..T-40. The RFC of 2011 states exactly this problem.
 *
 * The NMI stack (T = IST3 top):
 *   T-8  .. T-40    hardware frame (SS RSP RFLAGS CS RIP), also pt_regs' RIP..SS
 *   T-48            orig_rax (-1)
 *   T-168 .. T-56   the saved registers (pt_regs r15 .. rdi)
 */

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	PARAVIRT_ADJUST_EXCEPTION_FRAME
	pushq_cfi $-1			/* orig_rax: this is not a system call */
	subq $ORIG_RAX-R15, %rsp	/* room for the registers */
	CFI_ADJUST_CFA_OFFSET ORIG_RAX-R15
	call save_paranoid		/* registers saved, kernel GS; %ebx = 0 if we swapped */
	DEFAULT_FRAME 0
	movq %rsp, %rdi			/* do_nmi(struct pt_regs *regs, long error_code) */
	movq $-1, %rsi
	call do_nmi
	testl %ebx, %ebx		/* did save_paranoid swap GS? */
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_ALL 8			/* registers back, orig_rax dropped: RSP at the hardware frame */
	jmp irq_return			/* the one IRET that should end NMI blocking */
	CFI_ENDPROC
END(nmi)
