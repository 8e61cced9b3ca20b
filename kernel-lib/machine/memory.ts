// Sparse paged memory: 4 KiB pages with present / writable / user bits, the #PF / #GP / #SS
// checks of a linear access, and copy-on-write snapshots.
//
// Addresses travel as two int32 halves (lo, hi) because JavaScript numbers cannot hold kernel
// addresses above 2^53 and BigInt is too slow for the step loop.
// A page is named by its 52-bit page number, which a double holds exactly.
import { CpuFault, PF_FETCH, PF_PRESENT, PF_USER, PF_WRITE, Vector } from '../isa/faults';

export const PAGE_SIZE = 4096;

// Aligned accesses read and write a page's bytes as Int32Array words, which are little-endian
// only on a little-endian host (every host Node runs on in practice; refuse the others loudly).
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('NMI Lab needs a little-endian host');
const TLB_SIZE = 64;
const JOURNAL_DEFAULT_CAPACITY = 512;
const SLOTS_PER_PAGE = PAGE_SIZE / 8;

// Journal segments are numbered across every Memory, so that a page's stamps can never match
// a segment of another memory (or an earlier one of this memory). 2^31 segments is far more
// than any exploration opens.
let lastSegment = 0;

import { ACC_FETCH_BIT as ACC_FETCH, ACC_STACK_BIT as ACC_STACK, ACC_USER_BIT as ACC_USER } from '../isa/access';
import { isCanonicalHigh } from '../isa/registers';

export { ACC_FETCH, ACC_STACK, ACC_USER };

export interface PageFlags {
  writable: boolean;
  user: boolean;
}

export class Page {
  readonly view: DataView;
  /** The same bytes as little-endian int32 words (the host is little-endian; aligned accesses use it). */
  readonly words: Int32Array;
  /** True once a snapshot refers to this page: the next write copies it first. */
  shared = false;
  /**
   * Per 8-byte slot, the journal segment that last journaled it (Memory.beforeSharedWrite):
   * a slot already journaled in the current segment is written in place without another entry.
   */
  stamps: Int32Array | null = null;
  constructor(
    readonly data: Uint8Array,
    public writable: boolean,
    public user: boolean,
    /** Decoded instructions by page offset (code is never re-decoded from bytes). */
    public code: unknown[] | null = null,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.words = new Int32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
  }
}

export function pageNumber(lo: number, hi: number): number {
  return (hi >>> 0) * 1048576 + (lo >>> 12);
}

export function pageNumberOf(address: bigint): number {
  return Number(BigInt.asUintN(64, address) >> 12n);
}

