// The student workspace: a git-ignored folder (workspace/) holding the learner's own copies of the
// course notebooks. The first launch fills it; nothing in the project ever writes over a file in
// it. When a lesson changes after its copy was made, the new version arrives next to the old file
// (NAME.updated-VERSION.ipynb) and the learner's answers stay where they are. A missing copy is
// made again, so deleting a notebook is how to start a chapter afresh.
//
// Each copy records which built notebook and which version of it it came from, in its notebook
// metadata (`nmi_lab_workspace`), which Jupyter keeps when it saves.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { NOTEBOOKS_DIR, PROJECT_ROOT, STUDENT_DIR } from '../../kernel-lib/lessons/course-tree';

export const WORKSPACE_DIR = 'workspace';

/** Which notebooks a workspace holds: the exercise versions, or the reference notebooks. */
export type WorkspaceKind = 'student' | 'reference';

/** The metadata key of a workspace copy. */
export const ORIGIN_KEY = 'nmi_lab_workspace';

export interface Origin {
  /** The built notebook the copy was made from, relative to the project root. */
  source: string;
  /** The first 12 hex digits of the SHA-256 of that notebook's text when it was copied. */
  version: string;
}

export interface SyncReport {
  /** The workspace folder (absolute). */
  dir: string;
  /** Copies made because none was there. */
  added: string[];
  /** New lesson versions written next to the learner's file: [learner's file, new file]. */
  updates: [string, string][];
  /** Copies left alone because they cannot be read as notebooks. */
  unreadable: string[];
}

export function workspaceDir(kind: WorkspaceKind, root: string = PROJECT_ROOT): string {
  return kind === 'student' ? path.join(root, WORKSPACE_DIR) : path.join(root, WORKSPACE_DIR, 'reference');
}

function sourceDir(kind: WorkspaceKind): string {
  return kind === 'student' ? STUDENT_DIR : NOTEBOOKS_DIR;
}

function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** The built notebook's text with its origin recorded in the notebook metadata. */
function stamped(text: string, origin: Origin): string {
  const nb = JSON.parse(text) as { metadata?: Record<string, unknown> };
  nb.metadata = { ...(nb.metadata ?? {}), [ORIGIN_KEY]: origin };
  return `${JSON.stringify(nb, null, 1)}\n`;
}

/** The origin a workspace notebook records; null when it records none; 'unreadable' when it is not JSON. */
export function originOf(file: string): Origin | null | 'unreadable' {
  let nb: { metadata?: Record<string, unknown> };
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return 'unreadable';
  }
  const o = nb?.metadata?.[ORIGIN_KEY] as Partial<Origin> | undefined;
  return o && typeof o.version === 'string' && typeof o.source === 'string'
    ? { source: o.source, version: o.version }
    : null;
}

/** Writes `file` only if it does not exist yet (never replaces anything); true when written. */
function createOnly(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Brings a workspace up to date with the built notebooks without writing over any file in it:
 * missing copies are made, and a lesson that changed since its copy gets its new version next to it.
 */
export function syncWorkspace(kind: WorkspaceKind = 'student', root: string = PROJECT_ROOT): SyncReport {
  const dir = workspaceDir(kind, root);
  const report: SyncReport = { dir, added: [], updates: [], unreadable: [] };
  const srcDir = path.join(root, sourceDir(kind));
  if (!fs.existsSync(srcDir)) throw new Error(`${sourceDir(kind)}/ is missing: run npm run notebooks`);
  fs.mkdirSync(dir, { recursive: true });
  const sources = fs
    .readdirSync(srcDir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  for (const name of sources) {
    const text = fs.readFileSync(path.join(srcDir, name), 'utf8');
    const origin: Origin = { source: `${sourceDir(kind)}/${name}`, version: versionOf(text) };
    const copy = path.join(dir, name);
    if (createOnly(copy, stamped(text, origin))) {
      report.added.push(copy);
      continue;
    }
    const had = originOf(copy);
    if (had === 'unreadable') report.unreadable.push(copy);
    if (had !== null && had !== 'unreadable' && had.version === origin.version) continue;
    // A different version (or a copy that no longer says where it came from): the new one goes next to it.
    const next = path.join(dir, `${name.replace(/\.ipynb$/, '')}.updated-${origin.version}.ipynb`);
    if (createOnly(next, stamped(text, origin))) report.updates.push([copy, next]);
  }
  return report;
}

/** What a sync did, in a few lines for the terminal (empty when nothing happened). */
export function describeSync(report: SyncReport, root: string = PROJECT_ROOT): string[] {
  const rel = (f: string) => path.relative(root, f);
  const lines: string[] = [];
  if (report.added.length > 0)
    lines.push(`workspace: copied ${report.added.length} notebook(s) into ${rel(report.dir)}/ (yours to edit)`);
  for (const [mine, next] of report.updates)
    lines.push(
      `workspace: the lesson behind ${rel(mine)} changed; the new version is ${rel(next)} (your file is untouched)`,
    );
  for (const f of report.unreadable) lines.push(`workspace: ${rel(f)} is not a readable notebook; left as it is`);
  return lines;
}
