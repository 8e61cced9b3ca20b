// Stack diagrams as text (terminal, CLI, tests) and as HTML (notebooks, exported pages).
// Both read like the RFC's ASCII picture: the top of the stack first, boxes around the slots a
// design names together ("Saved frame", "copied frame"), and arrows for RSP.
import type { StackDiagram, DiagramSlot, SlotOwner } from '../record/stack';
import { MONO, SANS, chip, css, esc, hex64, hexShort, swatch } from './html';

function offsetText(slot: DiagramSlot): string {
  return `T-${slot.offset}`;
}

function valueText(slot: DiagramSlot): string {
  if (slot.value === null) return 'unmapped';
  return slot.symbol ? `${hexShort(slot.value)} <${slot.symbol}>` : hexShort(slot.value);
}

function ownerText(owner: SlotOwner | null): string {
  if (!owner) return '';
  const parts = [owner.label];
  if (owner.role === 'frame') parts.push('frame');
  if (owner.step !== undefined) parts.push(`@${owner.step}`);
  if (owner.stale) parts.push('returned');
  return parts.length > 1 ? `${parts[0]} (${parts.slice(1).join(', ')})` : parts[0];
}

function headline(d: StackDiagram): string {
  const rsp = d.rsp === null ? 'RSP elsewhere' : `RSP = T-${Number(d.top - d.rsp)}`;
  return `${d.name}   T = ${hex64(d.top)}   step ${d.step}   ${rsp}${d.caption ? `   (${d.caption})` : ''}`;
}

/** Plain-text diagram: fixed-width columns, one line per slot. */
export function stackToText(d: StackDiagram): string {
  const valueW = Math.max(8, ...d.slots.map((s) => valueText(s).length));
  const labelW = Math.max(4, ...d.slots.map((s) => (s.label ?? '').length));
  const ownerW = Math.max(5, ...d.slots.map((s) => ownerText(s.owner).length));
  const boxW = valueW + 2;
  const lines: string[] = [headline(d)];
  lines.push(
    `  ${'offset'.padEnd(7)} ${'address'.padEnd(18)}  ${'value'.padEnd(boxW)}  ${'slot'.padEnd(labelW)}  ${'owner'.padEnd(ownerW)}`.trimEnd(),
  );
  const rule = (title: string | null) => {
    const name = title ? `[ ${title} ]` : '';
    const dashes = '-'.repeat(Math.max(0, boxW - name.length - 2));
    return `  ${''.padEnd(7)} ${''.padEnd(18)} +-${name}${dashes}+`;
  };
  let group: string | null | undefined;
  for (const s of d.slots) {
    const g = s.group ?? s.label;
    if (g !== group) {
      lines.push(rule(s.group));
      group = g;
    }
    const mark = s.changed ? '*' : ' ';
    const was =
      s.changed && s.previous !== undefined ? `  (was ${s.previous === null ? 'unmapped' : hexShort(s.previous)})` : '';
    const arrows = s.markers.map((x) => `<-- ${x}`).join('  ');
    const label = s.free && !s.label ? '' : (s.label ?? '');
    lines.push(
      `${mark} ${offsetText(s).padEnd(7)} ${hex64(s.address)} | ${valueText(s).padEnd(valueW)} | ${label.padEnd(labelW)}  ${ownerText(s.owner).padEnd(ownerW)}  ${arrows}${was}`.trimEnd(),
    );
  }
  lines.push(rule(null));
  if (d.clipped > 0) lines.push(`  ... ${d.clipped} more slot(s) down to RSP not shown`);
  if (d.compared) lines.push('  * changed since the previous capture');
  return lines.join('\n');
}

/** Several diagrams (or a before/after pair) one after another. */
export function stacksToText(diagrams: readonly StackDiagram[]): string {
  return diagrams.map(stackToText).join('\n\n');
}

const CELL = {
  padding: '1px 8px',
  'border-bottom': '1px solid #ffffff',
  'white-space': 'nowrap',
  'vertical-align': 'middle',
};

/** Cells that may wrap at spaces when a diagram would not fit (a symbol goes under its value). */
const WRAP = { 'white-space': 'normal' };

function groupRuns(slots: readonly DiagramSlot[]): { group: string | null; start: number; length: number }[] {
  const runs: { group: string | null; key: string | null; start: number; length: number }[] = [];
  slots.forEach((s, i) => {
    const key = s.group ?? s.label;
    const last = runs[runs.length - 1];
    if (last && last.key === key && key !== null) last.length++;
    else runs.push({ group: s.group, key, start: i, length: 1 });
  });
  return runs;
}

