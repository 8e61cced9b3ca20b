// The reference yardstick in the same run: Unicorn 2 through its C API (bench/reference/
// unicorn-bench.c) on the code NMI Lab's loop and trial benchmarks run. The shared host swings
// by up to 2x between spells; a figure of each engine taken minutes apart is hard to compare,
// two taken back to back are not. Needs gcc, libunicorn-dev and GNU as (scripts/setup.sh);
// without them the figures are null and the reason goes to stderr.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const SOURCE = path.join(__dirname, 'reference', 'unicorn-bench.c');
const CACHE = path.join(__dirname, '..', 'node_modules', '.cache', 'nmi-lab-bench');

export type ReferenceKind = 'loop' | 'loop_hook' | 'trial';

let binary: string | null | undefined;
let why = '';

/** The compiled reference, built once per version of its source; null when it cannot be built. */
function referenceBinary(): string | null {
  if (binary !== undefined) return binary;
  const source = fs.readFileSync(SOURCE);
  const out = path.join(CACHE, `unicorn-bench-${crypto.createHash('sha1').update(source).digest('hex').slice(0, 12)}`);
  try {
    if (!fs.existsSync(out)) {
      fs.mkdirSync(CACHE, { recursive: true });
      execFileSync('gcc', ['-O2', '-o', out, SOURCE, '-lunicorn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    binary = out;
  } catch (e) {
    why = `cannot build ${SOURCE} (needs gcc and libunicorn-dev): ${firstLine(e)}`;
    binary = null;
  }
  return binary;
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: Buffer; message?: string };
  return (err.stderr?.toString() || err.message || String(e)).trim().split('\n')[0];
}

/** Flat code for address 0x400000 from AT&T source, assembled by GNU as. */
function flatCode(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmi-lab-ref-'));
  const asm = path.join(dir, 'code.S');
  try {
    fs.writeFileSync(asm, source);
    execFileSync('as', ['--64', '-o', path.join(dir, 'code.o'), asm], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', path.join(dir, 'code.o'), path.join(dir, 'code.bin')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return path.join(dir, 'code.bin');
}

/**
 * Unicorn's rate for `kind` on `source` (instructions/s for the loops, trials/s for the trial):
 * the median of `repeats` runs after a warm-up run; null (reason on stderr) without the tools.
 * The loop source ends with hlt and its iteration count is `count`; the trial runs the first 25
 * instructions of `source` after restoring the saved context and a 4 KiB stack each time.
 */
export function unicornRate(kind: ReferenceKind, source: string, count: number, repeats: number): number | null {
  const bin = referenceBinary();
  if (bin === null) {
    process.stderr.write(`bench: no Unicorn reference: ${why}\n`);
    return null;
  }
  let code: string;
  try {
    code = flatCode(source);
  } catch (e) {
    process.stderr.write(`bench: no Unicorn reference: GNU as/objcopy failed: ${firstLine(e)}\n`);
    return null;
  }
  try {
    const args =
      kind === 'trial'
        ? ['trial', code, String(count), String(repeats)]
        : ['loop', code, String(count), String(repeats), kind === 'loop_hook' ? '1' : '0'];
    const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Math.round(Number(JSON.parse(out).value));
  } catch (e) {
    process.stderr.write(`bench: the Unicorn reference failed: ${firstLine(e)}\n`);
    return null;
  } finally {
    fs.rmSync(path.dirname(code), { recursive: true, force: true });
  }
}
