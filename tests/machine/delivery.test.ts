// Event delivery through the IDT (Intel SDM vol. 3 chapter 6; docs/sources.md).
import { SELECTORS, Vector } from '../../kernel-lib';
import { doubleFaultRule } from '../../kernel-lib/machine/delivery';
import { LAB, labMachine } from '../../kernel-lib/harness/lab-machine';

describe('the 64-bit interrupt frame (SDM 6.14.2-6.14.4)', () => {
  test('pushes SS, RSP, RFLAGS, CS, RIP, 8 bytes each, after aligning RSP down to 16', () => {
    const m = labMachine({ source: '.text\n_start:\n  subq $8, %rsp\n  nop\n  hlt\n' });
    m.setReg('rsp', LAB.kernelStackTop - 0x100n);
    m.step(); // RSP = top - 0x108: not 16-aligned
    m.setGate(2, { handler: m.symbol('nmi'), ist: 0, type: 'interrupt', dpl: 0 }); // no IST: use the current stack
    const oldRsp = m.reg('rsp');
    const flags = m.rflags;
    m.raiseNmi();
    const aligned = oldRsp & ~0xfn;
    expect(m.reg('rsp')).toBe(aligned - 40n);
    expect(m.readU64(aligned - 8n)).toBe(BigInt(SELECTORS.KERNEL_DS)); // SS
    expect(m.readU64(aligned - 16n)).toBe(oldRsp); // RSP before alignment
    expect(m.readU64(aligned - 24n)).toBe(flags); // RFLAGS
    expect(m.readU64(aligned - 32n)).toBe(BigInt(SELECTORS.KERNEL_CS)); // CS
    expect(m.readU64(aligned - 40n)).toBe(m.symbol('_start') + 4n); // RIP: the interrupted instruction
  });

  test('#GP and #PF push an error code; NMI and #BP do not (SDM 6.13)', () => {
    const m = labMachine({ source: '.text\n_start:\n  movq $0, (%rax)\n  hlt\n' });
    m.setReg('rax', 0x1000n); // unmapped
    m.step();
    expect(m.rip).toBe(m.symbol('page_fault'));
    expect(m.reg('rsp')).toBe(LAB.kernelStackTop - 48n);
    expect(m.readU64(LAB.kernelStackTop - 48n)).toBe(0x2n); // not present, write, supervisor
    expect(m.readU64(LAB.kernelStackTop - 40n)).toBe(m.symbol('_start')); // a fault: RIP of the faulting instruction
  });

  test('a gate with an IST index always starts at TSS.IST[n], a gate without stays on the current stack', () => {
    const m = labMachine({ source: '.text\n_start:\n  int3\n  hlt\nint3:\n  hlt\n' });
    m.setReg('rsp', LAB.nmiStackTop - 0x200n); // even when already on some other stack
    m.step();
    expect(m.reg('rsp')).toBe(LAB.debugStackTop - 40n);
  });
});

describe('gate types and flags (SDM 6.12.1.3)', () => {
  test('an interrupt gate clears IF; all gates clear TF', () => {
    const m = labMachine({ source: '.text\n_start:\n  nop\n  hlt\n' });
    m.setReg('rflags', 0x2n | 0x200n); // IF
    m.raiseNmi();
    expect(m.flag('if')).toBe(false);
    expect(m.flag('tf')).toBe(false);
    expect(m.readU64(LAB.nmiStackTop - 24n) & 0x200n).toBe(0x200n); // the saved RFLAGS keep IF
  });

  test('a trap gate leaves IF set', () => {
    const m = labMachine({ source: '.text\n_start:\n  int3\n  hlt\nint3:\n  hlt\n', trapGates: [3] });
    m.setReg('rflags', 0x2n | 0x200n);
    m.step();
    expect(m.rip).toBe(m.symbol('int3'));
    expect(m.flag('if')).toBe(true);
  });
});

describe('traps and faults (SDM 6.5)', () => {
  test('INT3 is a trap: the saved RIP is the next instruction', () => {
    const m = labMachine({ source: '.text\n_start:\n  int3\nafter:\n  hlt\nint3:\n  hlt\n' });
    m.step();
    expect(m.readU64(LAB.debugStackTop - 40n)).toBe(m.symbol('after'));
  });

  test('#PF is a fault: the saved RIP is the faulting instruction, CR2 the address, and the instruction left no trace', () => {
    const m = labMachine({ source: '.text\n_start:\n  pushq (%rax)\n  hlt\n' });
    m.setReg('rax', 0x7000n);
    const rsp = m.reg('rsp');
    m.step();
    expect(m.readU64(rsp - 48n)).toBe(0n); // error code: read of a non-present page from CPL 0
    expect(m.readU64(rsp - 40n)).toBe(m.symbol('_start'));
    expect(m.readU64(rsp - 16n)).toBe(rsp); // the pushq did not move RSP before faulting
    const pf = m.log.find((e) => e.kind === 'deliver' && e.vector === Vector.PF);
    expect(pf?.cr2).toBe(0x7000n);
  });

  test('TF raises a single-step #DB after the instruction (SDM 17.3.1.4), delivered before a pending NMI (SDM 6.9)', () => {
    const m = labMachine({
      source: '.text\n_start:\n  movq $1, %rax\nsecond:\n  movq $2, %rax\n  hlt\ndebug:\n  hlt\n',
    });
    m.setReg('rflags', 0x2n | 0x100n);
    m.step();
    expect(m.reg('rax')).toBe(1n);
    expect(m.rip).toBe(m.symbol('second'));
    m.raiseNmi(); // arrives at the same boundary as the pending #DB trap
    const order = m.log.filter((e) => e.kind === 'deliver').map((e) => e.name);
    expect(order).toEqual(['#DB', 'NMI']);
    expect(m.readU64(LAB.debugStackTop - 40n)).toBe(m.symbol('second'));
  });
});

