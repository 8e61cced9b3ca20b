// What a design is: a listing (.S) plus a manifest (.json) describing it. The manifest carries
// the facts a reader and the views need: where the design comes from, whether the listing is a
// reconstruction, and what each slot of the NMI stack holds (offsets from the IST top T).
import { Vector } from '../isa/faults';

/**
 * How the harness lays out the exception stacks a design runs on (harness/layout.ts describes
 * both): Linux 3.x's one contiguous array, or each stack above an unmapped guard page.
 */
export type StackLayout = 'contiguous' | 'guard-pages';
export const STACK_LAYOUTS: readonly StackLayout[] = ['contiguous', 'guard-pages'];

/** One 8-byte slot (or a range) of the NMI stack, at T + offset (offset < 0). */
export interface StackSlot {
  /** Lowest byte of the slot relative to the IST top: -8 is the slot [T-8, T). */
  offset: number;
  /** Bytes (default 8). */
  size: number;
  /** e.g. 'copied RIP', 'NMI executing'. */
  name: string;
  /** e.g. 'hardware frame', 'saved frame', 'copied frame', 'pt_regs', 'scratch', 'variable'. */
  group: string;
  note?: string;
}

/** How a manifest may write a stack entry: one slot, or a whole 5-word frame by its RIP slot. */
export type StackEntry =
  | { offset: number; size?: number; name: string; group: string; note?: string }
  | { frame: string; rip: number; group: string; note?: string };

export interface DesignManifest {
  /** Short, stable, kebab-case: 'linux-3.3'. */
  id: string;
  title: string;
  year: number;
  author: string;
  /** Commit id, mailing-list date, or 'reconstruction'. */
  source: string;
  summary: string;
  /** True when the listing is not documented code but a plausible rebuild from a description. */
  reconstruction: boolean;
  /** What in the listing is reconstructed or simplified, and why. */
  notes?: string[];
  /** File name of the listing, next to the manifest. */
  listing: string;
  /** Harness options this design expects (e.g. Linux 3.3's nmi_idt_table companion in do_nmi). */
  harness?: HarnessOptions;
  /** Sort key for the registry (the history order). */
  order?: number;
  stack?: StackEntry[];
  /**
   * Labels of RET instructions that return to the code an event interrupted without IRET (Linus's
   * 2010 popf/ret for a nested NMI). The explorer checks invariant 3 (transparency) there as it
   * does at every IRET; it cannot tell such a return from an ordinary function return by itself.
   */
  returnsWithoutIret?: string[];
  /**
   * Faults the design raises on purpose, each by the instruction at a label: the IRET that
   * linus-2010 and iret-fault make fault ({ "fault": "#GP", "at": "nmi_iret" }). Invariant 4 does
   * not count them; a double fault or a shutdown always counts.
   */
  intendedFaults?: { fault: string; at: string }[];
}

/** The faults a design may declare intended, by name (SDM vol. 3, table 6-1). */
export const INTENDABLE_FAULTS: Record<string, number> = {
  '#DE': Vector.DE,
  '#UD': Vector.UD,
  '#TS': Vector.TS,
  '#NP': Vector.NP,
  '#SS': Vector.SS,
  '#GP': Vector.GP,
  '#PF': Vector.PF,
};

/**
 * Harness options a design may ask for (all optional, all off by default).
 * - nmiIdtTable: Linux 3.3's nmi_idt_table companion in do_nmi.
 * - fred: run the kernel with FRED event delivery (Linux 6.9+): the harness enables FRED with
 *   Linux's stack levels, enters every event through its FRED entry points and returns with
 *   ERETS/ERETU; the design's `nmi` is then called by the dispatcher, with pt_regs in %rdi.
 * - doNmiLatch: Linux 4.2's NOT_RUNNING / EXECUTING / LATCHED guard in do_nmi (nmi.c).
 * - doNmiCr2: Linux 4.2's CR2 save and restore in do_nmi (nmi.c, nmi_cr2): CR2 saved when the
 *   outermost run starts, put back at the end of each lap if the handler changed it.
 * - gates: IDT gates whose handler is a label of the design's listing instead of the harness's,
 *   by vector number (e.g. { "13": "my_general_protection" }); the gate keeps the harness's IST.
 * - stackLayout: how the IST stacks lie in memory (harness/layout.ts): 'contiguous', Linux 3.x's
 *   one array with no gaps (the default), or 'guard-pages', an unmapped page below every stack
 *   (Linux 5.2 and later; the default under fred).
 */
