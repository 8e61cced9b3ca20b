/*
 * NMI Lab kernel-compatibility prelude.
 *
 * Assembled in front of the harness and of every design, so entry code written in the style of
 * Linux 3.x/4.x arch/x86/kernel/entry_64.S assembles with little editing. Everything here is
 * written for NMI Lab; the names follow the kernel's so a listing can be read next to the
 * original. Unwinder annotations (CFI_*, *_FRAME) have no effect: NMI Lab has no unwinder.
 *
 * Symbols the harness defines as absolute values (see kernel-lib/harness/layout.ts):
 *   __KERNEL_CS __KERNEL_DS __USER_CS __USER_DS  selectors (Linux GDT layout)
 *   EXCEPTION_STKSZ (4096) DEBUG_STKSZ (8192)    IST stack sizes, as in Linux 3.x
 *   MSR_GS_BASE MSR_KERNEL_GS_BASE               for rdmsr
 *   X86_EFLAGS_DF X86_EFLAGS_IF X86_EFLAGS_TF    RFLAGS bits
 *   R15 .. SS, ORIG_RAX, SIZEOF_PTREGS           struct pt_regs offsets
 *   per-CPU variables (offsets from the GS base): kernel_stack, cpu_current_top_of_stack,
 *   old_rsp, rsp_scratch, init_tss, ...
 */
#ifndef NMI_LAB_PRELUDE_H
#define NMI_LAB_PRELUDE_H

#define ENTRY(name) .globl name; name:
#define GLOBAL(name) .globl name; name:
#define END(name) .size name, .-name
#define ENDPROC(name) .size name, .-name

/* Per-CPU data is reached through %gs; the variables are offsets from the per-CPU base. */
#define PER_CPU_VAR(var) %gs:var
/* TSS.IST[n] of this CPU (the TSS lives in the per-CPU area, as Linux's init_tss does). */
#define INIT_TSS_IST(n) %gs:(init_tss + TSS_ist + ((n) - 1) * 8)

/* Native (non-paravirt) versions of the paravirt hooks. */
#define INTERRUPT_RETURN iretq
#define SWAPGS swapgs
#define SWAPGS_UNSAFE_STACK swapgs
#define USERGS_SYSRET64 swapgs; sysretq
#define DISABLE_INTERRUPTS(clobbers) cli
#define ENABLE_INTERRUPTS(clobbers) sti
#define PARAVIRT_ADJUST_EXCEPTION_FRAME
#define TRACE_IRQS_OFF
#define TRACE_IRQS_ON
#define TRACE_IRQS_OFF_DEBUG
#define ASM_CLAC
#define ASM_STAC
/* Speculation barriers after SWAPGS (CVE-2019-1125, backported to the 4.x stable entries): an
 * lfence in the kernel; NMI Lab's machine does not speculate, so they have nothing to do. */
#define FENCE_SWAPGS_USER_ENTRY
#define FENCE_SWAPGS_KERNEL_ENTRY

