// A lesson is a Markdown file (lessons/NN-name.md); this module reads it into cells.
// The conventions are documented for authors in lessons/README.md; in short:
// - front matter between `---` lines: chapter, title, goals (list), sources (list);
// - a top-level ```ts fence is a code cell; ```ts norun is shown as code but never run;
// - ```ts exercise id=X [points=N] (the starter), immediately followed by ```ts solution id=X;
// - ```ts check id=X: the visible check, in every notebook; ```ts hidden id=X: more tests, only in
//   the reference notebook and the grader;
// - `<!-- cell -->` on its own splits a Markdown cell; everything else is Markdown.
// Parsing uses mdast-util-from-markdown (CommonMark), so fences inside lists or quotes stay Markdown.
import { fromMarkdown } from 'mdast-util-from-markdown';

export interface LessonMeta {
  chapter: number;
  title: string;
  goals: string[];
  sources: string[];
}

export type LessonCell =
  | { kind: 'markdown'; source: string }
  | { kind: 'code'; source: string; line: number }
  | { kind: 'exercise'; id: string; starter: string; solution: string; points: number; line: number }
  | { kind: 'check'; id: string; source: string; line: number }
  | { kind: 'hidden'; id: string; source: string; line: number };

export interface Lesson {
  /** The file name without `.md`, e.g. `00-tour`: names the notebooks and prefixes cell ids. */
  slug: string;
  /** Path as given (for messages and notebook metadata), e.g. `lessons/00-tour.md`. */
  file: string;
  meta: LessonMeta;
  cells: LessonCell[];
}

export interface LessonProblem {
  file: string;
  line: number;
  message: string;
}

export class LessonError extends Error {
  constructor(readonly problems: LessonProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    this.name = 'LessonError';
  }
}

/** Fence languages that become code cells (anything else, e.g. ```asm, stays in the Markdown). */
const CODE_LANGS = new Set(['ts', 'typescript']);
const ROLES = new Set(['norun', 'exercise', 'solution', 'check', 'hidden']);
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const CELL_BREAK = /^<!--\s*cell\s*-->$/;

interface FrontMatter {
  fields: Map<string, string | string[]>;
  /** Lines used by the front matter, so body line numbers stay true to the file. */
  bodyOffset: number;
  bodyLine: number;
}

/**
 * A deliberately small subset of YAML: `key: value` and `key:` followed by `  - item` lines.
 * Quotes around a value are removed. Enough for lesson metadata, with exact error lines.
 */
function readFrontMatter(text: string, file: string, problems: LessonProblem[]): FrontMatter {
  const fields = new Map<string, string | string[]>();
  if (!text.startsWith('---\n')) {
    problems.push({ file, line: 1, message: 'a lesson starts with front matter between two `---` lines' });
    return { fields, bodyOffset: 0, bodyLine: 1 };
  }
  const lines = text.split('\n');
  let list: string[] | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '---') {
      const bodyOffset = lines.slice(0, i + 1).join('\n').length + 1;
      return { fields, bodyOffset, bodyLine: i + 2 };
    }
    const item = /^\s+-\s+(.*)$/.exec(line);
    const field = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (item && list) list.push(unquote(item[1]));
    else if (field && field[2] === '') fields.set(field[1], (list = []));
    else if (field) {
      fields.set(field[1], unquote(field[2]));
      list = null;
    } else if (line.trim() !== '')
      problems.push({
        file,
        line: i + 1,
        message: `front matter: cannot read '${line}' (expected 'key: value' or '  - item')`,
      });
  }
  problems.push({ file, line: 1, message: 'front matter is not closed by a `---` line' });
  return { fields, bodyOffset: text.length, bodyLine: lines.length };
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
}

function metaFrom(fm: FrontMatter, file: string, problems: LessonProblem[]): LessonMeta {
  const str = (k: string): string => {
    const v = fm.fields.get(k);
    if (typeof v !== 'string' || v === '') {
      problems.push({ file, line: 1, message: `front matter needs '${k}: ...'` });
      return '';
    }
    return v;
  };
  const list = (k: string): string[] => {
    const v = fm.fields.get(k);
    if (!Array.isArray(v) || v.length === 0) {
      problems.push({ file, line: 1, message: `front matter needs '${k}:' with at least one '  - item'` });
      return [];
    }
    return v;
  };
  const chapterText = str('chapter');
  if (chapterText !== '' && !/^\d+$/.test(chapterText))
    problems.push({ file, line: 1, message: `chapter must be a number, not '${chapterText}'` });
  for (const k of fm.fields.keys()) {
    if (!['chapter', 'title', 'goals', 'sources'].includes(k))
      problems.push({ file, line: 1, message: `unknown front matter key '${k}'` });
  }
  return { chapter: Number(chapterText), title: str('title'), goals: list('goals'), sources: list('sources') };
}

interface FenceInfo {
  role: string | null;
  attrs: Map<string, string>;
}

function readFenceMeta(
  meta: string | null | undefined,
  file: string,
  line: number,
  problems: LessonProblem[],
): FenceInfo {
  const attrs = new Map<string, string>();
  let role: string | null = null;
  for (const word of (meta ?? '').split(/\s+/).filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    if (eq > 0) attrs.set(word.slice(0, eq), word.slice(eq + 1));
    else if (ROLES.has(word) && role === null) role = word;
    else
      problems.push({
        file,
        line,
        message: `unknown fence word '${word}' (roles: ${[...ROLES].join(', ')}; attributes: id=..., points=N)`,
      });
  }
  return { role, attrs };
}

