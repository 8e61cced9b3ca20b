/*
 * The NMI Lab harness kernel: everything around a design's NMI entry code.
 *
 * Written for NMI Lab in the style of Linux 3.x arch/x86/kernel/entry_64.S, so a design's
 * `call save_paranoid` / `call do_nmi` / `jmp irq_return` land on code shaped like the kernel's.
 * The IDT, TSS and stacks are set up host-side (kernel-lib/harness/kernel.ts); the prelude
 * (prelude.h) is assembled in front of this file and of the design.
 *
 * Contents: common entry/exit helpers, exception handlers, do_nmi (the handler body, with the
 * exception points), the syscall entry, the workloads (the code an NMI interrupts) and data.
 * Labels a design may rely on: do_nmi, save_paranoid (= paranoid_entry), paranoid_exit,
 * irq_return, restore_c_regs_and_iret, nmi_idt_descr, idt_descr.
 */

	.text

/* ---------------------------------------------------------------------------------------------
 * Entry and exit helpers
 * ------------------------------------------------------------------------------------------- */

/*
 * Save the registers into the pt_regs the caller has made room for (RSP+8 after our return
 * address) and make GS the kernel's. The GS base itself says whose GS is loaded: kernel addresses
 * are negative as signed numbers, user ones are not. %ebx = 1: GS was already the kernel's (leave
 * it on exit); %ebx = 0: we swapped (swap back on exit). Clobbers %rax, %rcx, %rdx (saved).
 */
ENTRY(save_paranoid)
GLOBAL(paranoid_entry)
	cld
	SAVE_C_REGS 8
	SAVE_EXTRA_REGS 8
	movl $1, %ebx
	movl $MSR_GS_BASE, %ecx
	rdmsr
	testl %edx, %edx
	js 1f
	SWAPGS
	xorl %ebx, %ebx
1:	ret
END(save_paranoid)

/* The exit that goes with save_paranoid: pt_regs at RSP, %ebx as save_paranoid left it. */
ENTRY(paranoid_exit)
	testl %ebx, %ebx
	jnz paranoid_restore
	SWAPGS_UNSAFE_STACK
paranoid_restore:
	RESTORE_ALL 8
	jmp irq_return
END(paranoid_exit)

/*
 * Save the registers for an exception that pushed an error code (it sits in the orig_rax slot).
 * Swap GS when the exception came from user mode. %ebx = 1 came from the kernel.
 */
ENTRY(error_entry)
	cld
	SAVE_C_REGS 8
	SAVE_EXTRA_REGS 8
	xorl %ebx, %ebx
	testl $3, CS+8(%rsp)
	jz error_kernelspace
	SWAPGS
	ret
error_kernelspace:
	incl %ebx
	ret
END(error_entry)

ENTRY(error_exit)
	testl %ebx, %ebx
	jnz 1f
	SWAPGS
1:	RESTORE_ALL 8
	jmp irq_return
END(error_exit)

/*
 * Pop the caller-saved registers and orig_rax of a pt_regs and return with IRET (the callee-saved
 * ones are still live: C code preserved them). Linux 4.x's NMI-from-user path exits this way.
 */
ENTRY(restore_c_regs_and_iret)
	RESTORE_C_REGS
	REMOVE_PT_GPREGS_FROM_STACK 8
GLOBAL(irq_return)
	INTERRUPT_RETURN
END(restore_c_regs_and_iret)

/* ---------------------------------------------------------------------------------------------
 * Exceptions
 * ------------------------------------------------------------------------------------------- */

/*
 * #DB and #BP: on the debug IST stack (IST4). Like Linux 3.x's paranoidzeroentry_ist, the IST
 * pointer is moved down by EXCEPTION_STKSZ while the handler body runs, so a second debug
 * exception inside the body gets fresh stack instead of landing on this frame (the reason the
 * debug stack is DEBUG_STKSZ = two pages).
 */
	.macro paranoidzeroentry_ist sym do_sym ist
