// Small helpers shared by the HTML renderers.
//
// Every view's HTML must still read in an untrusted notebook: JupyterLab and the classic Notebook
// sanitise untrusted outputs, dropping <script>, <style> and <svg> elements and keeping inline
// `style` attributes (JupyterLab filters them against a list of ordinary CSS properties). So views
// use only tables, divs and spans with inline styles made of plain properties and #rrggbb colours:
// no classes that need a stylesheet, no CSS variables, gradients or position tricks.

/** Escape text for HTML element content and double-quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** Build an inline style attribute value from a property map (undefined values are skipped). */
export function css(props: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const key of Object.keys(props)) {
    const v = props[key];
    if (v === undefined) continue;
    parts.push(`${key}:${typeof v === 'number' ? `${v}px` : v}`);
  }
  return parts.join(';');
}

export const MONO = "ui-monospace,'SFMono-Regular','DejaVu Sans Mono',Menlo,Consolas,monospace";
export const SANS = "system-ui,-apple-system,'Segoe UI','DejaVu Sans',Arial,sans-serif";

/** `0x` and 16 hex digits: how addresses are shown (stack slots line up). */
export function hex64(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
}

/** `0x` and the shortest hex: how values are shown. */
export function hexShort(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

/** Colours for one owner of stack slots, or one context on a timeline. */
export interface Swatch {
  /** Slots of a hardware frame the CPU pushed; timeline bars. */
  strong: string;
  /** Slots the handler wrote (its data below the frame). */
  light: string;
  /** Text on either background. */
  ink: string;
}

const SWATCHES: Record<string, Swatch> = {
  nmi: { strong: '#f6c56f', light: '#fdebc8', ink: '#6b4100' },
  'nested-nmi': { strong: '#ef9191', light: '#fbdada', ink: '#7d1414' },
  bp: { strong: '#94bdf0', light: '#dbe9fb', ink: '#173f73' },
  db: { strong: '#c2aef0', light: '#ebe4fb', ink: '#42267d' },
  df: { strong: '#d99ac4', light: '#f6e0ee', ink: '#6c1650' },
  exception: { strong: '#94d6c0', light: '#daf2ea', ink: '#114d3b' },
  repeat: { strong: '#f3a95e', light: '#fde0c2', ink: '#6b3300' },
  kernel: { strong: '#b9c4cf', light: '#e9edf1', ink: '#2b3640' },
  user: { strong: '#a8d99a', light: '#e3f3de', ink: '#244d19' },
  annotation: { strong: '#d6d6d6', light: '#efefef', ink: '#333333' },
  other: { strong: '#cfcfcf', light: '#ececec', ink: '#333333' },
};

/**
 * The swatch for a kind of owner or context: 'nmi', 'nested-nmi', 'bp', 'db', 'df', 'exception',
 * 'repeat', 'kernel', 'user', 'annotation'; anything else gets a neutral grey.
 */
export function swatch(kind: string): Swatch {
  return SWATCHES[kind] ?? SWATCHES.other;
}

// Verdict colours: a family of shades per kind of outcome, the first shade for the first verdict of
// that kind. A verdict joining several violations ('re-entered do_nmi + hang (no return)') takes the
// family of the gravest one, in the order below.
const VERDICT_FAMILIES: { test: RegExp; shades: string[] }[] = [
  { test: /^(ok|pass|safe|correct|handled)\b/, shades: ['#4caf50', '#a5d6a7', '#2e7d32', '#c5e1a5'] },
  { test: /(shutdown|triple|crash)/, shades: ['#5c0f1f', '#9e3a55', '#3b0813'] },
  { test: /(double|#df|\bfault)/, shades: ['#8e24aa', '#ce93d8', '#5e1675'] },
  { test: /(nest|re-?ent|corrupt|clobber|overwrit)/, shades: ['#d93b3b', '#f4a09c', '#9b1c1c', '#e86a5f'] },
  { test: /(lost|missed|dropped)/, shades: ['#f29d1f', '#ffd391', '#b86e00'] },
  { test: /(hang|no return|loop|budget)/, shades: ['#546e7a', '#a7bcc6', '#263238'] },
  { test: /(transparen)/, shades: ['#00897b', '#80cbc4'] },
  { test: /(privilege)/, shades: ['#795548', '#c3a99d'] },
];
const VERDICT_EXTRA = ['#1e88e5', '#fdd835', '#5e35b1', '#ec407a', '#00acc1', '#c0ca33', '#3949ab', '#ff7043'];

/**
 * One colour per verdict, all different: ok in greens, violations by kind (re-entered handlers red,
 * lost NMIs orange, hangs blue-grey, faults purple, shutdowns dark red), others from a palette.
 */
export function verdictColors(verdicts: readonly string[]): string[] {
  const used = new Set<string>();
  const take = (c: string) => {
    used.add(c);
    return c;
  };
  return verdicts.map((verdict, i) => {
    const v = verdict.toLowerCase();
    const family = VERDICT_FAMILIES.find((f) => f.test.test(v));
    const free = (family ? family.shades : []).concat(VERDICT_EXTRA).find((c) => !used.has(c));
    if (free) return take(free);
    // More verdicts than colours: spread the rest around the hue circle.
    const hue = (i * 137) % 360;
    return take(hslHex(hue, 0.55, 0.5));
  });
}

function hslHex(h: number, s: number, l: number): string {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** A small coloured label (legend chips, owner names). */
export function chip(text: string, sw: Swatch, title?: string): string {
  const t = title ? ` title="${esc(title)}"` : '';
  return `<span${t} style="${css({ display: 'inline-block', background: sw.strong, color: sw.ink, padding: '0px 6px', 'border-radius': '3px', 'font-size': '11px', 'white-space': 'nowrap', 'margin-right': '4px' })}">${esc(text)}</span>`;
}
