// Notebook cells -> one JavaScript program for the sandboxed runner, with the semantics a learner
// saw in tslab: cells run in order; a later cell sees what earlier cells declared and may declare
// the same name again (the later one wins); a cell that throws stops there, and the cells after
// it still run.
//
// Each cell is transpiled by esbuild (TypeScript to JavaScript, types dropped, no type checking)
// and parsed by acorn, which finds its top-level imports and declarations. Those names are declared
// once for the whole program; in each cell a declaration becomes an assignment to that name, and
// the cell's body becomes an async function (cells may use top-level await) that the runner calls
// in a try/catch. Why esbuild and acorn rather than the TypeScript compiler: TypeScript is a
// development dependency (70 MB, 1 s to load); esbuild's transform is small, fast and well kept,
// and acorn is the small, dependency-free parser Node and ESLint use. The grader needs neither
// TypeScript nor tslab at run time.
import * as acorn from 'acorn';
import { transformSync } from 'esbuild';

/** A cell ready to run, or why it cannot. */
export type CompiledCell =
  | {
      ok: true;
      /** The cell's body: statements, declarations turned into assignments, imports into calls. */
      body: string;
      /** Top-level names the cell declares (imports included). */
      declares: string[];
      /** Every identifier the cell mentions (a superset of what it reads). */
      mentions: Set<string>;
    }
  | { ok: false; error: string };

type Node = acorn.Node & Record<string, unknown>;

function namesInPattern(p: Node | null | undefined, out: string[]): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier':
      out.push(p.name as string);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties as Node[])
        namesInPattern((prop.type === 'RestElement' ? prop.argument : prop.value) as Node, out);
      break;
    case 'ArrayPattern':
      for (const el of p.elements as (Node | null)[]) namesInPattern(el, out);
      break;
    case 'RestElement':
      namesInPattern(p.argument as Node, out);
      break;
    case 'AssignmentPattern':
      namesInPattern(p.left as Node, out);
      break;
    default:
      break;
  }
}

function collectIdentifiers(node: unknown, out: Set<string>, depth = 0): void {
  if (!node || typeof node !== 'object' || depth > 400) return;
  if (Array.isArray(node)) {
    for (const n of node) collectIdentifiers(n, out, depth + 1);
    return;
  }
  const n = node as Record<string, unknown>;
  if (n.type === 'Identifier' && typeof n.name === 'string') out.add(n.name);
  for (const key of Object.keys(n)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc') continue;
    const v = n[key];
    if (v && typeof v === 'object') collectIdentifiers(v, out, depth + 1);
  }
}

/** A one-line description of an esbuild or acorn error, with the cell line when known. */
function compileError(e: unknown): string {
  const errors = (e as { errors?: { text: string; location?: { line: number } | null }[] }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const first = errors[0];
    return `${first.location ? `line ${first.location.line}: ` : ''}${first.text}`;
  }
  return (e as Error).message ?? String(e);
}

/** Transpiles and rewrites one cell (see the header comment). Never throws. */
export function compileCell(source: string): CompiledCell {
  let js: string;
  try {
    js = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
      sourcefile: 'cell.ts',
      // Keep every value import: a later cell may use a name this cell imported.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    }).code;
  } catch (e) {
    return { ok: false, error: compileError(e) };
  }
  let program: Node;
  try {
    program = acorn.parse(js, {
      ecmaVersion: 2022,
      sourceType: 'module',
      allowAwaitOutsideFunction: true,
    }) as unknown as Node;
  } catch (e) {
    return { ok: false, error: compileError(e) };
  }
  const declares: string[] = [];
  const hoisted: string[] = [];
  const parts: string[] = [];
  const text = (n: Node) => js.slice(n.start, n.end);
  for (const st of program.body as Node[]) {
    let node = st;
    if (node.type === 'ExportNamedDeclaration' && node.declaration) node = node.declaration as Node;
    else if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') continue;
    else if (node.type === 'ExportDefaultDeclaration') node = node.declaration as Node;
    switch (node.type) {
      case 'ImportDeclaration': {
        const from = JSON.stringify((node.source as Node).value);
        const named: string[] = [];
        for (const spec of node.specifiers as Node[]) {
          const local = (spec.local as Node).name as string;
          declares.push(local);
          if (spec.type === 'ImportNamespaceSpecifier') parts.push(`${local} = __nmi.import(${from});`);
          else if (spec.type === 'ImportDefaultSpecifier') parts.push(`${local} = __nmi.import(${from}).default;`);
          else {
            const imported = spec.imported as Node;
            const name = imported.type === 'Identifier' ? (imported.name as string) : String(imported.value);
            named.push(`${JSON.stringify(name)}: ${local}`);
          }
        }
        if (named.length > 0) parts.push(`({ ${named.join(', ')} } = __nmi.import(${from}));`);
        if ((node.specifiers as Node[]).length === 0) parts.push(`__nmi.import(${from});`);
        break;
      }
      case 'VariableDeclaration': {
        for (const d of node.declarations as Node[]) {
          const names: string[] = [];
          namesInPattern(d.id as Node, names);
          declares.push(...names);
          if (d.init) parts.push(`(${text(d.id as Node)} = ${text(d.init as Node)});`);
          else if (node.kind !== 'var') parts.push(`${names.map((n) => `${n} = undefined`).join(', ')};`);
        }
        break;
      }
      case 'FunctionDeclaration': {
        const name = (node.id as Node | null)?.name as string | undefined;
        if (!name) break;
        declares.push(name);
        // Function declarations are hoisted within their cell: assign them before its statements.
        hoisted.push(`${name} = (${text(node)});`);
        break;
      }
      case 'ClassDeclaration': {
        const name = (node.id as Node | null)?.name as string | undefined;
        if (!name) break;
        declares.push(name);
        parts.push(`${name} = (${text(node)});`);
        break;
      }
      default:
        parts.push(text(node));
    }
  }
  const mentions = new Set<string>();
  collectIdentifiers(program, mentions);
  return { ok: true, body: [...hoisted, ...parts].join('\n'), declares: unique(declares), mentions };
}

function unique(names: string[]): string[] {
  return names.filter((n, i) => names.indexOf(n) === i);
}

/** A cell of the program: its compiled form and how reports name it. */
export interface ProgramCell {
  /** The notebook's cell index (for messages). */
  index: number;
  cell: Extract<CompiledCell, { ok: true }>;
}

/** Names the runner's own helpers use; a learner's declaration of one of them is renamed away. */
const RESERVED = new Set(['__nmi']);

/**
 * The program the runner evaluates: a function of the runner's helpers (`__nmi.import`,
 * `__nmi.cell`) that runs the cells in order and returns a getter per declared name.
 */
export function composeProgram(cells: readonly ProgramCell[]): string {
  const names = unique(cells.flatMap((c) => c.cell.declares)).filter((n) => !RESERVED.has(n));
  const lines = ['(async function (__nmi) {', '"use strict";'];
  if (names.length > 0) lines.push(`let ${names.join(', ')};`);
  for (const c of cells) lines.push(`await __nmi.cell(${c.index}, async () => {\n${c.cell.body}\n});`);
  lines.push(`return { ${names.map((n) => `${JSON.stringify(n)}: () => ${n}`).join(', ')} };`);
  lines.push('})');
  return lines.join('\n');
}
