// GAS `.macro` definitions and the text substitution of `.macro`, `.rept`, `.irp` and `.irpc` bodies.
import { AsmError, Statement } from './diagnostics';
import { splitTopLevel } from './text';

export interface MacroParam {
  name: string;
  defaultValue?: string;
  required?: boolean;
  vararg?: boolean;
}

export interface MacroDef {
  name: string;
  params: MacroParam[];
  body: Statement[];
}

/** `.macro name a, b=1 c:req rest:vararg` -> name and parameters (separated by commas or blanks). */
export function parseMacroHeader(rest: string): { name: string; params: MacroParam[] } {
  const m = /^\s*([A-Za-z_.$][\w.$]*)\s*,?\s*/.exec(rest);
  if (!m) throw new AsmError('.macro needs a name');
  const params: MacroParam[] = [];
  const re = /\s*([A-Za-z_.$][\w.$]*)(?:\s*:\s*(req|vararg))?(?:\s*=\s*("[^"]*"|[^\s,]*))?\s*,?/y;
  let i = m[0].length;
  while (i < rest.length) {
    re.lastIndex = i;
    const p = re.exec(rest);
    if (!p || p[0].length === 0) {
      if (rest.slice(i).trim() === '') break;
      throw new AsmError(`bad parameter list in .macro ${m[1]}: \`${rest.slice(i).trim()}'`);
    }
    const param: MacroParam = { name: p[1] };
    if (p[2] === 'req') param.required = true;
    if (p[2] === 'vararg') param.vararg = true;
    if (p[3] !== undefined) param.defaultValue = p[3];
    if (params.some((q) => q.name === param.name))
      throw new AsmError(`parameter \`${param.name}' repeated in .macro ${m[1]}`);
    params.push(param);
    i = p.index + p[0].length;
  }
  return { name: m[1], params };
}

/**
 * Splits invocation arguments: by commas when there is a top-level comma, otherwise by blanks
 * (`test_in_nmi rdx, 4*8(%rsp), a, b` and `pushq_cfi %rdx` both work). `name=value` binds by name.
 */
export function bindMacroArgs(def: MacroDef, argText: string): Map<string, string> {
  const text = argText.trim();
  let pieces: string[];
  if (text === '') pieces = [];
  else if (splitTopLevel(text).length > 1) pieces = splitTopLevel(text).map((p) => p.text.trim());
  else pieces = splitBlanks(text);
  const values = new Map<string, string>();
  let position = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k];
    const named = /^([A-Za-z_.$][\w.$]*)\s*=(?!=)\s*(.*)$/.exec(piece);
    if (named && def.params.some((p) => p.name === named[1])) {
      values.set(named[1], named[2]);
      continue;
    }
    const param = def.params[position];
    if (!param) throw new AsmError(`too many arguments for macro \`${def.name}' (it takes ${def.params.length})`);
    if (param.vararg) {
      const sep = splitTopLevel(text).length > 1 ? ', ' : ' ';
      values.set(param.name, pieces.slice(k).join(sep));
      break;
    }
    if (piece !== '') values.set(param.name, unquote(piece));
    position++;
  }
  for (const p of def.params) {
    if (values.has(p.name)) continue;
    if (p.required) throw new AsmError(`missing value for required parameter \`${p.name}' of macro \`${def.name}'`);
    values.set(p.name, p.defaultValue !== undefined ? unquote(p.defaultValue) : '');
  }
  return values;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') && !s.slice(1, -1).includes('"') ? s.slice(1, -1) : s;
}

function splitBlanks(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      cur += c;
      if (c === '\\') cur += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if ((c === ' ' || c === '\t') && depth <= 0) {
      if (cur !== '') out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * Replaces `\name` by its value, `\()` by nothing and `\@` by the expansion counter. A backslash not
 * followed by a parameter name is kept (it may be a string escape).
 */
export function substitute(text: string, values: Map<string, string>, counter?: number): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    if (text.startsWith('\\()', i)) {
      i += 3;
      continue;
    }
    if (text[i + 1] === '@' && counter !== undefined) {
      out += String(counter);
      i += 2;
      continue;
    }
    const id = /^[A-Za-z_.$][\w.$]*/.exec(text.slice(i + 1));
    if (id) {
      // GAS reads the whole name after `\`: use `\()` to glue text after an argument.
      if (values.has(id[0])) {
        out += values.get(id[0]);
        i += 1 + id[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}
