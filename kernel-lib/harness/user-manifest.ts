// The manifest of a listing of the user's own: the same fields as a shipped design's manifest, all
// optional, with defaults for what it leaves out; read from JSON (`nmi-lab explore --manifest`) or
// given as an object (loadDesignFromSource). A preset for the kernel's do_nmi (`--do-nmi 4.2`) can
// supply the harness options that model the C side of the entry.
import { doNmiPreset, doNmiReleases } from './do-nmi-presets';
import type { DoNmiOptions } from './do-nmi-presets';
import { DesignManifest, HARNESS_OPTIONS, manifestProblems } from '../designs/manifest';

/** What loadDesignFromSource and checkDesignSource take: manifest fields, and a do_nmi preset. */
export type SourceDesignOptions = Partial<DesignManifest> & {
  /**
   * The release whose do_nmi surrounds the listing ('3.2', '3.3', '3.6', '4.2'; see
   * harness/do-nmi-presets.ts): sets the harness options nmiIdtTable, doNmiLatch and doNmiCr2.
   * A manifest that sets one of them differently is an error.
   */
  doNmi?: string;
};

/** The fields a manifest may have (a shipped design's use the same). */
export const MANIFEST_FIELDS = [
  'id',
  'title',
  'year',
  'author',
  'source',
  'summary',
  'reconstruction',
  'notes',
  'listing',
  'harness',
  'order',
  'stack',
  'returnsWithoutIret',
  'intendedFaults',
] as const;

/** A whole manifest from a partial one: defaults for what it leaves out. */
export function manifestFor(meta: Partial<DesignManifest>): DesignManifest {
  const id = meta.id ?? 'my-design';
  return {
    title: 'My design',
    year: new Date().getFullYear(),
    author: 'you',
    source: 'user-supplied listing',
    summary: 'A design from a listing of your own.',
    reconstruction: false,
    listing: `${id}.S`,
    // Only the fields given: an explicit `undefined` must not hide a default.
    ...(Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)) as Partial<DesignManifest>),
    id,
  };
}

/**
 * The options with the do_nmi preset applied to the harness options; problems in words (none when
 * all is well) when the release is unknown or the manifest's harness options disagree with it.
 */
export function withDoNmiPreset(meta: SourceDesignOptions): { meta: Partial<DesignManifest>; problems: string[] } {
  const { doNmi, ...rest } = meta;
  if (doNmi === undefined) return { meta: rest, problems: [] };
  const preset = doNmiPreset(doNmi);
  if (preset === undefined)
    return { meta: rest, problems: [`no do_nmi preset for release '${doNmi}' (there are: ${doNmiReleases()})`] };
  const harness = (rest.harness ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [k, v] of Object.entries(preset.harness) as [keyof DoNmiOptions, boolean][]) {
    if (harness[k] !== undefined && harness[k] !== v)
      problems.push(`harness.${k} is ${String(harness[k])}, but the do_nmi of ${preset.release} has it ${v}`);
  }
  if (problems.length > 0) return { meta: rest, problems };
  return { meta: { ...rest, harness: { ...rest.harness, ...preset.harness } }, problems: [] };
}

/**
 * Read a manifest of the user's own from JSON text. Errors name the file; fields the manifest
 * format does not have come back as warnings (a misspelt field would otherwise be ignored
 * silently).
 */
export function readUserManifest(
  text: string,
  file: string,
): { ok: true; meta: Partial<DesignManifest>; warnings: string[] } | { ok: false; errors: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`${file}: not valid JSON: ${(e as Error).message}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, errors: [`${file}: a manifest is a JSON object ({ "title": ..., "harness": {...}, ... })`] };
  const meta = value as Partial<DesignManifest>;
  const problems = manifestProblems(manifestFor(meta));
  if (problems.length > 0) return { ok: false, errors: problems.map((p) => `${file}: ${p}`) };
  const known = new Set<string>(MANIFEST_FIELDS);
  const warnings = Object.keys(meta)
    .filter((k) => !known.has(k))
    .map((k) => `${file}: '${k}' is not a manifest field (ignored; the fields are ${MANIFEST_FIELDS.join(', ')})`);
  const harness = meta.harness as Record<string, unknown> | undefined;
  if (harness !== undefined) {
    for (const k of Object.keys(harness))
      if (!(HARNESS_OPTIONS as readonly string[]).includes(k))
        warnings.push(
          `${file}: 'harness.${k}' is not a harness option (ignored; they are ${HARNESS_OPTIONS.join(', ')})`,
        );
  }
  return { ok: true, meta, warnings };
}
