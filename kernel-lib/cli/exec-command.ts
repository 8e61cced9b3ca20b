// `nmi-lab exec FILE.S [--entry LABEL] [--max-steps N] [--json]`
import { EXEC_USAGE } from './usage';
import * as fs from 'fs';
import * as path from 'path';
import { formatDiagnostic } from '../asm';
import { execSource, GPR_NAMES } from '../exec';
import { parseArgs, positiveInt, UsageError } from './args';
import type { CliIo } from './io';

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

export function execCommand(argv: string[], io: CliIo): number {
  const args = parseArgs(argv, ['entry', 'max-steps'], ['json']);
  if (args.positionals.length !== 1) throw new UsageError(`usage: ${EXEC_USAGE}`);
  const file = args.positionals[0];
  const maxSteps = args.options.has('max-steps')
    ? positiveInt(args.options.get('max-steps') as string, '--max-steps')
    : undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`nmi-lab: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  // Files next to the source may be #included.
  const includes = new Proxy({} as Record<string, string>, {
    get: (_t, name) => {
      if (typeof name !== 'string') return undefined;
      try {
        return fs.readFileSync(path.resolve(path.dirname(file), name), 'utf8');
      } catch {
        return undefined;
      }
    },
    has: (_t, name) => typeof name === 'string' && fs.existsSync(path.resolve(path.dirname(file), name)),
  });
  const result = execSource(text, { file, entry: args.options.get('entry'), maxSteps, includes });
  for (const d of result.diagnostics) io.err(`${formatDiagnostic(d)}\n`);
  if (!result.ok) return 2;
  const regs = result.regs!;
  if (args.flags.has('json')) {
    const obj: Record<string, string | number> = {};
    for (const name of GPR_NAMES) obj[name] = hex(regs[name]);
    obj.rip = hex(result.rip!);
    obj.rflags = hex(result.rflags!);
    obj.steps = result.steps!;
    obj.stop = result.stop!;
    io.out(`${JSON.stringify(obj)}\n`);
  } else {
    const lines: string[] = [];
    for (let i = 0; i < GPR_NAMES.length; i += 4) {
      lines.push(
        GPR_NAMES.slice(i, i + 4)
          .map((n) => `${n.padStart(3)}=${hex(regs[n]).padStart(18)}`)
          .join('  '),
      );
    }
    lines.push(`rip=${hex(result.rip!)}  rflags=${hex(result.rflags!)}`);
    lines.push(`${result.stop} after ${result.steps} steps: ${result.message}`);
    io.out(`${lines.join('\n')}\n`);
  }
  return result.stop === 'hlt' ? 0 : 1;
}
