// Pass 2: placing sections at addresses, resolving symbols and the expressions kept by pass 1, and
// building the Program (section images, instructions with concrete operands, symbol table).
import { Assembler, LOCAL_MARK, PendingInstruction, SymbolDef } from './assembler';
import { AsmError, DiagnosticSink, Statement, statementLoc } from './diagnostics';
import { evaluate, Expr, Rel } from './expr';
import { ImmRule, PendingOperand } from './instructions';
import type { Instruction, Operand, Program, Section, SymbolInfo } from './program';

export const DEFAULT_TEXT_BASE = 0xffffffff81000000n;
const PAGE = 4096n;
const TWO64 = 1n << 64n;

const hex = (v: bigint): string => (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const fitsS32 = (v: bigint): boolean => {
  const s = BigInt.asIntN(64, v);
  return s >= -(1n << 31n) && s < 1n << 31n;
};

/** Section base addresses: explicit ones first, `.text` at the kernel default, the rest after, page-aligned. */
export function placeSections(asm: Assembler, bases: Record<string, bigint>): Map<string, bigint> {
  const placed = new Map<string, bigint>();
  for (const name of asm.sections.keys()) {
    if (name in bases) placed.set(name, u64(bases[name]));
    else if (name === '.text') placed.set(name, DEFAULT_TEXT_BASE);
  }
  for (const [name, s] of asm.sections) {
    if (placed.has(name)) continue;
    let end = 0n;
    for (const [other, base] of placed) end = maxBig(end, base + asm.sections.get(other)!.size);
    const base = ((end + PAGE - 1n) / PAGE) * PAGE;
    placed.set(name, base);
    void s;
  }
  return placed;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export class Linker {
  private readonly resolving = new Set<string>();
  private readonly equateValues = new Map<string, bigint>();

  constructor(
    private readonly asm: Assembler,
    private readonly bases: Map<string, bigint>,
    private readonly predefined: Record<string, bigint>,
    private readonly sink: DiagnosticSink,
  ) {}

  /** The final value of a symbol, or undefined if it has none. */
  symbolValue(name: string): bigint | undefined {
    const def = this.asm.symbols.get(name);
    if (def) return this.defValue(name, def);
    if (name in this.predefined) return this.predefined[name];
    return undefined;
  }

  private defValue(name: string, def: SymbolDef): bigint | undefined {
    if (def.kind === 'label') return u64(this.bases.get(def.section)! + def.offset);
    const known = this.equateValues.get(name);
    if (known !== undefined) return known;
    if (this.resolving.has(name)) throw new AsmError(`symbol \`${name}' is defined in terms of itself`);
    this.resolving.add(name);
    try {
      const r = this.evaluate(def.expr);
      if (!r) return undefined;
      this.equateValues.set(name, r);
      return r;
    } finally {
      this.resolving.delete(name);
    }
  }

  /** Evaluates with final addresses; undefined (and `missing` filled) if some symbol has no value. */
  evaluate(e: Expr, missing?: string[]): bigint | undefined {
    const r: Rel | undefined = evaluate(e, {
      symbol: (name, display) => {
        const v = this.symbolValue(name);
        if (v === undefined) {
          missing?.push(display);
          return undefined;
        }
        return { sec: null, v };
      },
      sectionBase: (sec) => this.bases.get(sec) ?? 0n,
    });
    return r?.v;
  }

  /** Evaluates an expression of a statement, reporting undefined symbols there. */
  private valueAt(e: Expr, stmt: Statement): bigint | undefined {
    const missing: string[] = [];
    let v: bigint | undefined;
    try {
      v = this.evaluate(e, missing);
    } catch (err) {
      if (err instanceof AsmError) {
        this.sink.atStatement('error', stmt, err.message);
        return undefined;
      }
      throw err;
    }
    if (v === undefined) {
      for (const name of [...new Set(missing)]) this.sink.atStatement('error', stmt, `undefined symbol \`${name}'`);
    }
    return v;
  }

  link(): Program {
    const instructions: Instruction[] = [];
    for (const p of this.asm.instructions) {
      const i = this.instruction(p);
      if (i) instructions.push(i);
    }
    instructions.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const sections = this.sectionImages();
    const symbols = new Map<string, SymbolInfo>();
    for (const [name, def] of this.asm.symbols) {
      if (name.includes(LOCAL_MARK)) continue;
      let value: bigint | undefined;
      try {
        value = this.symbolValue(name);
      } catch (err) {
        if (!(err instanceof AsmError)) throw err;
        this.sink.atStatement('error', def.stmt, err.message);
      }
      if (value === undefined) {
        const missing: string[] = [];
        if (def.kind === 'equ') {
          try {
            this.evaluate(def.expr, missing);
          } catch {
            /* reported above */
          }
          for (const m of new Set(missing))
            this.sink.atStatement('error', def.stmt, `undefined symbol \`${m}' in the value of \`${name}'`);
        }
        continue;
      }
      symbols.set(name, {
        name,
        value,
        section: def.kind === 'label' ? def.section : null,
        global: this.asm.globals.has(name),
      });
    }
    return { sections, instructions, symbols, warnings: [] };
  }

  private instruction(p: PendingInstruction): Instruction | undefined {
    const c = p.checked;
    let address = this.bases.get(p.section)! + p.offset;
    if (address >= TWO64) address -= TWO64;
    const next = address + BigInt(c.length);
    const operands: Operand[] = [];
    let ok = true;
    for (const o of c.operands) {
      try {
        const r = this.operand(o, p, next);
        if (r === undefined) ok = false;
        else operands.push(r);
      } catch (e) {
        if (!(e instanceof ReportedError)) throw e;
        ok = false;
      }
    }
    if (!ok) return undefined;
    const l = statementLoc(p.stmt);
    const i: Instruction = {
      address,
      length: c.length,
      op: c.op,
      size: c.size,
      operands,
      loc: { file: l.file, line: l.line, column: l.column },
      text: p.text,
    };
    if (c.srcSize !== undefined) i.srcSize = c.srcSize;
    if (c.cond !== undefined) i.cond = c.cond;
    return i;
  }

  private operand(o: PendingOperand, p: PendingInstruction, next: bigint): Operand | undefined {
    switch (o.kind) {
      case 'reg':
      case 'cr':
      case 'seg':
        return o;
      case 'target': {
        const v = this.valueAt(o.expr, p.stmt);
        return v === undefined ? undefined : { kind: 'target', address: u64(v) };
      }
      case 'imm': {
        const v = this.valueAt(o.expr, p.stmt);
        return v === undefined ? undefined : { kind: 'imm', value: this.checkImmediate(v, o.rule, p) };
      }
      case 'mem': {
        let disp = 0n;
        if (o.disp) {
          const v = this.valueAt(o.disp, p.stmt);
          if (v === undefined) return undefined;
          disp = v;
        }
        if (o.base === 'rip') disp = disp - next; // relative to the next instruction, as the CPU computes it
        disp = BigInt.asIntN(64, disp);
        if (!o.wide && !fitsS32(disp)) {
          const what =
            o.base === 'rip'
              ? 'rip-relative displacement'
              : o.base === null && o.index === null
                ? 'absolute address'
                : 'displacement';
          this.sink.atStatement('error', p.stmt, `${what} ${hex(disp)} does not fit in a sign-extended 32-bit field`);
          return undefined;
        }
        return { kind: 'mem', base: o.base, index: o.index, scale: o.scale, disp, seg: o.seg };
      }
    }
  }

  private checkImmediate(v: bigint, rule: ImmRule, p: PendingInstruction): bigint {
    if (rule.kind === 'any') return v;
    if (rule.kind === 's32') {
      if (!fitsS32(v))
        throw this.report(p, `immediate ${hex(v)} does not fit in a sign-extended 32-bit field; use movabs`);
      return v;
    }
    const bits = BigInt(rule.bits);
    const s = BigInt.asIntN(64, v);
    const fits = s >= -(1n << (bits - 1n)) && s < 1n << bits;
    if (fits) return v;
    const t = BigInt.asUintN(rule.bits, v);
    this.sink.atStatement('warning', p.stmt, `${hex(u64(v))} shortened to ${hex(t)}`);
    return t;
  }

  private report(p: PendingInstruction, msg: string): AsmError {
    this.sink.atStatement('error', p.stmt, msg);
    return new ReportedError(msg);
  }

  private sectionImages(): Section[] {
    const out: Section[] = [];
    for (const [name, s] of this.asm.sections) {
      const bytes = new Uint8Array(Number(s.size));
      if (!s.isBss) {
        for (const [off, len] of s.code) bytes.fill(0x90, Number(off), Number(off) + len);
        for (const f of s.fixed) {
          const at = Number(f.offset);
          if (f.bytes instanceof Uint8Array) bytes.set(f.bytes, at);
          else bytes.fill(f.bytes.fill, at, at + f.bytes.length);
        }
        for (const d of s.values) {
          const v = this.valueAt(d.expr, d.stmt);
          if (v === undefined) continue;
          const bits = BigInt(d.size * 8);
          const sv = BigInt.asIntN(64, v);
          if (d.size < 8 && !(sv >= -(1n << (bits - 1n)) && sv < 1n << bits)) {
            this.sink.atStatement(
              'warning',
              d.stmt,
              `value ${hex(u64(v))} truncated to ${hex(BigInt.asUintN(d.size * 8, v))}`,
            );
          }
          let u = BigInt.asUintN(d.size * 8, v);
          for (let k = 0; k < d.size; k++, u >>= 8n) bytes[Number(d.offset) + k] = Number(u & 0xffn);
        }
      }
      out.push({ name, address: this.bases.get(name)!, bytes });
    }
    return out;
  }
}

/** An error already turned into a diagnostic: the instruction is dropped, nothing more is reported. */
class ReportedError extends AsmError {}
export { ReportedError };
