// Paged memory: protections, canonical addresses, and copy-on-write snapshots.
import fc from 'fast-check';
import { ACC_STACK, ACC_USER, Memory } from '../../kernel-lib/machine/memory';
import { CpuFault, Vector } from '../../kernel-lib/isa/faults';
import { labMachine } from '../../kernel-lib/harness/lab-machine';

function faultOf(fn: () => void): CpuFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof CpuFault) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

const BASE = 0xffff888000000000n;
const lo = (a: bigint) => Number(a & 0xffffffffn) | 0;
const hi = (a: bigint) => Number((a >> 32n) & 0xffffffffn) | 0;

describe('page protections raise #PF with the SDM 4.7 error code', () => {
  const mem = new Memory();
  mem.map(BASE, 0x1000, { writable: false, user: false });
  mem.map(BASE + 0x1000n, 0x1000, { writable: true, user: true });

  test('not present: P=0; write sets W/R', () => {
    const f = faultOf(() => mem.write64(lo(BASE + 0x5000n), hi(BASE), 1, 0, 0));
    expect(f.vector).toBe(Vector.PF);
    expect(f.errorCode).toBe(0b010);
    expect(f.addrLo).toBe(lo(BASE + 0x5000n));
  });

  test('write to a read-only page (CR0.WP=1 applies to supervisor writes): P=1, W=1', () => {
    expect(faultOf(() => mem.write32(lo(BASE), hi(BASE), 1, 0)).errorCode).toBe(0b011);
  });

  test('user access to a supervisor page: P=1, U=1', () => {
    expect(faultOf(() => mem.read64(lo(BASE + 8n), hi(BASE), ACC_USER)).errorCode).toBe(0b101);
  });

  test('a user page is open to user reads and writes', () => {
    mem.write64(lo(BASE + 0x1008n), hi(BASE), 0x11223344, 0x55667788, ACC_USER);
    expect(mem.peekU64(BASE + 0x1008n)).toBe(0x5566778811223344n);
  });

  test('an access straddling two pages checks both before writing either', () => {
    const m2 = new Memory();
    m2.map(BASE, 0x1000, { writable: true, user: false });
    const f = faultOf(() => m2.write64(lo(BASE + 0xffcn), hi(BASE), -1, -1, 0));
    expect(f.vector).toBe(Vector.PF);
    expect(m2.peek(BASE + 0xffcn, 4)).toEqual(new Uint8Array(4)); // nothing written
    m2.map(BASE + 0x1000n, 0x1000, { writable: true, user: false });
    m2.write64(lo(BASE + 0xffcn), hi(BASE), 0x04030201, 0x08070605, 0);
    expect(m2.peekU64(BASE + 0xffcn)).toBe(0x0807060504030201n);
  });
});

describe('an aligned 64-bit access through a cached translation keeps every check (the inline fast path)', () => {
  // read64/write64 skip translate() when the TLB already holds the page; each case below warms
  // the TLB with an access that succeeds, then makes one that must still fault (SDM 4.7 codes).
  test('a user read of a supervisor page faults P=1, U=1 even when the page is cached', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    mem.read64(lo(BASE + 8n), hi(BASE), 0);
    const f = faultOf(() => mem.read64(lo(BASE + 16n), hi(BASE), ACC_USER));
    expect([f.vector, f.errorCode, f.addrLo]).toEqual([Vector.PF, 0b101, lo(BASE + 16n)]);
    expect(faultOf(() => mem.write64(lo(BASE + 16n), hi(BASE), 1, 1, ACC_USER)).errorCode).toBe(0b111);
  });

  test('a write to a cached read-only page faults P=1, W=1 and writes nothing', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: false, user: false });
    mem.read64(lo(BASE), hi(BASE), 0);
    expect(faultOf(() => mem.write64(lo(BASE), hi(BASE), -1, -1, 0)).errorCode).toBe(0b011);
    expect(mem.peekU64(BASE)).toBe(0n);
  });

  test('remapping or unmapping a cached page takes effect at once', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    mem.write64(lo(BASE), hi(BASE), 5, 0, 0);
    mem.map(BASE, 0x1000, { writable: false, user: false }); // same contents, now read-only
    expect(mem.read64(lo(BASE), hi(BASE), 0)).toBe(5);
    expect(faultOf(() => mem.write64(lo(BASE), hi(BASE), 6, 0, 0)).errorCode).toBe(0b011);
    mem.unmap(BASE, 0x1000);
    expect(faultOf(() => mem.read64(lo(BASE), hi(BASE), 0)).errorCode).toBe(0b000);
  });

  test('writes to a cached page a snapshot shares are journaled: restore and undoTo put them back', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    mem.pokeU64(BASE + 0x40n, 0x1111n);
    const snap = mem.snapshot();
    mem.read64(lo(BASE + 0x40n), hi(BASE), 0); // cache the translation
    mem.write64(lo(BASE + 0x40n), hi(BASE), 0x2222, 0, 0);
    const mark = mem.journalMark()!;
    mem.write64(lo(BASE + 0x40n), hi(BASE), 0x3333, 0, 0); // a new segment: journaled again
    mem.write64(lo(BASE + 0x48n), hi(BASE), 0x4444, 0, 0);
    expect(mem.journaledSince(snap)).toBe(3);
    expect(mem.undoTo(mark)).toBe(true);
    expect([mem.peekU64(BASE + 0x40n), mem.peekU64(BASE + 0x48n)]).toEqual([0x2222n, 0n]);
    mem.restore(snap);
    expect(mem.peekU64(BASE + 0x40n)).toBe(0x1111n);
    // The high half travels too, and a misaligned access (the slow path) reads the same bytes.
    mem.write64(lo(BASE + 0x80n), hi(BASE), 0x03020100, 0x07060504, 0);
    expect(mem.read64(lo(BASE + 0x80n), hi(BASE), 0)).toBe(0x03020100);
    expect(mem.hi).toBe(0x07060504);
    expect(mem.read64(lo(BASE + 0x81n), hi(BASE), 0)).toBe(0x04030201);
    expect(mem.hi).toBe(0x00070605);
  });
});

