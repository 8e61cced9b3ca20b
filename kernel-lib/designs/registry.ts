// The designs that ship with NMI Lab. Each is two files in this folder: NAME.S (the listing) and
// NAME.json (its manifest, see manifest.ts). Adding a design means adding those two files; the
// registry finds every *.json here, so nothing else needs editing.
import { Design, DesignManifest, designFrom, manifestProblems } from './manifest';
import { readShippedDesigns } from './files';

export { designsDirectory } from './files';

let cache: Design[] | null = null;

/** Every shipped design, in history order. Throws if a manifest or listing is malformed. */
export function listDesigns(): Design[] {
  if (cache !== null) return cache;
  const designs: Design[] = [];
  for (const file of readShippedDesigns()) {
    const where = file.where;
    let manifest: DesignManifest;
    try {
      manifest = JSON.parse(file.manifestText) as DesignManifest;
    } catch (e) {
      throw new Error(`${where}: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const problems = manifestProblems(manifest);
    if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
    const listing = file.listingText(manifest.listing);
    if (listing === null) throw new Error(`${where}: listing '${manifest.listing}' not found next to it`);
    designs.push(designFrom(manifest, listing, manifest.listing));
  }
  const ids = new Set<string>();
  for (const d of designs) {
    if (ids.has(d.id)) throw new Error(`two designs have the id '${d.id}'`);
    ids.add(d.id);
  }
  designs.sort((a, b) => a.order - b.order || a.year - b.year || (a.id < b.id ? -1 : 1));
  cache = designs;
  return designs;
}

/** A shipped design by id; the error lists the ids there are. */
export function getDesign(id: string): Design {
  const d = listDesigns().find((x) => x.id === id);
  if (!d)
    throw new Error(
      `unknown design '${id}' (known: ${listDesigns()
        .map((x) => x.id)
        .join(', ')})`,
    );
  return d;
}

/** A design given by id (a shipped one) or as a Design (e.g. from loadDesignFromSource). */
export function resolveDesign(design: string | Design): Design {
  return typeof design === 'string' ? getDesign(design) : design;
}

/** The public summary of a design (what `nmi-lab designs --json` prints). */
export interface DesignSummary {
  id: string;
  title: string;
  year: number;
  author: string;
  source: string;
  summary: string;
  reconstruction: boolean;
}

export function summarizeDesign(d: Design): DesignSummary {
  return {
    id: d.id,
    title: d.title,
    year: d.year,
    author: d.author,
    source: d.source,
    summary: d.summary,
    reconstruction: d.reconstruction,
  };
}
