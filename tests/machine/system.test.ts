// Privileged instructions: SWAPGS, RDMSR/WRMSR, SYSCALL/SYSRET and the syscall gap, CPL checks.
import { MSR, SELECTORS, Vector } from '../../kernel-lib';
import { LAB, labMachine } from '../../kernel-lib/harness/lab-machine';

const GS_USER = 0x00007f0000001000n;
const GS_KERNEL = 0xffff888000100000n;

describe('SWAPGS (SDM SWAPGS reference)', () => {
  test('exchanges GS.base with IA32_KERNEL_GS_BASE and keeps no other state', () => {
    const m = labMachine({ source: '.text\n_start:\n  swapgs\n  swapgs\n  hlt\n' });
    m.cpu.gsBase = GS_USER;
    m.cpu.kernelGsBase = GS_KERNEL;
    m.step();
    expect(m.cpu.gsBase).toBe(GS_KERNEL);
    expect(m.cpu.kernelGsBase).toBe(GS_USER);
    m.step(); // a second SWAPGS undoes it: software must know whether it already swapped
    expect(m.cpu.gsBase).toBe(GS_USER);
  });

  test('#GP(0) at CPL 3', () => {
    const m = labMachine({ source: '.section .user, "ax"\nu:\n  swapgs\n.text\n_start:\n  hlt\n' });
    m.setMode('user').setReg('rip', m.symbol('u')).setReg('rsp', LAB.userStackTop);
    m.step();
    expect(m.log.find((e) => e.kind === 'fault')?.vector).toBe(Vector.GP);
  });

  test('%gs: memory operands use GS.base (per-CPU data)', () => {
    const m = labMachine({ source: '.text\n_start:\n  movq %gs:8, %rax\n  hlt\n' });
    m.map(GS_KERNEL, 0x1000);
    m.writeU64(GS_KERNEL + 8n, 0x1234n);
    m.cpu.gsBase = GS_KERNEL;
    m.step();
    expect(m.reg('rax')).toBe(0x1234n);
  });
});

describe('RDMSR / WRMSR on the GS base MSRs', () => {
  test('wrmsr then rdmsr of IA32_KERNEL_GS_BASE through EDX:EAX', () => {
    const m = labMachine({
      source: `.text\n_start:\n  movl $${MSR.KERNEL_GS_BASE}, %ecx\n  movl $0x100000, %eax\n  movl $0xffff8880, %edx\n  wrmsr\n  xorl %eax, %eax\n  xorl %edx, %edx\n  rdmsr\n  hlt\n`,
    });
    m.run({ maxSteps: 20 });
    expect(m.cpu.kernelGsBase).toBe(GS_KERNEL);
    expect(m.reg('rax')).toBe(0x100000n);
    expect(m.reg('rdx')).toBe(0xffff8880n);
  });
});

describe('SYSCALL / SYSRET (SDM SYSCALL, SYSRET: the syscall gap)', () => {
  const SRC = `
.section .user, "ax"
user_start:
    movq $42, %rax
    syscall
back_in_user:
    hlt
.text
_start:
    hlt
entry_syscall:
    nop
    swapgs
    sysretq
`;
  function setup() {
    const m = labMachine({ source: SRC });
    m.cpu.lstar = m.symbol('entry_syscall');
    m.setMode('user')
      .setReg('rip', m.symbol('user_start'))
      .setReg('rsp', LAB.nmiStackTop - 16n);
    m.setReg('rflags', 0x2n | 0x200n | 0x400n | 0x1n); // IF, DF, CF
    return m;
  }

  test('RCX <- next RIP, R11 <- RFLAGS, FMASK clears TF/DF/IF, CPL 0, and RSP stays the user RSP', () => {
    const m = setup();
    m.step();
    m.step();
    expect(m.rip).toBe(m.symbol('entry_syscall'));
    expect(m.cpl).toBe(0);
    expect(m.reg('rcx')).toBe(m.symbol('back_in_user'));
    expect(m.reg('r11')).toBe(0x2n | 0x200n | 0x400n | 0x1n);
    expect(m.flag('if')).toBe(false);
    expect(m.flag('df')).toBe(false);
    expect(m.flag('cf')).toBe(true); // not in FMASK
    expect(m.cpu.cs).toBe(SELECTORS.KERNEL_CS);
    expect(m.reg('rsp')).toBe(LAB.nmiStackTop - 16n); // the syscall gap: kernel mode, user stack
  });

  test('an NMI in the syscall gap sees kernel CS and a user-chosen RSP (here inside the NMI stack)', () => {
    const m = setup();
    m.step();
    m.step();
    m.raiseNmi();
    expect(m.readU64(LAB.nmiStackTop - 32n)).toBe(BigInt(SELECTORS.KERNEL_CS)); // saved CS
    expect(m.readU64(LAB.nmiStackTop - 16n)).toBe(LAB.nmiStackTop - 16n); // saved RSP
  });

  test('SYSRET returns to CPL 3 at RCX with RFLAGS from R11', () => {
    const m = setup();
    m.run({ until: 'back_in_user', maxSteps: 10 });
    expect(m.rip).toBe(m.symbol('back_in_user'));
    expect(m.cpl).toBe(3);
    expect(m.cpu.cs).toBe(SELECTORS.USER_CS);
    expect(m.cpu.ss).toBe(SELECTORS.USER_DS);
    expect(m.flag('if')).toBe(true);
    expect(m.flag('df')).toBe(true);
  });

  test('restore brings back the SYSCALL MSRs a snapshot saw, whatever was written between', () => {
    const m = setup();
    const before = m.snapshot(); // LSTAR = entry_syscall
    m.cpu.lstar = m.symbol('_start');
    m.cpu.fmask = 0n;
    const after = m.snapshot();
    m.restore(before);
    expect(m.cpu.lstar).toBe(m.symbol('entry_syscall'));
    m.run({ maxSteps: 2 });
    expect(m.rip).toBe(m.symbol('entry_syscall')); // SYSCALL uses the restored LSTAR
    expect(m.flag('if')).toBe(false); // and the restored FMASK
    m.restore(after);
    expect(m.cpu.lstar).toBe(m.symbol('_start'));
    m.cpu.lstar = m.symbol('back_in_user'); // written again, then back to the same snapshot
    m.restore(after);
    expect(m.cpu.lstar).toBe(m.symbol('_start'));
    expect(m.cpu.fmask).toBe(0n);
    m.run({ maxSteps: 2 });
    expect(m.rip).toBe(m.symbol('_start'));
    expect(m.flag('if')).toBe(true); // FMASK 0 masks nothing
  });

  test('SYSRET with a non-canonical RCX faults #GP in ring 0 (Intel)', () => {
    const m = labMachine({ source: '.text\n_start:\n  sysretq\n  hlt\n' });
    m.setReg('rcx', 0x0000800000000000n);
    m.step();
    expect(m.cpl).toBe(0);
    expect(m.rip).toBe(m.symbol('general_protection'));
    expect(m.reg('rsp')).toBe(LAB.kernelStackTop - 48n);
  });
});

