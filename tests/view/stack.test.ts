// Stack diagrams read from live memory: labels from annotations and from deliveries, owners from the
// event log and from a trace's recorded writes, RSP markers, changes against a previous capture,
// code addresses symbolized; text and HTML renderers (HTML limited to what untrusted notebooks keep).
import {
  captureAround,
  captureStack,
  captureStacks,
  stackToHtml,
  stackToText,
  TraceRecorder,
} from '../../kernel-lib/view';
import { RFC_STACKS, rfcKernel, storyHook } from './fixtures/rfc-kernel';
import { LAB } from '../../kernel-lib/harness/lab-machine';

const slotAt = (d: ReturnType<typeof captureStack>, offset: number) => {
  const s = d.slots.filter((x) => x.offset === offset)[0];
  if (!s) throw new Error(`no slot T-${offset}`);
  return s;
};

test('the first NMI builds the RFC layout: annotations label it, the log says NMI #1 owns frame and data', () => {
  const m = rfcKernel();
  m.onBoundary(storyHook());
  m.run({ until: 'do_nmi', maxSteps: 500 });
  const d = captureStack(m, RFC_STACKS[0]);
  expect(d.top).toBe(LAB.nmiStackTop);
  expect(d.rsp).toBe(LAB.nmiStackTop - 168n);
  expect(slotAt(d, 8)).toMatchObject({
    label: 'original SS',
    group: 'hardware frame',
    value: 0x18n,
    owner: { label: 'NMI #1', role: 'frame' },
  });
  expect(slotAt(d, 40)).toMatchObject({ label: 'original RIP', symbol: 'loop+0x3' });
  expect(slotAt(d, 56)).toMatchObject({
    label: 'NMI executing variable',
    value: 1n,
    owner: { label: 'NMI #1', role: 'data' },
  });
  expect(slotAt(d, 136)).toMatchObject({ group: 'copied frame', symbol: 'loop+0x3' });
  expect(slotAt(d, 168).markers).toEqual(['RSP']);
  expect(slotAt(d, 168).symbol).toBe('end_repeat_nmi+0xd'); // the return address of `call do_nmi`
  expect(slotAt(d, 176).free).toBe(true);
  expect(d.slots.every((s) => !s.changed)).toBe(true);
});

test("nested NMI: its frame overwrites the first one's; the #BP frame on the debug stack is labelled from the log", () => {
  const m = rfcKernel();
  m.onBoundary(storyHook());
  m.run({ until: 'int3', maxSteps: 500 });
  const dbg = captureStack(m, RFC_STACKS[1]);
  expect(dbg.top).toBe(LAB.debugStackTop);
  expect(slotAt(dbg, 40)).toMatchObject({
    label: '#BP frame: RIP',
    symbol: 'do_nmi+0x4',
    owner: { label: '#BP #1', kind: 'bp', role: 'frame' },
    markers: ['RSP'],
  });
  const before = captureStacks(m, RFC_STACKS);
  m.run({ until: 'nested_nmi', maxSteps: 500 });
  const [nmi] = captureStacks(m, RFC_STACKS, { previous: before });
  expect(slotAt(nmi, 40)).toMatchObject({
    owner: { label: 'NMI #2 (nested)', kind: 'nested-nmi' },
    symbol: 'do_nmi+0x4',
    changed: true,
    previous: 0xffffffff8100000an,
  });
  expect(slotAt(nmi, 8)).toMatchObject({ owner: { label: 'NMI #2 (nested)' }, changed: false });
  expect(slotAt(nmi, 48).markers).toEqual(['RSP']);
  // The first NMI's data lies below the nested NMI's RSP: still its owner, but free space now.
  expect(slotAt(nmi, 96)).toMatchObject({ owner: { label: 'NMI #1' }, free: true });
  expect(slotAt(nmi, 168).markers).toEqual(['RSP when NMI #2 (nested) arrived']);
});

