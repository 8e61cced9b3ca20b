// A design from a listing of the user's own: checked against the source contract by assembling it
// with the harness (see kernel-lib/designs/README.md for the contract).
import { AssemblyError } from '../asm';
import type { Diagnostic } from '../asm/program';
import { Design, DesignManifest, designFrom, manifestProblems } from '../designs/manifest';
import { assembleDesign } from './kernel';

export type CheckDesignResult =
  { ok: true; design: Design; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** The manifest of a listing of the user's own: `meta` with defaults for what it leaves out. */
function manifestFor(meta: Partial<DesignManifest>): DesignManifest {
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
 * Check a listing against the source contract without throwing: it must assemble together with
 * the harness and define `nmi`. Errors carry file:line:column in the listing (file name:
 * meta.listing, default '<id>.S').
 */
export function checkDesignSource(text: string, meta: Partial<DesignManifest> = {}): CheckDesignResult {
  const manifest = manifestFor(meta);
  // The manifest is checked before it is used (a malformed field must come back as a message).
  const problems = manifestProblems(manifest);
  if (problems.length > 0) {
    const loc = { file: manifest.listing, line: 1, column: 1, text: '' };
    return {
      ok: false,
      warnings: [],
      errors: problems.map((message) => ({ ...loc, severity: 'error' as const, message: `manifest: ${message}` })),
    };
  }
  const design = designFrom(manifest, text, manifest.listing);
  const r = assembleDesign(design);
  if (r.ok === false) return { ok: false, errors: r.errors, warnings: r.warnings };
  return { ok: true, design, warnings: r.warnings };
}

/**
 * A design from your own listing (see kernel-lib/designs/README.md for the contract). Throws an
 * AssemblyError listing every problem; pass the result to buildKernel({ design }).
 */
export function loadDesignFromSource(text: string, meta: Partial<DesignManifest> = {}): Design {
  const r = checkDesignSource(text, meta);
  if (r.ok === false) throw new AssemblyError(r.errors);
  return r.design;
}
