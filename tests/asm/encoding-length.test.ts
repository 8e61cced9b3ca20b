import { assemble, formatDiagnostic } from '../../kernel-lib/asm';
import { GAS_LENGTHS } from './fixtures/gas-lengths';

function lengthsOf(lines: string[]): number[] {
  const r = assemble({ files: [{ name: 'len.S', text: lines.join('\n') + '\nfoo: repeat_nmi:\n' }] });
  if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
  return r.program.instructions.map((i) => i.length);
}

describe('encoding length estimate vs as --64', () => {
  it.each(GAS_LENGTHS)('%s is %d bytes', (line, expected) => {
    expect(lengthsOf([line])).toEqual([expected]);
  });

  it('addresses are cumulative lengths', () => {
    const r = assemble({
      files: [{ name: 'a.S', text: GAS_LENGTHS.map(([l]) => l).join('\n') + '\nfoo: repeat_nmi:\n' }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    let address = 0xffffffff81000000n;
    r.program.instructions.forEach((insn, k) => {
      expect(insn.address).toBe(address);
      address += BigInt(GAS_LENGTHS[k][1]);
    });
  });

  it('uses rel32 branches even for near targets (no relaxation)', () => {
    expect(lengthsOf(['1: jmp 1b', 'je 1b', 'call 1b'])).toEqual([5, 6, 5]);
  });

  it('uses disp32 for symbolic displacements even when they turn out small', () => {
    expect(lengthsOf(['.set OFF, 8', 'movq OFF(%rsp), %rax', 'movq later(%rsp), %rax', '.set later, 8'])).toEqual([
      5, 8,
    ]);
  });
});
