// Where the shipped designs come from in Node: the .S and .json files next to this module (in the
// sources, or copied into build/ by scripts/build.js). This is the registry's only file-system
// access; a bundle for the browser replaces this module with one that carries the same files as
// data (the same exports).
import * as fs from 'fs';
import * as path from 'path';

/** One design's files as text: its manifest, and its listing (null when the listing is missing). */
export interface ShippedDesignFiles {
  /** Where the manifest was read from (for error messages). */
  where: string;
  manifestText: string;
  listingText: (listing: string) => string | null;
}

/** Where the listings live: next to this module. */
export function designsDirectory(): string {
  return __dirname;
}

/** Every design manifest (*.json) in the designs folder, by file name. */
export function readShippedDesigns(): ShippedDesignFiles[] {
  const dir = designsDirectory();
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      where: path.join(dir, file),
      manifestText: fs.readFileSync(path.join(dir, file), 'utf8'),
      listingText: (listing: string) => {
        const at = path.join(dir, listing);
        return fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : null;
      },
    }));
}
