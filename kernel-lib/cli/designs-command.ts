// `nmi-lab designs [--json]`: the shipped designs, as a table or as JSON.
import { DESIGNS_USAGE } from './usage';
import { listDesigns, summarizeDesign } from '../designs';
import { parseArgs, UsageError } from './args';
import type { CliIo } from './io';

export function designsCommand(argv: string[], io: CliIo): number {
  const args = parseArgs(argv, [], ['json']);
  if (args.positionals.length !== 0) throw new UsageError(`usage: ${DESIGNS_USAGE}`);
  const designs = listDesigns().map(summarizeDesign);
  if (args.flags.has('json')) {
    io.out(`${JSON.stringify(designs, null, 2)}\n`);
    return 0;
  }
  const rows = designs.map((d) => [d.id, String(d.year), d.author, d.reconstruction ? 'yes' : 'no', d.title]);
  const head = ['id', 'year', 'author', 'reconstruction', 'title'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))];
  for (const [i, r] of rows.entries()) {
    out.push(line(r));
    out.push(`    source: ${designs[i].source}`);
  }
  io.out(`${out.join('\n')}\n`);
  return 0;
}