describe('CPL checks: #GP(0) for privileged instructions at CPL 3', () => {
  test.each(['hlt', 'cli', 'sti', 'rdmsr', 'wrmsr', 'sysretq', 'movq %cr2, %rax'])('%s', (insn) => {
    const m = labMachine({ source: `.section .user, "ax"\nu:\n  ${insn}\n.text\n_start:\n  hlt\n` });
    m.setMode('user').setReg('rip', m.symbol('u')).setReg('rsp', LAB.userStackTop);
    m.step();
    const f = m.log.find((e) => e.kind === 'fault');
    expect(f?.vector).toBe(Vector.GP);
    expect(f?.errorCode).toBe(0);
  });
});

describe('CR2', () => {
  test('mov to and from %cr2', () => {
    const m = labMachine({
      source: '.text\n_start:\n  movq $0x1234, %rax\n  movq %rax, %cr2\n  movq %cr2, %rbx\n  hlt\n',
    });
    m.run({ maxSteps: 10 });
    expect(m.reg('rbx')).toBe(0x1234n);
  });
});

describe('LIDT / SIDT (SDM LGDT/LIDT: a 10-byte pseudo-descriptor in 64-bit mode)', () => {
  test('sidt stores IDTR; lidt of another table redirects the next delivery', () => {
    const m = labMachine({
      source: `
.text
_start:
    sidt saved_idtr
    lidt other_idtr
    nop
    hlt
other_nmi:
    hlt
.data
saved_idtr: .skip 10
other_idtr: .word 256*16-1
            .quad other_idt
.balign 16
other_idt: .skip 256*16
`,
    });
    m.step();
    const saved = m.readBytes(m.symbol('saved_idtr'), 10);
    expect(saved[0] | (saved[1] << 8)).toBe(256 * 16 - 1);
    expect(m.readU64(m.symbol('saved_idtr') + 2n)).toBe(0xffff880000050000n);
    // Fill the other table's NMI gate (vector 2), then switch to it.
    m.cpu.idtBase = m.symbol('other_idt');
    m.setGate(2, { handler: m.symbol('other_nmi'), ist: 3, type: 'interrupt', dpl: 0 });
    m.cpu.idtBase = 0xffff880000050000n;
    m.step();
    expect(m.cpu.idtBase).toBe(m.symbol('other_idt'));
    m.raiseNmi();
    expect(m.rip).toBe(m.symbol('other_nmi'));
  });

  test('lidt at CPL 3 faults #GP(0)', () => {
    const m = labMachine({ source: '.section .user, "ax"\nu:\n  lidt (%rsp)\n.text\n_start:\n  hlt\n' });
    m.setMode('user')
      .setReg('rip', m.symbol('u'))
      .setReg('rsp', LAB.userStackTop - 16n);
    m.step();
    expect(m.log.find((e) => e.kind === 'fault')?.vector).toBe(Vector.GP);
  });
});
