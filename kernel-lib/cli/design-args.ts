// Which design a command runs: a shipped one by id, or one of the user's own, given as a listing
// (--source FILE.S), as a whole kernel entry file (--entry-file PATH) or as a manifest that names
// its listing (--manifest FILE.json), with the do_nmi of a kernel release around it (--do-nmi).
// Also the words that name the same design again, for the replay commands `explore` prints.
import * as fs from 'fs';
import * as path from 'path';
import { formatDiagnostic } from '../asm';
import { listDesigns } from '../designs';
import { checkDesignSource, extractNmiEntry, readUserManifest } from '../harness';
import { doNmiPreset, doNmiReleases } from '../harness/do-nmi-presets';
import type { Design } from '../designs/manifest';
import { UsageError } from './args';
import type { CliIo } from './io';

/** The options every command that runs a design takes, besides a design id. */
export const DESIGN_OPTIONS = ['source', 'entry-file', 'manifest', 'do-nmi'] as const;

export interface DesignChoice {
  design: Design | string;
  /** The command-line words that choose this design again (shell-quoted). */
  words: string;
}

/** A word as the shell reads it back: quoted when it has anything but safe characters. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function readText(file: string, what: string, io: CliIo): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (e as Error).message);
    io.err(`nmi-lab: cannot read ${what} ${file}: ${why}\n`);
    return null;
  }
}

/** A design id from a file name: 'entry_64.S' -> 'entry_64'. */
function idFromFile(file: string): string {
  return (
    path
      .basename(file)
      .replace(/\.(S|s|asm)$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'my-design'
  );
}

/**
 * Read the design the arguments choose. Problems with the files (unreadable, malformed manifest,
 * assembler errors) are printed to stderr and give null; contradictory options are a UsageError.
 */
export function designArg(
  args: { positionals: string[]; options: Map<string, string> },
  io: CliIo,
  usage: string,
): DesignChoice | null {
  const source = args.options.get('source');
  const entryFile = args.options.get('entry-file');
  const manifestFile = args.options.get('manifest');
  const doNmi = args.options.get('do-nmi');
  if (source !== undefined && entryFile !== undefined)
    throw new UsageError('--source and --entry-file both name a listing: give one of them');
  if (source === undefined && entryFile === undefined && manifestFile === undefined) {
    if (doNmi !== undefined)
      throw new UsageError(
        '--do-nmi goes with a listing of your own (--source, --entry-file or --manifest); a shipped design brings its own do_nmi options',
      );
    if (args.positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
    const id = args.positionals[0];
    const ids = listDesigns().map((d) => d.id);
    if (!ids.includes(id)) {
      io.err(`nmi-lab: unknown design '${id}' (known: ${ids.join(', ')})\n`);
      return null;
    }
    return { design: id, words: shellWord(id) };
  }
  if (doNmi !== undefined && doNmiPreset(doNmi) === undefined)
    throw new UsageError(`--do-nmi takes a kernel release with a do_nmi preset, ${doNmiReleases()}, not '${doNmi}'`);
  if (args.positionals.length > 0)
    throw new UsageError(
      `a design id ('${args.positionals[0]}') and a listing of your own (--source, --entry-file or --manifest): give one`,
    );

  let meta: Record<string, unknown> = {};
  if (manifestFile !== undefined) {
    const text = readText(manifestFile, 'the manifest', io);
    if (text === null) return null;
    const m = readUserManifest(text, manifestFile);
    if (m.ok === false) {
      for (const e of m.errors) io.err(`nmi-lab: ${e}\n`);
      return null;
    }
    for (const w of m.warnings) io.err(`nmi-lab: warning: ${w}\n`);
    meta = m.meta;
  }
  // The listing: --source or --entry-file, else the one the manifest names (next to it).
  let listing = source ?? entryFile;
  if (listing === undefined) {
    if (typeof meta.listing !== 'string') {
      io.err(`nmi-lab: ${manifestFile} names no listing: add "listing": "FILE.S" or give --source FILE.S\n`);
      return null;
    }
    listing = path.resolve(path.dirname(manifestFile as string), meta.listing);
  }
  const raw = readText(listing, entryFile !== undefined ? 'the entry file' : 'the listing', io);
  if (raw === null) return null;
  let text = raw;
  if (entryFile !== undefined) {
    const x = extractNmiEntry(raw, listing);
    if (x.ok === false) {
      for (const d of x.errors) io.err(`${formatDiagnostic(d)}\n`);
      return null;
    }
    io.err(`nmi-lab: ${x.summary}\n`);
    text = x.text;
  }
  const r = checkDesignSource(text, {
    ...meta,
    id: typeof meta.id === 'string' ? meta.id : idFromFile(listing),
    listing,
    ...(doNmi !== undefined ? { doNmi } : {}),
  });
  if (r.ok === false) {
    for (const d of r.errors) {
      // Manifest problems are about the manifest, not a line of the listing.
      if (d.message.startsWith('manifest: ')) io.err(`nmi-lab: ${manifestFile ?? listing}: ${d.message.slice(10)}\n`);
      else io.err(`${formatDiagnostic(d)}\n`);
    }
    return null;
  }
  const words = [
    ...(source !== undefined ? ['--source', source] : []),
    ...(entryFile !== undefined ? ['--entry-file', entryFile] : []),
    ...(manifestFile !== undefined ? ['--manifest', manifestFile] : []),
    ...(doNmi !== undefined ? ['--do-nmi', doNmi] : []),
  ];
  return { design: r.design, words: words.map(shellWord).join(' ') };
}