describe('double and triple faults (SDM 6.15, table 6-5)', () => {
  test('the table', () => {
    expect(doubleFaultRule(Vector.GP, Vector.GP)).toBe('double');
    expect(doubleFaultRule(Vector.GP, Vector.PF)).toBe('serial');
    expect(doubleFaultRule(Vector.PF, Vector.PF)).toBe('double');
    expect(doubleFaultRule(Vector.PF, Vector.GP)).toBe('double');
    expect(doubleFaultRule(Vector.NMI, Vector.PF)).toBe('serial');
    expect(doubleFaultRule(Vector.BP, Vector.GP)).toBe('serial');
    expect(doubleFaultRule(Vector.DF, Vector.GP)).toBe('shutdown');
    expect(doubleFaultRule(Vector.DF, Vector.PF)).toBe('shutdown');
    expect(doubleFaultRule(Vector.DF, Vector.BP)).toBe('serial');
  });

  test('#PF while delivering #PF (the kernel stack is gone) becomes #DF on its own IST stack', () => {
    const m = labMachine({ source: '.text\n_start:\n  movq (%rax), %rbx\n  hlt\n' });
    m.setReg('rax', 0x5000n);
    m.setReg('rsp', 0x9000n); // unmapped: pushing the #PF frame faults
    m.step();
    expect(m.rip).toBe(m.symbol('double_fault'));
    expect(m.reg('rsp')).toBe(LAB.doubleFaultStackTop - 48n);
    expect(m.readU64(LAB.doubleFaultStackTop - 48n)).toBe(0n); // #DF's error code is 0
    expect(m.log.some((e) => e.kind === 'double-fault')).toBe(true);
  });

  test('a fault while delivering #DF is a triple fault: shutdown with a report, not an exception', () => {
    const m = labMachine({ source: '.text\n_start:\n  movq (%rax), %rbx\n  hlt\n' });
    m.memory.unmap(LAB.doubleFaultStackTop - 0x4000n, 0x4000); // no #DF stack either
    m.setReg('rax', 0x5000n);
    m.setReg('rsp', 0x9000n);
    expect(() => m.step()).not.toThrow();
    expect(m.shutdownReason).toMatch(/triple fault/);
    const r = m.run();
    expect(r.stop).toBe('shutdown');
    expect(r.message).toMatch(/triple fault/);
    expect(m.log[m.log.length - 1].kind).toBe('shutdown');
  });

  test('benign then contributory is handled serially: NMI delivery onto an unmapped IST stack gives #PF', () => {
    const m = labMachine({ source: '.text\n_start:\n  nop\n  hlt\n' });
    m.memory.unmap(LAB.nmiStackTop - 0x4000n, 0x4000);
    m.raiseNmi();
    expect(m.rip).toBe(m.symbol('page_fault'));
    expect(m.nmiBlocked).toBe(true);
  });
});

describe('privilege changes (SDM 6.14.4, 6.14.5)', () => {
  test('an exception from user mode without IST switches to TSS.RSP0 and pushes the user SS:RSP', () => {
    const m = labMachine({
      source: '.section .user, "ax"\nuser_start:\n  movq (%rax), %rbx\n  hlt\n.text\n_start:\n  hlt\n',
    });
    m.setMode('user');
    m.setReg('rip', m.symbol('user_start'));
    m.setReg('rsp', LAB.userStackTop - 64n);
    m.setReg('rax', 0xffff880000050000n); // the IDT: a supervisor page
    m.step();
    expect(m.cpl).toBe(0);
    expect(m.rip).toBe(m.symbol('page_fault'));
    expect(m.reg('rsp')).toBe(LAB.kernelStackTop - 48n);
    expect(m.readU64(LAB.kernelStackTop - 48n)).toBe(0x5n); // present, read, user
    expect(m.readU64(LAB.kernelStackTop - 8n)).toBe(BigInt(SELECTORS.USER_DS));
    expect(m.readU64(LAB.kernelStackTop - 16n)).toBe(LAB.userStackTop - 64n);
    expect(m.readU64(LAB.kernelStackTop - 32n)).toBe(BigInt(SELECTORS.USER_CS));
  });

  test('an NMI from user mode with any user RSP (even one inside the NMI stack) lands at the IST top', () => {
    const m = labMachine({ source: '.section .user, "ax"\nuser_start:\n  nop\n  hlt\n.text\n_start:\n  hlt\n' });
    m.setMode('user');
    m.setReg('rip', m.symbol('user_start'));
    m.setReg('rsp', LAB.nmiStackTop - 8n);
    m.raiseNmi();
    expect(m.reg('rsp')).toBe(LAB.nmiStackTop - 40n);
    expect(m.readU64(LAB.nmiStackTop - 16n)).toBe(LAB.nmiStackTop - 8n);
  });

  test('IRET back to CPL 3 restores user CS/SS and CPL; INT3 from user mode uses the DPL-3 gate', () => {
    const m = labMachine({
      source: '.section .user, "ax"\nuser_start:\n  int3\nuser_next:\n  hlt\n.text\n_start:\n  hlt\n',
    });
    m.setMode('user');
    m.setReg('rip', m.symbol('user_start'));
    m.setReg('rsp', LAB.userStackTop - 64n);
    m.step();
    expect(m.cpl).toBe(0);
    m.step(); // the int3 stub's iretq
    expect(m.cpl).toBe(3);
    expect(m.rip).toBe(m.symbol('user_next'));
    expect(m.reg('rsp')).toBe(LAB.userStackTop - 64n);
  });
});

