// The trace recorder: per step the instruction, changed registers and watched memory, events and
// context (with a classifier for repeat_nmi), NMI blocking/latch state; text and HTML tables; speed.
import { TraceRecorder, classifyByLabels, recordTrace, traceToHtml, traceToText } from '../../kernel-lib/view';
import { RFC_STACKS, rfcKernel, storyHook } from './fixtures/rfc-kernel';
import { labMachine } from '../../kernel-lib/harness/lab-machine';

test('the nested-NMI story step by step', () => {
  const m = rfcKernel();
  const trace = recordTrace(m, {
    watch: RFC_STACKS,
    hook: storyHook(),
    classify: classifyByLabels(m, { repeat_nmi: ['repeat_nmi', 'end_repeat_nmi'] }),
    maxSteps: 1000,
  });
  expect(trace.stop).toBe('hlt');
  const first = trace.steps.filter((s) => s.events.some((e) => e.kind === 'deliver' && e.name === 'NMI'));
  expect(first.map((s) => s.context)).toEqual(['NMI #1', 'NMI #2 (nested)']);
  // The step that took the first NMI ran the handler's first instruction, and shows the frame pushed.
  expect(first[0]).toMatchObject({ where: 'nmi+0', text: 'pushq %rdx', nmiBlocked: true });
  expect(first[0].events.map((e) => e.kind)).toEqual(['nmi-raised', 'nmi-blocked', 'deliver']);
  expect(first[0].mem.map((w) => w.where)).toEqual([
    'NMI stack (IST 3) T-8',
    'NMI stack (IST 3) T-16',
    'NMI stack (IST 3) T-24',
    'NMI stack (IST 3) T-32',
    'NMI stack (IST 3) T-40',
  ]);
  expect(first[0].regs.map((r) => r.name)).toEqual(['rsp']); // IF was already clear in this kernel loop
  // The #BP's IRET unblocks NMIs inside the first NMI: the bug the RFC works around.
  const bpIret = trace.steps.filter((s) => s.context === '#BP #1' && s.text === 'iretq')[0];
  expect(bpIret.nmiBlocked).toBe(false);
  expect(bpIret.events.map((e) => e.kind)).toEqual(['nmi-unblocked', 'iret']);
  // The nested NMI points the copied frame at repeat_nmi; the classifier names that path.
  const rewrite = trace.steps.filter((s) => s.text === 'pushq $repeat_nmi')[0];
  expect(rewrite.mem).toEqual([
    {
      address: RFC_STACKS[0].top - 136n,
      where: 'NMI stack (IST 3) T-136',
      before: 0xffffffff8100000an,
      after: m.symbol('repeat_nmi'),
    },
  ]);
  expect(trace.steps.some((s) => s.context === 'repeat_nmi' && s.step > rewrite.step)).toBe(true);
  expect(trace.contexts.map((c) => c.label)).toEqual(['NMI #1', '#BP #1', 'NMI #2 (nested)', '#BP #2']);
});

test('text and HTML tables, with a filter and a row cap', () => {
  const m = rfcKernel();
  const trace = recordTrace(m, { watch: RFC_STACKS, hook: storyHook(), maxSteps: 1000 });
  const text = traceToText(trace, { filter: (s) => s.events.length > 0, symbolize: (a) => m.symbolize(a) });
  const lines = text.split('\n');
  expect(lines[0]).toMatch(/^ +step +context +where +instruction +nmi +changes \/ events$/);
  expect(text).toMatch(
    /NMI #2 \(nested\) +nmi\+0 +pushq %rdx +B- .*! NMI arrives {2}! NMIs blocked {2}! NMI delivered \(IST 3\)/,
  );
  expect(text).toContain('! IRET to repeat_nmi+0');
  expect(text).toMatch(/stop: hlt/);
  const capped = traceToText(trace, { maxRows: 3 });
  expect(capped).toMatch(/\.\.\. \d+ more step\(s\) not shown/);
  const html = traceToHtml(trace, { maxRows: 50 });
  expect(html).not.toMatch(/<script|<style|<svg/i);
  expect(html).toContain('NMI delivered (IST 3)');
  expect(html).toContain('more step(s) not shown');
});

test('an NMI while blocked is latched, a third collapses; recorder keeps up with thousands of steps', () => {
  const m = labMachine({
    source: `
_start:
  movq $0, %rax
1: incq %rax
  cmpq $3000, %rax
  jb 1b
  hlt
nmi:
  nop
  nop
  iretq
`,
  });
  let raised = 0;
  const rec = new TraceRecorder(m, {
    watch: [{ name: 'NMI stack', top: 0xffff880000020000n, bytes: 256 }],
    hook: (mm) => {
      if (mm.steps >= 10 && raised < 3) {
        raised++;
        mm.raiseNmi();
      }
    },
  });
  const t0 = Date.now();
  const trace = rec.run({ maxSteps: 12000 });
  rec.detach();
  const ms = Date.now() - t0;
  expect(trace.stop).toBe('hlt');
  expect(trace.steps.length).toBeGreaterThan(9000);
  expect(ms).toBeLessThan(3000);
  const kinds = trace.steps.flatMap((s) => s.events.map((e) => e.kind));
  expect(kinds).toContain('nmi-latched');
  expect(kinds).toContain('nmi-collapsed');
  expect(kinds).toContain('nmi-latch-consumed');
  expect(trace.steps.some((s) => s.nmiPending)).toBe(true);
});
