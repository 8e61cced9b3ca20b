// What the work area shows for a session at its position: the stack diagrams (the library's own
// captures and renderer, as the notebooks draw them), the registers, the NMI state and the event
// log. Functions of the session only; the page decides when to call them.
import {
  captureStacks,
  debugStackSpec,
  eventText,
  GPR_NAMES,
  kernelStackSpec,
  nmiStackSpec,
  regionAt,
  stackToHtml,
} from './library';
import type { Kernel, MachineEvent, StackDiagram, StackSpec } from './library';
import type { Session } from './session';

export const esc = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/**
 * The stacks worth drawing: the NMI stack always; the debug stack, the task kernel stack and the
 * other IST stacks when RSP is on them or a live event's frame or data is there (or `all`).
 */
function stackSpecs(k: Kernel): StackSpec[] {
  const specs = [nmiStackSpec(k, { maxRows: 40 }), debugStackSpec(k, { maxRows: 16 })];
  for (const r of k.layout.regions) {
    if (r.top === undefined || r.ist === undefined) continue;
    if (r.top === k.nmiStackTop || r.top === k.debugStackTop) continue;
    specs.push({ name: r.describe.replace(/\(IST(\d)\)/, '(IST $1)'), top: r.top, size: r.size, maxRows: 16 });
  }
  specs.push(kernelStackSpec(k, { maxRows: 16 }));
  return specs;
}

export interface StackView {
  html: string;
  diagrams: StackDiagram[];
  /** Names of the stacks not drawn (not in use). */
  hidden: string[];
}

/** The stack diagrams now, marked against the previous ones (same stack by name). */
export function stacksView(s: Session, previous: readonly StackDiagram[], all: boolean): StackView {
  const k = s.kernel;
  const specs = stackSpecs(k);
  // Steps as the page counts them (from the steady state), not the machine's total.
  const diagrams = captureStacks(k.machine, specs, { previous: previous.length > 0 ? previous : undefined }).map(
    (d) => ({ ...d, step: s.step }),
  );
  const shown: StackDiagram[] = [];
  const hidden: string[] = [];
  diagrams.forEach((d, i) => {
    const inUse = i === 0 || d.rsp !== null || d.owners.some((o) => o.role !== 'annotation' && !o.stale);
    if (all || inUse) shown.push(d);
    else hidden.push(d.name);
  });
  return {
    html: shown.map((d) => `<div class="stack">${stackToHtml(d)}</div>`).join(''),
    diagrams,
    hidden,
  };
}

/** The registers as a grid, the ones changed since `previous` marked. */
export function registersView(
  s: Session,
  previous: Record<string, bigint> | null,
): {
  html: string;
  values: Record<string, bigint>;
} {
  const m = s.machine;
  const regs = m.registers() as Record<string, bigint>;
  const values: Record<string, bigint> = {};
  for (const n of GPR_NAMES) values[n] = regs[n];
  values.rip = m.rip;
  values.rflags = m.rflags;
  const cells = Object.entries(values).map(([name, v]) => {
    const changed = previous !== null && previous[name] !== undefined && previous[name] !== v;
    const sym = name === 'rip' || name === 'rflags' ? '' : ((m.instructionAt(v) ? m.symbolize(v) : null) ?? '');
    const title = sym ? ` title="${esc(sym)}"` : '';
    return `<div class="reg${changed ? ' changed' : ''}"${title}><span class="name">${name}</span><span class="value">${hex(v)}</span></div>`;
  });
  return { html: cells.join(''), values };
}

/** Which stack RSP is on, in words. */
export function stackOf(k: Kernel, rsp: bigint): string {
  const r = regionAt(k.layout, rsp - 1n);
  if (r === null) return 'RSP outside every mapped region';
  const top = r.top === undefined ? '' : r.top === rsp ? ' (at its top)' : ` T-${Number(r.top - rsp)}`;
  return `RSP on ${r.describe}${top}`;
}

export interface StatusItem {
  text: string;
  kind?: 'warn' | 'bad' | 'good';
  title?: string;
}

/** The status strip: where, which stack, NMI blocking and the latch, runs of do_nmi, a failure. */
export function statusItems(s: Session): StatusItem[] {
  const k = s.kernel;
  const m = k.machine;
  const insn = m.instructionAt();
  const items: StatusItem[] = [
    { text: `step ${s.step}` },
    { text: k.where(), title: insn ? `${insn.loc.file}:${insn.loc.line}  ${insn.text}` : undefined },
    { text: `CPL ${m.cpl}` },
    { text: m.nmiBlocked ? 'NMIs blocked' : 'NMIs unblocked', kind: m.nmiBlocked ? 'warn' : undefined },
    { text: m.nmiPending ? 'NMI latched' : 'latch empty', kind: m.nmiPending ? 'warn' : undefined },
    { text: stackOf(k, m.reg('rsp')) },
  ];
  const delivered = m.log.filter((e) => e.kind === 'deliver' && e.name === 'NMI').length;
  items.push({ text: `NMIs delivered ${delivered} · do_nmi runs ${k.doNmiRuns().length}` });
  const f = k.failure();
  if (f !== null) items.push({ text: `${f.kind}: ${f.message}${f.where ? ` at ${f.where}` : ''}`, kind: 'bad' });
  return items;
}

export function statusHtml(items: readonly StatusItem[]): string {
  return items
    .map(
      (i) =>
        `<span class="item${i.kind ? ` ${i.kind}` : ''}"${i.title ? ` title="${esc(i.title)}"` : ''}>${esc(i.text)}</span>`,
    )
    .join('');
}

/** The event log since the steady state (the last `max` entries), newest last. */
export function eventsView(s: Session, max = 80): string {
  const m = s.machine;
  const steady = s.kernel.steadyState.machine.logLength;
  const log = m.log.slice(steady);
  const first = Math.max(0, log.length - max);
  const base = m.steps - s.step;
  const symbolize = (a: bigint) => m.symbolize(a);
  const rows = log.slice(first).map((e: MachineEvent) => {
    const now = e.step === m.steps;
    const where = e.rip !== undefined ? ` at ${m.symbolize(e.rip) ?? hex(e.rip)}` : '';
    return `<li class="ev ev-${e.kind}${now ? ' now' : ''}"><span class="at">${e.step - base}</span> ${esc(eventText(e, symbolize))}<span class="where">${esc(where)}</span></li>`;
  });
  if (log.length === 0) return '<p class="empty">No events yet: raise an NMI (N) or run to the next event (E).</p>';
  const more = first > 0 ? `<li class="more">${first} earlier event(s)</li>` : '';
  return `<ol class="events">${more}${rows.join('')}</ol>`;
}