ENTRY(\sym)
	INTR_FRAME
	PARAVIRT_ADJUST_EXCEPTION_FRAME
	pushq_cfi $-1			/* orig_rax: not a system call */
	subq $ORIG_RAX-R15, %rsp
	call save_paranoid
	movq %rsp, %rdi			/* pt_regs */
	xorl %esi, %esi			/* no error code */
	subq $EXCEPTION_STKSZ, INIT_TSS_IST(\ist)
	call \do_sym
	addq $EXCEPTION_STKSZ, INIT_TSS_IST(\ist)
	jmp paranoid_exit
END(\sym)
	.endm

	paranoidzeroentry_ist debug, do_debug, 4
	paranoidzeroentry_ist int3, do_int3, 4

/* The bodies: count, and spend a little time, as a kprobe or a debugger hook would. */
ENTRY(do_int3)
	incq PER_CPU_VAR(int3_count)
do_int3_work:
	movq $6, %rcx
1:	decq %rcx
	jnz 1b
	ret
END(do_int3)

ENTRY(do_debug)
	incq PER_CPU_VAR(debug_count)
	movq %rdi, %rax
	movq RIP(%rax), %rdx
	ret
END(do_debug)

/*
 * #PF: no IST, so a page fault raised in the NMI path lands on the NMI stack below the handler's
 * frame. do_page_fault reads CR2 only after error_entry has saved the registers: an NMI in that
 * window whose handler also page-faults overwrites CR2 (the reason for 7fbb98c5cb07).
 */
ENTRY(page_fault)
	XCPT_FRAME
	subq $ORIG_RAX-R15, %rsp	/* the error code stays in the orig_rax slot */
	call error_entry
	movq %rsp, %rdi			/* pt_regs */
	movq ORIG_RAX(%rsp), %rsi	/* error code */
	movq $-1, ORIG_RAX(%rsp)
	call do_page_fault
	jmp error_exit
END(page_fault)

/*
 * Faults in the vmalloc area are "fixed up" (Linux syncs the page tables and returns; here the
 * injected fault needs nothing more); each one is logged with the CR2 value read. Anything else
 * is a kernel oops.
 */
ENTRY(do_page_fault)
	movq %cr2, %rax			/* the faulting address, as the C handler reads it first */
	movabsq $VMALLOC_START, %rcx
	cmpq %rcx, %rax
	jb bad_page_fault
	movabsq $VMALLOC_END, %rcx
	cmpq %rcx, %rax
	ja bad_page_fault
	movq pf_count(%rip), %rcx
	andl $7, %ecx
	shlq $4, %rcx
	leaq pf_log(%rip), %rdx
	movq %rax, (%rdx,%rcx)		/* pf_log[n % 8] = { cr2, regs->ip } */
	movq RIP(%rdi), %r8
	movq %r8, 8(%rdx,%rcx)
	incq pf_count(%rip)
	ret
bad_page_fault:
	movq RIP(%rdi), %rsi
	movq $OOPS_BAD_PAGE_FAULT, %rdi
	jmp die
END(do_page_fault)

/*
 * Fatal exceptions. These do not touch GS (it may be the user's) or save anything: they record
 * why and where in plain globals and stop. A #DF has its own IST stack (IST2), so it is taken
 * even when the stack it interrupted is gone.
 */
ENTRY(double_fault)
	movq 8(%rsp), %rsi		/* RIP (after the error code) */
	movq $OOPS_DOUBLE_FAULT, %rdi
	jmp die
END(double_fault)

ENTRY(general_protection)
	movq 8(%rsp), %rsi
	movq $OOPS_GENERAL_PROTECTION, %rdi
	jmp die
END(general_protection)

ENTRY(stack_segment)
	movq 8(%rsp), %rsi
	movq $OOPS_STACK_SEGMENT, %rdi
	jmp die
END(stack_segment)

ENTRY(segment_not_present)
	movq 8(%rsp), %rsi
	movq $OOPS_UNEXPECTED, %rdi
	jmp die
END(segment_not_present)

ENTRY(invalid_op)
	movq (%rsp), %rsi
	movq $OOPS_INVALID_OP, %rdi
	jmp die
END(invalid_op)

ENTRY(unexpected_exception)
	movq (%rsp), %rsi
	movq $OOPS_UNEXPECTED, %rdi
	jmp die
END(unexpected_exception)

/* die(reason %rdi, ip %rsi): keep the first oops, count them all, stop here for good. */
ENTRY(die)
	incq oops_count(%rip)
	cmpq $0, oops_reason(%rip)
	jne oops_halt
	movq %rdi, oops_reason(%rip)
	movq %rsi, oops_ip(%rip)