describe('non-canonical addresses (SDM 6.15: #GP(0), or #SS(0) for stack references)', () => {
  const mem = new Memory();
  test('#GP for a data reference', () => {
    const f = faultOf(() => mem.read64(0, 0x00010000, 0));
    expect([f.vector, f.errorCode]).toEqual([Vector.GP, 0]);
  });
  test('#SS for a stack reference', () => {
    expect(faultOf(() => mem.read64(0, 0x7fff0000, ACC_STACK)).vector).toBe(Vector.SS);
  });
  test('in the machine, `movq (%rax)` with a non-canonical RAX delivers #GP, `pushq` with such an RSP #SS', () => {
    const m = labMachine({ source: '.text\n_start:\n  movq (%rax), %rbx\n  hlt\nsecond:\n  pushq %rbx\n  hlt\n' });
    m.setReg('rax', 0x0000800000000000n);
    m.step();
    expect(m.rip).toBe(m.symbol('general_protection'));
    const m2 = labMachine({ source: '.text\n_start:\n  pushq %rbx\n  hlt\n' });
    m2.setReg('rsp', 0x0000800000000010n);
    m2.step();
    expect(m2.log.find((e) => e.kind === 'fault')?.vector).toBe(Vector.SS);
    // #SS has no IST here, so its own frame goes to the same bad stack: #SS during #SS is #DF.
    expect(m2.rip).toBe(m2.symbol('double_fault'));
  });
});

describe('copy-on-write snapshots', () => {
  test('restore brings back every page as it was; later writes do not leak into the snapshot', () => {
    const mem = new Memory();
    mem.map(BASE, 0x3000, { writable: true, user: false });
    mem.pokeU64(BASE, 1n);
    const s1 = mem.snapshot();
    mem.write64(lo(BASE), hi(BASE), 2, 0, 0);
    mem.map(BASE + 0x10000n, 0x1000, { writable: true, user: false });
    const s2 = mem.snapshot();
    mem.write64(lo(BASE + 0x2000n), hi(BASE), 3, 0, 0);
    mem.restore(s1);
    expect(mem.peekU64(BASE)).toBe(1n);
    expect(mem.peekU64(BASE + 0x2000n)).toBe(0n);
    expect(mem.pageFor(BASE + 0x10000n)).toBeUndefined();
    mem.restore(s2);
    expect(mem.peekU64(BASE)).toBe(2n);
    expect(mem.peekU64(BASE + 0x2000n)).toBe(0n);
    expect(mem.pageFor(BASE + 0x10000n)).toBeDefined();
  });

  test('a snapshot costs in proportion to the pages written since the previous one', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000 * 200, { writable: true, user: false });
    mem.snapshot();
    expect(mem.dirtyPageCount).toBe(0);
    mem.write64(lo(BASE + 0x3000n), hi(BASE), 1, 0, 0);
    mem.write64(lo(BASE + 0x3008n), hi(BASE), 1, 0, 0);
    mem.write64(lo(BASE + 0x9000n), hi(BASE), 1, 0, 0);
    expect(mem.dirtyPageCount).toBe(2); // two pages copied, whatever the total mapped
    const s = mem.snapshot();
    expect(s.delta.size).toBe(2);
  });
});