test("with a trace's writes, the copied frame the nested NMI rewrote is owned by it (before/after pair)", () => {
  const m = rfcKernel();
  const rec = new TraceRecorder(m, { watch: RFC_STACKS, hook: storyHook() });
  rec.run({ until: 'nested_nmi', maxSteps: 500 });
  const { before, after } = captureAround(m, RFC_STACKS[0], () => rec.run({ until: 'nested_nmi_out', maxSteps: 100 }), {
    writes: () => rec.writes,
  });
  rec.detach();
  expect(before.caption).toMatch(/^before/);
  const rip = slotAt(after, 136);
  expect(rip).toMatchObject({
    label: 'copied RIP',
    symbol: 'repeat_nmi+0',
    changed: true,
    owner: { label: 'NMI #2 (nested)' },
  });
  expect(slotAt(after, 112)).toMatchObject({ value: LAB.nmiStackTop - 96n, changed: true });
  expect(slotAt(after, 64).changed).toBe(false);
  expect(after.slots.filter((s) => s.changed).map((s) => s.offset)).toEqual([112, 120, 136]);
});

test('text diagram reads like the RFC: boxes per group, RSP arrows, changed marks with old values', () => {
  const m = rfcKernel();
  m.onBoundary(storyHook());
  m.run({ until: 'nested_nmi', maxSteps: 500 });
  const before = captureStack(m, RFC_STACKS[0]);
  m.run({ until: 'nested_nmi_out', maxSteps: 100 });
  const text = stackToText(captureStack(m, RFC_STACKS[0], { previous: before }));
  const lines = text.split('\n');
  expect(lines[0]).toBe('NMI stack (IST 3)   T = 0xffff880000020000   step 51   RSP = T-48');
  expect(text).toContain('+-[ Saved frame ]');
  expect(text).toContain('+-[ copied frame ]');
  expect(lines.filter((l) => l.includes('T-136'))[0]).toMatch(
    /^\* T-136 +0xffff88000001ff78 \| 0xffffffff81000087 <repeat_nmi\+0> +\| copied RIP +.*\(was 0xffffffff8100000a\)$/,
  );
  expect(lines.filter((l) => l.includes('T-48 '))[0]).toMatch(/temp storage for rdx .*<-- RSP/);
  expect(text).toContain('* changed since the previous capture');
});

test('HTML diagram: inline styles and bgcolor only, no script/style/svg, no class but its marker, escaped text', () => {
  const m = rfcKernel();
  m.onBoundary(storyHook());
  m.run({ until: 'nested_nmi', maxSteps: 500 });
  const html = stackToHtml(
    captureStack(m, {
      ...RFC_STACKS[0],
      annotations: [...RFC_STACKS[0].annotations!, { offset: 200, label: '<b>x</b> & y' }],
    }),
  );
  expect(html).not.toMatch(/<script|<style|<svg|class="(?!nmilab-stack")/i);
  expect(html).toContain('&lt;b&gt;x&lt;/b&gt; &amp; y');
  expect(html).toContain('&lt;do_nmi+0x4&gt;');
  expect(html).toContain('bgcolor="#ef9191"'); // nested NMI frame colour, kept where styles are stripped
  expect(html).toContain('&#9664; RSP');
});

test('unmapped memory and a stack RSP is not on', () => {
  const m = rfcKernel();
  const d = captureStack(m, { name: 'nowhere', top: 0x1000n, size: 4096 });
  expect(d.rsp).toBeNull();
  expect(d.slots.every((s) => s.value === null)).toBe(true);
  expect(stackToText(d)).toContain('unmapped');
});

test("annotations written the designs' way (negative offsets from the top) land on the same slots", () => {
  const m = rfcKernel();
  m.onBoundary(storyHook());
  m.run({ until: 'do_nmi', maxSteps: 500 });
  const d = captureStack(m, {
    name: 'NMI',
    top: LAB.nmiStackTop,
    annotations: [{ offset: -56, label: 'NMI executing', group: 'variable' }],
  });
  expect(slotAt(d, 56)).toMatchObject({ label: 'NMI executing', group: 'variable', value: 1n });
});
