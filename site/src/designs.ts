// Which design the page runs: a shipped one by id, or a shipped one's listing as the user edited it
// (same manifest: harness options, stack annotations, intended faults; only the text differs). The
// page and the explorer's worker both make the edited design here, so they agree on it.
import { checkDesignSource, getDesign, INTENDABLE_FAULTS, listDesigns } from './library';
import type { CheckDesignResult, Design } from './library';

/** A design as a message can carry it: a shipped id, or a shipped id with an edited listing. */
export type DesignRef = string | { base: string; text: string };

/** The shipped design's id, or a one-line error naming the ones there are. */
export function shippedDesign(id: string): Design {
  return getDesign(id);
}

export function shippedIds(): string[] {
  return listDesigns().map((d) => d.id);
}

/** Check an edited listing of a shipped design against the harness; diagnostics name the listing's file. */
export function checkEdited(base: Design, text: string): CheckDesignResult {
  const fault = (vector: number) =>
    Object.keys(INTENDABLE_FAULTS).find((k) => INTENDABLE_FAULTS[k] === vector) as string;
  return checkDesignSource(text, {
    id: `${base.id}-edited`,
    title: `${base.title} (edited)`,
    year: base.year,
    author: base.author,
    source: `${base.source}, edited in the playground`,
    summary: base.summary,
    reconstruction: base.reconstruction,
    notes: base.notes,
    listing: base.fileName,
    harness: base.harness,
    order: base.order,
    stack: base.stack,
    returnsWithoutIret: base.returnsWithoutIret,
    intendedFaults: base.intendedFaults.map((f) => ({ fault: fault(f.vector), at: f.at })),
  });
}

/** The design a reference names; throws an Error with the diagnostics when an edited listing does not assemble. */
export function resolveRef(ref: DesignRef): Design {
  if (typeof ref === 'string') return shippedDesign(ref);
  const r = checkEdited(shippedDesign(ref.base), ref.text);
  if (r.ok === false) throw new Error(`the edited listing does not assemble (${r.errors.length} error(s))`);
  return r.design;
}