describe('poke (debugger writes, no protections)', () => {
  test('writes across pages, copies pages a snapshot shares, and names an unmapped address', () => {
    const mem = new Memory();
    mem.map(BASE, 0x3000, { writable: false, user: false });
    const snap = mem.snapshot();
    const bytes = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7) & 0xff);
    mem.poke(BASE + 0x800n, bytes); // pages 0, 1 and 2, read-only ones included
    expect(mem.peek(BASE + 0x800n, 6000)).toEqual(bytes);
    mem.restore(snap);
    expect(mem.peek(BASE + 0x800n, 6000)).toEqual(new Uint8Array(6000));
    expect(() => mem.poke(BASE + 0x2ff0n, new Uint8Array(32))).toThrow(
      /poke: address 0xffff888000003000 is not mapped/,
    );
  });
});

describe('the write journal', () => {
  test('a slot written over and over is journaled once per segment; a mark starts a new segment', () => {
    const mem = new Memory();
    mem.map(BASE, 0x2000, { writable: true, user: false });
    const snap = mem.snapshot();
    const a = BASE + 0x100n;
    for (let i = 0; i < 50; i++) mem.write64(lo(a), hi(a), i, 0, 0); // a loop's stack slot
    mem.write32(lo(a + 4n), hi(a), 7, 0); // the same 8-byte slot
    expect(mem.journaledSince(snap)).toBe(1);
    mem.write64(lo(a + 4n), hi(a), 1, 2, 0); // straddles into the next slot
    expect(mem.journaledSince(snap)).toBe(2);
    const mark = mem.journalMark()!;
    mem.write64(lo(a), hi(a), 99, 0, 0);
    expect(mem.journaledSince(snap)).toBe(3);
    // Undo to the mark puts back the slot as it was at the mark, not as at the snapshot.
    mem.undoTo(mark);
    expect(mem.read32(lo(a), hi(a), 0)).toBe(49);
    expect(mem.read32(lo(a + 4n), hi(a), 0)).toBe(1);
    mem.restore(snap);
    expect(mem.read32(lo(a), hi(a), 0)).toBe(0);
    expect(mem.read32(lo(a + 8n), hi(a), 0)).toBe(0);
  });
});

describe('journal capacity (the arrays grow on demand up to it)', () => {
  test('past the initial 512 entries every slot is still journaled, up to the capacity, and restore undoes them all', () => {
    const mem = new Memory();
    mem.map(BASE, 0x4000, { writable: true, user: false });
    const snap = mem.snapshot();
    mem.setJournalCapacity(1500);
    for (let i = 0; i < 1500; i++) mem.write64(lo(BASE) + 8 * i, hi(BASE), i + 1, 0, 0);
    expect(mem.journaledSince(snap)).toBe(1500);
    const mark = mem.journalMark()!;
    mem.write64(lo(BASE) + 8 * 1500, hi(BASE), 7, 0, 0); // entry 1501: over the capacity, pages are copied
    expect(mem.journaledSince(snap)).toBe(-1);
    expect(mem.undoTo(mark)).toBe(false);
    mem.restore(snap);
    for (let i = 0; i <= 1500; i += 250) expect(mem.read32(lo(BASE) + 8 * i, hi(BASE), 0)).toBe(0);
  });

  test('a capacity below what is journaled keeps every entry', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    const snap = mem.snapshot();
    for (let i = 0; i < 10; i++) mem.write64(lo(BASE) + 8 * i, hi(BASE), 5, 0, 0);
    mem.setJournalCapacity(4);
    expect(mem.journaledSince(snap)).toBe(10);
    mem.restore(snap);
    expect(mem.read32(lo(BASE) + 72, hi(BASE), 0)).toBe(0);
  });
});