/* DWARF CFI annotations: the assembler ignores every .cfi_ directive. */
#define CFI_STARTPROC .cfi_startproc
#define CFI_ENDPROC .cfi_endproc
#define CFI_DEF_CFA .cfi_def_cfa
#define CFI_DEF_CFA_REGISTER .cfi_def_cfa_register
#define CFI_DEF_CFA_OFFSET .cfi_def_cfa_offset
#define CFI_ADJUST_CFA_OFFSET .cfi_adjust_cfa_offset
#define CFI_OFFSET .cfi_offset
#define CFI_REL_OFFSET .cfi_rel_offset
#define CFI_REGISTER .cfi_register
#define CFI_RESTORE .cfi_restore
#define CFI_REMEMBER_STATE .cfi_remember_state
#define CFI_RESTORE_STATE .cfi_restore_state
#define CFI_UNDEFINED .cfi_undefined
#define CFI_SIGNAL_FRAME .cfi_signal_frame

	/* Frame-shape annotations: accepted with any arguments, no effect. */
	.macro INTR_FRAME start=1 offset=0
	.endm
	.macro XCPT_FRAME start=1 offset=0
	.endm
	.macro DEFAULT_FRAME start=1 offset=0
	.endm
	.macro EMPTY_FRAME start=1 offset=0
	.endm
	.macro PARTIAL_FRAME start=1 offset=0
	.endm

	/* Stack operations that would keep the CFI state in step in the kernel. */
	.macro pushq_cfi reg
	pushq \reg
	.endm
	.macro popq_cfi reg
	popq \reg
	.endm
	.macro pushfq_cfi
	pushfq
	.endm
	.macro popfq_cfi
	popfq
	.endm
	.macro movq_cfi reg offset=0
	movq %\reg, \offset(%rsp)
	.endm
	.macro movq_cfi_restore offset reg
	movq \offset(%rsp), %\reg
	.endm

	/*
	 * struct pt_regs, Linux x86-64 layout (lowest address first):
	 *   r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax | rip cs eflags rsp ss
	 * SAVE_ALL expects RSP to point at ORIG_RAX (hardware frame and orig_rax already pushed);
	 * it makes room for the fifteen registers and stores them. RESTORE_ALL undoes it and then
	 * drops \addskip more bytes (8 skips orig_rax; 6*8 also skips a 5-word frame copy).
	 */
	.macro SAVE_ALL
	subq $ORIG_RAX-R15, %rsp
	SAVE_C_REGS
	SAVE_EXTRA_REGS
	.endm

	.macro RESTORE_ALL addskip=0
	RESTORE_EXTRA_REGS
	RESTORE_C_REGS
	addq $ORIG_RAX-R15+\addskip, %rsp
	.endm

	/* Linux 4.x spelling of the same steps (arch/x86/entry/calling.h names). */
	.macro ALLOC_PT_GPREGS_ON_STACK addskip=0
	subq $ORIG_RAX-R15+\addskip, %rsp
	.endm
	.macro SAVE_C_REGS offset=0
	movq_cfi rdi, RDI+\offset
	movq_cfi rsi, RSI+\offset
	movq_cfi rdx, RDX+\offset
	movq_cfi rcx, RCX+\offset
	movq_cfi rax, RAX+\offset
	movq_cfi r8, R8+\offset
	movq_cfi r9, R9+\offset
	movq_cfi r10, R10+\offset
	movq_cfi r11, R11+\offset
	.endm
	.macro SAVE_EXTRA_REGS offset=0
	movq_cfi rbx, RBX+\offset
	movq_cfi rbp, RBP+\offset
	movq_cfi r12, R12+\offset
	movq_cfi r13, R13+\offset
	movq_cfi r14, R14+\offset
	movq_cfi r15, R15+\offset
	.endm
	.macro RESTORE_EXTRA_REGS offset=0
	movq_cfi_restore R15+\offset, r15
	movq_cfi_restore R14+\offset, r14
	movq_cfi_restore R13+\offset, r13
	movq_cfi_restore R12+\offset, r12
	movq_cfi_restore RBP+\offset, rbp
	movq_cfi_restore RBX+\offset, rbx
	.endm
	.macro RESTORE_C_REGS
	movq_cfi_restore R11, r11
	movq_cfi_restore R10, r10
	movq_cfi_restore R9, r9
	movq_cfi_restore R8, r8
	movq_cfi_restore RAX, rax
	movq_cfi_restore RCX, rcx
	movq_cfi_restore RDX, rdx
	movq_cfi_restore RSI, rsi
	movq_cfi_restore RDI, rdi
	.endm
	.macro REMOVE_PT_GPREGS_FROM_STACK addskip=0
	addq $ORIG_RAX-R15+\addskip, %rsp
	.endm

#endif /* NMI_LAB_PRELUDE_H */
