// Collecting assembler messages with their source locations.
// Every problem in the source becomes a Diagnostic value; nothing in the assembler throws past
// `assemble()`. Statement-level code signals a problem by throwing AsmError, which the statement loop
// catches and turns into a Diagnostic, so assembly recovers at the next statement.
import type { Diagnostic, Severity, SourceLoc } from './program';

/** A problem found while handling one statement; `offset` points into the statement text if known. */
export class AsmError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'AsmError';
  }
}

/**
 * One logical source line after preprocessing. `text` is what the assembler reads; `origText` is the
 * physical line as written, shown to the learner. `exact` says columns of `text` equal those of `origText`
 * (false after a cpp macro expansion or a backslash continuation).
 */
export interface SourceLine {
  text: string;
  file: string;
  line: number;
  origText: string;
  exact: boolean;
  /** Names of the `.macro`s this line was expanded from, innermost last. */
  macros?: string[];
  /** For lines made by a .macro expansion: the column of the invocation in its own line. */
  column?: number;
}

/** A statement: one `;`-separated piece of a line, with its starting column (1-based) in `line.text`. */
export interface Statement {
  text: string;
  line: SourceLine;
  column: number;
}

export class DiagnosticSink {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  report(severity: Severity, where: SourceLoc & { text: string }, message: string): void {
    const d: Diagnostic = {
      severity,
      message,
      file: where.file,
      line: where.line,
      column: where.column,
      text: where.text,
    };
    (severity === 'error' ? this.errors : this.warnings).push(d);
  }

  /** A message about a statement; `offset` (into the statement text) refines the column when it maps back exactly. */
  atStatement(severity: Severity, stmt: Statement, message: string, offset?: number): void {
    const line = stmt.line;
    let msg = message;
    if (line.macros && line.macros.length > 0) {
      const chain = line.macros
        .map((m) => '`' + m + "'")
        .reverse()
        .join(' from ');
      msg = `${message} (in \`${stmt.text}', expanded from macro ${chain})`;
    }
    this.report(
      severity,
      { file: line.file, line: line.line, column: statementColumn(stmt, offset), text: line.origText },
      msg,
    );
  }

  atLine(severity: Severity, line: SourceLine, message: string, column?: number): void {
    this.report(
      severity,
      { file: line.file, line: line.line, column: column ?? firstColumn(line.origText), text: line.origText },
      message,
    );
  }
}

function firstColumn(text: string): number {
  const m = /\S/.exec(text);
  return m ? m.index + 1 : 1;
}

/** Where a statement is, as reported to the learner (the invocation site for macro expansions). */
export function statementLoc(stmt: Statement): SourceLoc {
  return { file: stmt.line.file, line: stmt.line.line, column: statementColumn(stmt) };
}

/** Maps a statement (and an offset in it) back to a column of the line as written. */
function statementColumn(stmt: Statement, offset?: number): number {
  const line = stmt.line;
  if (line.column !== undefined) return line.column; // macro expansion: the invocation site
  if (line.exact) return stmt.column + (offset ?? 0);
  // The text changed under cpp: look for the statement's first word in the original line.
  const word = /^\S+/.exec(stmt.text);
  if (word) {
    const i = line.origText.indexOf(word[0]);
    if (i >= 0) return i + 1;
  }
  return firstColumn(line.origText);
}

/** `file:line:column: error: message`, then the source line and a caret under the column. */
export function formatDiagnostic(d: Diagnostic): string {
  const text = d.text.replace(/\t/g, ' ');
  const caret = ' '.repeat(Math.max(0, d.column - 1)) + '^';
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n${text}\n${caret}`;
}
