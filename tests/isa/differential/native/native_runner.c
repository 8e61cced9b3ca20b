/*
 * Developer cross-check (not run in CI): execute a differential batch on the host CPU, to
 * validate the reference (Unicorn) and the generator's undefined-flag masking against real
 * hardware. See native_check.sh.
 *
 * usage: native_runner BATCH.bin TEXT_BASE STACK_TOP STACK_SIZE STARTS.txt > OUT.jsonl
 * STARTS.txt: lines "N START_ADDR" (hex). Each case runs in user mode with all GPRs 0,
 * RSP = STACK_TOP and RFLAGS = 0x202, until its hlt faults (#GP -> SIGSEGV); the signal
 * handler records the registers from the signal context and jumps back.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf back;
static greg_t regs_at_fault[NGREG];
static int fault_sig;
uint64_t nmi_case_target;
uint64_t nmi_case_stack;
void nmi_enter_case(void);

/* Zero every GPR, set RSP and RFLAGS, jump to the case (never returns normally). */
__asm__(
    ".text\n"
    ".globl nmi_enter_case\n"
    "nmi_enter_case:\n"
    "  movq nmi_case_stack(%rip), %rsp\n"
    "  pushq $0x202\n"
    "  popfq\n"
    "  movq $0, -8(%rsp)\n"
    "  movl $0, %eax\n  movl $0, %ecx\n  movl $0, %edx\n  movl $0, %ebx\n"
    "  movl $0, %ebp\n  movl $0, %esi\n  movl $0, %edi\n"
    "  movl $0, %r8d\n  movl $0, %r9d\n  movl $0, %r10d\n  movl $0, %r11d\n"
    "  movl $0, %r12d\n  movl $0, %r13d\n  movl $0, %r14d\n  movl $0, %r15d\n"
    "  jmp *nmi_case_target(%rip)\n");

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)si;
  ucontext_t *uc = ctx;
  memcpy(regs_at_fault, uc->uc_mcontext.gregs, sizeof regs_at_fault);
  fault_sig = sig;
  siglongjmp(back, 1);
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: %s BIN TEXT_BASE STACK_TOP STACK_SIZE STARTS\n", argv[0]); return 2; }
  uint64_t text = strtoull(argv[2], 0, 0), top = strtoull(argv[3], 0, 0), size = strtoull(argv[4], 0, 0);
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
  size_t mapped = ((size_t)n + 0xfff) & ~(size_t)0xfff;
  void *code = mmap((void *)text, mapped, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  void *stk = mmap((void *)(top - size), size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (void *)text || stk != (void *)(top - size)) { fprintf(stderr, "mmap failed\n"); return 2; }
  if (fread(code, 1, n, f) != (size_t)n) { perror("read"); return 2; }
  fclose(f);

  static char altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  sigaction(SIGTRAP, &sa, 0);
  sigaction(SIGILL, &sa, 0);

  FILE *starts = fopen(argv[5], "r");
  if (!starts) { perror(argv[5]); return 2; }
  static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                 REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
  static const char *names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                   "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
  long id; unsigned long long start;
  while (fscanf(starts, "%ld %llx", &id, &start) == 2) {
    memset(stk, 0, size);
    nmi_case_target = start;
    nmi_case_stack = top;
    if (sigsetjmp(back, 1) == 0) nmi_enter_case();
    printf("{\"case\": %ld, \"sig\": %d, \"regs\": {", id, fault_sig);
    for (int i = 0; i < 16; i++)
      printf("%s\"%s\": \"0x%llx\"", i ? ", " : "", names[i], (unsigned long long)regs_at_fault[order[i]]);
    printf("}, \"rflags\": \"0x%llx\", \"rip\": \"0x%llx\"}\n",
           (unsigned long long)regs_at_fault[REG_EFL], (unsigned long long)regs_at_fault[REG_RIP]);
  }
  return 0;
}