describe("IRET's checks of the frame it pops (SDM vol. 2 IRET, 64-bit mode: #GP before any state changes)", () => {
  const SRC = '.section .user, "ax"\nuser_target:\n  hlt\n.text\n_start:\n  iretq\nkernel_target:\n  hlt\n';
  /** IRET from CPL 0 with the frame [RIP, CS, RFLAGS, RSP, SS]; the #GP it raises (null if none). */
  function iretWith(
    cs: bigint,
    ss: bigint,
    rip?: bigint,
  ): { m: ReturnType<typeof labMachine>; gp: { errorCode?: number; detail?: string } | null } {
    const m = labMachine({ source: SRC });
    const target = rip ?? (cs & 3n ? m.symbol('user_target') : m.symbol('kernel_target'));
    const frame = [target, cs, 0x2n, cs & 3n ? LAB.userStackTop - 64n : LAB.kernelStackTop - 512n, ss];
    const at = LAB.kernelStackTop - 256n;
    frame.forEach((q, i) => m.writeU64(at + BigInt(8 * i), q));
    m.setReg('rsp', at);
    m.step();
    const f = m.log.find((e) => e.kind === 'fault' && e.vector === Vector.GP);
    return { m, gp: f ? { errorCode: f.errorCode, detail: f.detail } : null };
  }

  test('a good frame returns: kernel CS with kernel SS, user CS with user SS (and a null SS is allowed for CPL 0)', () => {
    expect(iretWith(0x10n, 0x18n).gp).toBeNull();
    expect(iretWith(0x10n, 0x0n).gp).toBeNull();
    const user = iretWith(0x33n, 0x2bn);
    expect(user.gp).toBeNull();
    expect(user.m.cpl).toBe(3);
  });

  test.each([
    ['a null CS', 0x0n, 0x18n, 0, /null CS/],
    ['a data segment as CS', 0x18n, 0x18n, 0x18, /not a code segment/],
    ['CS DPL != RPL (kernel CS with RPL 3)', 0x13n, 0x2bn, 0x10, /DPL 0 != RPL 3/],
    ['CS with the TI bit set (an LDT entry; there is no LDT)', 0x14n, 0x18n, 0x14, /LDT/],
    ['SS with the TI bit set', 0x10n, 0x1cn, 0x1c, /LDT/],
    ['SS whose RPL differs from CS', 0x33n, 0x18n, 0x18, /does not fit/],
    ['a null SS when returning to CPL 3', 0x33n, 0x0n, 0, /null SS/],
  ])('#GP for %s, with the SDM error code', (_what, cs, ss, code, why) => {
    const { m, gp } = iretWith(cs, ss);
    expect(gp).not.toBeNull();
    expect(gp?.errorCode).toBe(code);
    expect(gp?.detail).toMatch(why);
    expect(m.cpl).toBe(0); // nothing was committed
  });

  test('#GP(0) for a non-canonical RIP', () => {
    const { gp } = iretWith(0x10n, 0x18n, 0x0000800000000000n);
    expect(gp?.errorCode).toBe(0);
    expect(gp?.detail).toMatch(/non-canonical/);
  });

  test('an interrupt gate whose selector has the TI bit set faults #GP(selector | EXT) (SDM 6.13)', () => {
    const m = labMachine({ source: '.text\n_start:\n  hlt\n' });
    const gate = LAB.idtBase + 2n * 16n; // NMI's gate: selector in bytes 2-3
    m.writeU64(gate, (m.readU64(gate) & ~0xffff0000n) | (0x14n << 16n));
    m.raiseNmi();
    const fault = m.log.find((e) => e.kind === 'delivery-fault');
    expect(fault?.vector).toBe(Vector.GP);
    expect(fault?.errorCode).toBe(0x14 | 1);
  });
});
