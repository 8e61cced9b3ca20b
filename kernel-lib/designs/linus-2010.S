/*
 * linus-2010: Linus Torvalds's proposal, lkml 2010-07-14 (thread "x86 NMI-safe INT3 and Page
 * Fault"), as quoted in Rostedt's RFC of 2011-12-08. Never merged. Written for NMI Lab from the
 * proposal's words; every detail the mail does not give is marked RECONSTRUCTION below and in
 * the manifest.
 *
 * The proposal, step by step:
 *   NMI entry:  load the per-CPU NMI stack-frame pointer; if it is non-zero we are nested: make
 *               the outer NMI's return frame invalid, so that its IRET will fault, and return at
 *               once with popf/ret, which leaves NMIs blocked in the hardware. Otherwise set the
 *               pointer and handle the NMI.
 *   NMI exit:   clear the pointer; IRET. "If we had a nested NMI, we'll take a fault, and that
 *               re-does our 'delayed' NMI - and NMI's will stay masked."
 *
 * What running it shows (tests/designs/linus-2010.test.ts):
 *  - The per-CPU pointer is reached through %gs. An NMI from user mode finds the user's GS
 *    loaded, so the entry must SWAPGS before it can even look (the RFC's first gotcha). Testing
 *    the interrupted CS is not enough: in the syscall gap CS is the kernel's and GS the user's.
 *  - popf/ret cannot restore a stack the way IRET does: to leave RSP where it was, the nested
 *    NMI must write RIP and RFLAGS into the 16 bytes *below* the interrupted RSP (the RFC's third
 *    gotcha: "there may be some place that writes data below the stack pointer").
 *  - The premise is wrong: an IRET unblocks NMIs even when it faults, before the fault is
 *    delivered (Intel SDM vol. 3, 6.7.1). The fault path runs with NMIs enabled and the pointer
 *    clear, so an NMI at its first instruction is a "first" NMI that overwrites it.
 *
 * The NMI stack (T = IST3 top):
 *   T-8 .. T-40   hardware frame (every NMI, nested ones too)
 *   T-48          saved %rdx
 *   T-56 .. T-88  return frame: RECONSTRUCTION, a copy of the hardware frame. With IST every
 *                 NMI's hardware frame lands at T-40, so the frame the final IRET uses (the one
 *                 the per-CPU pointer points at) must live somewhere a nested NMI cannot write.
 *   T-96          orig_rax; below, the saved registers (pt_regs, whose RIP..SS is the return frame)
 */

/*
 * RECONSTRUCTION: the per-CPU variable. The proposal wants it "in the _core_ percpu areas that
 * get allocated statically"; here it is a free word of the harness's per-CPU page.
 */
	.set nmi_stack_frame, 0x100

/*
 * RECONSTRUCTION: how the frame is made invalid. Bit 15 of the saved CS turns the selector into
 * one far beyond the GDT, so the IRET faults with #GP; setting it is idempotent (two nested NMIs
 * mark it once) and the fault path clears it again.
 */
	.set NMI_FRAME_INVALID, 0x8000

/* runs on the NMI stack (IST3) */
ENTRY(nmi)
	INTR_FRAME
	pushq_cfi %rdx				/* T-48: our one scratch register */

	/*
	 * The RFC's first gotcha: per-CPU data is reached through %gs, and an NMI from user mode
	 * arrives with the user's GS. RECONSTRUCTION: the cheapest test, the interrupted CS. It
	 * needs no register, but it is wrong in the syscall gap (kernel CS, user GS); the
	 * reliable test (rdmsr of GS.base, save_paranoid's) needs registers saved first.
	 */
	testb $3, 2*8(%rsp)
	jz 1f
	SWAPGS
1:
	movq PER_CPU_VAR(nmi_stack_frame), %rdx
	testq %rdx, %rdx
	jnz nested_nmi

first_nmi:
	/* Return frame := hardware frame (T-56 .. T-88), SS first. */
	.rept 5
	pushq_cfi 5*8(%rsp)
	.endr
	/* "set the NMI stack pointer to the current stack pointer": the return frame. */
	movq %rsp, PER_CPU_VAR(nmi_stack_frame)
	movq 5*8(%rsp), %rdx			/* the interrupted %rdx back */

