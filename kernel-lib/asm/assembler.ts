// Pass 1: reading statements in order. Handles labels, directives, `.macro`/`.rept`/`.irp` expansion
// and instructions, advancing each section's location counter. Expressions that need final addresses
// are kept (bound to what is known at that point) and resolved by layout.ts.
import { AsmError, DiagnosticSink, SourceLine, Statement } from './diagnostics';
import { bind, evaluate, Expr, literalValue, parseExpr, ParseOptions, Rel } from './expr';
import { checkInstruction, CheckedInstruction } from './instructions';
import { bindMacroArgs, MacroDef, parseMacroHeader, substitute } from './macros';
import { lookupMnemonic } from './mnemonics';
import { parseOperand } from './operands';
import { SectionState } from './sections';
import { decodeStringLiteral, splitStatements, splitTopLevel, stripHashComment, trimPiece } from './text';

/** Limits that keep `assemble()` from running away on bad input. */
export const LIMITS = {
  /** Statements read in total, including everything produced by expansion. */
  statements: 4_000_000,
  /** Statements produced by .macro/.rept/.irp expansion. */
  expandedStatements: 2_000_000,
  macroDepth: 100,
  sectionBytes: 256n * 1024n * 1024n,
};

export type SymbolDef =
  { kind: 'label'; section: string; offset: bigint; stmt: Statement } | { kind: 'equ'; expr: Expr; stmt: Statement };

export interface PendingInstruction {
  checked: CheckedInstruction;
  section: string;
  offset: bigint;
  stmt: Statement;
  text: string;
}

interface Frame {
  lines: SourceLine[];
  next: number;
  queue: Statement[];
  /** Set for frames that expand a .macro (for .exitm and the depth limit). */
  macro?: string;
}

interface Collector {
  kind: 'macro' | 'rept' | 'irp' | 'irpc';
  depth: number;
  body: Statement[];
  start: Statement;
  header: string;
}

interface IfState {
  active: boolean;
  taken: boolean;
  outer: boolean;
}

/** Internal names of numeric local labels contain this character, which no source name can. */
export const LOCAL_MARK = '\u0002';

export class Assembler {
  readonly sections = new Map<string, SectionState>();
  readonly symbols = new Map<string, SymbolDef>();
  readonly globals = new Set<string>();
  readonly instructions: PendingInstruction[] = [];
  readonly macros = new Map<string, MacroDef>();

  private section: SectionState;
  private previousSection: SectionState;
  private readonly sectionStack: Array<[SectionState, SectionState]> = [];
  private readonly localCounts = new Map<string, number>();
  private readonly frames: Frame[] = [];
  private collector: Collector | null = null;
  private readonly ifs: IfState[] = [];
  private statementCount = 0;
  private expandedCount = 0;
  private macroDepth = 0;
  private expansionCounter = 0;
  private pendingLock = false;
  private stopped = false;
  private readonly exprOptions: ParseOptions;

  constructor(
    private readonly sink: DiagnosticSink,
    private readonly predefined: Record<string, bigint>,
  ) {
    this.section = this.useSection('.text', '');
    this.previousSection = this.section;
    this.exprOptions = { localLabel: (digits, dir) => this.localLabelRef(digits, dir) };
  }

  run(lines: SourceLine[]): void {
    this.frames.push({ lines, next: 0, queue: [] });
    while (this.frames.length > 0 && !this.stopped) {
      const frame = this.frames[this.frames.length - 1];
      const stmt = frame.queue.shift();
      if (!stmt) {
        if (frame.next >= frame.lines.length) {
          this.frames.pop();
          if (frame.macro) this.macroDepth--;
          continue;
        }
        const line = frame.lines[frame.next++];
        const code = stripHashComment(line.text);
        frame.queue = splitStatements(code)
          .map((p) => ({ p, t: trimPiece(p) }))
          .filter(({ t }) => t.text !== '')
          .map(({ t }) => ({ text: t.text, line, column: t.offset + 1 }));
        continue;
      }
      if (++this.statementCount > LIMITS.statements) {
        this.sink.atStatement(
          'error',
          stmt,
          `too many statements (limit ${LIMITS.statements}): runaway .rept or macro expansion?`,
        );
        this.stopped = true;
        break;
      }
      this.statement(stmt);
    }
    if (this.collector) {
      const c = this.collector;
      this.sink.atStatement('error', c.start, `missing ${c.kind === 'macro' ? '.endm' : '.endr'} for \`${c.header}'`);
    }
    if (this.ifs.length > 0) {
      this.sink.atLine(
        'error',
        lines[lines.length - 1] ?? { text: '', file: '?', line: 1, origText: '', exact: true },
        'missing .endif',
      );
    }
  }

