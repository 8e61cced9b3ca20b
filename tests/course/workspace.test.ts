// The student workspace: the first sync copies the exercise notebooks; nothing ever writes over a
// file in it; a changed lesson arrives next to the learner's file; a deleted copy comes back.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ORIGIN_KEY, describeSync, originOf, syncWorkspace } from '../../scripts/course/workspace';

function notebook(source: string): string {
  return `${JSON.stringify({ cells: [{ cell_type: 'code', id: 'a', metadata: {}, source, outputs: [], execution_count: null }], metadata: { kernelspec: { name: 'tslab' } }, nbformat: 4, nbformat_minor: 5 }, null, 1)}\n`;
}

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-ws-'));
  fs.mkdirSync(path.join(root, 'notebooks', 'student'), { recursive: true });
  fs.writeFileSync(path.join(root, 'notebooks', 'student', '01-a.ipynb'), notebook('const answer = 0;'));
  fs.writeFileSync(path.join(root, 'notebooks', 'student', '02-b.ipynb'), notebook('let x;'));
  fs.writeFileSync(path.join(root, 'notebooks', '01-a.ipynb'), notebook('const answer = 42;'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const ws = (...p: string[]) => path.join(root, 'workspace', ...p);
const read = (f: string) => fs.readFileSync(f, 'utf8');

test('the first sync copies every exercise notebook and records where each came from', () => {
  const r = syncWorkspace('student', root);
  expect(r.added).toEqual([ws('01-a.ipynb'), ws('02-b.ipynb')]);
  const copy = JSON.parse(read(ws('01-a.ipynb')));
  expect(copy.cells[0].source).toBe('const answer = 0;');
  expect(copy.metadata.kernelspec).toEqual({ name: 'tslab' });
  expect(copy.metadata[ORIGIN_KEY]).toEqual({
    source: 'notebooks/student/01-a.ipynb',
    version: expect.stringMatching(/^[0-9a-f]{12}$/),
  });
  expect(describeSync(r, root)).toEqual(['workspace: copied 2 notebook(s) into workspace/ (yours to edit)']);
  // A second sync changes nothing.
  expect(syncWorkspace('student', root)).toMatchObject({ added: [], updates: [], unreadable: [] });
});

test("the learner's answers survive a changed lesson: the new version arrives next to them, once", () => {
  syncWorkspace('student', root);
  const mine = read(ws('01-a.ipynb')).replace('const answer = 0;', 'const answer = 42; // mine');
  fs.writeFileSync(ws('01-a.ipynb'), mine);
  fs.writeFileSync(path.join(root, 'notebooks', 'student', '01-a.ipynb'), notebook('const answer = 0; // new text'));
  const r = syncWorkspace('student', root);
  expect(r.added).toEqual([]);
  expect(r.updates).toHaveLength(1);
  const [file, next] = r.updates[0];
  expect(file).toBe(ws('01-a.ipynb'));
  expect(path.basename(next)).toMatch(/^01-a\.updated-[0-9a-f]{12}\.ipynb$/);
  expect(read(ws('01-a.ipynb'))).toBe(mine);
  expect(JSON.parse(read(next)).cells[0].source).toBe('const answer = 0; // new text');
  expect(describeSync(r, root)[0]).toContain('your file is untouched');
  expect(syncWorkspace('student', root).updates).toEqual([]);
  // Adopting the new version (renaming it over the old file) ends the notices.
  fs.renameSync(next, ws('01-a.ipynb'));
  expect(syncWorkspace('student', root)).toMatchObject({ added: [], updates: [] });
});

test('unreadable or unmarked files are never touched; a deleted copy is made again', () => {
  syncWorkspace('student', root);
  fs.writeFileSync(ws('01-a.ipynb'), '{ half a notebook');
  fs.writeFileSync(ws('02-b.ipynb'), notebook('my own notebook under that name'));
  fs.writeFileSync(ws('notes.txt'), 'mine');
  const r = syncWorkspace('student', root);
  expect(r.unreadable).toEqual([ws('01-a.ipynb')]);
  expect(r.updates.map(([f]) => f)).toEqual([ws('01-a.ipynb'), ws('02-b.ipynb')]);
  expect(read(ws('01-a.ipynb'))).toBe('{ half a notebook');
  expect(originOf(ws('01-a.ipynb'))).toBe('unreadable');
  expect(originOf(ws('02-b.ipynb'))).toBeNull();
  expect(read(ws('notes.txt'))).toBe('mine');
  fs.unlinkSync(ws('02-b.ipynb'));
  expect(syncWorkspace('student', root).added).toEqual([ws('02-b.ipynb')]);
});

test('the reference workspace is a folder of its own inside the workspace', () => {
  const r = syncWorkspace('reference', root);
  expect(r.dir).toBe(ws('reference'));
  expect(r.added).toEqual([ws('reference', '01-a.ipynb')]);
  expect(fs.existsSync(ws('01-a.ipynb'))).toBe(false);
});
