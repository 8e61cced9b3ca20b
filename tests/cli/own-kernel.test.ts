// Judging your own kernel from the CLI: a 4.x-style entry with the do_nmi of its release, the
// replay commands explore prints (run as printed), and bad input of every kind answered with a
// one-line error, never a stack trace.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../kernel-lib/cli/main';
import { exploreDesign, extractNmiEntry, loadDesignFromSource } from '../../kernel-lib';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures', 'entry-files');
const ENTRY_4X = path.join(FIXTURES, 'entry_64-4.x.S');

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

interface JsonReport {
  workload: string;
  verdict: string;
  schedules: number;
  violations: { invariant: string; schedule: string }[];
}

const invariants = (r: JsonReport) => r.violations.map((v) => v.invariant).sort();

describe('a 4.x-style entry judged with the do_nmi of its release', () => {
  test('--do-nmi 4.2: CLEAN on every workload at depth 2; the same through the library API', async () => {
    const r = await run(['explore', '--entry-file', ENTRY_4X, '--do-nmi', '4.2', '--json', '--workers', '2']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^nmi-lab: from .*entry_64-4\.x\.S took lines \d+-\d+ \(ENTRY\(nmi\) \.\.\. END\(nmi\)\)/);
    const reports = JSON.parse(r.out) as JsonReport[];
    expect(reports.map((x) => [x.workload, x.verdict])).toEqual([
      ['kernel', 'clean'],
      ['user', 'clean'],
      ['syscall', 'clean'],
      ['debug', 'clean'],
    ]);

    const x = extractNmiEntry(fs.readFileSync(ENTRY_4X, 'utf8'), ENTRY_4X);
    if (x.ok === false) throw new Error('extraction failed');
    const design = loadDesignFromSource(x.text, { id: 'entry-64-4.x', listing: ENTRY_4X, doNmi: '4.2' });
    const api = await exploreDesign({ design, depth: 2 });
    expect(api.map((a) => [a.workload, a.verdict, a.schedules])).toEqual(
      reports.map((c) => [c.workload, c.verdict, c.schedules]),
    );
  }, 240000);

  test('without the C-side protections it is VIOLATED in the documented ways', async () => {
    // The do_nmi of 3.6: no latch (do_nmi re-entered by a user-mode NMI), no CR2 save (CR2 changed).
    const r = await run(['explore', '--entry-file', ENTRY_4X, '--do-nmi', '3.6', '--json', '--workers', '2']);
    expect(r.code).toBe(1);
    const byWorkload = Object.fromEntries((JSON.parse(r.out) as JsonReport[]).map((x) => [x.workload, x]));
    expect(invariants(byWorkload.user)).toEqual(['reentrant-handler']);
    expect(invariants(byWorkload.syscall)).toEqual(['reentrant-handler', 'transparency']);
    expect(invariants(byWorkload.kernel)).toEqual(['transparency']);
    expect(byWorkload.kernel.violations[0]).toMatchObject({ schedule: expect.stringMatching(/pf@nmi_point/) });

    // Latch and CR2 in do_nmi but no debug-stack switch: the interrupted #BP handler's stack is overwritten.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-own-'));
    const manifest = path.join(dir, 'no-debug-switch.json');
    fs.writeFileSync(
      manifest,
      JSON.stringify({ title: 'no debug-stack switch', harness: { doNmiLatch: true, doNmiCr2: true } }),
    );
    const d = await run(['explore', '--entry-file', ENTRY_4X, '--manifest', manifest, '--workload', 'debug', '--json']);
    const debug = JSON.parse(d.out) as JsonReport;
    expect(invariants(debug)).toEqual(['transparency']);
    expect(d.out).toMatch(/bp@nmi_point/);
  }, 240000);
});

/** The replay commands in explore's text output. */
function hints(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('nmi-lab replay '));
}

