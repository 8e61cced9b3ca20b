// Traces as a compact table: text for the terminal and tests, HTML (inline styles) for notebooks.
import type { MachineEvent } from '../machine/event-log';
import type { Trace, TraceStep } from '../record/trace';
import { MONO, SANS, css, esc, hexShort, swatch } from './html';

/** One event in a few words: 'NMI delivered (IST 3)', 'NMIs unblocked by IRET', 'IRET to repeat_nmi+0'. */
export function eventText(e: MachineEvent, symbolize?: (a: bigint) => string | null): string {
  const at = (a: bigint | undefined) => (a === undefined ? '?' : (symbolize && symbolize(a)) || hexShort(a));
  switch (e.kind) {
    case 'nmi-raised':
      return 'NMI arrives';
    case 'deliver':
      return `${e.name ?? 'event'} delivered${e.ist ? ` (IST ${e.ist})` : ''}`;
    case 'nmi-blocked':
      return 'NMIs blocked';
    case 'nmi-unblocked':
      return `NMIs unblocked${e.detail ? ` ${e.detail}` : ''}`;
    case 'nmi-latched':
      return 'NMI latched (pending)';
    case 'nmi-collapsed':
      return 'NMI collapsed into the latch (lost)';
    case 'nmi-latch-consumed':
      return 'latched NMI taken';
    case 'fault':
      return `${e.name ?? 'exception'} raised${e.detail ? `: ${e.detail}` : ''}`;
    case 'delivery-fault':
      return `fault while delivering${e.detail ? `: ${e.detail}` : ''}`;
    case 'double-fault':
      return `double fault${e.detail ? `: ${e.detail}` : ''}`;
    case 'shutdown':
      return `SHUTDOWN${e.detail ? `: ${e.detail}` : ''}`;
    case 'iret':
      return `IRET to ${at(e.toRip)}`;
    case 'syscall':
      return 'SYSCALL';
    case 'sysret':
      return `SYSRET to ${at(e.toRip)}`;
    case 'swapgs':
      return 'SWAPGS';
    case 'hlt':
      return 'HLT';
    default:
      return e.kind;
  }
}

/** Which events are worth a badge colour in HTML. */
function eventSwatch(e: MachineEvent): { bg: string; ink: string } {
  if (e.kind === 'shutdown' || e.kind === 'double-fault' || e.kind === 'delivery-fault')
    return { bg: '#5c0f1f', ink: '#ffffff' };
  if (
    e.kind === 'nmi-raised' ||
    e.kind === 'nmi-latched' ||
    e.kind === 'nmi-collapsed' ||
    e.kind === 'nmi-latch-consumed'
  )
    return { bg: '#d84315', ink: '#ffffff' };
  if (e.kind === 'deliver')
    return e.name === 'NMI' ? { bg: '#f6c56f', ink: '#6b4100' } : { bg: '#94bdf0', ink: '#173f73' };
  if (e.kind === 'nmi-blocked' || e.kind === 'nmi-unblocked') return { bg: '#eeeeee', ink: '#333333' };
  if (e.kind === 'iret') return { bg: '#455a64', ink: '#ffffff' };
  if (e.kind === 'fault') return { bg: '#26a69a', ink: '#ffffff' };
  return { bg: '#e0e0e0', ink: '#333333' };
}

function changesText(s: TraceStep): string {
  const parts: string[] = [];
  for (const r of s.regs) parts.push(`${r.name}=${hexShort(r.after)}`);
  for (const w of s.mem) parts.push(`[${w.where}]=${w.after === null ? '?' : hexShort(w.after)}`);
  return parts.join(' ');
}

export interface TraceViewOptions {
  /** Keep only these steps (e.g. `(s) => s.events.length > 0`). */
  filter?: (s: TraceStep) => boolean;
  /** Most rows shown (default 400): the first maxRows of those selected, then a note. */
  maxRows?: number;
  /** Turns addresses in events into symbols (pass `(a) => m.symbolize(a)`). */
  symbolize?: (a: bigint) => string | null;
  title?: string;
}

function select(trace: Trace, options: TraceViewOptions): { rows: TraceStep[]; hidden: number } {
  const all = options.filter ? trace.steps.filter(options.filter) : trace.steps;
  const max = options.maxRows ?? 400;
  return { rows: all.slice(0, max), hidden: Math.max(0, all.length - max) };
}

