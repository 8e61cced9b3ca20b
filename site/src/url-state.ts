// What the page is showing, as the URL's fragment, so that a link opens exactly that moment:
//   #d=linux-3.3&w=syscall&s=rsp%3D0xffff880000203800,nmi@0&at=0
// d the design, w the workload, s the schedule (the form `nmi-lab replay` takes), at the step,
// src an edited listing (deflate-raw, base64url: the browser's CompressionStream, no library),
// depth/exc the explorer's bound when not the default. The fragment never reaches a server.

export interface PageState {
  design: string;
  workload: string;
  schedule: string;
  step: number | null;
  /** The design's listing as edited, or null for the shipped one. */
  source: string | null;
  depth: number;
  exceptions: number;
}

export const DEFAULT_STATE: PageState = {
  design: 'linux-3.3',
  workload: 'kernel',
  schedule: '',
  step: null,
  source: null,
  depth: 2,
  exceptions: 1,
};

/** An edited listing longer than this (decompressed) is refused: a URL is not a file store. */
export const MAX_SOURCE_BYTES = 256 * 1024;

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('the edited listing in the link is damaged (not base64url)');
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The part of a (De)CompressionStream used here (DOM and Node type it differently). */
interface ByteTransform {
  writable: WritableStream<Uint8Array>;
  readable: ReadableStream<Uint8Array>;
}

async function pump(bytes: Uint8Array, stream: ByteTransform, limit: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  void writer.write(bytes).catch(() => undefined);
  void writer.close().catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new Error(`the edited listing in the link is larger than ${limit / 1024} KiB`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A listing as URL-safe text: deflate-raw, base64url. */
export async function compressSource(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  return toBase64Url(await pump(bytes, new CompressionStream('deflate-raw') as unknown as ByteTransform, Infinity));
}

/** The listing back; throws an Error with a one-line message when the text is damaged. */
export async function decompressSource(text: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await pump(
      fromBase64Url(text),
      new DecompressionStream('deflate-raw') as unknown as ByteTransform,
      MAX_SOURCE_BYTES,
    );
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(/edited listing/.test(message) ? message : 'the edited listing in the link is damaged', {
      cause: e,
    });
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function intOr(text: string | null, fallback: number | null): number | null {
  if (text === null || !/^\d{1,9}$/.test(text)) return fallback;
  return Number(text);
}

/** The state in a fragment (`#d=...`); what is missing or malformed takes its default. */
export async function readFragment(fragment: string): Promise<{ state: PageState; problems: string[] }> {
  const q = new URLSearchParams(fragment.replace(/^#/, ''));
  const problems: string[] = [];
  let source: string | null = null;
  const src = q.get('src');
  if (src !== null && src !== '') {
    try {
      source = await decompressSource(src);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const step = intOr(q.get('at'), null);
  if (q.get('at') !== null && step === null) problems.push(`'at=${q.get('at')}' is not a step count`);
  return {
    state: {
      design: q.get('d') || DEFAULT_STATE.design,
      workload: q.get('w') || DEFAULT_STATE.workload,
      schedule: q.get('s') ?? '',
      step,
      source,
      depth: intOr(q.get('depth'), DEFAULT_STATE.depth) as number,
      exceptions: intOr(q.get('exc'), DEFAULT_STATE.exceptions) as number,
    },
    problems,
  };
}

/** The fragment for a state (the listing already compressed, or null). */
export function writeFragment(state: PageState, compressedSource: string | null): string {
  const parts: [string, string][] = [
    ['d', state.design],
    ['w', state.workload],
  ];
  if (state.schedule !== '') parts.push(['s', state.schedule]);
  if (state.step !== null) parts.push(['at', String(state.step)]);
  if (state.depth !== DEFAULT_STATE.depth) parts.push(['depth', String(state.depth)]);
  if (state.exceptions !== DEFAULT_STATE.exceptions) parts.push(['exc', String(state.exceptions)]);
  if (compressedSource !== null) parts.push(['src', compressedSource]);
  // Schedules read better unescaped: '@', ',' and ':' are safe in a fragment.
  const enc = (v: string) => encodeURIComponent(v).replace(/%40/g, '@').replace(/%2C/g, ',').replace(/%3A/g, ':');
  return `#${parts.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`;
}
