// do_nmi's own protections (the C side of the NMI entry): the CR2 save of Linux 4.2's nmi.c as a
// harness option, and the presets by release that say which protections a kernel's do_nmi has.
import * as fs from 'fs';
import * as path from 'path';
import {
  buildKernel,
  DO_NMI_PRESETS,
  doNmiPreset,
  extractNmiEntry,
  getDesign,
  Kernel,
  LAYOUT,
  loadDesignFromSource,
  PERCPU,
} from '../../kernel-lib';
import type { Design } from '../../kernel-lib';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'entry-files');

/** The 4.x-style entry of the fixtures: it saves no CR2 itself, as from Linux 4.2. */
function entry4x(harness: Record<string, boolean>): Design {
  const file = path.join(FIXTURES, 'entry_64-4.x.S');
  const x = extractNmiEntry(fs.readFileSync(file, 'utf8'), 'entry_64-4.x.S');
  if (x.ok === false) throw new Error(x.errors.map((e) => e.message).join('\n'));
  return loadDesignFromSource(x.text, { id: 'entry-4x', listing: 'entry_64-4.x.S', harness });
}

function runTo(k: Kernel, label: string, extra?: () => boolean): void {
  const at = k.machine.symbol(label);
  const r = k.machine.run({ until: (m) => m.rip === at && (extra === undefined || extra()), maxSteps: 5000 });
  if (r.stop !== 'until') throw new Error(`did not reach ${label}: ${r.message}`);
}

/**
 * A page fault in kernel code; an NMI arrives in the page-fault handler before it has read CR2;
 * do_nmi page-faults too. The CR2 the interrupted handler then reads (7fbb98c5cb07's scenario).
 */
function cr2SeenByInterruptedFault(design: Design): bigint {
  const k = buildKernel({ design, workload: 'kernel' });
  k.armException({ at: 'kernel_fault_point', kind: 'pf' }); // CR2 = workloadFaultAddress
  runTo(k, 'error_entry');
  k.machine.raiseNmi();
  k.armException({ at: 'nmi_point_middle', kind: 'pf' }); // CR2 = nmiFaultAddress
  runTo(k, 'kernel_fault_point', () => k.global('pf_count') === 2n);
  expect(k.failure()).toBeNull();
  const faults = k.pageFaults();
  expect(faults[0].cr2).toBe(LAYOUT.nmiFaultAddress); // do_nmi's own fault came first
  return faults[1].cr2;
}

describe('doNmiCr2: CR2 saved and restored by do_nmi (Linux 4.2 nmi.c, nmi_cr2; commit 0e181bb58143)', () => {
  test('with it, an entry that saves no CR2 itself hands the interrupted page-fault handler its own address', () => {
    expect(cr2SeenByInterruptedFault(entry4x({ doNmiCr2: true }))).toBe(LAYOUT.workloadFaultAddress);
  });

  test("without it, the same entry hands that handler the NMI's faulting address", () => {
    expect(cr2SeenByInterruptedFault(entry4x({}))).toBe(LAYOUT.nmiFaultAddress);
  });

  test('CR2 is saved into the per-CPU nmi_cr2 when do_nmi starts, before the restart point', () => {
    const k = buildKernel({ design: entry4x({ doNmiCr2: true, doNmiLatch: true }), workload: 'kernel' });
    k.machine.cpu.writeControl(2, 0x1234, 0);
    k.machine.raiseNmi();
    runTo(k, 'do_nmi_body');
    expect(k.percpu('nmi_cr2')).toBe(0x1234n);
    expect(PERCPU.nmi_cr2).toBeGreaterThan(PERCPU.nmi_state); // a per-CPU variable of its own
  });

  test('a latched NMI runs do_nmi again, and CR2 is put back at the end of each round', () => {
    // An NMI from user mode runs do_nmi on the kernel stack; a #PF in it changes CR2 and its IRET
    // unblocks NMIs; a second NMI then finds do_nmi running, marks it LATCHED and returns.
    const k = buildKernel({
      design: entry4x({ doNmiCr2: true, doNmiLatch: true, nmiIdtTable: true }),
      workload: 'user',
    });
    const m = k.machine;
    m.raiseNmi();
    k.armException({ at: 'nmi_point_early', kind: 'pf', run: 1 });
    runTo(k, 'nmi_point_middle', () => !m.nmiBlocked);
    expect(m.cpu.cr2Lo).toBe(Number(LAYOUT.nmiFaultAddress & 0xffffffffn) | 0);
    m.raiseNmi();
    runTo(k, 'user_loop', () => k.doNmiRuns().length === 2);
    expect(k.doNmiRuns().map((r) => r.reentered)).toEqual([false, false]);
    expect(k.percpu('nmi_state')).toBe(0n);
    expect(m.cpu.cr2Lo).toBe(0);
    expect(m.cpu.cr2Hi).toBe(0);
    expect(k.failure()).toBeNull();
  });
});