  private statement(stmt: Statement): void {
    try {
      if (this.collector) return this.collect(stmt);
      const active = this.ifs.length === 0 || this.ifs[this.ifs.length - 1].active;
      if (!active) {
        const m = /^\.(\w+)/.exec(stmt.text);
        const word = m?.[1].toLowerCase();
        if (m && word && (word.startsWith('if') || word === 'else' || word === 'elseif' || word === 'endif')) {
          this.conditional(word, stmt.text.slice(m[0].length), stmt, false);
        }
        return;
      }
      this.execute(stmt);
    } catch (e) {
      if (e instanceof AsmError) this.sink.atStatement('error', stmt, e.message, e.offset);
      else
        this.sink.atStatement('error', stmt, `internal assembler error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private execute(stmt: Statement): void {
    let text = stmt.text;
    let offset = 0;
    // Labels: `name:` (possibly several, possibly numeric).
    for (;;) {
      const m = /^([A-Za-z_.$][\w.$]*|\d+)\s*:(?!=)\s*/.exec(text);
      if (!m) break;
      this.defineLabel(m[1], stmt, offset);
      text = text.slice(m[0].length);
      offset += m[0].length;
    }
    if (text === '') return;
    const sub: Statement = offset === 0 ? stmt : { text, line: stmt.line, column: stmt.column + offset };
    const assign = /^([A-Za-z_.$][\w.$]*)\s*=(?!=)\s*(.*)$/.exec(text);
    if (assign) return this.defineEquate(assign[1], assign[2], sub, false);
    const word = /^\S+/.exec(text)![0];
    const rest = text.slice(word.length);
    const macro = this.macros.get(word) ?? this.macros.get(word.toLowerCase());
    if (macro) return this.invokeMacro(macro, rest, sub);
    if (word.startsWith('.')) return this.directive(word.toLowerCase(), rest, sub);
    this.instruction(word, rest, sub);
  }

  // ---- symbols -------------------------------------------------------------------------------------

  private localLabelRef(digits: string, dir: 'f' | 'b'): Expr {
    const n = this.localCounts.get(digits) ?? 0;
    if (dir === 'b' && n === 0)
      throw new AsmError(`backward reference \`${digits}b' to a local label that is not defined yet`);
    return { k: 'sym', name: `${digits}${LOCAL_MARK}${dir === 'b' ? n : n + 1}`, display: `${digits}${dir}` };
  }

  private defineLabel(name: string, stmt: Statement, offset: number): void {
    let key = name;
    if (/^\d+$/.test(name)) {
      const n = (this.localCounts.get(name) ?? 0) + 1;
      this.localCounts.set(name, n);
      key = `${name}${LOCAL_MARK}${n}`;
    } else if (this.symbols.has(name) || name in this.predefined) {
      throw new AsmError(`symbol \`${name}' is already defined`, offset);
    }
    this.symbols.set(key, { kind: 'label', section: this.section.name, offset: this.section.size, stmt });
  }

  private defineEquate(name: string, exprText: string, stmt: Statement, once: boolean): void {
    if (name === '.')
      throw new AsmError("assigning to `.' (moving the location counter) is not supported; use .skip or .align");
    const old = this.symbols.get(name);
    if (old && (old.kind === 'label' || once)) throw new AsmError(`symbol \`${name}' is already defined`);
    if (name in this.predefined) throw new AsmError(`symbol \`${name}' is predefined and cannot be redefined`);
    this.symbols.set(name, { kind: 'equ', expr: this.bindExpr(this.parse(exprText, stmt)), stmt });
  }

  private parse(text: string, stmt: Statement): Expr {
    const at = stmt.text.indexOf(text.trim());
    try {
      return parseExpr(text, this.exprOptions);
    } catch (e) {
      if (e instanceof AsmError) throw new AsmError(e.message, (at >= 0 ? at : 0) + (e.offset ?? 0));
      throw e;
    }
  }

  /** Binds `.set` symbols known now and `.`, and folds what is constant (keeps repeated `.set i, i+1` small). */
  bindExpr(e: Expr): Expr {
    if (e.k === 'num') return e; // the common case: nothing to bind or fold
    const dot: Expr = { k: 'secref', sec: this.section.name, off: this.section.size };
    const bound = bind(
      e,
      (name) => {
        const def = this.symbols.get(name);
        if (def && def.kind === 'equ') return def.expr;
        if (name in this.predefined) return { k: 'num', v: this.predefined[name] };
        return undefined;
      },
      dot,
    );
    return fold(bound);
  }

  /** A value needed now (counts, sizes): absolute, or an offset in a section for label differences. */
  private valueNow(text: string, stmt: Statement, what: string): bigint {
    const e = this.bindExpr(this.parse(text, stmt));
    const r = evaluate(e, {
      symbol: (name) => {
        const def = this.symbols.get(name);
        return def && def.kind === 'label' ? { sec: def.section, v: def.offset } : undefined;
      },
    });
    if (!r) throw new AsmError(`${what} must be a constant known at this point (\`${text.trim()}')`);
    if (r.sec !== null) throw new AsmError(`${what} must be an absolute value, not an address (\`${text.trim()}')`);
    return r.v;
  }

  // ---- sections ------------------------------------------------------------------------------------

  private useSection(name: string, flags: string): SectionState {
    let s = this.sections.get(name);
    if (!s) {
      s = new SectionState(name, flags);
      this.sections.set(name, s);
    }
    return s;
  }

  private switchTo(s: SectionState): void {
    if (s !== this.section) {
      this.previousSection = this.section;
      this.section = s;
    }
  }

  private advance(bytes: bigint): void {
    if (bytes < 0n) throw new AsmError('negative size');
    this.section.size += bytes;
    if (this.section.size > LIMITS.sectionBytes) {
      throw new AsmError(`section ${this.section.name} grows beyond ${LIMITS.sectionBytes} bytes`);
    }
  }

  // ---- directives ----------------------------------------------------------------------------------

  private directive(word: string, rest: string, stmt: Statement): void {
    const args = (): string[] => (rest.trim() === '' ? [] : splitTopLevel(rest).map((p) => p.text.trim()));
    if (word.startsWith('.cfi_')) return; // call frame info: no effect on the program
    switch (word) {
      case '.text':
      case '.data':
      case '.bss':
        return this.switchTo(this.useSection(word, ''));
      case '.section':
      case '.pushsection': {
        const a = args();
        const name = a[0]?.replace(/^"|"$/g, '');
        if (!name) throw new AsmError(`${word} needs a section name`);
        const flags = (a[1] ?? '').replace(/"/g, '');
        if (word === '.pushsection') this.sectionStack.push([this.section, this.previousSection]);
        return this.switchTo(this.useSection(name, flags));
      }
      case '.popsection': {
        const top = this.sectionStack.pop();
        if (!top) throw new AsmError('.popsection without .pushsection');
        this.section = top[0];
        this.previousSection = top[1];
        return;
      }
      case '.previous': {
        const p = this.previousSection;
        this.previousSection = this.section;
        this.section = p;
        return;
      }
      case '.globl':
      case '.global':
        for (const a of args()) for (const n of a.split(/\s+/)) if (n) this.globals.add(n);
        return;
      case '.type':
      case '.size':
      case '.file':
      case '.loc':
      case '.ident':
      case '.code64':
      case '.att_syntax':
      case '.local':
      case '.weak':
      case '.hidden':
      case '.extern':
      case '.protected':
      case '.internal':
      case '.sleb128':
      case '.uleb128':
      case '.loc_mark_labels':
      case '.nops':
        if (word === '.att_syntax' && /noprefix/.test(rest))
          throw new AsmError('.att_syntax noprefix is not supported');
        if (word === '.sleb128' || word === '.uleb128' || word === '.nops')
          throw new AsmError(`${word} is not supported`);
        return;
      case '.intel_syntax':
        throw new AsmError('.intel_syntax is not supported: this assembler reads AT&T syntax only');
      case '.code16':
      case '.code32':
        throw new AsmError(`${word} is not supported: this assembler is 64-bit only`);
      case '.end':
        this.stopped = true;
        return;
      case '.set':
      case '.equ':
      case '.equiv': {
        const a = splitTopLevel(rest);
        if (a.length < 2) throw new AsmError(`${word} needs a name and a value: \`${word} name, expr'`);
        return this.defineEquate(
          a[0].text.trim(),
          a
            .slice(1)
            .map((p) => p.text)
            .join(','),
          stmt,
          word === '.equiv',
        );
      }
      case '.quad':
      case '.8byte':
        return this.data(8, args(), stmt);
      case '.long':
      case '.int':
      case '.4byte':
        return this.data(4, args(), stmt);
      case '.word':
      case '.short':
      case '.value':
      case '.2byte':
        return this.data(2, args(), stmt);
      case '.byte':
        return this.data(1, args(), stmt);
      case '.ascii':
      case '.asciz':
      case '.string': {
        for (const a of args()) {
          const bytes = decodeStringLiteral(a);
          if (!bytes) throw new AsmError(`${word} expects string literals in double quotes, found \`${a}'`);
          if (word !== '.ascii') bytes.push(0);
          this.emitBytes(Uint8Array.from(bytes));
        }
        return;
      }
      case '.skip':
      case '.space':
      case '.zero': {
        const a = args();
        if (a.length < 1 || (word === '.zero' && a.length > 1) || a.length > 2)
          throw new AsmError(`${word} takes ${word === '.zero' ? 'a size' : 'a size and an optional fill byte'}`);
        const n = this.valueNow(a[0], stmt, `${word} size`);
        const fill = a[1] !== undefined ? Number(BigInt.asUintN(8, this.valueNow(a[1], stmt, 'fill value'))) : 0;
        return this.emitFill(n, fill);
      }
      case '.fill': {
        const a = args();
        if (a.length < 1 || a.length > 3) throw new AsmError('.fill takes repeat[, size[, value]]');
        const repeat = this.valueNow(a[0], stmt, '.fill repeat count');
        const size = a[1] !== undefined && a[1] !== '' ? this.valueNow(a[1], stmt, '.fill size') : 1n;
        const value = a[2] !== undefined ? this.valueNow(a[2], stmt, '.fill value') : 0n;
        if (repeat < 0n) throw new AsmError('.fill repeat count is negative');
        if (size < 0n || size > 8n) throw new AsmError('.fill size must be between 0 and 8');
        if (repeat * size > LIMITS.sectionBytes) throw new AsmError('.fill is too large');
        // GAS stores the value as 4 bytes (little-endian) padded with zeros up to `size`.
        const unit = new Uint8Array(Number(size));
        const v = BigInt.asUintN(32, value);
        for (let k = 0; k < Math.min(4, unit.length); k++) unit[k] = Number((v >> BigInt(8 * k)) & 0xffn);
        if (unit.every((b) => b === unit[0])) return this.emitFill(repeat * size, unit[0] ?? 0);
        const all = new Uint8Array(Number(repeat * size));
        for (let k = 0; k < all.length; k++) all[k] = unit[k % unit.length];
        return this.emitBytes(all);
      }
      case '.align':
      case '.balign':
      case '.p2align': {
        const a = args();
        if (a.length < 1) throw new AsmError(`${word} needs an alignment`);
        let n = this.valueNow(a[0], stmt, 'alignment');
        if (word === '.p2align') {
          if (n < 0n || n > 30n) throw new AsmError('.p2align exponent must be between 0 and 30');
          n = 1n << n;
        }
        if (n === 0n) n = 1n;
        if ((n & (n - 1n)) !== 0n)
          throw new AsmError(`alignment ${n} is not a power of 2 (x86 \`.align n' aligns to n bytes)`);
        const pad = (n - (this.section.size % n)) % n;
        const max = a[2] !== undefined && a[2] !== '' ? this.valueNow(a[2], stmt, 'maximum skip') : undefined;
        if (max !== undefined && pad > max) return;
        const fill =
          a[1] !== undefined && a[1] !== ''
            ? Number(BigInt.asUintN(8, this.valueNow(a[1], stmt, 'fill value')))
            : this.section.isCode
              ? 0x90
              : 0;
        return this.emitFill(pad, fill);
      }
      case '.org':
        throw new AsmError('.org is not supported; use .skip or .align');
      case '.macro': {
        const header = parseMacroHeader(rest);
        this.collector = {
          kind: 'macro',
          depth: 1,
          body: [],
          start: stmt,
          header: `.macro ${header.name}${rest.slice(rest.indexOf(header.name) + header.name.length)}`,
        };
        return;
      }
      case '.endm':
        throw new AsmError('.endm without .macro');
      case '.endr':
        throw new AsmError('.endr without .rept/.irp');
      case '.exitm': {
        const k = this.frames.map((f) => !!f.macro).lastIndexOf(true);
        if (k < 0) throw new AsmError('.exitm outside a macro');
        while (this.frames.length > k) {
          if (this.frames.pop()!.macro) this.macroDepth--;
        }
        return;
      }
      case '.purgem': {
        const name = rest.trim();
        if (!this.macros.delete(name)) throw new AsmError(`.purgem: no macro named \`${name}'`);
        return;
      }
      case '.rept':
      case '.irp':
      case '.irpc':
        this.collector = {
          kind: word.slice(1) as Collector['kind'],
          depth: 1,
          body: [],
          start: stmt,
          header: `${word}${rest}`,
        };
        return;
      case '.err':
        throw new AsmError('.err encountered');
      case '.error':
        throw new AsmError(`.error: ${decodeText(rest)}`);
      case '.warning':
        this.sink.atStatement('warning', stmt, `.warning: ${decodeText(rest)}`);
        return;
      case '.print':
        return;
    }
    const cond = word.slice(1);
    if (cond.startsWith('if') || cond === 'else' || cond === 'elseif' || cond === 'endif')
      return this.conditional(cond, rest, stmt, true);
    throw new AsmError(`unknown directive \`${word}'`);
  }

  private conditional(word: string, rest: string, stmt: Statement, active: boolean): void {
    const top = this.ifs[this.ifs.length - 1];
    if (word === 'endif') {
      if (!top) throw new AsmError('.endif without .if');
      this.ifs.pop();
      return;
    }
    if (word === 'else' || word === 'elseif') {
      if (!top) throw new AsmError(`.${word} without .if`);
      if (!top.outer || top.taken) {
        top.active = false;
        return;
      }
      top.active = word === 'else' ? true : this.valueNow(rest, stmt, '.elseif condition') !== 0n;
      top.taken = top.active;
      return;
    }
    if (!active) {
      this.ifs.push({ active: false, taken: true, outer: false });
      return;
    }
    const value = this.ifCondition(word, rest, stmt);
    this.ifs.push({ active: value, taken: value, outer: true });
  }

  private ifCondition(word: string, rest: string, stmt: Statement): boolean {
    const arg = rest.trim();
    switch (word) {
      case 'if':
      case 'ifne':
        return this.valueNow(arg, stmt, '.if condition') !== 0n;
      case 'ifeq':
        return this.valueNow(arg, stmt, '.ifeq condition') === 0n;
      case 'ifgt':
        return this.valueNow(arg, stmt, 'condition') > 0n;
      case 'ifge':
        return this.valueNow(arg, stmt, 'condition') >= 0n;
      case 'iflt':
        return this.valueNow(arg, stmt, 'condition') < 0n;
      case 'ifle':
        return this.valueNow(arg, stmt, 'condition') <= 0n;
      case 'ifdef':
        return this.symbols.has(arg) || arg in this.predefined;
      case 'ifndef':
      case 'ifnotdef':
        return !(this.symbols.has(arg) || arg in this.predefined);
      case 'ifb':
        return arg === '';
      case 'ifnb':
        return arg !== '';
      case 'ifc':
      case 'ifnc': {
        const parts = splitTopLevel(arg).map((p) => p.text.trim().replace(/^'(.*)'$/, '$1'));
        return (parts[0] === (parts[1] ?? '')) === (word === 'ifc');
      }
      default:
        throw new AsmError(`unknown directive \`.${word}'`);
    }
  }

  private data(size: 1 | 2 | 4 | 8, items: string[], stmt: Statement): void {
    if (items.length === 0) return;
    for (const item of items) {
      if (item === '') throw new AsmError('missing value in data list');
      const expr = this.bindExpr(this.parse(item, stmt));
      this.section.values.push({ offset: this.section.size, size, expr, stmt });
      this.advance(BigInt(size));
    }
  }

  private emitBytes(bytes: Uint8Array): void {
    this.section.fixed.push({ offset: this.section.size, bytes });
    this.advance(BigInt(bytes.length));
  }

  private emitFill(n: bigint, fill: number): void {
    if (n < 0n) throw new AsmError('size is negative');
    if (n > LIMITS.sectionBytes) throw new AsmError('size is too large');
    if (fill !== 0 && n > 0n)
      this.section.fixed.push({ offset: this.section.size, bytes: { fill, length: Number(n) } });
    this.advance(n);
  }

  // ---- .macro / .rept / .irp -----------------------------------------------------------------------

  private collect(stmt: Statement): void {
    const c = this.collector!;
    // Labels may precede the directive (`1: .endr` is rare, but `.endm` must be found after them).
    const word = /^(?:(?:[A-Za-z_.$][\w.$]*|\d+)\s*:\s*)*(\.\w+)/.exec(stmt.text)?.[1]?.toLowerCase();
    const opens = c.kind === 'macro' ? word === '.macro' : word === '.rept' || word === '.irp' || word === '.irpc';
    const closes = c.kind === 'macro' ? word === '.endm' : word === '.endr';
    if (opens) c.depth++;
    if (closes && --c.depth === 0) {
      this.collector = null;
      return this.finishCollection(c);
    }
    c.body.push(stmt);
  }

  private finishCollection(c: Collector): void {
    const stmt = c.start;
    const rest = c.header.replace(/^\.\w+/, '');
    if (c.kind === 'macro') {
      const header = parseMacroHeader(rest);
      this.macros.set(header.name, { name: header.name, params: header.params, body: c.body });
      return;
    }
    if (c.kind === 'rept') {
      const n = this.valueNow(rest, stmt, '.rept count');
      if (n <= 0n) return;
      this.checkExpansion(n * BigInt(c.body.length), stmt);
      const lines: SourceLine[] = [];
      for (let k = 0n; k < n; k++) for (const b of c.body) lines.push(expandedLine(b, b.text));
      return this.pushFrame(lines);
    }
    const parts = splitTopLevel(rest).map((p) => p.text);
    // `.irp name a b c` (blank-separated) as well as `.irp name, a, b, c`
    const head = /^\s*(\S+)\s+(\S.*)$/.exec(parts[0]);
    if (head) parts.splice(0, 1, head[1], head[2]);
    const name = parts[0].trim();
    if (!/^[A-Za-z_.$][\w.$]*$/.test(name)) throw new AsmError(`.${c.kind} needs a symbol name first`);
    const listText = parts.slice(1).join(',');
    let values: string[];
    if (c.kind === 'irpc') values = listText.trim().split('');
    else
      values =
        parts.length > 2
          ? parts.slice(1).map((p) => p.trim())
          : listText.trim() === ''
            ? ['']
            : listText.trim().split(/\s+/);
    if (c.kind === 'irpc' && values.length === 0) values = [''];
    this.checkExpansion(BigInt(values.length * c.body.length), stmt);
    const lines: SourceLine[] = [];
    for (const v of values) {
      const map = new Map([[name, v]]);
      for (const b of c.body) lines.push(expandedLine(b, substitute(b.text, map)));
    }
    this.pushFrame(lines);
  }

  private checkExpansion(n: bigint, stmt: Statement): void {
    this.expandedCount += Number(n > BigInt(LIMITS.expandedStatements) ? BigInt(LIMITS.expandedStatements) + 1n : n);
    if (this.expandedCount > LIMITS.expandedStatements) {
      this.stopped = true;
      throw new AsmError(
        `expansion too large: more than ${LIMITS.expandedStatements} statements from .rept/.irp/.macro`,
        0,
      );
    }
    void stmt;
  }

  private pushFrame(lines: SourceLine[], macro?: string): void {
    this.frames.push({ lines, next: 0, queue: [], macro });
  }

  private invokeMacro(def: MacroDef, argText: string, stmt: Statement): void {
    if (this.macroDepth >= LIMITS.macroDepth) {
      throw new AsmError(
        `macros nested too deeply (limit ${LIMITS.macroDepth}): does \`${def.name}' invoke itself without end?`,
      );
    }
    const values = bindMacroArgs(def, argText);
    this.checkExpansion(BigInt(def.body.length), stmt);
    const counter = this.expansionCounter++;
    const site = stmt.line;
    const macros = [...(site.macros ?? []), def.name];
    const column = site.column ?? (site.exact ? stmt.column : undefined);
    const lines = def.body.map((b): SourceLine => {
      const line: SourceLine = {
        text: substitute(b.text, values, counter),
        file: site.file,
        line: site.line,
        origText: site.origText,
        exact: false,
        macros,
      };
      if (column !== undefined) line.column = column;
      return line;
    });
    this.macroDepth++;
    this.pushFrame(lines, def.name);
  }

  // ---- instructions --------------------------------------------------------------------------------

  private instruction(word: string, rest: string, stmt: Statement): void {
    let mnemonicWord = word;
    let operandText = rest;
    let operandOffset = word.length;
    let lock = this.pendingLock;
    this.pendingLock = false;
    if (/^lock$/i.test(word)) {
      const m = /^\s*(\S+)/.exec(rest);
      if (!m) {
        this.pendingLock = true;
        return;
      } // `lock; incl (%rax)`
      lock = true;
      mnemonicWord = m[1];
      operandOffset = word.length + m[0].length;
      operandText = rest.slice(m[0].length);
    }
    let mn;
    try {
      mn = lookupMnemonic(mnemonicWord);
    } catch (e) {
      throw e instanceof AsmError ? new AsmError(e.message, operandOffset - mnemonicWord.length) : e;
    }
    const pieces = operandText.trim() === '' ? [] : splitTopLevel(operandText);
    const operands = pieces.map((p) =>
      parseOperand(p.text, operandOffset + p.offset + (p.text.length - p.text.trimStart().length), this.exprOptions),
    );
    // Bind `.set` symbols and `.` now, so `.set i, i+1` inside .rept gives each instruction its own value.
    for (const o of operands) {
      const op = o.operand;
      if (op.kind === 'imm') op.expr = this.bindExpr(op.expr);
      else if (op.kind === 'mem' && op.disp) op.disp = this.bindExpr(op.disp);
    }
    const checked = checkInstruction(mn, operands, lock);
    for (const w of checked.warnings) this.sink.atStatement('warning', stmt, w);
    const text = operands.length === 0 ? mnemonicWord : `${mnemonicWord} ${operands.map((o) => o.text).join(', ')}`;
    this.instructions.push({
      checked,
      section: this.section.name,
      offset: this.section.size,
      stmt,
      text: lock ? `lock ${text}` : text,
    });
    this.section.code.push([this.section.size, checked.length]);
    this.advance(BigInt(checked.length));
  }
}

/** A body statement re-read after expansion; it keeps the location of the line it came from. */
function expandedLine(b: Statement, text: string): SourceLine {
  const line: SourceLine = { ...b.line, text, exact: b.line.exact && text === b.line.text && b.column === 1 };
  return line;
}

function decodeText(rest: string): string {
  const t = rest.trim();
  const bytes = decodeStringLiteral(t);
  return bytes ? String.fromCharCode(...bytes) : t;
}

/** Folds an expression that no longer mentions symbols into a number (or section offset) node. */
export function fold(e: Expr): Expr {
  if (e.k === 'num' || e.k === 'sym' || e.k === 'secref') return e;
  try {
    const r: Rel | undefined = evaluate(e, { symbol: () => undefined });
    if (!r) return e;
    return r.sec === null ? { k: 'num', v: r.v } : { k: 'secref', sec: r.sec, off: r.v };
  } catch {
    return e;
  }
}

export { literalValue };