/** The halves of a 64-bit address or value. */
export function splitU64(value: bigint): [number, number] {
  const v = BigInt.asUintN(64, value);
  return [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
}

export function joinU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * Memory as seen by one snapshot: the pages written since its parent, over the parent's.
 * Creating one costs O(pages written since the previous snapshot).
 */
export class MemorySnapshot {
  private resolved: Map<number, Page | null> | null = null;
  constructor(
    readonly parent: MemorySnapshot | null,
    /** Pages (re)mapped or written since the parent; null marks an unmapped page. */
    readonly delta: Map<number, Page | null>,
  ) {}

  pageAt(key: number): Page | null {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks the parent chain from here
    for (let s: MemorySnapshot | null = this; s !== null; s = s.parent) {
      const page = s.delta.get(key);
      if (page !== undefined) return page;
    }
    return null;
  }

  /** Every mapped page of this snapshot (built once, on the first full restore). */
  allPages(): Map<number, Page | null> {
    if (this.resolved === null) {
      const chain: MemorySnapshot[] = [];
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks the parent chain from here
      for (let s: MemorySnapshot | null = this; s !== null; s = s.parent) chain.push(s);
      const all = new Map<number, Page | null>();
      for (let i = chain.length - 1; i >= 0; i--) for (const [k, p] of chain[i].delta) all.set(k, p);
      this.resolved = all;
    }
    return this.resolved;
  }
}

export class Memory {
  pages = new Map<number, Page>();
  /** Page numbers mapped, unmapped or copied since `base` was taken or restored. */
  private dirty: number[] = [];
  private base: MemorySnapshot | null = null;
  // A direct-mapped translation cache (64 entries by low page-number bits): page numbers of
  // kernel addresses are doubles, and a Map lookup per access would dominate the step loop.
  // An entry matches when both halves of the page address match (integer compares only).
  private readonly tlbLoPage = new Int32Array(TLB_SIZE).fill(-1); // lo >>> 12 (20 bits)
  private readonly tlbHi = new Int32Array(TLB_SIZE);
  private readonly tlbPage: (Page | null)[] = new Array(TLB_SIZE).fill(null);
  /** High half of the last 64-bit read. */
  hi = 0;
  /** Changes whenever pages are mapped or unmapped (caches of code lookups compare it). */
  mapVersion = 0;
  private mappedSinceBase = false;
  /** Private pages dropped by restore(), recycled by copy-on-write. */
  private spare: Page[] = [];
  // The write journal. Right after a snapshot or restore, writes to pages shared with `base`
  // go in place and the old bytes are journaled; restore() undoes them. An exploration trial
  // writes a few dozen slots on three or four pages, and undoing them is far cheaper than
  // copying whole 4 KiB pages. Past the journal's capacity the journaled pages are copied
  // (promote) and writes fall back to plain copy-on-write until the next snapshot or restore.
  private journaling = true;
  private journalLength = 0;
  private journalCapacity = JOURNAL_DEFAULT_CAPACITY;
  private journalPage: (Page | null)[] = new Array(JOURNAL_DEFAULT_CAPACITY).fill(null);
  private journalKey = new Float64Array(JOURNAL_DEFAULT_CAPACITY);
  private journalOffset = new Int32Array(JOURNAL_DEFAULT_CAPACITY);
  private journalLo = new Int32Array(JOURNAL_DEFAULT_CAPACITY);
  private journalHi = new Int32Array(JOURNAL_DEFAULT_CAPACITY);
  /** The current journal segment (see Page.stamps and newJournalSegment()). */
  private segment = ++lastSegment;
  /** Bumped whenever the journal starts over (restore, snapshot): readers of it compare this. */
  journalEpoch = 0;
  /**
   * The shortest the journal has been since a reader last set this to its length: entries past
   * it may have been undone (a rewind) and written anew, though the journal is as long again.
   */
  journalLowWater = 0;

  // ---- mapping -------------------------------------------------------------------------

  /** Map [address, address + size) with fresh zeroed pages (size rounded up to pages). */
  map(address: bigint, size: number, flags: PageFlags): void {
    this.mapVersion++;
    this.mappedSinceBase = true;
    const first = pageNumberOf(address);
    const count = Math.ceil((Number(BigInt.asUintN(64, address) & 0xfffn) + size) / PAGE_SIZE);
    for (let i = 0; i < count; i++) {
      const key = first + i;
      const old = this.pages.get(key);
      const page = new Page(new Uint8Array(PAGE_SIZE), flags.writable, flags.user, null);
      if (old) page.data.set(old.data); // remapping keeps contents, changes flags
      if (old) page.code = old.code;
      this.setPage(key, page);
    }
  }

  unmap(address: bigint, size: number): void {
    this.mapVersion++;
    this.mappedSinceBase = true;
    const first = pageNumberOf(address);
    const count = Math.ceil((Number(BigInt.asUintN(64, address) & 0xfffn) + size) / PAGE_SIZE);
    for (let i = 0; i < count; i++) {
      if (this.pages.delete(first + i)) this.dirty.push(first + i);
    }
    this.flushTlb();
  }

  pageFor(address: bigint): Page | undefined {
    return this.pages.get(pageNumberOf(address));
  }

  private setPage(key: number, page: Page): void {
    this.pages.set(key, page);
    this.dirty.push(key);
    this.forgetTlbEntry(key);
  }

  private forgetTlbEntry(key: number): void {
    const slot = key % TLB_SIZE;
    if (this.tlbLoPage[slot] === key % 1048576 && this.tlbHi[slot] === (Math.floor(key / 1048576) | 0))
      this.tlbLoPage[slot] = -1;
  }

  private flushTlb(): void {
    this.tlbLoPage.fill(-1);
    this.tlbPage.fill(null);
  }

  // ---- guest accesses (fault like the CPU) -------------------------------------------------

  /** Find the page for a guest access, raising #GP/#SS/#PF as the hardware would. */
  translate(lo: number, hi: number, acc: number, write: boolean): Page {
    const loPage = lo >>> 12;
    const slot = loPage & (TLB_SIZE - 1);
    let page: Page;
    if (this.tlbLoPage[slot] === loPage && this.tlbHi[slot] === hi) {
      page = this.tlbPage[slot] as Page;
    } else {
      const key = (hi >>> 0) * 1048576 + loPage;
      if (!isCanonicalHigh(hi)) {
        // SDM 6.15: a non-canonical reference faults #GP(0), or #SS(0) when it is stack-relative.
        throw new CpuFault((acc & ACC_STACK) !== 0 ? Vector.SS : Vector.GP, 0, 0, 0, 'non-canonical address');
      }
      const found = this.pages.get(key);
      if (found === undefined) throw this.pageFault(lo, hi, acc, write, false, 'page not present');
      page = found;
      this.tlbLoPage[slot] = loPage;
      this.tlbHi[slot] = hi | 0;
      this.tlbPage[slot] = page;
    }
    const user = page.user; // read even for supervisor accesses, so its load has type feedback
    if ((acc & ACC_USER) !== 0 && !user)
      throw this.pageFault(lo, hi, acc, write, true, 'user access to a supervisor page');
    if (write) {
      // CR0.WP is set (as Linux sets it): supervisor writes honour read-only pages too.
      if (!page.writable) throw this.pageFault(lo, hi, acc, write, true, 'write to a read-only page');
      if (page.shared && !this.journaling) page = this.copyOnWrite(pageNumber(lo, hi), page);
    }
    return page;
  }

  private pageFault(lo: number, hi: number, acc: number, write: boolean, present: boolean, reason: string): CpuFault {
    const code =
      (present ? PF_PRESENT : 0) |
      (write ? PF_WRITE : 0) |
      ((acc & ACC_USER) !== 0 ? PF_USER : 0) |
      ((acc & ACC_FETCH) !== 0 ? PF_FETCH : 0);
    return new CpuFault(Vector.PF, code, lo, hi, reason);
  }

  private copyOnWrite(key: number, page: Page): Page {
    // Reuse a page dropped by an earlier restore: allocating 4 KiB buffers dominated trial loops.
    let copy = this.spare.pop();
    if (copy === undefined) {
      copy = new Page(page.data.slice(), page.writable, page.user, page.code);
    } else {
      copy.data.set(page.data);
      copy.writable = page.writable;
      copy.user = page.user;
      copy.code = page.code;
      copy.shared = false;
    }
    this.setPage(key, copy);
    return copy;
  }

  /**
   * Before writing `size` bytes at `offset` of a page shared with a snapshot: journal the old
   * contents of the 8-byte slots the write touches (returning the same page), or, past the
   * limit, switch to copy-on-write. A slot is journaled once per segment: what an undo must put
   * back is its contents when the segment began, and a stack slot or counter written over and
   * over in a loop then costs one entry.
   */
  private beforeSharedWrite(page: Page, key: number, offset: number, size: number): Page {
    const segment = this.segment;
    const first = offset >> 3;
    const last = (offset + size - 1) >> 3;
    let stamps = page.stamps;
    if (stamps !== null && stamps[first] === segment && stamps[last] === segment) return page;
    const needed = this.journalLength + (last - first + 1);
    if (needed > this.journalCapacity) {
      this.promoteJournal();
      const live = this.pages.get(key) as Page;
      return live.shared ? this.copyOnWrite(key, live) : live;
    }
    if (needed > this.journalPage.length)
      this.resizeJournal(Math.min(this.journalCapacity, Math.max(needed, 2 * this.journalPage.length)));
    if (stamps === null) stamps = page.stamps = new Int32Array(SLOTS_PER_PAGE);
    const view = page.view;
    for (let slot = first; slot <= last; slot++) {
      if (stamps[slot] === segment) continue;
      stamps[slot] = segment;
      const i = this.journalLength++;
      this.journalPage[i] = page;
      this.journalKey[i] = key;
      this.journalOffset[i] = slot << 3;
      this.journalLo[i] = view.getInt32(slot << 3, true);
      this.journalHi[i] = view.getInt32((slot << 3) + 4, true);
    }
    return page;
  }

  /**
   * Start a new journal segment: the next write to any slot is journaled again, even if it was
   * journaled before. Marks do this (an undo to a mark must find each slot's contents then), and
   * so must a reader that accounts for entries as they come (the explorer's state hash).
   */
  newJournalSegment(): void {
    this.segment = ++lastSegment;
  }

  /** Put back every journaled byte, newest first, so shared pages are as their snapshot has them. */
  private undoJournal(): void {
    this.undoDownTo(0);
    this.journalEpoch++;
  }

  /** Undo journal entries from the newest down to `position`. */
  private undoDownTo(position: number): void {
    for (let i = this.journalLength - 1; i >= position; i--) {
      const view = (this.journalPage[i] as Page).view;
      const off = this.journalOffset[i];
      view.setInt32(off, this.journalLo[i], true);
      view.setInt32(off + 4, this.journalHi[i], true);
    }
    this.journalLength = position;
    if (position < this.journalLowWater) this.journalLowWater = position;
    this.newJournalSegment();
  }

  /** Give every journaled page a private copy of its current contents, then undo the originals. */
  private promoteJournal(): void {
    for (let i = 0; i < this.journalLength; i++) {
      const key = this.journalKey[i];
      const page = this.journalPage[i] as Page;
      if (this.pages.get(key) === page) this.copyOnWrite(key, page);
    }
    this.undoJournal();
    this.journaling = false;
  }

  read64(lo: number, hi: number, acc: number): number {
    // The common case (stack slots, per-CPU data) inline: aligned, so on one page, and a TLB hit
    // needs only the user-page check. The rest is out of line so that callers inline this.
    const loPage = lo >>> 12;
    const slot = loPage & (TLB_SIZE - 1);
    if ((lo & 7) === 0 && this.tlbLoPage[slot] === loPage && this.tlbHi[slot] === hi) {
      const page = this.tlbPage[slot] as Page;
      const user = page.user; // read even for supervisor accesses, so its load has type feedback
      if ((acc & ACC_USER) === 0 || user) {
        const words = page.words;
        const w = (lo & 0xfff) >> 2;
        this.hi = words[w + 1];
        return words[w];
      }
    }
    return this.read64Slow(lo, hi, acc);
  }

  private read64Slow(lo: number, hi: number, acc: number): number {
    const off = lo & 0xfff;
    if (off <= 0xff8) {
      const view = this.translate(lo, hi, acc, false).view;
      this.hi = view.getInt32(off + 4, true);
      return view.getInt32(off, true);
    }
    const bytes = this.readBytesChecked(lo, hi, 8, acc);
    this.hi = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
    return bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
  }

  read32(lo: number, hi: number, acc: number): number {
    const off = lo & 0xfff;
    if (off <= 0xffc) return this.translate(lo, hi, acc, false).view.getInt32(off, true);
    const b = this.readBytesChecked(lo, hi, 4, acc);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  read16(lo: number, hi: number, acc: number): number {
    const off = lo & 0xfff;
    if (off <= 0xffe) return this.translate(lo, hi, acc, false).view.getUint16(off, true);
    const b = this.readBytesChecked(lo, hi, 2, acc);
    return b[0] | (b[1] << 8);
  }

  read8(lo: number, hi: number, acc: number): number {
    return this.translate(lo, hi, acc, false).data[lo & 0xfff];
  }

  write64(lo: number, hi: number, vLo: number, vHi: number, acc: number): void {
    // Inline: aligned (one page, one journal slot), a TLB hit on a writable page the access may
    // use, and a private page or a journaling one (the slot journaled first unless it already is
    // in this segment). Anything else, copy-on-write included, goes out of line.
    const loPage = lo >>> 12;
    const slot = loPage & (TLB_SIZE - 1);
    if ((lo & 7) === 0 && this.tlbLoPage[slot] === loPage && this.tlbHi[slot] === hi) {
      let page = this.tlbPage[slot] as Page;
      const off = lo & 0xfff;
      const user = page.user; // read even for supervisor accesses, so its load has type feedback
      if (page.writable && ((acc & ACC_USER) === 0 || user) && (!page.shared || this.journaling)) {
        if (page.shared && (page.stamps === null || page.stamps[off >> 3] !== this.segment)) {
          page = this.beforeSharedWrite(page, (hi >>> 0) * 1048576 + loPage, off, 8);
        }
        const words = page.words;
        words[off >> 2] = vLo;
        words[(off >> 2) + 1] = vHi;
        return;
      }
    }
    this.write64Slow(lo, hi, vLo, vHi, acc);
  }

  private write64Slow(lo: number, hi: number, vLo: number, vHi: number, acc: number): void {
    const off = lo & 0xfff;
    if (off <= 0xff8) {
      let page = this.translate(lo, hi, acc, true);
      if (page.shared) page = this.beforeSharedWrite(page, pageNumber(lo, hi), off, 8);
      page.view.setInt32(off, vLo, true);
      page.view.setInt32(off + 4, vHi, true);
      return;
    }
    this.writeBytesChecked(
      lo,
      hi,
      [vLo, vLo >>> 8, vLo >>> 16, vLo >>> 24, vHi, vHi >>> 8, vHi >>> 16, vHi >>> 24],
      acc,
    );
  }

  write32(lo: number, hi: number, v: number, acc: number): void {
    const off = lo & 0xfff;
    if (off <= 0xffc) {
      let page = this.translate(lo, hi, acc, true);
      if (page.shared) page = this.beforeSharedWrite(page, pageNumber(lo, hi), off, 4);
      page.view.setInt32(off, v, true);
      return;
    }
    this.writeBytesChecked(lo, hi, [v, v >>> 8, v >>> 16, v >>> 24], acc);
  }

  write16(lo: number, hi: number, v: number, acc: number): void {
    const off = lo & 0xfff;
    if (off <= 0xffe) {
      let page = this.translate(lo, hi, acc, true);
      if (page.shared) page = this.beforeSharedWrite(page, pageNumber(lo, hi), off, 2);
      page.view.setUint16(off, v & 0xffff, true);
      return;
    }
    this.writeBytesChecked(lo, hi, [v, v >>> 8], acc);
  }

  write8(lo: number, hi: number, v: number, acc: number): void {
    let page = this.translate(lo, hi, acc, true);
    if (page.shared) page = this.beforeSharedWrite(page, pageNumber(lo, hi), lo & 0xfff, 1);
    page.data[lo & 0xfff] = v & 0xff;
  }

  /**
   * Write `count` 8-byte slots upward from lo:hi, slot i's halves at values[2i] and values[2i+1]:
   * every check first, so a fault writes nothing (event delivery pushes its frame this way).
   */
  writeSlots(lo: number, hi: number, values: Int32Array, count: number, acc: number): void {
    const off = lo & 0xfff;
    if ((lo & 7) !== 0 || off + count * 8 > PAGE_SIZE) {
      // Unaligned, or across a page boundary: check both pages, then slot by slot.
      this.probeWrite(lo, hi, count * 8, acc);
      let aLo = lo;
      let aHi = hi;
      for (let i = 0; i < count; i++) {
        this.write64(aLo, aHi, values[2 * i], values[2 * i + 1], acc);
        const next = (aLo + 8) | 0;
        if (next >>> 0 < aLo >>> 0) aHi = (aHi + 1) | 0;
        aLo = next;
      }
      return;
    }
    let page = this.translate(lo, hi, acc, true);
    if (page.shared) page = this.beforeSharedWrite(page, pageNumber(lo, hi), off, count * 8);
    const words = page.words;
    const w = off >> 2;
    for (let i = 0; i < 2 * count; i++) words[w + i] = values[i];
  }

  /** Check that a write of n bytes at lo:hi would succeed, without writing (for multi-part instructions). */
  probeWrite(lo: number, hi: number, n: number, acc: number): void {
    this.translate(lo, hi, acc, true);
    const endLo = (lo + n - 1) | 0;
    if ((endLo & ~0xfff) !== (lo & ~0xfff)) {
      const endHi = (hi + (endLo >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      this.translate(endLo, endHi, acc, true);
    }
  }

  // An access that straddles two pages: check both pages before touching either,
  // so a fault leaves memory unchanged (instructions are restartable after #PF).
  private readBytesChecked(lo: number, hi: number, n: number, acc: number): number[] {
    const out: number[] = [];
    this.forEachByte(lo, hi, n, (l, h) => out.push(this.translate(l, h, acc, false).data[l & 0xfff]));
    return out;
  }

  private writeBytesChecked(lo: number, hi: number, bytes: number[], acc: number): void {
    // First pass: every check (and copy-on-write) before anything is written.
    this.forEachByte(lo, hi, bytes.length, (l, h) => this.translate(l, h, acc, true));
    this.forEachByte(lo, hi, bytes.length, (l, h, i) => this.write8(l, h, bytes[i], acc));
  }

  private forEachByte(lo: number, hi: number, n: number, visit: (lo: number, hi: number, i: number) => void): void {
    let curLo = lo;
    let curHi = hi;
    for (let i = 0; i < n; i++) {
      visit(curLo, curHi, i);
      const next = (curLo + 1) | 0;
      if (next === 0) curHi = (curHi + 1) | 0;
      curLo = next;
    }
  }

  // ---- debugger accesses (never fault; for loaders, views and tests) --------------------------

  /** Bytes at address, or null where any byte is unmapped. */
  peek(address: bigint, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    let a = BigInt.asUintN(64, address);
    for (let done = 0; done < length;) {
      const page = this.pages.get(Number(a >> 12n));
      if (!page) return null;
      const off = Number(a & 0xfffn);
      const n = Math.min(PAGE_SIZE - off, length - done);
      out.set(page.data.subarray(off, off + n), done);
      done += n;
      a = BigInt.asUintN(64, a + BigInt(n));
    }
    return out;
  }

  peekU64(address: bigint): bigint | null {
    const b = this.peek(address, 8);
    if (!b) return null;
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  }

  /** Write bytes ignoring page protections (the pages must be mapped). */
  poke(address: bigint, bytes: Uint8Array): void {
    // A page at a time: loading a program and writing two IDTs poke thousands of bytes.
    let a = BigInt.asUintN(64, address);
    for (let done = 0; done < bytes.length;) {
      const key = Number(a >> 12n);
      let page = this.pages.get(key);
      if (!page) throw new Error(`poke: address 0x${a.toString(16)} is not mapped`);
      if (page.shared) page = this.copyOnWrite(key, page);
      const off = Number(a & 0xfffn);
      const n = Math.min(PAGE_SIZE - off, bytes.length - done);
      page.data.set(bytes.subarray(done, done + n), off);
      done += n;
      a = BigInt.asUintN(64, a + BigInt(n));
    }
  }

  pokeU64(address: bigint, value: bigint): void {
    const bytes = new Uint8Array(8);
    let v = BigInt.asUintN(64, value);
    for (let i = 0; i < 8; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
    this.poke(address, bytes);
  }

  // ---- snapshots ---------------------------------------------------------------------------

  /** Freeze the current contents. Costs O(pages written since the previous snapshot or restore). */
  snapshot(): MemorySnapshot {
    if (this.journalLength > 0) this.promoteJournal();
    this.mappedSinceBase = false;
    this.journaling = true;
    const delta = new Map<number, Page | null>();
    for (const key of this.dirty) {
      const page = this.pages.get(key) ?? null;
      if (page) page.shared = true;
      delta.set(key, page);
    }
    const snap = new MemorySnapshot(this.base, delta);
    this.base = snap;
    this.dirty = [];
    this.journalEpoch++;
    this.newJournalSegment();
    return snap;
  }

  /**
   * Return to a snapshot. Restoring the snapshot last taken or restored costs O(pages written
   * since); any other one rebuilds the page map once.
   */
  restore(snap: MemorySnapshot): void {
    this.undoJournal();
    if (this.mappedSinceBase || snap !== this.base) this.mapVersion++;
    this.mappedSinceBase = false;
    this.journaling = true;
    if (snap === this.base) {
      // Only pages named in `dirty` change object; journaled pages stay the same objects, so
      // just those TLB entries need refreshing.
      for (const key of this.dirty) {
        const live = this.pages.get(key);
        if (live !== undefined && !live.shared && this.spare.length < 64) this.spare.push(live);
        const page = snap.pageAt(key);
        if (page) this.pages.set(key, page);
        else this.pages.delete(key);
        this.forgetTlbEntry(key);
      }
      if (this.dirty.length !== 0) this.dirty.length = 0;
      return;
    } else {
      this.pages = new Map();
      for (const [key, page] of snap.allPages()) if (page) this.pages.set(key, page);
      this.base = snap;
    }
    this.dirty.length = 0;
    this.flushTlb();
  }

  // ---- the journal, read-only (the explorer hashes only what was written) -------------------------

  /**
   * How many writes are journaled since `snap` was taken or restored, when the journal holds
   * every change since then (the pages are `snap`'s own objects, changed only where journaled);
   * -1 otherwise (another snapshot is the base, pages were mapped or copied, the journal overflowed).
   */
  journaledSince(snap: MemorySnapshot): number {
    return this.base === snap && this.journaling && this.dirty.length === 0 ? this.journalLength : -1;
  }

  /** Page number, page offset and size in bytes (always 8) of journal entry i (i < journaledSince()). */
  journalPageAt(i: number): number {
    return this.journalKey[i];
  }

  journalOffsetAt(i: number): number {
    return this.journalOffset[i];
  }

  journalSizeAt(_i: number): number {
    return 8; // every entry is one whole, aligned 8-byte slot
  }

  /** The 8 bytes entry i's slot held before, little-endian: the low 4 and the high 4. */
  journalOldLoAt(i: number): number {
    return this.journalLo[i];
  }

  journalOldHiAt(i: number): number {
    return this.journalHi[i];
  }

  /**
   * How many entries (8-byte slots, each journaled once per segment) the journal holds before it
   * falls back to copying pages (default 512): more for a tool that rewinds to checkpoints over
   * long runs (the explorer), fewer to test that fallback. It never drops writes already
   * journaled. The journal's arrays grow as entries come, up to this: an explorer asks for 2^17
   * (about 4 MiB), and allocating that up front cost each new one a few milliseconds and fresh
   * pages of host memory, while exploring linux-3.3 (depths 2 and 3) never journals more than the
   * initial 512.
   */
  setJournalCapacity(entries: number): void {
    const size = Math.max(1, Math.floor(entries), this.journalLength);
    this.journalCapacity = size;
    if (this.journalPage.length > size) this.resizeJournal(size);
  }

  private resizeJournal(size: number): void {
    const resize = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const fresh = make(size);
      fresh.set(old.subarray(0, this.journalLength));
      return fresh;
    };
    this.journalKey = resize(this.journalKey, (n) => new Float64Array(n));
    this.journalOffset = resize(this.journalOffset, (n) => new Int32Array(n));
    this.journalLo = resize(this.journalLo, (n) => new Int32Array(n));
    this.journalHi = resize(this.journalHi, (n) => new Int32Array(n));
    const pages: (Page | null)[] = new Array(size).fill(null);
    for (let i = 0; i < this.journalLength; i++) pages[i] = this.journalPage[i];
    this.journalPage = pages;
  }

  /**
   * A position to come back to with undoTo(), while every write since the base snapshot is in
   * the journal; null otherwise.
   */
  journalMark(): { position: number; epoch: number } | null {
    if (!this.journaling || this.dirty.length !== 0) return null;
    this.newJournalSegment();
    return { position: this.journalLength, epoch: this.journalEpoch };
  }

  /**
   * Undo the writes journaled since `mark` (newest first). False, changing nothing, when the
   * mark no longer applies (the journal started over, overflowed, or pages were mapped since).
   */
  undoTo(mark: { position: number; epoch: number }): boolean {
    if (
      !this.journaling ||
      this.dirty.length !== 0 ||
      mark.epoch !== this.journalEpoch ||
      mark.position > this.journalLength
    )
      return false;
    this.undoDownTo(mark.position);
    return true;
  }

  /** Pages written since the last snapshot or restore (for cost accounting and tests). */
  get dirtyPageCount(): number {
    const keys = new Set(this.dirty);
    for (let i = 0; i < this.journalLength; i++) keys.add(this.journalKey[i]);
    return keys.size;
  }
}
