// A design from a listing of the user's own: checked against the source contract by assembling it
// with the harness (see kernel-lib/designs/README.md for the contract).
import { AssemblyError } from '../asm';
import type { Diagnostic } from '../asm/program';
import { Design, designFrom, manifestProblems } from '../designs/manifest';
import { assembleDesign } from './kernel';
import { manifestFor, withDoNmiPreset } from './user-manifest';
import type { SourceDesignOptions } from './user-manifest';

export type CheckDesignResult =
  { ok: true; design: Design; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/**
 * Check a listing against the source contract without throwing: it must assemble together with
 * the harness and define `nmi`. Errors carry file:line:column in the listing (file name:
 * meta.listing, default '<id>.S'). `meta.doNmi` names the release whose do_nmi the listing runs
 * with (see harness/do-nmi-presets.ts).
 */
export function checkDesignSource(text: string, meta: SourceDesignOptions = {}): CheckDesignResult {
  const preset = withDoNmiPreset(meta);
  const manifest = manifestFor(preset.meta);
  // The manifest is checked before it is used (a malformed field must come back as a message).
  const problems = [...preset.problems, ...manifestProblems(manifest)];
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
export function loadDesignFromSource(text: string, meta: SourceDesignOptions = {}): Design {
  const r = checkDesignSource(text, meta);
  if (r.ok === false) throw new AssemblyError(r.errors);
  return r.design;
}