/** Text table: step, context, where, instruction, changes, events. */
export function traceToText(trace: Trace, options: TraceViewOptions = {}): string {
  const { rows, hidden } = select(trace, options);
  const ctxW = Math.max(7, ...rows.map((r) => r.context.length));
  const whereW = Math.max(5, ...rows.map((r) => r.where.length));
  const textW = Math.max(11, ...rows.map((r) => r.text.length));
  const lines: string[] = [];
  if (options.title) lines.push(options.title);
  lines.push(
    `${'step'.padStart(6)}  ${'context'.padEnd(ctxW)}  ${'where'.padEnd(whereW)}  ${'instruction'.padEnd(textW)}  nmi  changes / events`,
  );
  for (const r of rows) {
    const nmi = `${r.nmiBlocked ? 'B' : '-'}${r.nmiPending ? 'L' : '-'}`;
    const events = r.events.map((e) => eventText(e, options.symbolize));
    const tail = [changesText(r), ...events.map((e) => `! ${e}`)].filter((x) => x.length > 0).join('  ');
    lines.push(
      `${String(r.step).padStart(6)}  ${r.context.padEnd(ctxW)}  ${r.where.padEnd(whereW)}  ${r.text.padEnd(textW)}  ${nmi.padEnd(3)}  ${tail}`.trimEnd(),
    );
  }
  if (hidden > 0) lines.push(`... ${hidden} more step(s) not shown`);
  lines.push(
    `(${trace.steps.length} step(s) recorded${trace.dropped ? `, ${trace.dropped} dropped` : ''}; stop: ${trace.stop}; nmi column: B = NMIs blocked, L = NMI latched)`,
  );
  return lines.join('\n');
}

/** HTML table with rows tinted by context and events as badges. */
export function traceToHtml(trace: Trace, options: TraceViewOptions = {}): string {
  const { rows, hidden } = select(trace, options);
  const th = css({
    padding: '2px 8px',
    'text-align': 'left',
    'font-weight': 'normal',
    color: '#555555',
    'font-size': '11px',
    'border-bottom': '1px solid #999999',
    'font-family': SANS,
    background: '#ffffff',
  });
  const body = rows
    .map((r) => {
      const sw = swatch(r.contextKind);
      const td = (extra: Record<string, string | number | undefined> = {}) =>
        css({
          padding: '1px 8px',
          'border-bottom': '1px solid #ffffff',
          'vertical-align': 'top',
          background: sw.light,
          color: '#222222',
          ...extra,
        });
      const changes = [
        ...r.regs.map(
          (c) => `<span title="was ${esc(hexShort(c.before))}">${esc(c.name)}=${esc(hexShort(c.after))}</span>`,
        ),
        ...r.mem.map(
          (w) =>
            `<span title="was ${esc(w.before === null ? '?' : hexShort(w.before))}" style="${css({ background: '#ffe45c', padding: '0px 2px' })}">[${esc(w.where)}]=${esc(w.after === null ? '?' : hexShort(w.after))}</span>`,
        ),
      ].join(' ');
      const events = r.events
        .map((e) => {
          const c = eventSwatch(e);
          return `<span style="${css({ display: 'inline-block', background: c.bg, color: c.ink, padding: '0px 5px', margin: '0px 3px 1px 0px', 'border-radius': '3px', 'font-family': SANS, 'font-size': '11px', 'white-space': 'nowrap' })}">${esc(eventText(e, options.symbolize))}</span>`;
        })
        .join('<br>');
      const nmi = `${r.nmiBlocked ? '<b title="NMIs blocked">B</b>' : '&middot;'}${r.nmiPending ? '<b title="an NMI is latched" style="color:#d84315">L</b>' : '&middot;'}`;
      return (
        `<tr><td style="${td({ 'text-align': 'right', color: '#666666' })}">${r.step}</td>` +
        `<td style="${td({ 'font-family': SANS, 'white-space': 'nowrap', color: sw.ink, 'border-left': `4px solid ${sw.strong}` })}">${esc(r.context)}</td>` +
        `<td style="${td({ 'white-space': 'nowrap', color: '#0b5394' })}" title="${esc(r.source ?? '')}">${esc(r.where)}</td>` +
        `<td style="${td({ 'white-space': 'nowrap' })}">${esc(r.text)}</td>` +
        `<td style="${td({ 'text-align': 'center' })}">${nmi}</td>` +
        `<td style="${td({ 'font-size': '11px' })}">${changes}</td>` +
        `<td style="${td()}">${events}</td></tr>`
      );
    })
    .join('');
  const head = `<tr><th style="${th}">step</th><th style="${th}">context</th><th style="${th}">where</th><th style="${th}">instruction</th><th style="${th}">NMI</th><th style="${th}">changed</th><th style="${th}">events</th></tr>`;
  const title = options.title
    ? `<div style="${css({ 'font-family': SANS, 'font-size': '13px', 'font-weight': 'bold', 'margin-bottom': '4px' })}">${esc(options.title)}</div>`
    : '';
  const note = `<div style="${css({ 'font-family': SANS, 'font-size': '11px', color: '#666666', 'margin-top': '3px' })}">${hidden > 0 ? `&hellip; ${hidden} more step(s) not shown. ` : ''}${trace.steps.length} step(s) recorded${trace.dropped ? `, ${trace.dropped} dropped` : ''}; stop: ${esc(trace.stop)}. NMI column: B = NMIs blocked, L = an NMI is latched.</div>`;
  return `<div style="${css({ margin: '4px 0px 8px 0px' })}">${title}<table style="${css({ 'border-collapse': 'collapse', 'font-family': MONO, 'font-size': '12px', 'line-height': '1.35' })}">${head}${body}</table>${note}</div>`;
}
