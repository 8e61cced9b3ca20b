// Notebooks import the library through tslab, which compiles it with its own bundled TypeScript
// 5.0 and these options (node_modules/tslab/dist/converter.js): ES2022 target and library,
// Node10 module resolution, non-strict, declarations emitted. Anything newer fails in a notebook.
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts5: typeof import('typescript') = require('@tslab/typescript-for-tslab');

const ROOT = path.resolve(__dirname, '..');

test('tslab bundles TypeScript 5.0', () => {
  expect(ts5.version).toMatch(/^5\.0\./);
});

test("the public API compiles under tslab's compiler and options with no diagnostics", () => {
  const options: import('typescript').CompilerOptions = {
    module: ts5.ModuleKind.ESNext,
    moduleResolution: ts5.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts5.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    declaration: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: false,
  };
  const program = ts5.createProgram([path.join(ROOT, 'kernel-lib/index.ts')], options);
  const emitted = program.emit(undefined, () => undefined, undefined, true); // declarations only, in memory
  const diagnostics = [...ts5.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  const text = diagnostics.map((d) => {
    const where =
      d.file && d.start !== undefined
        ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}`
        : '';
    return `${where} ${ts5.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(text).toEqual([]);
  // The whole library is reachable from index.ts, so this covered every module notebooks can load.
  const files = program
    .getSourceFiles()
    .map((f) => path.relative(ROOT, f.fileName))
    .filter((f) => f.startsWith('kernel-lib/'));
  expect(files).toEqual(
    expect.arrayContaining(['kernel-lib/machine/machine.ts', 'kernel-lib/asm/index.ts', 'kernel-lib/isa/semantics.ts']),
  );
});
