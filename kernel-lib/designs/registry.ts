// The designs that ship with NMI Lab. Each is two files in this folder: NAME.S (the listing) and
// NAME.json (its manifest, see manifest.ts). Adding a design means adding those two files; the
// registry finds every *.json here, so nothing else needs editing.
import * as fs from 'fs';
import * as path from 'path';
import { Design, DesignManifest, designFrom, manifestProblems } from './manifest';

/** Where the listings live: next to this module in the source tree. */
export function designsDirectory(): string {
  const here = __dirname;
  if (fs.existsSync(path.join(here, 'unprotected.json'))) return here;
  // A compiled copy of the library (tsc does not copy .S/.json): fall back to the source tree.
  const fromBuild = path.resolve(here, '..', '..', '..', 'kernel-lib', 'designs');
  return fs.existsSync(path.join(fromBuild, 'unprotected.json')) ? fromBuild : here;
}

let cache: Design[] | null = null;

/** Every shipped design, in history order. Throws if a manifest or listing is malformed. */
export function listDesigns(): Design[] {
  if (cache !== null) return cache;
  const dir = designsDirectory();
  const designs: Design[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const where = path.join(dir, file);
    let manifest: DesignManifest;
    try {
      manifest = JSON.parse(fs.readFileSync(where, 'utf8')) as DesignManifest;
    } catch (e) {
      throw new Error(`${where}: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const problems = manifestProblems(manifest);
    if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
    const listing = path.join(dir, manifest.listing);
    if (!fs.existsSync(listing)) throw new Error(`${where}: listing '${manifest.listing}' not found next to it`);
    designs.push(designFrom(manifest, fs.readFileSync(listing, 'utf8'), manifest.listing));
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