describe('do_nmi presets by release', () => {
  test('each preset names what it models, what the entry must do, and its sources', () => {
    expect(DO_NMI_PRESETS.map((p) => p.release)).toEqual(['3.2', '3.3', '3.6', '4.2']);
    for (const p of DO_NMI_PRESETS) {
      expect(p.models.length).toBeGreaterThan(20);
      expect(p.entry.length).toBeGreaterThan(20);
      expect(p.sources.length).toBeGreaterThan(0);
    }
    expect(doNmiPreset('v4.2')).toBe(doNmiPreset('4.2'));
    expect(doNmiPreset('5.0')).toBeUndefined();
  });

  test('3.2: nothing in do_nmi; 3.3 and 3.6: the debug-stack switch only (the latch and nmi_cr2 were 32-bit only)', () => {
    expect(doNmiPreset('3.2')!.harness).toEqual({ nmiIdtTable: false, doNmiLatch: false, doNmiCr2: false });
    expect(doNmiPreset('3.3')!.harness).toEqual({ nmiIdtTable: true, doNmiLatch: false, doNmiCr2: false });
    expect(doNmiPreset('3.6')!.harness).toEqual(doNmiPreset('3.3')!.harness);
    expect(doNmiPreset('3.6')!.entry).toMatch(/7fbb98c5cb07/);
  });

  test('4.2: the latch, the CR2 save and the debug-stack switch, all in do_nmi (0e181bb58143)', () => {
    expect(doNmiPreset('4.2')!.harness).toEqual({ nmiIdtTable: true, doNmiLatch: true, doNmiCr2: true });
    expect(doNmiPreset('4.2')!.sources.join(' ')).toMatch(/0e181bb58143/);
  });

  test("the shipped designs of those releases ask for no C-side protection their release's preset lacks", () => {
    for (const [id, release] of [
      ['linux-3.3', '3.3'],
      ['linux-4.2', '4.2'],
    ] as const) {
      const h = getDesign(id).harness as Record<string, unknown>;
      const preset = doNmiPreset(release)!.harness as unknown as Record<string, boolean>;
      for (const k of Object.keys(preset)) if (h[k] === true) expect(`${id} ${k} ${preset[k]}`).toBe(`${id} ${k} true`);
    }
    expect(getDesign('linux-3.3').harness.nmiIdtTable).toBe(true);
  });

  test('loadDesignFromSource({ doNmi }) sets the harness options; a manifest that disagrees is an error', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'entry_64-4.x.S'), 'utf8');
    const x = extractNmiEntry(text, 'entry_64-4.x.S');
    if (x.ok === false) throw new Error('extraction failed');
    const d = loadDesignFromSource(x.text, { id: 'e', listing: 'entry_64-4.x.S', doNmi: '4.2' });
    expect(d.harness).toMatchObject({ nmiIdtTable: true, doNmiLatch: true, doNmiCr2: true });
    expect(() =>
      loadDesignFromSource(x.text, { listing: 'entry_64-4.x.S', doNmi: '4.2', harness: { doNmiLatch: false } }),
    ).toThrow(/harness\.doNmiLatch is false, but the do_nmi of 4\.2 has it true/);
    expect(() => loadDesignFromSource(x.text, { listing: 'entry_64-4.x.S', doNmi: '2.6' })).toThrow(
      /no do_nmi preset for release '2\.6' \(there are: 3\.2, 3\.3, 3\.6 or 4\.2\)/,
    );
  });
});
