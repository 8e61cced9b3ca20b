// Designs: the shipped ones (registry.ts) and a user's own listing (loadDesignFromSource).
import { AssemblyError } from '../asm';
import type { Diagnostic } from '../asm/program';
import { assembleDesign } from '../harness/kernel';
import { Design, DesignManifest, designFrom, manifestProblems } from './manifest';

export type { Design, DesignManifest, StackEntry, StackSlot } from './manifest';
export { expandStack, manifestProblems } from './manifest';
export { getDesign, listDesigns, summarizeDesign, designsDirectory } from './registry';
export type { DesignSummary } from './registry';

export type CheckDesignResult =
  | { ok: true; design: Design; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

function designFromSource(text: string, meta: Partial<DesignManifest>): Design {
  const manifest: DesignManifest = {
    id: meta.id ?? 'my-design',
    title: meta.title ?? 'My design',
    year: meta.year ?? new Date().getFullYear(),
    author: meta.author ?? 'you',
    source: meta.source ?? 'user-supplied listing',
    summary: meta.summary ?? 'A design from a listing of your own.',
    reconstruction: meta.reconstruction ?? false,
    listing: meta.listing ?? `${meta.id ?? 'my-design'}.S`,
    notes: meta.notes,
    harness: meta.harness,
    order: meta.order,
    stack: meta.stack,
    returnsWithoutIret: meta.returnsWithoutIret,
  };
  return designFrom(manifest, text, manifest.listing);
}

/**
 * Check a listing against the source contract without throwing: it must assemble together with
 * the harness and define `nmi`. Errors carry file:line:column in the listing (file name:
 * meta.listing, default '<id>.S').
 */
export function checkDesignSource(text: string, meta: Partial<DesignManifest> = {}): CheckDesignResult {
  const design = designFromSource(text, meta);
  if (meta.stack !== undefined || meta.returnsWithoutIret !== undefined) {
    const problems = manifestProblems({ ...design, listing: design.fileName, stack: meta.stack, returnsWithoutIret: meta.returnsWithoutIret });
    if (problems.length > 0) {
      const loc = { file: design.fileName, line: 1, column: 1, text: '' };
      return { ok: false, warnings: [], errors: problems.map((message) => ({ ...loc, severity: 'error' as const, message: `manifest: ${message}` })) };
    }
  }
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