/** Split a command line the way a POSIX shell does for these (words, single quotes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\') {
      word += line[++i];
      inWord = true;
    } else if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

describe('every replay command explore prints runs as printed', () => {
  async function replayAll(exploreArgs: string[]) {
    const r = await run(['explore', ...exploreArgs, '--workers', '2']);
    expect(r.code).toBe(1);
    const printed = hints(r.out);
    expect(printed.length).toBeGreaterThan(0);
    // Each hint follows the violation it replays: "[n] Title: ..." then the command.
    const lines = r.out.split('\n');
    for (const hint of printed) {
      const at = lines.findIndex((l) => l.trim() === hint);
      const number = /^\s*\[(\d)\]/.exec(lines[at - 1])![1];
      const argv = shellWords(hint);
      expect(argv.slice(0, 2)).toEqual(['nmi-lab', 'replay']);
      const replay = await run(argv.slice(1));
      expect(replay.err).not.toMatch(/internal error|\n\s+at /);
      expect(replay.code).toBe(1);
      expect(replay.out).toMatch(new RegExp(`\\n  \\[${number}\\] `));
    }
    return printed;
  }

  test('for a --source listing with --do-nmi (and --max-steps)', async () => {
    const printed = await replayAll([
      '--source',
      path.join(ROOT, 'kernel-lib', 'designs', 'linux-3.3.S'),
      '--do-nmi',
      '3.3',
      '--max-steps',
      '4000',
    ]);
    expect(printed[0]).toMatch(
      /^nmi-lab replay --source \S+linux-3\.3\.S --do-nmi 3\.3 --workload \w+ --max-steps 4000 --schedule '/,
    );
  }, 240000);

  test('for --sample (random schedules) on a --source listing', async () => {
    const printed = await replayAll([
      '--source',
      path.join(ROOT, 'kernel-lib', 'designs', 'linux-3.3.S'),
      '--do-nmi',
      '3.3',
      '--workload',
      'syscall',
      '--sample',
      '2000',
    ]);
    expect(printed[0]).toMatch(/^nmi-lab replay --source \S+ --do-nmi 3\.3 --workload syscall --schedule '/);
  }, 240000);

  test('for an --entry-file with a --manifest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab own kernel ')); // a space: the hint must quote it
    const manifest = path.join(dir, 'entry.json');
    fs.writeFileSync(manifest, JSON.stringify({ id: 'entry-3x', harness: { nmiIdtTable: true } }));
    const printed = await replayAll([
      '--entry-file',
      path.join(FIXTURES, 'entry_64-3.3.S'),
      '--manifest',
      manifest,
      '--workload',
      'syscall',
    ]);
    expect(printed[0]).toContain(`--manifest '${manifest}'`);
  }, 240000);

  test('for a --manifest that names its listing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-manifest-'));
    const manifest = path.join(dir, 'mine.json');
    const listing = path.relative(dir, path.join(ROOT, 'kernel-lib', 'designs', 'linux-3.3.S'));
    fs.writeFileSync(manifest, JSON.stringify({ id: 'mine', listing, harness: { nmiIdtTable: true } }));
    const printed = await replayAll([
      '--manifest',
      manifest,
      '--workload',
      'syscall',
      '--depth',
      '1',
      '--exceptions',
      '0',
    ]);
    expect(printed[0]).toMatch(/^nmi-lab replay --manifest \S+mine\.json --workload syscall --schedule '/);
  }, 240000);

  test('for a shipped design, and through a real shell', async () => {
    const printed = await replayAll(['linux-3.3', '--workload', 'syscall', '--depth', '1', '--exceptions', '0']);
    // One of them through bash, with a `nmi-lab` on the PATH, exactly as printed.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-bin-'));
    fs.writeFileSync(path.join(bin, 'nmi-lab'), `#!/bin/sh\nexec node ${path.join(ROOT, 'bin', 'nmi-lab.js')} "$@"\n`, {
      mode: 0o755,
    });
    const shell = spawnSync('bash', ['-c', `${printed[0]} --json`], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(shell.status).toBe(1);
    expect(JSON.parse(shell.stdout).violations.map((v: { invariant: string }) => v.invariant)).toContain('lost-nmi');
  }, 240000);
});

describe('no user input ends in an internal error or a stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-bad-'));
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const listing = path.join(ROOT, 'kernel-lib', 'designs', 'linux-3.3.S');
  const badJson = write('bad.json', '{ "title": ');
  const badField = write('field.json', '{ "year": "2015" }');
  const noListing = write('nolisting.json', '{ "title": "t" }');
  const badLabel = write('label.json', '{ "returnsWithoutIret": ["no_such_label"] }');
  const typo = write('typo.json', '{ "harnes": { "doNmiLatch": true } }');
  const notNmi = write('not-nmi.S', 'foo:\n\tret\n');
  const notEntry = write('entry_64.S', 'ENTRY(system_call)\n\tsysretq\nEND(system_call)\n');
  const cases: [string, string[], RegExp][] = [
    ['explore: unknown design', ['explore', 'linux-9'], /^nmi-lab: unknown design 'linux-9' \(known: /],
    [
      'replay: unknown design',
      ['replay', 'linux-9', '--schedule', 'nmi@1'],
      /^nmi-lab: unknown design 'linux-9' \(known: /,
    ],
    ['replay: malformed schedule', ['replay', 'linux-3.3', '--schedule', 'nmi@@'], /^nmi-lab: /],
    ['replay: unknown label', ['replay', 'linux-3.3', '--schedule', 'nmi@nowhere+0x4'], /unknown label 'nowhere'/],
    [
      'replay: not an exception point',
      ['replay', 'linux-3.3', '--schedule', 'pf@kernel_loop'],
      /not an exception point/,
    ],
    ['replay: bad user rsp', ['replay', 'linux-3.3', '--schedule', 'rsp=zz,nmi@1'], /^nmi-lab: /],
    ['replay: no schedule', ['replay', 'linux-3.3'], /^nmi-lab: replay needs --schedule/],
    [
      'replay: bad --max-steps',
      ['replay', 'linux-3.3', '--schedule', 'nmi@1', '--max-steps', 'x'],
      /--max-steps must be/,
    ],
    [
      'explore: missing file',
      ['explore', '--source', path.join(dir, 'none.S')],
      /cannot read the listing .*none\.S: no such file/,
    ],
    ['explore: a directory', ['explore', '--source', dir], /cannot read the listing .*: it is a directory/],
    ['explore: not a design', ['explore', '--source', notNmi], /must define the label 'nmi'/],
    ['explore: no ENTRY(nmi)', ['explore', '--entry-file', notEntry], /entry_64\.S:1:1: error: no ENTRY\(nmi\) line/],
    [
      'explore: bad JSON manifest',
      ['explore', '--source', listing, '--manifest', badJson],
      /bad\.json: not valid JSON/,
    ],
    [
      'explore: bad manifest field',
      ['explore', '--source', listing, '--manifest', badField],
      /field\.json: 'year' must be an integer/,
    ],
    ['explore: manifest without listing', ['explore', '--manifest', noListing], /names no listing/],
    [
      'explore: manifest label missing',
      ['explore', '--source', listing, '--manifest', badLabel],
      /returnsWithoutIret: 'no_such_label'/,
    ],
    ['explore: bad --do-nmi', ['explore', '--source', listing, '--do-nmi', '5.10'], /--do-nmi takes a kernel release/],
    [
      'explore: --do-nmi with a shipped design',
      ['explore', 'linux-3.3', '--do-nmi', '4.2'],
      /--do-nmi goes with a listing/,
    ],
    ['explore: two listings', ['explore', '--source', listing, '--entry-file', listing], /give one of them/],
    ['explore: id and listing', ['explore', 'linux-3.3', '--source', listing], /give one/],
    [
      'explore: conflicting preset',
      [
        'explore',
        '--source',
        listing,
        '--do-nmi',
        '4.2',
        '--manifest',
        write('c.json', '{"harness":{"doNmiCr2":false}}'),
      ],
      /harness\.doNmiCr2 is false, but the do_nmi of 4\.2/,
    ],
    ['explore: bad --workers', ['explore', 'linux-3.3', '--workers', 'many'], /--workers must be/],
    ['explore: bad --exceptions', ['explore', 'linux-3.3', '--exceptions', '1.5'], /--exceptions must be/],
    ['explore: bad --depth', ['explore', 'linux-3.3', '--depth', '0'], /--depth must be a positive integer/],
    ['explore: bad --workload', ['explore', 'linux-3.3', '--workload', 'idle'], /--workload must be one of/],
    ['explore: bad --sample', ['explore', 'linux-3.3', '--sample', '-3'], /--sample must be/],
    ['explore: bound too large', ['explore', 'linux-3.3', '--depth', '9'], /the bound is too large/],
    ['exec: missing file', ['exec', path.join(dir, 'none.S')], /cannot read/],
    ['designs: extra argument', ['designs', 'extra'], /usage/],
    [
      'grade: missing notebook',
      ['grade', path.join(dir, 'none.ipynb')],
      /not graded \[none\]\n {2}problem: cannot read/,
    ],
    ['grade: not a notebook', ['grade', badJson], /not graded \[bad\]\n {2}problem: not a notebook/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown option', ['explore', 'linux-3.3', '--colour'], /unknown option --colour/],
  ];
  test.each(cases)(
    '%s',
    async (_name, argv, message) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err + r.out).toMatch(message); // grade reports on stdout, the others on stderr
      expect(r.err + r.out).not.toMatch(/internal error|\n\s+at \S+ \(|Error: /);
    },
    60000,
  );

  test('a manifest field that does not exist is a warning, not silence', async () => {
    const r = await run([
      'explore',
      '--source',
      listing,
      '--manifest',
      typo,
      '--depth',
      '1',
      '--exceptions',
      '0',
      '--workload',
      'kernel',
    ]);
    expect(r.err).toMatch(/typo\.json: 'harnes' is not a manifest field/);
  }, 60000);

  test('the installed command reports a bad schedule in one line, exit status 2', () => {
    const r = spawnSync('node', [path.join(ROOT, 'bin', 'nmi-lab.js'), 'replay', 'linux-3.3', '--schedule', 'zap@1'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
