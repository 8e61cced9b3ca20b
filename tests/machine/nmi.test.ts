// NMI blocking, the one-deep latch, and IRET (SDM vol. 3, 6.7.1; docs/sources.md).
import { Vector } from '../../kernel-lib';
import { LAB, labMachine } from '../../kernel-lib/harness/lab-machine';

const KERNEL = `
.text
_start:
    movq $1, %rax
    movq $2, %rax
    movq $3, %rax
    movq $4, %rax
    hlt
nmi:
    incq nmi_count
    nop
    nop
    iretq
int3:
    iretq
.data
nmi_count: .quad 0
`;

function kinds(m: ReturnType<typeof labMachine>): string[] {
  return m.log.map((e) => e.kind);
}

describe('NMI blocking (SDM vol. 3, 6.7.1 "Handling Multiple NMIs")', () => {
  test('a delivered NMI blocks further NMIs until the next IRET', () => {
    const m = labMachine({ source: KERNEL });
    m.step();
    expect(m.raiseNmi()).toBe('delivered');
    expect(m.nmiBlocked).toBe(true);
    expect(m.rip).toBe(m.symbol('nmi'));
    // A second NMI while blocked does not interrupt the handler: it is held pending.
    expect(m.raiseNmi()).toBe('latched');
    expect(m.rip).toBe(m.symbol('nmi'));
    m.run({ until: (mm) => mm.instructionAt()?.op === 'iret' });
    expect(m.nmiBlocked).toBe(true);
    m.step(); // the IRET
    expect(m.nmiBlocked).toBe(false);
    // The pending NMI is taken at the very next boundary, before the interrupted code runs.
    m.step();
    expect(m.readU64(m.symbol('nmi_count'))).toBe(2n);
    expect(kinds(m)).toContain('nmi-latch-consumed');
  });

  test('the latch is one bit: NMIs arriving while one is pending collapse into it (RFC: "only one can be latched")', () => {
    const m = labMachine({ source: KERNEL });
    m.raiseNmi();
    expect(m.raiseNmi()).toBe('latched');
    expect(m.raiseNmi()).toBe('collapsed');
    expect(m.raiseNmi()).toBe('collapsed');
    const r = m.run({ maxSteps: 1000 });
    expect(r.stop).toBe('hlt');
    // Four arrivals, two handler runs: the first and the one latched.
    expect(m.readU64(m.symbol('nmi_count'))).toBe(2n);
    expect(kinds(m).filter((k) => k === 'nmi-collapsed')).toHaveLength(2);
  });

  test('NMI is not masked by IF (SDM 6.9, 6.7)', () => {
    const m = labMachine({ source: KERNEL });
    m.setReg('rflags', 0x2n); // IF = 0
    expect(m.raiseNmi()).toBe('delivered');
  });

  test("any IRET unblocks NMIs: a breakpoint handler's IRET inside the NMI handler (the RFC's problem)", () => {
    const m = labMachine({
      source: `
.text
_start:
    nop
    hlt
nmi:
    int3
after_int3:
    nop
    iretq
int3:
    iretq
`,
    });
    m.raiseNmi();
    m.step(); // int3 -> #BP delivered on the debug IST stack
    expect(m.rip).toBe(m.symbol('int3'));
    expect(m.nmiBlocked).toBe(true);
    m.step(); // the #BP handler's IRET
    expect(m.rip).toBe(m.symbol('after_int3'));
    expect(m.nmiBlocked).toBe(false); // still inside the NMI handler, yet NMIs are open
    expect(m.raiseNmi()).toBe('delivered'); // a nested NMI
  });

  test('a nested NMI on the IST stack overwrites the first NMI frame (SDM 6.14.5: IST loads RSP unconditionally)', () => {
    const m = labMachine({
      source: `
.text
_start:
    nop
first_return:
    hlt
nmi:
    int3
    nop
    iretq
int3:
    iretq
`,
    });
    m.raiseNmi();
    const ripSlot = LAB.nmiStackTop - 40n;
    expect(m.readU64(ripSlot)).toBe(m.symbol('_start'));
    m.step();
    m.step(); // int3 and its IRET: NMIs unblocked inside the handler
    const nestedAt = m.rip;
    expect(m.raiseNmi()).toBe('delivered');
    // Same stack top: the nested frame lands exactly on the first one.
    expect(m.reg('rsp')).toBe(LAB.nmiStackTop - 40n);
    expect(m.readU64(ripSlot)).toBe(nestedAt); // the first NMI's return RIP is gone
  });
});

describe('IRET unblocks NMIs even when it faults (SDM 6.7.1, current wording)', () => {
  test('the #GP of a faulting IRET is delivered with NMIs already unblocked', () => {
    const m = labMachine({
      source: `
.text
_start:
    nop
    hlt
nmi:
    movq $0, 8(%rsp)      # CS = null: this IRET will fault
    iretq
general_protection:
    nop
    hlt
`,
    });
    m.raiseNmi();
    m.step();
    expect(m.nmiBlocked).toBe(true);
    m.step(); // the IRET: unblocks, then faults
    expect(m.rip).toBe(m.symbol('general_protection'));
    expect(m.nmiBlocked).toBe(false);
    const gp = m.log.find((e) => e.kind === 'fault' && e.vector === Vector.GP);
    expect(gp).toBeDefined();
    const unblock = m.log.findIndex((e) => e.kind === 'nmi-unblocked');
    const fault = m.log.findIndex((e) => e.kind === 'fault');
    expect(unblock).toBeLessThan(fault);
    expect(m.raiseNmi()).toBe('delivered');
  });

  test('a pending NMI is taken right after a faulting IRET, on top of the #GP frame', () => {
    const m = labMachine({
      source: `
.text
_start:
    nop
    hlt
nmi:
    cmpq $0, nmi_seen
    jne second
    movq $1, nmi_seen
    movq $0, 8(%rsp)
    iretq
second:
    hlt
general_protection:
    hlt
.data
nmi_seen: .quad 0
`,
    });
    m.raiseNmi();
    expect(m.raiseNmi()).toBe('latched');
    m.run({ maxSteps: 100 });
    const delivered = m.log.filter((e) => e.kind === 'deliver').map((e) => e.name);
    // NMI, then the IRET's #GP, then the latched NMI before the #GP handler's first instruction.
    expect(delivered).toEqual(['NMI', '#GP', 'NMI']);
    expect(m.rip).toBe(m.symbol('second') + 1n);
  });
});

describe('IRET in 64-bit mode pops RIP, CS, RFLAGS, RSP and SS (SDM IRET)', () => {
  test('returns to the exact context, including RSP and RFLAGS', () => {
    const m = labMachine({ source: KERNEL });
    m.step();
    m.setReg('rflags', 0x2n | 0x1n | 0x40n); // CF, ZF
    const before = { rip: m.rip, rsp: m.reg('rsp'), rflags: m.rflags };
    m.raiseNmi();
    m.run({ until: (mm) => mm.rip === before.rip, maxSteps: 100 });
    expect(m.reg('rsp')).toBe(before.rsp);
    expect(m.rflags).toBe(before.rflags);
    expect(m.log.some((e) => e.kind === 'iret' && e.toRip === before.rip)).toBe(true);
  });
});
