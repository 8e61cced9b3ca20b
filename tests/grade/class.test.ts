// A class of 30 generated submissions of one chapter (right, wrong, mixed, hostile, broken files)
// graded by one command into a gradebook: one row per submission, in the order given, with the
// scores each kind of submission must get, and a feedback file each.
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../kernel-lib/cli/main';
import { makeClass } from '../../bench/grading';
import { scratchRoot } from './submissions';

jest.setTimeout(600_000);

/** Splits one CSV line (the gradebook quotes fields with commas or quotes). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

test('a class of 30 submissions of chapter 5 is graded by one command into a gradebook CSV and 30 feedback files', async () => {
  const { dir, cleanup } = scratchRoot();
  try {
    const expected = makeClass(path.join(dir, 'class'), '05-repeat-nmi');
    expect(expected).toHaveLength(30);
    let err = '';
    const io = { out: () => undefined, err: (t: string) => void (err += t) };
    const started = Date.now();
    const code = await main(['grade', path.join(dir, 'class'), '--out', path.join(dir, 'grades'), '--jobs', '2'], io);
    const seconds = (Date.now() - started) / 1000;
    expect(code).toBe(0);
    expect(err).toMatch(/30 submission\(s\) graded/);
    const lines = fs
      .readFileSync(path.join(dir, 'grades', 'gradebook.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = fields(lines[0]);
    expect(header).toEqual([
      'student',
      'submission',
      'lesson',
      'ch5-ex1',
      'ch5-ex2',
      'ch5-ex3',
      'total',
      'max',
      'graded_at',
      'note',
    ]);
    const rows = lines.slice(1).map(fields);
    expect(rows).toHaveLength(30);
    const bySubmission = new Map(rows.map((r) => [r[1], r]));
    const problems: string[] = [];
    for (const e of expected) {
      const row = bySubmission.get(e.file);
      if (!row) {
        problems.push(`no row for ${e.file}`);
        continue;
      }
      if (row[0] !== e.student) problems.push(`${e.file}: student ${row[0]}, not ${e.student}`);
      if (e.broken) {
        if (row[2] !== '' || !/not a notebook/.test(row[9]))
          problems.push(`${e.student}: broken file row ${row.join(',')}`);
        continue;
      }
      expect(row[2]).toBe('lessons/05-repeat-nmi.md');
      let total = 0;
      for (const [id, want] of Object.entries(e.exercises)) {
        const score = Number(row[header.indexOf(id)]);
        total += score;
        if (want === 'full' && score !== 1) problems.push(`${e.student} ${id}: ${score}, expected full marks`);
        if (want === 'less' && score >= 1) problems.push(`${e.student} ${id}: full marks for a wrong answer`);
      }
      if (Math.abs(Number(row[header.indexOf('total')]) - total) > 1e-9) problems.push(`${e.student}: total ${row[6]}`);
      if (row[header.indexOf('max')] !== '3') problems.push(`${e.student}: max ${row[7]}`);
    }
    expect(problems).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'grades', 'feedback'))).toHaveLength(30);
    // The figure the benchmark reports is measured by bench/grading.ts in fresh processes; here, a sanity bound.
    expect(seconds).toBeLessThan(600);
  } finally {
    cleanup();
  }
});
