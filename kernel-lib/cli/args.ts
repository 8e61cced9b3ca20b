// A small argument parser: positionals plus --flag / --option VALUE, with clear errors.

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string>;
  flags: Set<string>;
}

export class UsageError extends Error {}

/** `valued` names options that take a value; every other --name is a boolean flag. */
export function parseArgs(argv: string[], valued: string[], known: string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!valued.includes(name) && !known.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (valued.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      out.options.set(name, value);
    } else {
      out.flags.add(name);
    }
  }
  return out;
}

export function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be a positive integer, not '${text}'`);
  }
  return Number(text);
}
