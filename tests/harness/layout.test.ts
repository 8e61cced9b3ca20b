// The harness's memory and IST choices against Linux 3.x (docs/sources.md): page_64_types.h
// (STACKFAULT_STACK 1, DOUBLEFAULT_STACK 2, NMI_STACK 3, DEBUG_STACK 4, MCE_STACK 5;
// EXCEPTION_STKSZ one page, DEBUG_STKSZ two), traps.c trap_init() (which gate uses which IST),
// cpu/common.c (exception_stacks: one per-CPU array, IST1 lowest, no gaps), and the guard pages
// Linux added in 2019 (the 'guard-pages' layout).
import { buildKernel, DEBUG_STKSZ, EXCEPTION_STKSZ, harnessLayout, LAYOUT, regionAt, Vector } from '../../kernel-lib';
import { IST } from '../../kernel-lib/harness/layout';
import { manifestProblems } from '../../kernel-lib/designs/manifest';
import type { HarnessLayout, Kernel } from '../../kernel-lib';
import { withStackLayout } from '../../kernel-lib/course';

const TSS_IST = (k: Kernel, n: number) => k.machine.readU64(k.layout.percpuBase + 0x800n + 0x24n + BigInt(n - 1) * 8n);
const gateIst = (k: Kernel, vector: number) => k.machine.readBytes(k.layout.idtBase + BigInt(vector) * 16n, 16)[4] & 7;
const region = (L: HarnessLayout, name: string) => L.regions.find((r) => r.name === name)!;

describe('Linux 3.x stack numbers', () => {
  test('sizes: EXCEPTION_STKSZ is one page, DEBUG_STKSZ two', () => {
    expect(EXCEPTION_STKSZ).toBe(4096);
    expect(DEBUG_STKSZ).toBe(8192);
    expect(region(LAYOUT, 'nmi-stack').size).toBe(4096);
    expect(region(LAYOUT, 'debug-stack').size).toBe(8192);
  });

  test('IST indexes: #SS 1, #DF 2, NMI 3, #DB and #BP 4, #MC 5; #GP and #PF none', () => {
    expect(IST).toEqual({ SS: 1, DF: 2, NMI: 3, DEBUG: 4, MCE: 5 });
    const k = buildKernel({ design: 'linux-3.3' });
    expect(gateIst(k, Vector.SS)).toBe(1);
    expect(gateIst(k, Vector.DF)).toBe(2);
    expect(gateIst(k, Vector.NMI)).toBe(3);
    expect(gateIst(k, Vector.DB)).toBe(4);
    expect(gateIst(k, Vector.BP)).toBe(4);
    expect(gateIst(k, 18)).toBe(5);
    expect(gateIst(k, Vector.GP)).toBe(0);
    expect(gateIst(k, Vector.PF)).toBe(0);
    expect(TSS_IST(k, 1)).toBe(k.layout.stackFaultStackTop);
    expect(TSS_IST(k, 2)).toBe(k.layout.doubleFaultStackTop);
    expect(TSS_IST(k, 3)).toBe(k.layout.nmiStackTop);
    expect(TSS_IST(k, 4)).toBe(k.layout.debugStackTop);
    expect(TSS_IST(k, 5)).toBe(k.layout.machineCheckStackTop);
  });
});

describe('stack layouts', () => {
  test("'contiguous' is Linux 3.x's one array: #SS, #DF, NMI, debug, #MC, each stack ending where the next begins", () => {
    const L = harnessLayout('contiguous');
    const order = ['stack-fault-stack', 'double-fault-stack', 'nmi-stack', 'debug-stack', 'machine-check-stack'];
    for (let i = 1; i < order.length; i++) {
      const below = region(L, order[i - 1]);
      expect(below.top).toBe(region(L, order[i]).base);
    }
    // Below the NMI stack: the #DF stack, then the #SS stack; below the array, nothing the harness maps.
    expect(regionAt(L, L.nmiStackTop - 4097n)?.name).toBe('double-fault-stack');
    expect(regionAt(L, L.nmiStackTop - 8193n)?.name).toBe('stack-fault-stack');
    expect(regionAt(L, L.stackFaultStackTop - 4097n)).toBeNull();
  });

  test("'guard-pages' leaves an unmapped page below every stack; the NMI stack's top is the same in both", () => {
    const L = harnessLayout('guard-pages');
    for (const r of L.regions.filter((x) => x.ist !== undefined)) expect(regionAt(L, r.base - 1n)).toBeNull();
    expect(L.nmiStackTop).toBe(harnessLayout('contiguous').nmiStackTop);
  });

  test('the kernel maps exactly the regions of its layout', () => {
    for (const layout of ['contiguous', 'guard-pages'] as const) {
      const k = buildKernel({ design: withStackLayout('unprotected', layout) });
      expect(k.layout.stackLayout).toBe(layout);
      for (const r of k.layout.regions) {
        expect(k.machine.memory.pageFor(r.base)).toBeTruthy();
        expect(k.machine.memory.pageFor(r.base + BigInt(r.size) - 1n)).toBeTruthy();
      }
      const belowNmi = k.layout.nmiStackTop - 4096n - 1n;
      expect(Boolean(k.machine.memory.pageFor(belowNmi))).toBe(layout === 'contiguous');
    }
  });

  test('the 3.x designs default to the contiguous layout; FRED to guard pages', () => {
    for (const id of ['unprotected', 'linus-2010', 'iret-fault', 'rfc-2011', 'linux-3.3', 'linux-3.8', 'linux-4.2'])
      expect(buildKernel({ design: id }).layout.stackLayout).toBe('contiguous');
    expect(buildKernel({ design: 'fred' }).layout.stackLayout).toBe('guard-pages');
  });

  test('a bad stack layout in a manifest is refused with a clear message', () => {
    expect(() => harnessLayout('sideways' as never)).toThrow(/unknown stack layout 'sideways'/);
    const manifest = {
      id: 'x',
      title: 't',
      year: 2012,
      author: 'a',
      source: 's',
      summary: 's',
      reconstruction: false,
      listing: 'x.S',
    };
    expect(manifestProblems(manifest)).toEqual([]);
    expect(manifestProblems({ ...manifest, harness: { stackLayout: 'sideways' } })).toEqual([
      "'harness.stackLayout' must be one of 'contiguous', 'guard-pages'",
    ]);
  });
});
