// AT&T operand syntax: `%reg`, `$expr`, `seg:disp(base,index,scale)`, `sym(%rip)`, bare `expr`, and the
// `*` that marks an indirect jmp/call.
import { AsmError } from './diagnostics';
import { Expr, parseExpr, ParseOptions } from './expr';
import type { CrOperand, OperandSize, SegOperand } from './program';
import { CONTROL_REGS, GPRS, SEGMENT_REGS } from './registers';

export type ParsedOperand =
  | { kind: 'reg'; reg: number; size: OperandSize; high8?: boolean; needsRex?: boolean; name: string }
  | { kind: 'cr'; cr: CrOperand['cr'] }
  | { kind: 'seg'; seg: SegOperand['seg'] }
  | { kind: 'imm'; expr: Expr }
  | {
      kind: 'mem';
      base: number | 'rip' | null;
      index: number | null;
      scale: 1 | 2 | 4 | 8;
      /** null when no displacement is written. */
      disp: Expr | null;
      seg: 'fs' | 'gs' | null;
      /** A bare expression with no `(...)`: an absolute address, or a jmp/call/jcc target. */
      bare: boolean;
    };

export interface OperandText {
  operand: ParsedOperand;
  /** `*` before the operand (indirect jmp/call). */
  indirect: boolean;
  /** The operand as written, trimmed. */
  text: string;
  /** Offset of the operand in the statement (for error columns). */
  offset: number;
}

/** Parses one operand; `offset` is where it starts in the statement, to place errors. */
export function parseOperand(raw: string, offset: number, exprOptions: ParseOptions): OperandText {
  const text = raw.trim();
  let s = text;
  let at = offset;
  const fail = (msg: string): never => {
    throw new AsmError(msg, at);
  };
  if (s === '') fail('missing operand');
  let indirect = false;
  if (s.startsWith('*')) {
    indirect = true;
    s = s.slice(1).trimStart();
    at += 1;
  }
  if (s.startsWith('$')) {
    return { operand: { kind: 'imm', expr: expr(s.slice(1), at + 1, exprOptions) }, indirect, text, offset };
  }
  let seg: 'fs' | 'gs' | null = null;
  const segPrefix = /^%([a-z]{2})\s*:/i.exec(s);
  if (segPrefix && SEGMENT_REGS.has(segPrefix[1].toLowerCase() as SegOperand['seg'])) {
    const name = segPrefix[1].toLowerCase();
    if (name !== 'fs' && name !== 'gs')
      fail(`segment override \`%${name}:' has no effect in 64-bit mode and is not supported (only %fs: and %gs:)`);
    seg = name as 'fs' | 'gs';
    s = s.slice(segPrefix[0].length).trimStart();
    if (s === '') fail('missing memory operand after segment override');
  }
  if (s.startsWith('%') && seg === null) {
    return { operand: register(s, at), indirect, text, offset };
  }
  const mem = memory(s, at, seg, exprOptions);
  return { operand: mem, indirect, text, offset };
}

function expr(s: string, at: number, options: ParseOptions): Expr {
  try {
    return parseExpr(s, options);
  } catch (e) {
    if (e instanceof AsmError) throw new AsmError(e.message, at + (e.offset ?? 0));
    throw e;
  }
}

function register(s: string, at: number): ParsedOperand {
  const name = s.slice(1).trim().toLowerCase();
  const gpr = GPRS.get(name);
  if (gpr) return { kind: 'reg', reg: gpr.reg, size: gpr.size, high8: gpr.high8, needsRex: gpr.needsRex, name };
  const cr = CONTROL_REGS.get(name);
  if (cr !== undefined) return { kind: 'cr', cr };
  if (SEGMENT_REGS.has(name as SegOperand['seg'])) return { kind: 'seg', seg: name as SegOperand['seg'] };
  if (name === 'rip') throw new AsmError("%rip can only be used as a base register: `sym(%rip)'", at);
  throw new AsmError(`bad register name \`${s.trim()}'`, at);
}

/** `disp(base,index,scale)` with any part omitted, or a bare expression. */
function memory(s: string, at: number, seg: 'fs' | 'gs' | null, options: ParseOptions): ParsedOperand {
  if (s.endsWith(')')) {
    // Find the `(` that matches the final `)`.
    let depth = 0;
    let open = -1;
    for (let i = s.length - 1; i >= 0; i--) {
      if (s[i] === ')') depth++;
      else if (s[i] === '(' && --depth === 0) {
        open = i;
        break;
      }
    }
    const inside = open >= 0 ? s.slice(open + 1, -1).trim() : '';
    if (open >= 0 && (inside.startsWith('%') || inside.startsWith(','))) {
      const dispText = s.slice(0, open);
      const disp = dispText.trim() === '' ? null : expr(dispText, at, options);
      const parts = inside.split(',').map((p) => p.trim());
      if (parts.length > 3) throw new AsmError(`too many parts in memory operand \`(${inside})'`, at + open);
      const base = parts[0] === '' ? null : addressRegister(parts[0], at + open, true);
      const index = parts.length > 1 && parts[1] !== '' ? addressRegister(parts[1], at + open, false) : null;
      if (index === 'rip') throw new AsmError('%rip cannot be an index register', at + open);
      if (index === 4) throw new AsmError('%rsp cannot be an index register', at + open);
      let scale: 1 | 2 | 4 | 8 = 1;
      if (parts.length > 2 && parts[2] !== '') {
        const v = parts[2];
        if (!['1', '2', '4', '8'].includes(v))
          throw new AsmError(`scale factor of \`${v}' must be 1, 2, 4 or 8`, at + open);
        if (index === null) throw new AsmError('scale factor without an index register', at + open);
        scale = Number(v) as 1 | 2 | 4 | 8;
      }
      if (base === 'rip' && index !== null)
        throw new AsmError('%rip-relative addressing cannot have an index', at + open);
      return { kind: 'mem', base, index: index as number | null, scale, disp, seg, bare: false };
    }
  }
  return { kind: 'mem', base: null, index: null, scale: 1, disp: expr(s, at, options), seg, bare: true };
}

function addressRegister(part: string, at: number, allowRip: boolean): number | 'rip' {
  if (!part.startsWith('%')) throw new AsmError(`expected a register in memory operand, found \`${part}'`, at);
  const name = part.slice(1).toLowerCase();
  if (name === 'rip') {
    if (!allowRip) throw new AsmError('%rip cannot be an index register', at);
    return 'rip';
  }
  const gpr = GPRS.get(name);
  if (!gpr) throw new AsmError(`bad register name \`${part}'`, at);
  if (gpr.size !== 8) {
    throw new AsmError(`\`${part}' is not a valid 64-bit address register (only 64-bit addressing is supported)`, at);
  }
  return gpr.reg;
}