/** Reads a lesson. Throws LessonError listing every problem found (not only the first). */
export function parseLesson(text: string, file: string): Lesson {
  const problems: LessonProblem[] = [];
  const normalised = text.replace(/\r\n/g, '\n');
  const fm = readFrontMatter(normalised, file, problems);
  const meta = metaFrom(fm, file, problems);
  const body = normalised.slice(fm.bodyOffset);
  const tree = fromMarkdown(body);
  const lineOf = (l: number) => l + fm.bodyLine - 1;

  const cells: LessonCell[] = [];
  let markdown: string[] = [];
  let from = 0; // body offset where pending Markdown text starts
  const flushMarkdown = (to: number) => {
    markdown.push(body.slice(from, to));
    const source = markdown.join('').trim();
    if (source !== '') cells.push({ kind: 'markdown', source });
    markdown = [];
  };

  const exercises = new Map<
    string,
    { cell: Extract<LessonCell, { kind: 'exercise' }>; solved: boolean; checked: boolean }
  >();
  let awaitingSolution: { id: string; line: number } | null = null;

  for (const node of tree.children) {
    const start = node.position?.start.offset ?? 0;
    const end = node.position?.end.offset ?? start;
    const line = lineOf(node.position?.start.line ?? 1);
    if (node.type === 'html' && CELL_BREAK.test(node.value.trim())) {
      flushMarkdown(start);
      from = end;
      continue;
    }
    const isCode = node.type === 'code' && CODE_LANGS.has(node.lang ?? '');
    if (awaitingSolution && !(isCode && node.type === 'code' && /\bsolution\b/.test(node.meta ?? ''))) {
      problems.push({
        file,
        line: awaitingSolution.line,
        message: `exercise ${awaitingSolution.id} must be followed immediately by its \`\`\`ts solution id=${awaitingSolution.id} fence`,
      });
      awaitingSolution = null;
    }
    if (!isCode || node.type !== 'code') continue;
    const { role, attrs } = readFenceMeta(node.meta, file, line, problems);
    const source = node.value;
    if (role === 'norun') {
      // Shown as code inside the Markdown cell, with the plain language tag so it highlights.
      markdown.push(body.slice(from, start), `\`\`\`${node.lang}\n${source}\n\`\`\``);
      from = end;
      continue;
    }
    flushMarkdown(start);
    from = end;
    const id = attrs.get('id');
    if (role !== null && (id === undefined || !ID_PATTERN.test(id))) {
      problems.push({ file, line, message: `a ${role} fence needs id=NAME (letters, digits, - and _)` });
      continue;
    }
    for (const k of attrs.keys()) {
      if (k !== 'id' && !(k === 'points' && role === 'exercise'))
        problems.push({ file, line, message: `unknown attribute '${k}' on a ${role ?? 'code'} fence` });
    }
    switch (role) {
      case null:
        cells.push({ kind: 'code', source, line });
        break;
      case 'exercise': {
        const pointsText = attrs.get('points') ?? '1';
        if (!/^[1-9]\d*$/.test(pointsText))
          problems.push({ file, line, message: `points must be a positive whole number, not '${pointsText}'` });
        if (exercises.has(id!)) problems.push({ file, line, message: `exercise ${id} is defined twice` });
        const cell = {
          kind: 'exercise' as const,
          id: id!,
          starter: source,
          solution: '',
          points: Number(pointsText),
          line,
        };
        exercises.set(id!, { cell, solved: false, checked: false });
        cells.push(cell);
        awaitingSolution = { id: id!, line };
        break;
      }
      case 'solution': {
        const ex = exercises.get(id!);
        if (!ex || !awaitingSolution || awaitingSolution.id !== id) {
          problems.push({
            file,
            line,
            message: `solution ${id} must come right after its \`\`\`ts exercise id=${id} fence`,
          });
        } else {
          ex.cell.solution = source;
          ex.solved = true;
        }
        awaitingSolution = null;
        break;
      }
      case 'check':
      case 'hidden': {
        const ex = exercises.get(id!);
        if (!ex) problems.push({ file, line, message: `${role} ${id} comes before (or without) its exercise` });
        else if (role === 'check') ex.checked = true;
        cells.push({ kind: role, id: id!, source, line });
        break;
      }
      default:
        break;
    }
  }
  if (awaitingSolution)
    problems.push({
      file,
      line: awaitingSolution.line,
      message: `exercise ${awaitingSolution.id} has no solution fence after it`,
    });
  flushMarkdown(body.length);
  for (const [id, ex] of exercises) {
    if (!ex.checked)
      problems.push({ file, line: ex.cell.line, message: `exercise ${id} has no \`\`\`ts check id=${id} fence` });
  }
  if (problems.length > 0) throw new LessonError(problems);
  const slug = file.replace(/^.*[\\/]/, '').replace(/\.md$/, '');
  return { slug, file, meta, cells };
}

/** The exercises of a lesson, in order. */
export function exercisesOf(lesson: Lesson): Extract<LessonCell, { kind: 'exercise' }>[] {
  return lesson.cells.filter((c): c is Extract<LessonCell, { kind: 'exercise' }> => c.kind === 'exercise');
}

/** Lesson files are `NN-name.md`; README.md and other notes in lessons/ are not lessons. */
export const LESSON_FILE = /^\d\d-[a-z0-9-]+\.md$/;
