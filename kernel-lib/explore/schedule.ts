// Schedules: which events arrive, and at which instruction boundary, as data and as a compact
// string a learner can paste into `nmi-lab replay`.
//
// Format (items separated by commas, spaces ignored):
//   rsp=0xADDR            optional, first: the user RSP of a user-mode workload (default: the user stack top)
//   KIND@WHERE            an event; KIND is nmi, bp, db or pf
// WHERE is one of
//   N                     the boundary after N instructions have retired since the steady state
//   LABEL[+0xOFF][#K]     the K-th boundary (default 1st) at that address after the previous event
// Events are applied in order; each must come after the previous one. Examples:
//   nmi@12,bp@nmi_point_early,nmi@do_nmi+0x5a
//   rsp=0xffff880000203800,nmi@system_call_after_swapgs+0
//   nmi@12,pf@nmi_point_late,nmi@nmi_restore+0x10#2
import type { Machine } from '../machine/machine';

export type ScheduleEventKind = 'nmi' | 'bp' | 'db' | 'pf';
export const EVENT_KINDS: readonly ScheduleEventKind[] = ['nmi', 'bp', 'db', 'pf'];

/** An event at a boundary, resolved: the step count (instructions retired since the steady state) and RIP. */
export interface ScheduleEvent {
  kind: ScheduleEventKind;
  /** Instructions retired since the steady state when the event arrives. */
  step: number;
  /** RIP at that boundary. */
  at: bigint;
}

export interface Schedule {
  /** User RSP for the `user` and `syscall` workloads (undefined: the harness default). */
  userRsp?: bigint;
  events: ScheduleEvent[];
}

/** A position as written in a schedule string, before it is resolved against a run. */
export type SchedulePosition =
  { type: 'step'; step: number } | { type: 'label'; label: string; offset: bigint; occurrence: number };

export interface ParsedEvent {
  kind: ScheduleEventKind;
  where: SchedulePosition;
  text: string;
}

export interface ParsedSchedule {
  userRsp?: bigint;
  events: ParsedEvent[];
}

export class ScheduleSyntaxError extends Error {}

/** Parse the string form; throws ScheduleSyntaxError with the offending item. */
export function parseSchedule(text: string): ParsedSchedule {
  const out: ParsedSchedule = { events: [] };
  const items = text
    .split(',')
    .map((s) => s.replace(/\s+/g, ''))
    .filter((s) => s.length > 0);
  items.forEach((item, i) => {
    const rsp = /^rsp=(0x[0-9a-f]+|\d+)$/i.exec(item);
    if (rsp) {
      if (i !== 0) throw new ScheduleSyntaxError(`'${item}': rsp= must come first`);
      out.userRsp = BigInt(rsp[1]);
      return;
    }
    const m = /^(nmi|bp|db|pf)@(.+)$/i.exec(item);
    if (!m) throw new ScheduleSyntaxError(`'${item}': expected KIND@WHERE with KIND one of ${EVENT_KINDS.join(', ')}`);
    const kind = m[1].toLowerCase() as ScheduleEventKind;
    const where = m[2];
    if (/^\d+$/.test(where)) {
      out.events.push({ kind, where: { type: 'step', step: Number(where) }, text: item });
      return;
    }
    const l = /^([A-Za-z_.$][\w.$]*)(?:\+(0x[0-9a-f]+|\d+))?(?:#(\d+))?$/i.exec(where);
    if (!l) throw new ScheduleSyntaxError(`'${item}': WHERE must be a step count or LABEL[+OFFSET][#K]`);
    const occurrence = l[3] === undefined ? 1 : Number(l[3]);
    if (occurrence < 1) throw new ScheduleSyntaxError(`'${item}': #K counts from 1`);
    out.events.push({
      kind,
      where: { type: 'label', label: l[1], offset: l[2] === undefined ? 0n : BigInt(l[2]), occurrence },
      text: item,
    });
  });
  return out;
}

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

/** The step form: `nmi@12,bp@40` (exact, but says nothing about where). */
export function formatScheduleSteps(s: Schedule): string {
  const parts = s.events.map((e) => `${e.kind}@${e.step}`);
  if (s.userRsp !== undefined) parts.unshift(`rsp=${hex(s.userRsp)}`);
  return parts.join(',');
}

/**
 * The label form, `nmi@first_nmi+0x4,bp@nmi_point_early+0`, with `#K` where the address is reached
 * more than once between two events. `visits(from, to, address)` counts the boundaries at `address`
 * with step in [from, to] (both events' boundaries included), as the explorer's replay saw them.
 */
export function formatScheduleLabels(s: Schedule, m: Machine, occurrence: (index: number) => number): string {
  const parts = s.events.map((e, i) => {
    const name = m.symbolize(e.at) ?? hex(e.at);
    const k = occurrence(i);
    return `${e.kind}@${name}${k > 1 ? `#${k}` : ''}`;
  });
  if (s.userRsp !== undefined) parts.unshift(`rsp=${hex(s.userRsp)}`);
  return parts.join(',');
}

/** Fewer events first, then the earlier first differing event (step, then nmi before exceptions). */
export function compareSchedules(a: readonly ScheduleEvent[], b: readonly ScheduleEvent[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    if (a[i].step !== b[i].step) return a[i].step - b[i].step;
    const ka = EVENT_KINDS.indexOf(a[i].kind);
    const kb = EVENT_KINDS.indexOf(b[i].kind);
    if (ka !== kb) return ka - kb;
  }
  return 0;
}
