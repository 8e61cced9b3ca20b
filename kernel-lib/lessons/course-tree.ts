// lessons/*.md -> notebooks/*.ipynb (reference) and notebooks/student/*.ipynb (exercise version).
import * as fs from 'fs';
import * as path from 'path';
import { LESSON_FILE, Lesson, LessonError, LessonProblem, parseLesson } from './lesson';
import { lessonToNotebook, NotebookVariant, serializeNotebook } from './notebook';

export const LESSONS_DIR = 'lessons';
export const NOTEBOOKS_DIR = 'notebooks';
export const STUDENT_DIR = 'notebooks/student';

/** The project root: the folder holding kernel-lib/. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Reads every lesson under `root/lessons`, sorted by file name. Throws LessonError with all problems. */
export function readLessons(root: string = PROJECT_ROOT): Lesson[] {
  const dir = path.join(root, LESSONS_DIR);
  const files = fs
    .readdirSync(dir)
    .filter((f) => LESSON_FILE.test(f))
    .sort();
  const lessons: Lesson[] = [];
  const problems: LessonProblem[] = [];
  const chapters = new Map<number, string>();
  for (const f of files) {
    try {
      const lesson = parseLesson(fs.readFileSync(path.join(dir, f), 'utf8'), `${LESSONS_DIR}/${f}`);
      const other = chapters.get(lesson.meta.chapter);
      if (other)
        problems.push({ file: lesson.file, line: 1, message: `chapter ${lesson.meta.chapter} is also ${other}` });
      chapters.set(lesson.meta.chapter, lesson.file);
      lessons.push(lesson);
    } catch (e) {
      if (e instanceof LessonError) problems.push(...e.problems);
      else throw e;
    }
  }
  const ids = new Map<string, string>();
  for (const lesson of lessons) {
    for (const c of lesson.cells) {
      if (c.kind !== 'exercise') continue;
      const other = ids.get(c.id);
      if (other)
        problems.push({ file: lesson.file, line: c.line, message: `exercise id ${c.id} is also used in ${other}` });
      ids.set(c.id, lesson.file);
    }
  }
  if (problems.length > 0) throw new LessonError(problems);
  return lessons;
}

/** Every generated file, keyed by its path relative to the root, in a stable order. */
export function buildCourse(
  root: string = PROJECT_ROOT,
  variants: readonly NotebookVariant[] = ALL_VARIANTS,
): Map<string, string> {
  const out = new Map<string, string>();
  const lessons = readLessons(root);
  for (const variant of ALL_VARIANTS) {
    if (!variants.includes(variant)) continue;
    for (const lesson of lessons)
      out.set(notebookPath(lesson.slug, variant), serializeNotebook(lessonToNotebook(lesson, variant)));
  }
  return out;
}

export const ALL_VARIANTS: readonly NotebookVariant[] = ['reference', 'student'];

/** Where a lesson's notebook of one variant lives, relative to the root. */
export function notebookPath(slug: string, variant: NotebookVariant): string {
  return `${variant === 'student' ? STUDENT_DIR : NOTEBOOKS_DIR}/${slug}.ipynb`;
}

function variantOf(rel: string): NotebookVariant {
  return rel.startsWith(`${STUDENT_DIR}/`) ? 'student' : 'reference';
}

/** Generated notebooks present on disk (reference and student). */
export function notebooksOnDisk(root: string = PROJECT_ROOT): string[] {
  const found: string[] = [];
  for (const dir of [NOTEBOOKS_DIR, STUDENT_DIR]) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs).sort()) if (f.endsWith('.ipynb')) found.push(`${dir}/${f}`);
  }
  return found;
}

export interface StaleReport {
  /** Generated files whose committed text differs (or that are missing). */
  outdated: string[];
  /** Notebooks on disk that no lesson produces (a lesson was renamed or removed). */
  orphaned: string[];
}

/** Compares the built course with the files on disk, without writing. */
export function staleNotebooks(root: string = PROJECT_ROOT): StaleReport {
  const built = buildCourse(root);
  const outdated: string[] = [];
  for (const [rel, text] of built) {
    let old: string | null;
    try {
      old = fs.readFileSync(path.join(root, rel), 'utf8');
    } catch {
      old = null;
    }
    if (old !== text) outdated.push(rel);
  }
  const orphaned = notebooksOnDisk(root).filter((rel) => !built.has(rel));
  return { outdated, orphaned };
}

/** Writes the course; removes orphaned notebooks. Returns the paths written (changed files only). */
export function writeCourse(
  root: string = PROJECT_ROOT,
  variants: readonly NotebookVariant[] = ALL_VARIANTS,
): { written: string[]; removed: string[] } {
  const built = buildCourse(root, variants);
  const written: string[] = [];
  for (const [rel, text] of built) {
    const abs = path.join(root, rel);
    let old: string | null;
    try {
      old = fs.readFileSync(abs, 'utf8');
    } catch {
      old = null;
    }
    if (old === text) continue;
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
    written.push(rel);
  }
  const removed: string[] = [];
  for (const rel of notebooksOnDisk(root)) {
    if (built.has(rel) || !variants.includes(variantOf(rel))) continue;
    fs.unlinkSync(path.join(root, rel));
    removed.push(rel);
  }
  return { written, removed };
}