restart_nmi:
	pushq_cfi $-1				/* orig_rax */
	ALLOC_PT_GPREGS_ON_STACK
	call save_paranoid			/* GS is already the kernel's: %ebx = 1 */
	movq %rsp, %rdi
	movq $-1, %rsi
	call do_nmi
	testl %ebx, %ebx
	jnz nmi_restore
nmi_swapgs:
	SWAPGS_UNSAFE_STACK
nmi_restore:
	RESTORE_ALL 8				/* RSP at the return frame */
	/* "NMI exit: clear the percpu NMI stack pointer. Just do the iret." */
	movq $0, PER_CPU_VAR(nmi_stack_frame)
	testb $3, 8(%rsp)			/* back to user mode: give the user its GS again */
	jz nmi_iret
	SWAPGS
nmi_iret:
	/*
	 * "Now, the thing is, now the iret is atomic." A nested NMI marked this frame invalid:
	 * the IRET faults (#GP) and nmi_iret_fault re-runs the delayed NMI. The proposal assumed
	 * NMIs stay masked meanwhile; the IRET unblocks them before the fault is delivered.
	 */
	INTERRUPT_RETURN

nested_nmi:
	/*
	 * Nested: %rdx = the outer NMI's return frame. RSP = T-48: saved %rdx, then this NMI's own
	 * hardware frame (RIP CS RFLAGS RSP SS). We may write nothing below T-48: that is the outer
	 * NMI's return frame. RECONSTRUCTION: our own CS slot serves as a second scratch word (we
	 * return with ret, which never reads it).
	 */
	orq $NMI_FRAME_INVALID, 8(%rdx)		/* "make the NMI return stack be invalid" */
	movq %rax, 2*8(%rsp)

	/*
	 * "return immediately by using popf/ret": ret can only pop a RIP from the stack it is on,
	 * so RFLAGS and RIP must be written just below the interrupted RSP, over whatever is there
	 * (the RFC's third gotcha). ret then leaves RSP exactly where it was.
	 */
	movq 4*8(%rsp), %rax			/* interrupted RSP */
	subq $16, %rax
	movq 1*8(%rsp), %rdx			/* interrupted RIP */
	movq %rdx, 8(%rax)
	movq 3*8(%rsp), %rdx			/* interrupted RFLAGS */
	movq %rdx, (%rax)
	movq %rax, 4*8(%rsp)			/* where popf/ret will run */
	movq 2*8(%rsp), %rax
	popq_cfi %rdx				/* RSP = T-40 */
nested_nmi_out:
	movq 3*8(%rsp), %rsp
	popfq					/* IF as it was; NMIs stay blocked: no IRET */
nested_nmi_ret:					/* manifest: returnsWithoutIret, checked like an IRET */
	ret
	CFI_ENDPROC
END(nmi)

/*
 * The #GP gate (harness.gates: vector 13). RECONSTRUCTION: the proposal says only that the fault
 * "re-does our delayed NMI". #GP has no IST, so its frame lands on the current stack, below the
 * faulting IRET's frame: error code, RIP, CS, RFLAGS, RSP, SS.
 */
ENTRY(nmi_iret_fault)
	pushq %rax
	leaq nmi_iret(%rip), %rax
	cmpq %rax, 2*8(%rsp)			/* did the NMI's own IRET fault? */
	popq %rax
	jne general_protection			/* no: the harness's (fatal) #GP */

	/* Yes: drop this #GP frame, repair the return frame and run the NMI again on it. */
	movq 4*8(%rsp), %rsp			/* the faulting IRET's RSP: the return frame */
	andq $~NMI_FRAME_INVALID, 8(%rsp)
repeat_nmi:
	testb $3, 8(%rsp)			/* returning to user mode: the exit swapped to the user's GS */
	jz 1f
	SWAPGS
1:
	movq %rsp, PER_CPU_VAR(nmi_stack_frame)
end_repeat_nmi:
	jmp restart_nmi
END(nmi_iret_fault)
