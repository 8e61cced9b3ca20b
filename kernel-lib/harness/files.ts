// Where the harness sources come from in Node: kernel.S and prelude.h next to this module (in the
// sources, or copied into build/ by scripts/build.js). A bundle for the browser replaces this
// module with one that carries the same two files as data (the same export).
import * as fs from 'fs';
import * as path from 'path';

/** The prelude every design gets, and the kernel around the design. */
export function readHarnessSources(): { prelude: string; kernel: string } {
  return {
    prelude: fs.readFileSync(path.join(__dirname, 'prelude.h'), 'utf8'),
    kernel: fs.readFileSync(path.join(__dirname, 'kernel.S'), 'utf8'),
  };
}
