// Small lexical helpers shared by the preprocessor and the statement parser: skipping strings and
// character constants, splitting on `;` and on top-level commas.

/** Index just past a string literal starting at `i` (which holds `"`). */
export function skipString(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, s.length);
}

/** Index just past a GAS character constant starting at `i` (`'a`, `'a'`, `'\n'`). */
export function skipCharConst(s: string, i: number): number {
  let j = i + 1;
  if (j >= s.length) return j;
  j += s[j] === '\\' ? 2 : 1;
  if (s[j] === "'") j++;
  return j;
}

/** Splits a line into `;`-separated statements, keeping each one's start offset. */
export function splitStatements(line: string): Array<{ text: string; offset: number }> {
  const out: Array<{ text: string; offset: number }> = [];
  let start = 0;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '"') {
      i = skipString(line, i);
      continue;
    }
    if (c === "'") {
      i = skipCharConst(line, i);
      continue;
    }
    if (c === ';') {
      out.push({ text: line.slice(start, i), offset: start });
      start = i + 1;
    }
    i++;
  }
  out.push({ text: line.slice(start), offset: start });
  return out;
}

/** Removes a `#` comment (GAS on x86: `#` starts a comment anywhere outside strings). */
export function stripHashComment(line: string): string {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '"') {
      i = skipString(line, i);
      continue;
    }
    if (c === "'") {
      i = skipCharConst(line, i);
      continue;
    }
    if (c === '#') return line.slice(0, i);
    i++;
  }
  return line;
}

/** Splits on commas outside parentheses, strings and character constants; keeps offsets. */
export function splitTopLevel(s: string, sep = ','): Array<{ text: string; offset: number }> {
  const out: Array<{ text: string; offset: number }> = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i = skipString(s, i);
      continue;
    }
    if (c === "'") {
      i = skipCharConst(s, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === sep && depth <= 0) {
      out.push({ text: s.slice(start, i), offset: start });
      start = i + 1;
    }
    i++;
  }
  out.push({ text: s.slice(start), offset: start });
  return out;
}

/** Trims a piece and moves its offset past the leading blanks. */
export function trimPiece(p: { text: string; offset: number }): { text: string; offset: number } {
  const lead = p.text.length - p.text.trimStart().length;
  return { text: p.text.trim(), offset: p.offset + lead };
}

/** Decodes the body of a string literal ("..." with C escapes) to bytes. */
export function decodeStringLiteral(s: string): number[] | undefined {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return undefined;
  const body = s.slice(1, -1);
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === '\\') {
      const e = body[i + 1];
      const simple: Record<string, number> = {
        n: 10,
        t: 9,
        r: 13,
        b: 8,
        f: 12,
        v: 11,
        a: 7,
        '\\': 92,
        "'": 39,
        '"': 34,
      };
      if (e !== undefined && e in simple) {
        out.push(simple[e]);
        i += 2;
        continue;
      }
      if (e === 'x' || e === 'X') {
        let j = i + 2;
        let v = 0;
        for (; j < body.length && /[0-9a-fA-F]/.test(body[j]); j++) v = (v * 16 + parseInt(body[j], 16)) & 0xff;
        out.push(v);
        i = j;
        continue;
      }
      if (e !== undefined && e >= '0' && e <= '7') {
        let j = i + 1;
        let v = 0;
        for (; j < body.length && j < i + 4 && body[j] >= '0' && body[j] <= '7'; j++) {
          v = v * 8 + (body.charCodeAt(j) - 48);
        }
        out.push(v & 0xff);
        i = j;
        continue;
      }
      out.push(body.charCodeAt(i + 1) & 0xff);
      i += 2;
      continue;
    }
    const code = body.charCodeAt(i);
    if (code < 0x80) out.push(code);
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)); // UTF-8, BMP only
    i++;
  }
  return out;
}
