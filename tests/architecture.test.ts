// The folders of kernel-lib/ import only downwards (docs/architecture.md): each folder may import
// from the folders before it in this list, never from one after it, so there is no circle between
// folders and no arrow back up.
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.resolve(__dirname, '..', 'kernel-lib');

/** Each folder (or top-level module) and the ones it may import from. */
const ALLOWED: Record<string, string[]> = {
  asm: [],
  lessons: [],
  isa: ['asm'],
  machine: ['asm', 'isa'],
  designs: ['isa'],
  harness: ['asm', 'isa', 'machine', 'designs'],
  record: ['machine'],
  exec: ['asm', 'machine'],
  explore: ['asm', 'isa', 'machine', 'designs', 'harness', 'record'],
  view: ['machine', 'record'],
  course: ['asm', 'isa', 'machine', 'designs', 'harness', 'record', 'exec', 'explore', 'view'],
  grade: ['course', 'lessons'],
  cli: ['asm', 'isa', 'machine', 'designs', 'harness', 'record', 'exec', 'explore', 'view', 'course', 'grade', 'index'],
  index: ['asm', 'isa', 'machine', 'designs', 'harness', 'record', 'exec', 'explore', 'view'],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const at = path.join(dir, e.name);
    if (e.isDirectory()) return sources(at);
    return e.name.endsWith('.ts') ? [at] : [];
  });
}

/** The top-level folder (or module name) of a path inside kernel-lib/. */
function unitOf(file: string): string {
  const rel = path.relative(LIB, file).split(path.sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

test('every import between kernel-lib folders points down the list', () => {
  const wrong: string[] = [];
  for (const file of sources(LIB)) {
    const from = unitOf(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (!target.startsWith(LIB)) continue;
      const to = unitOf(target);
      if (to === from) continue;
      if (!(from in ALLOWED)) wrong.push(`${path.relative(LIB, file)}: folder '${from}' is not in the list`);
      else if (!ALLOWED[from].includes(to))
        wrong.push(`${path.relative(LIB, file)} imports ${m[1]} (${from} -> ${to})`);
    }
  }
  expect(wrong).toEqual([]);
});