describe('writeSlots (the frame an event delivery pushes, written as one access)', () => {
  const slots = (...qs: number[]) => Int32Array.from(qs.flatMap((q) => [q, 0]));

  test('within a page: every slot written, journaled, and undone by restore', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    const snap = mem.snapshot();
    const at = BASE + 0xfd8n; // the frame's top slot is the page's last
    mem.writeSlots(lo(at), hi(at), slots(1, 2, 3, 4, 5), 5, ACC_STACK);
    for (let i = 0; i < 5; i++) expect(mem.peekU64(at + BigInt(8 * i))).toBe(BigInt(i + 1));
    expect(mem.journaledSince(snap)).toBe(5);
    mem.restore(snap);
    for (let i = 0; i < 5; i++) expect(mem.peekU64(at + BigInt(8 * i))).toBe(0n);
  });

  test('across a page boundary whose second page is read-only: #PF and nothing written (SDM 6.14: delivery faults before it changes state)', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    mem.map(BASE + 0x1000n, 0x1000, { writable: false, user: false });
    const at = BASE + 0xfe8n; // three slots on the first page, two on the second
    const f = faultOf(() => mem.writeSlots(lo(at), hi(at), slots(1, 2, 3, 4, 5), 5, ACC_STACK));
    expect(f.vector).toBe(Vector.PF);
    expect(f.errorCode).toBe(3); // present | write (SDM 4.7)
    expect(mem.peek(at, 40)).toEqual(new Uint8Array(40));
  });

  test('across a page boundary of two writable pages: both parts written', () => {
    const mem = new Memory();
    mem.map(BASE, 0x2000, { writable: true, user: false });
    const at = BASE + 0xff0n;
    mem.writeSlots(lo(at), hi(at), slots(7, 8, 9), 3, ACC_STACK);
    expect([mem.peekU64(at), mem.peekU64(at + 8n), mem.peekU64(at + 16n)]).toEqual([7n, 8n, 9n]);
  });

  test('a frame that does not fit in the journal falls back to copy-on-write, and restore still undoes it', () => {
    const mem = new Memory();
    mem.map(BASE, 0x1000, { writable: true, user: false });
    mem.pokeU64(BASE + 0x100n, 0x55n);
    const snap = mem.snapshot();
    mem.setJournalCapacity(3);
    mem.write64(lo(BASE), hi(BASE), 1, 0, 0); // one entry used
    const at = BASE + 0x100n;
    mem.writeSlots(lo(at), hi(at), slots(1, 2, 3, 4, 5), 5, ACC_STACK); // five more do not fit
    expect(mem.journaledSince(snap)).toBe(-1); // the page was copied instead
    expect(mem.peekU64(at + 32n)).toBe(5n);
    expect(mem.peekU64(BASE)).toBe(1n);
    mem.restore(snap);
    expect(mem.peekU64(at)).toBe(0x55n);
    expect(mem.peekU64(BASE)).toBe(0n);
  });
});

describe('snapshots against a reference model (fast-check)', () => {
  // Writes of every size at any offset (including across pages and past the journal limit),
  // snapshots and restores in any order: memory must always read as a plain byte array would.
  type Op =
    | { kind: 'write'; offset: number; size: 1 | 2 | 4 | 8; value: number; repeat: number }
    | { kind: 'snapshot' }
    | { kind: 'restore'; which: number }
    | { kind: 'poke'; offset: number; value: number };
  const REGION = 3 * 4096;
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        offset: fc.nat({ max: REGION - 8 }),
        size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
        value: fc.integer(),
        repeat: fc.constantFrom(1, 1, 1, 700),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('restore' as const), which: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('poke' as const),
        offset: fc.nat({ max: REGION - 1 }),
        value: fc.nat({ max: 255 }),
      }),
    },
  );

  test('reads always match the model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const mem = new Memory();
        mem.map(BASE, REGION, { writable: true, user: false });
        let model = new Uint8Array(REGION);
        const snaps: { snap: ReturnType<Memory['snapshot']>; bytes: Uint8Array }[] = [];
        for (const op of ops) {
          if (op.kind === 'write') {
            for (let r = 0; r < op.repeat; r++) {
              const off = (op.offset + 8 * r) % (REGION - 8);
              const a = BASE + BigInt(off);
              const v = (op.value + r) | 0;
              if (op.size === 8) mem.write64(lo(a), hi(a), v, ~v, 0);
              else if (op.size === 4) mem.write32(lo(a), hi(a), v, 0);
              else if (op.size === 2) mem.write16(lo(a), hi(a), v, 0);
              else mem.write8(lo(a), hi(a), v, 0);
              const bytes = [v, v >>> 8, v >>> 16, v >>> 24, ~v, ~v >>> 8, ~v >>> 16, ~v >>> 24];
              for (let i = 0; i < op.size; i++) model[off + i] = bytes[i] & 0xff;
            }
          } else if (op.kind === 'poke') {
            mem.poke(BASE + BigInt(op.offset), new Uint8Array([op.value]));
            model[op.offset] = op.value;
          } else if (op.kind === 'snapshot') {
            snaps.push({ snap: mem.snapshot(), bytes: model.slice() });
          } else if (snaps.length > 0) {
            const s = snaps[op.which % snaps.length];
            mem.restore(s.snap);
            model = s.bytes.slice();
          }
          expect(Buffer.from(mem.peek(BASE, REGION) as Uint8Array).equals(Buffer.from(model))).toBe(true);
        }
        // Every snapshot still holds exactly what it captured.
        for (const s of snaps) {
          mem.restore(s.snap);
          expect(Buffer.from(mem.peek(BASE, REGION) as Uint8Array).equals(Buffer.from(s.bytes))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