GLOBAL(oops_halt)
	cli
	hlt
	jmp oops_halt
END(die)

/* ---------------------------------------------------------------------------------------------
 * do_nmi: the NMI handler body, called by the design's entry code with pt_regs in %rdi.
 *
 * It behaves as a C function: it preserves the callee-saved registers and clobbers the
 * caller-saved ones (rax rcx rdx rsi rdi r8-r11). nmi_runs counts its runs; nmi_in_progress is
 * non-zero while one runs, so a run that starts inside another (handler re-entered) is counted in
 * nmi_reentered. The labels nmi_point_early / _middle / _late are the exception points: the host
 * (kernel.ts) injects #BP, #DB or #PF there when a schedule asks for it; the handlers IRET back
 * and do_nmi goes on. Everything is per-CPU (through %gs), so a run with the user's GS faults.
 * ------------------------------------------------------------------------------------------- */
ENTRY(do_nmi)
#ifdef CONFIG_DO_NMI_LATCH
	/*
	 * Linux 4.2's guard in do_nmi itself (arch/x86/kernel/nmi.c, enabled for 64-bit kernels by
	 * Andy Lutomirski's 2015 series): nmi_state is NOT_RUNNING (0), EXECUTING (1) or LATCHED (2).
	 * A do_nmi that finds a run in progress marks it LATCHED and returns at once; the running
	 * one then goes round again. It matters for NMIs from user mode, which 4.2 handles on the
	 * kernel stack outside the repeat_nmi machinery.
	 */
	cmpq $0, PER_CPU_VAR(nmi_state)
	je 4f
	movq $2, PER_CPU_VAR(nmi_state)	/* NMI_LATCHED */
	ret
4:	movq $1, PER_CPU_VAR(nmi_state)	/* NMI_EXECUTING */
#endif
#ifdef CONFIG_DO_NMI_CR2
	/*
	 * Linux 4.2's CR2 save in do_nmi itself (arch/x86/kernel/nmi.c, nmi_cr2). Until then only
	 * 32-bit do_nmi had it (3.6's nmi.c) and the 64-bit entry saved CR2 in assembly; commit
	 * 0e181bb58143 ran the 32-bit nmi_state/nmi_cr2 code on 64-bit kernels too, and the 4.x
	 * entry code no longer saves CR2. CR2 as do_nmi found it, before anything in the handler
	 * can page-fault; saved before the restart point, so once per outermost run, and put back at
	 * the end of every lap if it changed (below).
	 */
	movq %cr2, %rax
	movq %rax, PER_CPU_VAR(nmi_cr2)
#endif
GLOBAL(do_nmi_body)
	incq PER_CPU_VAR(nmi_runs)
	movq PER_CPU_VAR(nmi_in_progress), %rax
	incq PER_CPU_VAR(nmi_in_progress)
	testq %rax, %rax
	jz 1f
	incq PER_CPU_VAR(nmi_reentered)
1:
#ifdef CONFIG_NMI_IDT_TABLE
	/*
	 * Linux 3.3's companion to the NMI nesting fix (nmi.c, nmi_nesting_preprocess): if this NMI
	 * interrupted code running on the debug stack, load nmi_idt_table, whose #DB and #BP gates
	 * have no IST, so a breakpoint in the handler stays on the NMI stack instead of resetting
	 * the debug stack under the interrupted debug handler. Put the normal IDT back on the way out.
	 */
	movq RSP(%rdi), %rax		/* regs->sp */
	movq PER_CPU_VAR(debug_stack_addr), %rcx
	cmpq %rcx, %rax
	ja 2f
	subq $DEBUG_STKSZ, %rcx
	cmpq %rcx, %rax
	jbe 2f
	lidt nmi_idt_descr
	movq $1, PER_CPU_VAR(update_debug_stack)
2:
#endif
GLOBAL(nmi_point_early)
	movq %rdi, %rsi
	movq ORIG_RAX(%rsi), %rdx	/* look at the frame a little, as handlers do */
	movq $0x6e6d6901, %r8
	movq %r8, %r9
