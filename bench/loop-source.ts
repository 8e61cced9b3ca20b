// The reference 10-instruction loop (push/pushfq/mov/cmp/jb/lea/add/pop/sub/jne),
// the same shape Unicorn was measured on.
export function loopSource(iterations: number): string {
  return `
_start:
    movq $${iterations}, %rcx
    xorl %eax, %eax
1:  pushq %rax
    pushfq
    movq 8(%rsp), %rdx
    cmpq $1000, %rdx
    jb 2f
2:  leaq 1(%rdx), %rax
    addq $8, %rsp
    popq %rbx
    subq $1, %rcx
    jne 1b
    hlt
`;
}
