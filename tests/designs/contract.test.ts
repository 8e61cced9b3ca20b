// The source contract: the worked example in kernel-lib/designs/README.md, run as written; the
// registry; the `nmi-lab designs` command.
import * as fs from 'fs';
import * as path from 'path';
import { buildKernel, listDesigns, loadDesignFromSource, summarizeDesign } from '../../kernel-lib';
import { main } from '../../kernel-lib/cli/main';
import { runTo } from './helpers';
import { nestAfterBreakpoint } from '../../kernel-lib/harness/scenario';

const README = fs.readFileSync(path.join(__dirname, '../../kernel-lib/designs/README.md'), 'utf8');
const EXAMPLE = /```asm\n([\s\S]*?)```/.exec(README)![1];

describe('the README worked example (copy-and-drop)', () => {
  const design = loadDesignFromSource(EXAMPLE, { id: 'copy-and-drop', listing: 'copy-and-drop.S' });

  test('handles single NMIs from every workload', () => {
    for (const workload of ['kernel', 'user', 'syscall', 'debug'] as const) {
      const k = buildKernel({ design, workload });
      k.machine.raiseNmi();
      k.machine.run({ maxSteps: 600 });
      expect(k.doNmiRuns()).toHaveLength(1);
      expect(k.failure()).toBeNull();
    }
  });

  test('survives a nested NMI, but drops it', () => {
    const k = buildKernel({ design });
    const m = k.machine;
    const interrupted = nestAfterBreakpoint(k);
    m.raiseNmi();
    runTo(k, 'kernel_fault_point', () => k.machine.reg('rsp') > k.nmiStackTop);
    expect(m.rip).toBe(interrupted);
    expect(k.doNmiRuns()).toHaveLength(1);
    expect(k.unservedNmis()).toHaveLength(1);
    expect(k.failure()).toBeNull();
  });

  test('the hole the README describes: an NMI between "flag := 0" and the IRET loops the IRET onto itself', () => {
    const k = buildKernel({ design });
    const m = k.machine;
    m.raiseNmi();
    k.armException({ at: 'nmi_point_early', kind: 'bp', run: 1 });
    const finalIret = k.program.instructions.find(
      (i) => i.op === 'iret' && i.address > m.symbol('nmi_restore'),
    )!.address;
    m.run({ until: (mm) => mm.rip === finalIret && !mm.nmiBlocked, maxSteps: 1000 });
    m.raiseNmi();
    m.run({ maxSteps: 1000 });
    const irets = m.log.filter((e) => e.kind === 'iret').slice(-3);
    expect(irets.map((e) => e.toRip)).toEqual([finalIret, finalIret, finalIret]);
    const iterations = k.global('workload_iterations');
    m.run({ maxSteps: 1000 });
    expect(k.global('workload_iterations')).toBe(iterations); // the interrupted code never resumes
  });
});

describe('the registry', () => {
  test('lists the shipped designs in history order, each with a manifest that says where it comes from', () => {
    const ids = listDesigns().map((d) => d.id);
    // The designs the story tells, in its order (docs/sources.md). A design added later may sit
    // anywhere among them (its manifest's order says where); these keep their relative order.
    const story = [
      'unprotected',
      'linus-2010',
      'iret-fault',
      'rfc-2011',
      'linux-3.3',
      'linux-3.4',
      'linux-3.6',
      'linux-3.8',
      'linux-4.2',
      'fred',
    ];
    expect(ids.filter((id) => story.includes(id))).toEqual(story);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of listDesigns()) {
      expect(d.source.length).toBeGreaterThan(10);
      expect(typeof d.reconstruction).toBe('boolean');
      if (d.harness.fred) continue; // FRED's frame has no fixed IST slot
      expect(d.stack.length).toBeGreaterThan(0);
      expect(d.stack.find((s) => s.name === 'hardware RIP')?.offset).toBe(-40);
    }
  });

  test('frame annotations match the listings (T-56 is "NMI executing" where there is one)', () => {
    const nesting = ['rfc-2011', 'linux-3.3', 'linux-3.4', 'linux-3.6', 'linux-3.8', 'linux-4.2'];
    for (const d of listDesigns().filter((x) => nesting.includes(x.id))) {
      expect(d.stack.find((s) => s.group === 'variable')?.offset).toBe(-56);
    }
  });

  test('nmi-lab designs --json prints the summaries; without --json a table', async () => {
    let out = '';
    const io = {
      out: (t: string) => {
        out += t;
      },
      err: () => undefined,
    };
    expect(await main(['designs', '--json'], io)).toBe(0);
    const parsed = JSON.parse(out);
    expect(parsed).toEqual(listDesigns().map(summarizeDesign));
    expect(Object.keys(parsed[0])).toEqual(['id', 'title', 'year', 'author', 'source', 'summary', 'reconstruction']);
    out = '';
    expect(await main(['designs'], io)).toBe(0);
    expect(out).toMatch(/^id\s+year\s+author/);
    expect(out).toMatch(/linux-3\.3\s+2012\s+Steven Rostedt/);
    expect(out).toMatch(/3f3c8b8c4b2a/);
  });
});