GLOBAL(nmi_point_middle)
	addq $1, %r9
	movq %r9, %r10
	xorq %r11, %r11
	movq $0x6e6d6902, %rcx
GLOBAL(nmi_point_late)
	movq RIP(%rdi), %rax		/* regs->ip: still a valid pt_regs pointer? */
	movq %rax, PER_CPU_VAR(nmi_last_ip)
#ifdef CONFIG_NMI_IDT_TABLE
	cmpq $0, PER_CPU_VAR(update_debug_stack)
	je 3f
	lidt idt_descr
	movq $0, PER_CPU_VAR(update_debug_stack)
3:
#endif
#ifdef CONFIG_DO_NMI_CR2
	/* Put CR2 back if the handler changed it; before the latch is released, as nmi.c does. */
	movq PER_CPU_VAR(nmi_cr2), %rax
	movq %cr2, %rcx
	cmpq %rax, %rcx
	je 5f
	movq %rax, %cr2
5:
#endif
	decq PER_CPU_VAR(nmi_in_progress)
#ifdef CONFIG_DO_NMI_LATCH
	decq PER_CPU_VAR(nmi_state)	/* LATCHED -> EXECUTING: run again; EXECUTING -> NOT_RUNNING */
	jnz do_nmi_body
#endif
	xorl %edi, %edi
	movq $0x6e6d6903, %rsi
GLOBAL(do_nmi_return)
	ret
END(do_nmi)

/* ---------------------------------------------------------------------------------------------
 * System calls (the path the `syscall` workload takes)
 *
 * SYSCALL leaves RSP as the user had it: until the second instruction below has loaded the
 * kernel stack, the CPU is in kernel mode (CS = __KERNEL_CS) on a stack the user chose: the
 * syscall gap. The same holds on the way out after old_rsp is reloaded, until SYSRET.
 * ------------------------------------------------------------------------------------------- */
ENTRY(system_call)
	SWAPGS_UNSAFE_STACK
GLOBAL(system_call_after_swapgs)
	movq %rsp, PER_CPU_VAR(old_rsp)
	movq PER_CPU_VAR(kernel_stack), %rsp
GLOBAL(system_call_on_kernel_stack)
	pushq $__USER_DS		/* a full pt_regs, simpler than Linux's partial frame */
	pushq PER_CPU_VAR(old_rsp)
	pushq %r11			/* user RFLAGS */
	pushq $__USER_CS
	pushq %rcx			/* user RIP */
	pushq %rax			/* orig_rax: the system call number */
	SAVE_ALL
	movq %rsp, %rdi
	call sys_nmi_lab
	movq %rax, RAX(%rsp)
	RESTORE_ALL 8			/* rcx and r11 come back as SYSRET needs them */
	movq PER_CPU_VAR(old_rsp), %rsp
GLOBAL(system_call_exit_user_rsp)
	USERGS_SYSRET64
END(system_call)

#ifdef CONFIG_FRED
/* ---------------------------------------------------------------------------------------------
 * FRED event entry (harness.fred; Linux 6.9+ arch/x86/entry/entry_64_fred.S and
 * arch/x86/kernel/fred.c, written for NMI Lab)
 *
 * With FRED every event -- exception, NMI, and SYSCALL from ring 3 -- enters at one of two entry
 * points: fred_entrypoint_user for events from ring 3 and, 256 bytes further, the kernel one.
 * The CPU has already pushed a 64-byte frame: error code, RIP, CS, RFLAGS, RSP, SS (with the
 * event type in bits 51:48 and the vector in 39:32 of the SS slot), event data, reserved. The
 * error code sits where pt_regs keeps orig_rax, so pushing the fifteen registers below the frame
 * makes a struct pt_regs, as Linux's FRED entry does. Delivery from ring 3 has already switched
 * GS to the kernel's, and ERETU switches it back: no SWAPGS anywhere (it is #UD under FRED).
 * The return is ERETS or ERETU, which end NMI blocking only when the frame is an NMI's.
 * ------------------------------------------------------------------------------------------- */
	.balign 4096
GLOBAL(fred_entrypoint_user)
	subq $ORIG_RAX, %rsp		/* pt_regs: the registers below the FRED frame */
	SAVE_C_REGS
	SAVE_EXTRA_REGS
	movq %rsp, %rdi
	call fred_entry_dispatch
	RESTORE_EXTRA_REGS
	RESTORE_C_REGS
	addq $ORIG_RAX, %rsp		/* RSP at the FRED frame again */