function rowColors(s: DiagramSlot): { bg: string; ink: string } {
  if (!s.owner) return s.free ? { bg: '#ffffff', ink: '#9e9e9e' } : { bg: '#f7f7f7', ink: '#555555' };
  const sw = swatch(s.owner.kind);
  // Below RSP but still holding someone's data (an interrupted handler's, when a nested event runs
  // on the same stack): keep the owner's colour, the text greyed.
  if (s.owner.stale || s.free) return { bg: s.owner.stale ? '#f2f2f2' : sw.light, ink: '#777777' };
  return { bg: s.owner.role === 'frame' ? sw.strong : sw.light, ink: sw.ink };
}

export interface StackHtmlOptions {
  /**
   * Add a column with each slot's absolute address (default false: the headline gives the top T,
   * and offsets from it identify slots; without the column a diagram fits a 900 px notebook output).
   */
  addresses?: boolean;
}

function wasText(s: DiagramSlot): string {
  return s.previous === undefined ? '' : s.previous === null ? 'unmapped' : hexShort(s.previous);
}

/**
 * The HTML diagram: a table with inline styles only (it reads in untrusted notebooks too), under
 * 900 px wide: no address column by default, a changed slot's old value written under its new one
 * rather than in a column of its own, and values, slot names, owners and the RSP arrows free to wrap
 * at spaces when the notebook is narrow.
 */
