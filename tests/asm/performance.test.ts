import { assemble } from '../../kernel-lib/asm';

// Guards against super-linear behaviour (the differential tests assemble ~200,000-line files).
function listing(blocks: number): string {
  const body: string[] = ['.macro pushq_cfi reg', ' pushq \\reg', ' .cfi_adjust_cfa_offset 8', '.endm'];
  for (let k = 0; k < blocks; k++) {
    body.push(
      `case_${k}:`,
      '  pushq_cfi %rdx',
      '  cmpl $1, -8(%rsp)',
      `  je case_${k}_nested`,
      '  lea 6*8(%rsp), %rdx',
      '  movq %gs:0x10, %rax',
      '  addq $(11*8), %rsp',
      '  leaq repeat_nmi, %rdx',
      '  cmpq 8(%rsp), %rdx',
      '  ja 1f',
      `case_${k}_nested:`,
      '1: popq %rdx',
      '  movq $0, 10*8(%rsp)',
      '  movq data(%rip), %rax',
      '  iretq',
      '  # comment',
      '  /* comment */',
      '  jmp case_0',
      '  pushq 4*8(%rsp)',
      '  ret',
    );
  }
  body.push('repeat_nmi: nop', '.data', 'data: .quad 0');
  return body.join('\n');
}

function timeOf(blocks: number): number {
  const text = listing(blocks);
  const t0 = Date.now();
  const r = assemble({ files: [{ name: 'big.S', text }] });
  expect(r.ok).toBe(true);
  return Date.now() - t0;
}

describe('performance', () => {
  it('assembles a 300-line file quickly', () => {
    timeOf(15); // warm up the JIT
    expect(timeOf(15)).toBeLessThan(100);
  });

  it('scales roughly linearly (20,000 and 80,000 lines)', () => {
    const small = timeOf(1000);
    const large = timeOf(4000);
    // 4x the input: allow up to ~10x the time (noisy shared machines), which still rules out quadratic growth.
    expect(large).toBeLessThan(Math.max(10 * small, 1500));
  });
});