/** Every harness option, by name (what a manifest's `harness` may hold). */
export const HARNESS_OPTIONS = ['nmiIdtTable', 'fred', 'doNmiLatch', 'doNmiCr2', 'gates', 'stackLayout'] as const;

export interface HarnessOptions {
  nmiIdtTable?: boolean;
  fred?: boolean;
  doNmiLatch?: boolean;
  doNmiCr2?: boolean;
  gates?: Record<string, string>;
  stackLayout?: StackLayout;
}

/** The manifest fields that describe a design for readers, unchanged in a Design. */
type Description = Pick<DesignManifest, 'id' | 'title' | 'year' | 'author' | 'source' | 'summary' | 'reconstruction'>;

/** A design ready to assemble with the harness: its manifest with the defaults filled in. */
export interface Design extends Description {
  notes: string[];
  harness: HarnessOptions;
  order: number;
  /** The NMI stack annotations, expanded to single slots, highest address first. */
  stack: StackSlot[];
  /** Labels of RETs that return to interrupted code without IRET (DesignManifest.returnsWithoutIret). */
  returnsWithoutIret: string[];
  /** Faults the design raises on purpose (DesignManifest.intendedFaults), by vector. */
  intendedFaults: { vector: number; at: string }[];
  /** File name used in diagnostics. */
  fileName: string;
  /** The listing. */
  text: string;
}

/**
 * What decides a design's assembled program and its runs (not its description): the cache key of
 * both the assembled programs (harness/kernel.ts) and an explorer worker's explorer.
 */
export function designBehaviourKey(d: Design): string {
  return JSON.stringify([d.fileName, d.harness, d.returnsWithoutIret, d.intendedFaults, d.text]);
}

const FRAME_WORDS = ['RIP', 'CS', 'RFLAGS', 'RSP', 'SS'];

export function expandStack(entries: StackEntry[] | undefined): StackSlot[] {
  const out: StackSlot[] = [];
  for (const e of entries ?? []) {
    if ('frame' in e) {
      FRAME_WORDS.forEach((w, i) => {
        out.push({
          offset: e.rip + 8 * i,
          size: 8,
          name: `${e.frame} ${w}`,
          group: e.group,
          ...(e.note ? { note: e.note } : {}),
        });
      });
    } else {
      out.push({
        offset: e.offset,
        size: e.size ?? 8,
        name: e.name,
        group: e.group,
        ...(e.note ? { note: e.note } : {}),
      });
    }
  }
  return out.sort((a, b) => b.offset - a.offset);
}

