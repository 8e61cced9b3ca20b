// The explorer's state hash covers every byte of state that can change the future: every
// per-CPU variable, every region of the harness layout, the program's writable sections, and the
// CPU state a design can change. Two states that differ only there must not be merged.
import { buildKernel, LAYOUT, PERCPU, WORKLOADS } from '../../kernel-lib';
import type { Kernel } from '../../kernel-lib';
import { Explorer } from '../../kernel-lib/explore/search';
import { HashRegion, StateHasher, stateRegions } from '../../kernel-lib/explore/state-hash';

function covered(regions: HashRegion[], address: bigint, bytes: number): boolean {
  for (let a = address; a < address + BigInt(bytes); a += 4n) {
    const page = Number(a >> 12n);
    const word = Number(a & 0xfffn) >> 2;
    if (!regions.some((r) => r.page === page && word >= r.from && word < r.to)) return false;
  }
  return true;
}

/** The hasher and regions of a fresh explorer on this kernel, at its steady state. */
function explorerHash(k: Kernel): { hasher: StateHasher; regions: HashRegion[] } {
  const ex = new Explorer(k, { depth: 1, exceptions: 0, maxStepsAfterEvent: 100 });
  const internals = ex as unknown as { hasher: StateHasher; regions: HashRegion[] };
  ex.detach();
  return internals;
}

describe('the state hash covers the harness layout', () => {
  const k = buildKernel({ design: 'linux-4.2', workload: 'kernel' });
  const { regions } = explorerHash(k);

  test('every per-CPU variable, whole', () => {
    for (const [name, offset] of Object.entries(PERCPU)) {
      const bytes = name === 'init_tss' ? 0x68 : 8;
      expect(`${name}: ${covered(regions, LAYOUT.percpuBase + BigInt(offset), bytes)}`).toBe(`${name}: true`);
    }
  });

  /**
   * Every stack and table the kernel's layout names (any key ending in StackTop, the per-CPU area
   * and both IDTs), whole: from its base or top, page by page while the machine has it mapped. A
   * stack or area added to the layout is found here without a change to the test.
   */
  function layoutAreas(kk: Kernel): { name: string; pages: number[] }[] {
    const layout = kk.layout as unknown as Record<string, unknown>;
    const out: { name: string; pages: number[] }[] = [];
    for (const [name, v] of Object.entries(layout)) {
      if (typeof v !== 'bigint') continue;
      const pages: number[] = [];
      if (name.endsWith('StackTop')) {
        for (let p = Number((v - 1n) >> 12n); kk.machine.memory.pages.has(p); p--) pages.push(p);
      } else if (name === 'percpuBase' || name === 'idtBase' || name === 'nmiIdtBase') {
        for (let p = Number(v >> 12n); kk.machine.memory.pages.has(p) && pages.length < 16; p++) pages.push(p);
      } else continue;
      out.push({ name, pages });
    }
    return out;
  }

  test('every stack, the per-CPU area and both IDTs the layout names, whole', () => {
    const areas = layoutAreas(k);
    expect(areas.map((a) => a.name)).toEqual(
      expect.arrayContaining(['percpuBase', 'idtBase', 'nmiIdtBase', 'nmiStackTop', 'debugStackTop', 'kernelStackTop']),
    );
    for (const a of areas) {
      expect(`${a.name}: ${a.pages.length > 0}`).toBe(`${a.name}: true`);
      for (const page of a.pages)
        expect(`${a.name}: ${regions.some((r) => r.page === page && r.from === 0 && r.to === 1024)}`).toBe(
          `${a.name}: true`,
        );
    }
    // The debug stack is two pages, the task stack four: all of each (more where stacks adjoin).
    expect(areas.find((a) => a.name === 'debugStackTop')!.pages.length).toBeGreaterThanOrEqual(2);
    expect(areas.find((a) => a.name === 'kernelStackTop')!.pages.length).toBeGreaterThanOrEqual(4);
  });

  test('every writable section of the program (the harness globals and the user data)', () => {
    const writable = k.program.sections.filter((s) => s.name !== '.text' && s.name !== '.user' && s.bytes.length > 0);
    expect(writable.map((s) => s.name)).toEqual(expect.arrayContaining(['.data', '.udata']));
    for (const s of writable)
      expect(`${s.name}: ${covered(regions, s.address, s.bytes.length)}`).toBe(`${s.name}: true`);
  });

  test('every writable page the machine has mapped, on every workload and with FRED: nothing writable is left out', () => {
    for (const design of ['linux-3.3', 'fred']) {
      for (const workload of WORKLOADS) {
        const kk = buildKernel({ design, workload });
        const rs = stateRegions(kk.machine);
        for (const [page, p] of kk.machine.memory.pages) {
          if (!p.writable) continue;
          expect(rs.some((r) => r.page === page && r.from === 0 && r.to === 1024)).toBe(true);
        }
        // Read-only pages (the code) cannot change, so they are not hashed.
        for (const r of rs) expect(kk.machine.memory.pages.get(r.page)!.writable).toBe(true);
      }
    }
  });
});

describe('a change anywhere in that state changes the key', () => {
  const k = buildKernel({ design: 'linux-4.2', workload: 'kernel' });
  const { hasher } = explorerHash(k);
  const m = k.machine;

  function keyAfter(change: () => void): number {
    k.reset();
    change();
    return hasher.key(0, 0);
  }

  const base = keyAfter(() => {});

  test('the do_nmi latch (per-CPU nmi_state, 0x68) and nmi_cr2, which a bound at syscall_count + 8 missed', () => {
    expect(keyAfter(() => m.writeU64(LAYOUT.percpuBase + BigInt(PERCPU.nmi_state), 2n))).not.toBe(base);
    expect(keyAfter(() => m.writeU64(LAYOUT.percpuBase + BigInt(PERCPU.nmi_cr2), 5n))).not.toBe(base);
  });

  test('the last word of the per-CPU area, the bottom of every stack, an IDT gate', () => {
    expect(keyAfter(() => m.writeU64(LAYOUT.percpuBase + BigInt(LAYOUT.percpuSize - 8), 1n))).not.toBe(base);
    for (const top of [LAYOUT.nmiStackTop, LAYOUT.debugStackTop, LAYOUT.kernelStackTop, LAYOUT.doubleFaultStackTop]) {
      const bottom = top - BigInt(top === LAYOUT.kernelStackTop ? 16384 : top === LAYOUT.debugStackTop ? 8192 : 4096);
      expect(keyAfter(() => m.writeU64(bottom, 0x77n))).not.toBe(base);
    }
    expect(keyAfter(() => m.writeU64(LAYOUT.idtBase + 0xff0n, 0x77n))).not.toBe(base);
  });

  test('the CPU state a design can change: the IDT limit, CR3, EFER, the SYSCALL MSRs', () => {
    expect(keyAfter(() => (m.cpu.idtLimit = 0xfff - 16))).not.toBe(base);
    expect(keyAfter(() => m.cpu.writeControl(3, 0x2000, 0))).not.toBe(base);
    expect(keyAfter(() => (m.cpu.efer = m.cpu.efer & ~0x800n))).not.toBe(base);
    expect(keyAfter(() => (m.cpu.lstar = 0n))).not.toBe(base);
    expect(keyAfter(() => {})).toBe(base);
  });
});