GLOBAL(fred_eretu)
	eretu
	.balign 256
GLOBAL(fred_entrypoint_kernel)		/* fred_entrypoint_user + 256: events from ring 0 */
	subq $ORIG_RAX, %rsp
	SAVE_C_REGS
	SAVE_EXTRA_REGS
	movq %rsp, %rdi
	call fred_entry_dispatch
	RESTORE_EXTRA_REGS
	RESTORE_C_REGS
	addq $ORIG_RAX, %rsp
GLOBAL(fred_erets)
	erets

/*
 * fred_entry_dispatch(struct pt_regs *regs): what Linux's fred_entry_from_user/_kernel do, on
 * the event type and vector in the SS slot. %rbx keeps regs (the entry restores it afterwards).
 */
ENTRY(fred_entry_dispatch)
	movq %rdi, %rbx
	movq SS(%rdi), %rcx
	shrq $32, %rcx
	movq %rcx, %rdx
	andl $0xff, %ecx		/* vector */
	shrq $16, %rdx
	andl $0xf, %edx			/* event type */
	cmpl $2, %edx			/* NMI: the design's handler */
	je fred_nmi
	cmpl $7, %edx			/* "other": vector 1 is SYSCALL */
	je fred_other
	cmpl $1, %ecx
	je fred_debug
	cmpl $3, %ecx			/* INT3 (software exception) or an injected #BP */
	je fred_int3
	cmpl $14, %ecx
	je fred_page_fault
	/* Everything else is fatal here, as in the IDT harness: report it with the faulting RIP. */
fred_fatal:
	movq RIP(%rbx), %rsi
	movq $OOPS_UNEXPECTED, %rdi
	cmpl $8, %ecx
	jne 1f
	movq $OOPS_DOUBLE_FAULT, %rdi
1:	cmpl $13, %ecx
	jne 2f
	movq $OOPS_GENERAL_PROTECTION, %rdi
2:	cmpl $6, %ecx
	jne 3f
	movq $OOPS_INVALID_OP, %rdi
3:	cmpl $12, %ecx
	jne 4f
	movq $OOPS_STACK_SEGMENT, %rdi
4:	jmp die

fred_nmi:
	jmp nmi				/* the design's NMI handler; it returns to the entry */
fred_other:
	cmpl $1, %ecx
	jne fred_fatal
	call sys_nmi_lab
	movq %rax, RAX(%rbx)
	ret
fred_debug:
	xorl %esi, %esi
	jmp do_debug
fred_int3:
	xorl %esi, %esi
	jmp do_int3
fred_page_fault:
	movq ORIG_RAX(%rdi), %rsi	/* the error code */
	jmp do_page_fault
END(fred_entry_dispatch)
#endif /* CONFIG_FRED */

/* The one system call: count it, return 0. */
ENTRY(sys_nmi_lab)
	incq PER_CPU_VAR(syscall_count)
	xorl %eax, %eax
	ret
END(sys_nmi_lab)