/** Check a manifest's shape; returns problems in words (empty when fine). */
export function manifestProblems(m: unknown): string[] {
  const p: string[] = [];
  if (typeof m !== 'object' || m === null) return ['a manifest must be a JSON object'];
  const o = m as Record<string, unknown>;
  for (const k of ['id', 'title', 'author', 'source', 'summary', 'listing']) {
    if (typeof o[k] !== 'string' || (o[k] as string).length === 0) p.push(`'${k}' must be a non-empty string`);
  }
  if (typeof o.id === 'string' && !/^[a-z0-9][a-z0-9.-]*$/.test(o.id))
    p.push(`'id' must be lower-case kebab-case, not '${o.id}'`);
  if (typeof o.year !== 'number' || !Number.isInteger(o.year)) p.push("'year' must be an integer");
  if (typeof o.reconstruction !== 'boolean') p.push("'reconstruction' must be true or false");
  if (o.harness !== undefined) {
    const h = o.harness as Record<string, unknown>;
    if (typeof h !== 'object' || h === null) p.push("'harness' must be an object");
    else {
      for (const k of ['nmiIdtTable', 'fred', 'doNmiLatch', 'doNmiCr2'])
        if (h[k] !== undefined && typeof h[k] !== 'boolean') p.push(`'harness.${k}' must be true or false`);
      if (h.stackLayout !== undefined && !STACK_LAYOUTS.includes(h.stackLayout as StackLayout))
        p.push(`'harness.stackLayout' must be one of ${STACK_LAYOUTS.map((l) => `'${l}'`).join(', ')}`);
      if (h.gates !== undefined) {
        const g = h.gates as Record<string, unknown>;
        if (
          typeof g !== 'object' ||
          g === null ||
          Object.entries(g).some(([v, l]) => !/^[0-9]+$/.test(v) || Number(v) > 31 || typeof l !== 'string')
        ) {
          p.push("'harness.gates' maps exception vectors (0-31) to labels");
        }
      }
    }
  }
  if (
    o.returnsWithoutIret !== undefined &&
    (!Array.isArray(o.returnsWithoutIret) || o.returnsWithoutIret.some((n) => typeof n !== 'string' || n.length === 0))
  ) {
    p.push("'returnsWithoutIret' must be a list of labels");
  }
  if (
    o.intendedFaults !== undefined &&
    (!Array.isArray(o.intendedFaults) ||
      o.intendedFaults.some(
        (f) =>
          typeof f !== 'object' ||
          f === null ||
          typeof f.at !== 'string' ||
          !Object.prototype.hasOwnProperty.call(INTENDABLE_FAULTS, f.fault),
      ))
  ) {
    p.push(
      `'intendedFaults' must be a list of { fault, at }: fault one of ${Object.keys(INTENDABLE_FAULTS).join(', ')}, at a label`,
    );
  }
  if (o.notes !== undefined && (!Array.isArray(o.notes) || o.notes.some((n) => typeof n !== 'string')))
    p.push("'notes' must be a list of strings");
  if (o.stack !== undefined) {
    if (!Array.isArray(o.stack)) p.push("'stack' must be a list");
    else {
      o.stack.forEach((e: Record<string, unknown>, i: number) => {
        const ok =
          typeof e === 'object' &&
          e !== null &&
          typeof e.group === 'string' &&
          (('frame' in e && typeof e.frame === 'string' && typeof e.rip === 'number') ||
            (typeof e.offset === 'number' && typeof e.name === 'string'));
        if (!ok) p.push(`stack[${i}] needs {offset, name, group} or {frame, rip, group}`);
        else if (((e.offset ?? e.rip) as number) >= 0) p.push(`stack[${i}]: offsets are negative (below the IST top)`);
      });
    }
  }
  return p;
}

/** Make a Design from a manifest object and listing text. */
export function designFrom(manifest: DesignManifest, text: string, fileName = manifest.listing): Design {
  return {
    id: manifest.id,
    title: manifest.title,
    year: manifest.year,
    author: manifest.author,
    source: manifest.source,
    summary: manifest.summary,
    reconstruction: manifest.reconstruction,
    notes: manifest.notes ?? [],
    harness: { ...manifest.harness, ...(manifest.harness?.gates ? { gates: { ...manifest.harness.gates } } : {}) },
    order: manifest.order ?? 1000,
    stack: expandStack(manifest.stack),
    returnsWithoutIret: [...(manifest.returnsWithoutIret ?? [])],
    intendedFaults: (manifest.intendedFaults ?? []).map((f) => ({ vector: INTENDABLE_FAULTS[f.fault], at: f.at })),
    fileName,
    text,
  };
}
