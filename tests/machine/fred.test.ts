// FRED event delivery and ERETS/ERETU (Linux Documentation/arch/x86/x86_64/fred.rst,
// arch/x86/include/asm/fred.h, arch/x86/kernel/fred.c).
import { assembleOrThrow, Machine, Vector } from '../../kernel-lib';

const LEVEL0 = 0xffff880000010000n; // the task's kernel stack (FRED_RSP0)
const LEVEL1 = 0xffff880000020000n;
const LEVEL2 = 0xffff880000030000n; // NMI
const LEVEL3 = 0xffff880000040000n; // #DF
const USER_STACK = 0x00007fff00010000n;

// Linux's FRED entry dispatches on the event type and vector in the frame; here a small
// dispatcher does the same: NMI -> nmi_handler, #BP -> bp_handler, SYSCALL -> sys_handler.
const SOURCE = `
.text
_start:
    nop
    nop
    hlt
fred_entry_user:                # entry point for events from ring 3
    jmp dispatch
.skip 256 - 5
fred_entry_kernel:              # entry point + 256 for events from ring 0
dispatch:
    movq 40(%rsp), %rax         # the SS slot: vector in bits 39:32, type in 51:48
    shrq $32, %rax
    andl $0xff, %eax
    cmpl $2, %eax
    je nmi_handler
    cmpl $3, %eax
    je bp_handler
    cmpl $1, %eax
    je sys_handler
    hlt
nmi_handler:
    incq nmi_runs
    int3                        # an exception inside the NMI handler
after_bp:
    nop
    erets
bp_handler:
    incq bp_runs
    erets
sys_handler:
    eretu
.section .user, "ax"
user_start:
    syscall
user_after:
    nop
    hlt
.data
nmi_runs: .quad 0
bp_runs: .quad 0
`;

function fredMachine(): Machine {
  const program = assembleOrThrow({
    files: [{ name: 'fred.S', text: SOURCE }],
    sectionBases: { '.text': 0xffffffff81000000n, '.data': 0xffffffff81100000n, '.user': 0x400000n },
  });
  const m = new Machine().load(program, { sections: { '.user': { user: true, writable: false } } });
  for (const top of [LEVEL0, LEVEL1, LEVEL2, LEVEL3]) m.map(top - 0x4000n, 0x4000);
  m.map(USER_STACK - 0x4000n, 0x4000, { user: true });
  m.enableFred({ entry: 'fred_entry_user', stacks: { 0: LEVEL0, 1: LEVEL1, 2: LEVEL2, 3: LEVEL3 } });
  m.setReg('rsp', LEVEL0 - 0x800n).setReg('rip', m.symbol('_start'));
  return m;
}

describe('FRED delivery (fred.rst "Stack levels"; asm/fred.h frame layout)', () => {
  test('an NMI goes to the level-2 stack with a 64-byte frame marked as an NMI', () => {
    const m = fredMachine();
    m.step();
    const oldRsp = m.reg('rsp');
    expect(m.raiseNmi()).toBe('delivered');
    expect(m.rip).toBe(m.symbol('fred_entry_kernel')); // from ring 0: entry + 256
    const frame = LEVEL2 - 64n;
    expect(m.reg('rsp')).toBe(frame);
    expect(m.readU64(frame + 8n)).toBe(m.symbol('_start') + 1n); // RIP
    expect(m.readU64(frame + 32n)).toBe(oldRsp); // RSP
    const ss = m.readU64(frame + 40n);
    expect((ss >> 18n) & 1n).toBe(1n); // the NMI bit
    expect((ss >> 32n) & 0xffn).toBe(2n); // vector
    expect((ss >> 48n) & 0xfn).toBe(2n); // type: NMI
    expect(m.cpu.csl).toBe(2);
  });

  test('a #BP inside the NMI handler stays on the NMI stack, below the current RSP (no fixed top to reset)', () => {
    const m = fredMachine();
    m.raiseNmi();
    m.run({ until: 'bp_handler', maxSteps: 50 });
    const bp = m.log.filter((e) => e.kind === 'deliver').pop()!;
    expect(bp.vector).toBe(Vector.BP);
    expect(bp.level).toBe(2); // level 0 event, current level 2: no switch
    expect(m.reg('rsp')).toBeLessThan(LEVEL2 - 64n - 64n); // below the NMI frame and a red zone
    expect(m.readU64(LEVEL2 - 64n + 8n)).toBe(m.symbol('_start')); // the NMI frame is intact
  });

  test("the #BP handler's ERETS does not unblock NMIs: a second NMI waits in the latch", () => {
    const m = fredMachine();
    m.raiseNmi();
    m.run({ until: 'after_bp', maxSteps: 50 });
    expect(m.nmiBlocked).toBe(true);
    expect(m.raiseNmi()).toBe('latched');
    expect(m.log.filter((e) => e.kind === 'deliver' && e.vector === Vector.NMI)).toHaveLength(1);
  });

  test("the NMI handler's ERETS unblocks NMIs; the latched NMI then runs the handler again", () => {
    const m = fredMachine();
    m.raiseNmi();
    m.run({ until: 'after_bp', maxSteps: 50 });
    m.raiseNmi();
    const r = m.run({ maxSteps: 200 });
    expect(r.stop).toBe('hlt');
    expect(m.readU64(m.symbol('nmi_runs'))).toBe(2n);
    expect(m.log.some((e) => e.kind === 'nmi-unblocked' && /ERETS/.test(e.detail ?? ''))).toBe(true);
    expect(m.cpu.csl).toBe(0);
    expect(m.reg('rsp')).toBe(LEVEL0 - 0x800n);
  });
});

describe('FRED and ring 3', () => {
  function userMachine(): Machine {
    const m = fredMachine();
    m.setMode('user')
      .setReg('rip', m.symbol('user_start'))
      .setReg('rsp', USER_STACK - 64n);
    m.cpu.gsBase = 0x7f0000000000n;
    m.cpu.kernelGsBase = 0xffff888000100000n;
    return m;
  }

  test('SYSCALL is an event: it lands on the level-0 stack, so there is no syscall gap; ERETU returns', () => {
    const m = userMachine();
    m.step();
    expect(m.cpl).toBe(0);
    expect(m.reg('rsp')).toBe(LEVEL0 - 64n);
    expect(m.cpu.gsBase).toBe(0xffff888000100000n); // delivery from ring 3 swapped GS
    m.run({ until: 'user_after', maxSteps: 50 });
    expect(m.cpl).toBe(3);
    expect(m.reg('rsp')).toBe(USER_STACK - 64n);
    expect(m.cpu.gsBase).toBe(0x7f0000000000n);
  });

  test('SWAPGS is #UD under FRED', () => {
    const m = fredMachine();
    const program = assembleOrThrow({
      files: [{ name: 'x.S', text: '.text\n_start:\n  swapgs\n' }],
      sectionBases: { '.text': 0xffffffff82000000n },
    });
    m.load(program);
    m.setReg('rip', 0xffffffff82000000n);
    m.step();
    expect(m.log.find((e) => e.kind === 'fault')?.vector).toBe(Vector.UD);
  });
});
