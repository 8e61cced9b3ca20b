// The instructor's outputs: which files a command line names (files, folders, globs), a gradebook
// CSV (one row per submission, one column per exercise) and one feedback file per student.
import * as fs from 'fs';
import * as path from 'path';
import type { GradeReport } from './grader';

// ---- finding submissions -------------------------------------------------------------------------

function isGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

function globToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walkNotebooks(dir: string, out: string[], depth = 0): void {
  if (depth > 20) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue; // .ipynb_checkpoints and the like
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkNotebooks(p, out, depth + 1);
    else if (e.name.toLowerCase().endsWith('.ipynb')) out.push(p);
  }
}

function expandGlob(pattern: string, out: string[]): void {
  const abs = path.isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || (i === 0 && abs));
  const start = abs ? path.sep : '.';
  const visit = (dir: string, i: number) => {
    if (i >= parts.length) return;
    const part = parts[i];
    const last = i === parts.length - 1;
    if (part === '**') {
      visit(dir, i + 1);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) visit(path.join(dir, e.name), i);
      return;
    }
    if (!isGlob(part)) {
      const p = path.join(dir, part);
      if (last) {
        if (fs.existsSync(p)) out.push(p);
      } else visit(p, i + 1);
      return;
    }
    const re = globToRegExp(part);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!re.test(e.name) || (e.name.startsWith('.') && !part.startsWith('.'))) continue;
      const p = path.join(dir, e.name);
      if (last) out.push(p);
      else if (e.isDirectory()) visit(p, i + 1);
    }
  };
  if (abs && parts[0] === '') parts.shift();
  visit(start, 0);
}

/**
 * The submissions a command line names: a file as given (whatever its name, so a stray file gets a
 * row saying what is wrong with it), every .ipynb under a folder, and what a glob matches (for
 * shells that did not expand it). Returns them in order, without duplicates, and the arguments that
 * matched nothing.
 */
export function findSubmissions(args: string[]): { files: string[]; unmatched: string[] } {
  const files: string[] = [];
  const unmatched: string[] = [];
  for (const a of args) {
    const found: string[] = [];
    let st: fs.Stats | null;
    try {
      st = fs.statSync(a);
    } catch {
      st = null;
    }
    if (st && st.isDirectory()) walkNotebooks(a, found);
    else if (st) found.push(a);
    else if (isGlob(a)) {
      const matched: string[] = [];
      expandGlob(a, matched);
      for (const m of matched) {
        try {
          if (fs.statSync(m).isDirectory()) walkNotebooks(m, found);
          else found.push(m);
        } catch {
          found.push(m);
        }
      }
    } else found.push(a); // missing: graded as unreadable, so it gets a row
    if (found.length === 0) unmatched.push(a);
    for (const f of found) if (files.indexOf(f) < 0) files.push(f);
  }
  return { files, unmatched };
}

// ---- the gradebook -------------------------------------------------------------------------------

/** A CSV field: quoted when needed; a leading = + - @ is neutralised (spreadsheets run formulas). */
export function csvField(value: string | number): string {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The gradebook: student, submission, lesson, one column per exercise, total, max, graded_at, note. */
export function gradebookCsv(reports: GradeReport[]): string {
  const ids: string[] = [];
  for (const r of reports) for (const e of r.exercises) if (ids.indexOf(e.id) < 0) ids.push(e.id);
  ids.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const rows = [['student', 'submission', 'lesson', ...ids, 'total', 'max', 'graded_at', 'note']];
  for (const r of reports) {
    const scores = ids.map((id) => {
      const e = r.exercises.find((x) => x.id === id);
      return e ? String(e.score) : '';
    });
    const note = [...r.problems, ...r.warnings].join(' | ');
    rows.push([
      r.student,
      r.submission,
      r.lesson ?? '',
      ...scores,
      String(r.score),
      String(r.maxScore),
      r.gradedAt,
      note,
    ]);
  }
  return `${rows.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}

/** A student's feedback as Markdown: each exercise, pass or not, why, and the hint. */
export function feedbackMarkdown(r: GradeReport): string {
  const lines = [`# Feedback: ${r.student}`, ''];
  lines.push(`Submission: \`${path.basename(r.submission)}\``);
  if (r.lesson) lines.push(`Chapter ${r.chapter}, ${r.title} (\`${r.lesson}\`)`);
  lines.push(`Graded: ${r.gradedAt}`, '', `**Score: ${r.score} / ${r.maxScore}**`, '');
  for (const p of r.problems) lines.push(`- **Not graded:** ${p}`);
  for (const w of r.warnings) lines.push(`- **Note:** ${w}`);
  if (r.problems.length + r.warnings.length > 0) lines.push('');
  for (const e of r.exercises) {
    const ok = e.passed === e.total && e.total > 0;
    lines.push(`## ${e.id}: ${ok ? 'pass' : e.passed > 0 ? 'partly' : 'not yet'} (${e.score} / ${e.points})`, '');
    for (const c of e.checks) lines.push(`- ${c.check} check: ${c.ok ? 'pass' : 'not yet'}. ${c.message}`);
    if (!ok && e.hint) lines.push('', `*Hint:* ${e.hint}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A file name for a student's feedback: letters, digits, dot, dash, underscore. */
export function feedbackName(student: string, taken: Set<string>): string {
  const base =
    student
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'submission';
  let name = `${base}.md`;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}.md`;
  taken.add(name);
  return name;
}

/** Writes gradebook.csv and feedback/<student>.md under `dir`; returns their paths. */
export function writeGradebook(dir: string, reports: GradeReport[]): { csv: string; feedback: string[] } {
  fs.mkdirSync(path.join(dir, 'feedback'), { recursive: true });
  const csv = path.join(dir, 'gradebook.csv');
  fs.writeFileSync(csv, gradebookCsv(reports));
  const taken = new Set<string>();
  const feedback = reports.map((r) => {
    const f = path.join(dir, 'feedback', feedbackName(r.student, taken));
    fs.writeFileSync(f, feedbackMarkdown(r));
    return f;
  });
  return { csv, feedback };
}