/* ---------------------------------------------------------------------------------------------
 * Workloads: what the NMI interrupts. Each sets every general register (but RSP) to a value of
 * its own and loops forever, checking them: an NMI must leave the interrupted context exactly as
 * it found it. A mismatch is an oops (kernel) or a ud2 (user), so it cannot go unnoticed.
 * ------------------------------------------------------------------------------------------- */

	/* Distinctive values: 0x57a7e0NN, NN = register number. */
	.macro load_workload_regs skip_rax=0
	.if \skip_rax == 0
	movq $0x57a7e000, %rax
	.endif
	movq $0x57a7e001, %rcx
	movq $0x57a7e002, %rdx
	movq $0x57a7e003, %rbx
	movq $0x57a7e005, %rbp
	movq $0x57a7e006, %rsi
	movq $0x57a7e007, %rdi
	movq $0x57a7e008, %r8
	movq $0x57a7e009, %r9
	movq $0x57a7e00a, %r10
	movq $0x57a7e00b, %r11
	movq $0x57a7e00c, %r12
	movq $0x57a7e00d, %r13
	movq $0x57a7e00e, %r14
	movq $0x57a7e00f, %r15
	.endm

	/* Compare each register with its value; SYSCALL clobbers rcx and r11, so those can be skipped. */
	.macro check_workload_regs bad skip_syscall_clobbers=0
	cmpq $0x57a7e000, %rax
	jne \bad
	.if \skip_syscall_clobbers == 0
	cmpq $0x57a7e001, %rcx
	jne \bad
	cmpq $0x57a7e00b, %r11
	jne \bad
	.endif
	cmpq $0x57a7e002, %rdx
	jne \bad
	cmpq $0x57a7e003, %rbx
	jne \bad
	cmpq $0x57a7e005, %rbp
	jne \bad
	cmpq $0x57a7e006, %rsi
	jne \bad
	cmpq $0x57a7e007, %rdi
	jne \bad
	cmpq $0x57a7e008, %r8
	jne \bad
	cmpq $0x57a7e009, %r9
	jne \bad
	cmpq $0x57a7e00a, %r10
	jne \bad
	cmpq $0x57a7e00c, %r12
	jne \bad
	cmpq $0x57a7e00d, %r13
	jne \bad
	cmpq $0x57a7e00e, %r14
	jne \bad
	cmpq $0x57a7e00f, %r15
	jne \bad
	.endm

/* `kernel`: kernel code on the task's kernel stack. kernel_fault_point is an exception point. */
ENTRY(kernel_workload)
	load_workload_regs
GLOBAL(kernel_loop)
	incq workload_iterations(%rip)
GLOBAL(kernel_fault_point)
	pushfq				/* the direction flag must be clear in kernel code */
	testl $X86_EFLAGS_DF, (%rsp)
	jnz kernel_corrupted
	popfq
	check_workload_regs kernel_corrupted
	jmp kernel_loop
kernel_corrupted:
	leaq kernel_loop(%rip), %rsi
	movq $OOPS_CORRUPTED, %rdi
	jmp die
END(kernel_workload)

/* `debug`: kernel code hitting a breakpoint (a kprobe, say) over and over: #BP on the debug stack. */
ENTRY(debug_workload)
	load_workload_regs
GLOBAL(debug_loop)
	incq workload_iterations(%rip)
GLOBAL(debug_breakpoint)
	int3
	check_workload_regs debug_corrupted
	jmp debug_loop
debug_corrupted:
	leaq debug_loop(%rip), %rsi
	movq $OOPS_CORRUPTED, %rdi
	jmp die
END(debug_workload)

	.section .user, "ax"

/* `user`: user-mode code that never touches its stack, so RSP may hold anything. */
GLOBAL(user_workload)
	load_workload_regs
GLOBAL(user_loop)
	incq user_iterations(%rip)
	check_workload_regs user_corrupted
	jmp user_loop

/* `syscall`: user-mode code making system calls in a loop (the call returns 0 in %rax). */
GLOBAL(syscall_workload)
	load_workload_regs
GLOBAL(syscall_loop)
	incq user_iterations(%rip)
	movl $0, %eax
GLOBAL(syscall_instruction)
	syscall
	cmpq $0, %rax
	jne user_corrupted
	movq $0x57a7e000, %rax
	check_workload_regs user_corrupted, 1
	jmp syscall_loop

/* A user program cannot write the kernel's oops record: it executes ud2, and #UD reports it. */
GLOBAL(user_corrupted)
	ud2

	.section .udata, "aw"
user_iterations:	.quad 0

/* ---------------------------------------------------------------------------------------------
 * Data
 * ------------------------------------------------------------------------------------------- */
	.data
GLOBAL(workload_iterations)	.quad 0
GLOBAL(oops_reason)	.quad 0
GLOBAL(oops_ip)		.quad 0
GLOBAL(oops_count)	.quad 0
GLOBAL(pf_count)	.quad 0
GLOBAL(pf_log)		.fill 16, 8, 0		/* 8 entries of { cr2, ip } */
	.balign 16
GLOBAL(idt_descr)	.word IDT_LIMIT
	.quad IDT_TABLE
	.balign 16
GLOBAL(nmi_idt_descr)	.word IDT_LIMIT
	.quad NMI_IDT_TABLE
