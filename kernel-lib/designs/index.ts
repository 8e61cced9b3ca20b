// Designs: the shipped ones (registry.ts) and their manifests (manifest.ts). A user's own listing
// is checked against the harness, so loading one lives with the harness (harness/design-source.ts).
export type { Design, DesignManifest, HarnessOptions, StackEntry, StackSlot } from './manifest';
export { expandStack, manifestProblems } from './manifest';
export { getDesign, listDesigns, resolveDesign, summarizeDesign, designsDirectory } from './registry';
export type { DesignSummary } from './registry';
