// The headless runner (`npm run course`): notebooks run in a real Jupyter client with the tslab
// kernel, with no error and no stderr output (tslab reports type errors and throws on stderr), and
// a broken notebook is reported with its cause. Executed notebooks carry charts as plotly's MIME
// type and never plotly.js; their HTML write-ups carry plotly.js once. Two chapters, one without
// charts and one with an outcome map: every chapter runs in JupyterLab in browser.test.ts, and
// `npm run course` runs them all. Needs the project's Jupyter environment (.venv/, made by
// scripts/setup.sh).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROJECT_ROOT } from '../../kernel-lib/lessons/course-tree';
import { formatRun, runNotebooks } from '../../scripts/course/runner';

jest.setTimeout(600_000);

const CHAPTERS = ['notebooks/00-tour.ipynb', 'notebooks/08-lab.ipynb'];

test('chapters execute cleanly with charts as data, and a broken notebook is reported with its cause', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-course-'));
  // Inside the project (dist/ is git-ignored), so that 'nmi-lab' resolves as it does for notebooks/.
  const brokenDir = path.join(PROJECT_ROOT, 'dist', 'course-test');
  fs.mkdirSync(brokenDir, { recursive: true });
  const broken = path.join(brokenDir, 'broken.ipynb');
  fs.writeFileSync(
    broken,
    JSON.stringify({
      cells: [
        {
          cell_type: 'code',
          id: 'ok',
          metadata: {},
          source: ["import { Machine } from 'nmi-lab';\nconsole.log(typeof new Machine().step);"],
          outputs: [],
          execution_count: null,
        },
        {
          cell_type: 'code',
          id: 'typo',
          metadata: {},
          source: ["const n: number = 'x';"],
          outputs: [],
          execution_count: null,
        },
      ],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const runs = await runNotebooks([...CHAPTERS, broken], { outDir: out, concurrency: 2 });
  const [bad] = runs.splice(-1, 1);
  let chartsSeen = 0;
  for (const r of runs) {
    expect({ notebook: r.notebook, report: r.ok ? 'ok' : formatRun(r) }).toEqual({
      notebook: r.notebook,
      report: 'ok',
    });
    expect(fs.existsSync(r.html)).toBe(true);
    const executed = JSON.parse(fs.readFileSync(r.executed, 'utf8'));
    const text = JSON.stringify(executed.cells.map((c: { outputs?: unknown }) => c.outputs ?? []));
    expect(text).toContain('PASS ch');
    expect(text).not.toContain('FAIL ch');
    // Small, with charts as data: plotly.js stays out of the notebook.
    expect(fs.statSync(r.executed).size).toBeLessThan(500_000);
    expect(text).not.toContain('inlined by NMI Lab');
    const charts = (text.match(/application\/vnd\.plotly\.v1\+json/g) ?? []).length;
    const page = fs.readFileSync(r.html, 'utf8');
    expect(page.split('inlined by NMI Lab').length - 1).toBe(charts > 0 ? 1 : 0);
    expect(page.length).toBeLessThan(5_000_000);
    chartsSeen += charts;
  }
  expect(chartsSeen).toBeGreaterThanOrEqual(1);
  expect(bad.ok).toBe(false);
  expect(bad.problems).toEqual([
    expect.objectContaining({
      cell: 1,
      id: 'typo',
      kind: 'stderr',
      text: expect.stringMatching(/Type 'string' is not assignable to type 'number'/),
    }),
  ]);
  expect(formatRun(bad)).toMatch(/cell 1 \[typo\]: stderr/);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(brokenDir, { recursive: true, force: true });
});