export function stackToHtml(d: StackDiagram, options: StackHtmlOptions = {}): string {
  const runs = groupRuns(d.slots);
  const runAt = new Map<number, { group: string | null; length: number }>();
  for (const r of runs) runAt.set(r.start, r);
  const th = css({
    ...CELL,
    'text-align': 'left',
    color: '#555555',
    'font-weight': 'normal',
    'font-size': '11px',
    'border-bottom': '1px solid #bbbbbb',
    background: '#ffffff',
  });
  const rows: string[] = [];
  d.slots.forEach((s, i) => {
    const { bg, ink } = rowColors(s);
    const run = runAt.get(i);
    const boxTop = run ? '2px solid #444444' : undefined;
    const cells: string[] = [];
    if (run) {
      cells.push(
        `<td rowspan="${run.length}" style="${css({ padding: '0px 6px', 'vertical-align': 'middle', 'text-align': 'right', 'font-family': SANS, 'font-size': '11px', color: '#333333', 'border-top': '2px solid #ffffff', 'border-right': run.group ? '3px solid #444444' : '3px solid #ffffff', 'max-width': '110px' })}">${esc(run.group ?? '')}</td>`,
      );
    }
    const base = { ...CELL, background: bg, color: ink, 'border-top': boxTop };
    const bga = ` bgcolor="${bg}"`;
    cells.push(`<td${bga} style="${css({ ...base, color: '#555555' })}">${esc(offsetText(s))}</td>`);
    if (options.addresses)
      cells.push(
        `<td${bga} style="${css({ ...base, color: '#666666', 'font-size': '11px' })}">${esc(hex64(s.address))}</td>`,
      );
    const changedStyle = s.changed
      ? { background: '#ffe45c', color: '#000000', 'font-weight': 'bold', 'border-left': '4px solid #e0a800' }
      : { 'border-left': '4px solid ' + bg };
    const sym = s.symbol
      ? ` <span style="${css({ color: '#0b5394', 'font-weight': 'bold' })}">&lt;${esc(s.symbol)}&gt;</span>`
      : '';
    const value = s.value === null ? '<i>unmapped</i>' : esc(hexShort(s.value));
    // The old value in words under the new one, so the change reads where styles are stripped.
    const was = s.changed
      ? `<br><span style="${css({ color: '#6b5200', 'font-size': '11px', 'font-weight': 'normal' })}">&#10033; changed${s.previous !== undefined ? `, was ${esc(wasText(s))}` : ''}</span>`
      : '';
    cells.push(
      `<td bgcolor="${s.changed ? '#ffe45c' : bg}" style="${css({ ...base, ...changedStyle, ...WRAP, 'min-width': '150px' })}">${value}${sym}${was}</td>`,
    );
    cells.push(
      `<td${bga} style="${css({ ...base, ...WRAP, 'font-family': SANS, 'min-width': '80px' })}">${esc(s.label ?? '')}</td>`,
    );
    const ownerTitle = s.owner ? ownerText(s.owner) : '';
    cells.push(
      `<td${bga} title="${esc(ownerTitle)}" style="${css({ ...base, ...WRAP, 'font-family': SANS, 'font-size': '11px', 'min-width': '70px' })}">${esc(s.owner ? s.owner.label + (s.owner.stale ? ' (returned)' : '') : '')}</td>`,
    );
    const marks = s.markers.map(
      (x) =>
        `<span style="${css({ color: x === 'RSP' ? '#c62828' : '#6a1b9a', 'font-weight': 'bold' })}">&#9664; ${esc(x)}</span>`,
    );
    cells.push(
      `<td style="${css({ padding: '1px 6px', 'font-family': SANS, 'font-size': '12px', background: '#ffffff', 'min-width': '60px', 'max-width': '170px' })}">${marks.join('<br>')}</td>`,
    );
    rows.push(`<tr>${cells.join('')}</tr>`);
  });
  const heads = ['', 'offset', ...(options.addresses ? ['address'] : []), 'value', 'slot', 'owner', ''];
  const header = `<tr>${heads.map((h) => `<th style="${th}">${h}</th>`).join('')}</tr>`;
  const rspText = d.rsp === null ? 'RSP is on another stack' : `RSP = T-${Number(d.top - d.rsp)}`;
  const title = `<div style="${css({ 'font-family': SANS, 'font-size': '13px', 'margin-bottom': '4px', color: '#222222' })}"><b>${esc(d.name)}</b> <span style="${css({ color: '#666666' })}">&middot; T = ${esc(hex64(d.top))} &middot; step ${d.step} &middot; ${esc(rspText)}${d.caption ? ` &middot; ${esc(d.caption)}` : ''}</span></div>`;
  const notes: string[] = [];
  if (d.clipped > 0) notes.push(`&hellip; ${d.clipped} more slot(s) down to RSP not shown`);
  const legend = d.owners
    .map((o) =>
      chip(
        o.label + (o.stale ? ' (returned)' : ''),
        o.stale ? { strong: '#e6e6e6', light: '#f2f2f2', ink: '#666666' } : swatch(o.kind),
      ),
    )
    .join(' ');
  const changed = d.compared
    ? `<span style="${css({ display: 'inline-block', background: '#ffe45c', 'border-left': '4px solid #e0a800', padding: '0px 6px', 'font-size': '11px' })}">&#10033; changed since the previous capture</span>`
    : '';
  const foot = `<div style="${css({ 'font-family': SANS, 'font-size': '11px', color: '#555555', 'margin-top': '4px', 'max-width': '760px' })}">${legend}${changed}${notes.length ? `<div>${notes.join('<br>')}</div>` : ''}</div>`;
  return `<div class="nmilab-stack" style="${css({ display: 'inline-block', 'vertical-align': 'top', margin: '4px 12px 8px 0px', 'max-width': '100%' })}">${title}<table style="${css({ 'border-collapse': 'collapse', 'font-family': MONO, 'font-size': '12px', 'line-height': '1.35', border: '0px' })}">${header}${rows.join('')}</table>${foot}</div>`;
}

/** Several diagrams side by side (they wrap on narrow screens). */
export function stacksToHtml(
  diagrams: readonly StackDiagram[],
  title?: string,
  options: StackHtmlOptions = {},
): string {
  const head = title
    ? `<div style="${css({ 'font-family': SANS, 'font-size': '14px', 'font-weight': 'bold', margin: '2px 0px 6px 0px' })}">${esc(title)}</div>`
    : '';
  return `<div>${head}${diagrams.map((d) => stackToHtml(d, options)).join('')}</div>`;
}

/** A before/after pair: the after diagram should have been captured with `previous: before`. */
export function beforeAfterHtml(
  before: StackDiagram,
  after: StackDiagram,
  title?: string,
  options: StackHtmlOptions = {},
): string {
  const arrow = `<div style="${css({ display: 'inline-block', 'vertical-align': 'top', 'font-size': '28px', color: '#888888', margin: '120px 10px 0px 0px' })}">&#10148;</div>`;
  const head = title
    ? `<div style="${css({ 'font-family': SANS, 'font-size': '14px', 'font-weight': 'bold', margin: '2px 0px 6px 0px' })}">${esc(title)}</div>`
    : '';
  return `<div>${head}${stackToHtml(before, options)}${arrow}${stackToHtml(after, options)}</div>`;
}
