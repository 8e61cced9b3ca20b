# A first program for `nmi-lab exec`: sum 1..10 on the stack, then halt.
#define N 10

    .text
    .globl _start
_start:
    xorl    %eax, %eax          # the sum (a 32-bit write clears the upper half)
    movq    $N, %rcx
1:  pushq   %rcx                # memory traffic, so the stack is real
    addq    (%rsp), %rax
    popq    %rdx
    decq    %rcx
    jnz     1b
    hlt
