// A cheap hash of "everything that decides the future" at an instruction boundary: the CPU state
// the code can observe or change (registers, flags, RIP, CPL and segments, GS and FS bases, the
// control registers, the SYSCALL MSRs, IDTR, NMI blocking and the latch) and every byte of memory
// the code can write (stateRegions), plus the explorer's own bookkeeping. Two boundaries with
// equal keys have the same futures, so the explorer explores them once.
import type { Cpu } from '../machine/cpu';
import type { Machine } from '../machine/machine';
import type { MemorySnapshot, Page } from '../machine/memory';

/** A run of 32-bit words on one page: page number, first and last-plus-one word index. */
export interface HashRegion {
  page: number;
  from: number;
  to: number;
}

const views = new WeakMap<Page, Int32Array>();

export function wordsOf(page: Page): Int32Array {
  let v = views.get(page);
  if (v === undefined) {
    v = new Int32Array(page.data.buffer, page.data.byteOffset, page.data.byteLength >> 2);
    views.set(page, v);
  }
  return v;
}

/** Regions covering [address, address + bytes), split at page boundaries. */
export function regionsFor(address: bigint, bytes: number): HashRegion[] {
  const out: HashRegion[] = [];
  let a = BigInt.asUintN(64, address) & ~3n;
  let left = bytes;
  while (left > 0) {
    const page = Number(a >> 12n);
    const off = Number(a & 0xfffn);
    const n = Math.min(4096 - off, left);
    out.push({ page, from: off >> 2, to: (off + n + 3) >> 2 });
    left -= n;
    a += BigInt(n);
  }
  return out;
}

/**
 * The memory that decides the future: every word of every writable page the machine has mapped.
 * Read-only pages (the code) never change, so they cannot tell two states apart; every writable
 * one may be read later, by the design, do_nmi, the handlers or the workload, and so is hashed
 * whole, wherever the stack pointers are. The pages come from what the harness mapped (the regions
 * of its layout, harness/layout.ts, and the program's writable sections), so a region added to the
 * layout is hashed without a change here. Take it at the reference state (the explorer's steady state).
 */
export function stateRegions(m: Machine): HashRegion[] {
  const out: HashRegion[] = [];
  for (const [page, p] of m.memory.pages) if (p.writable) out.push({ page, from: 0, to: 1024 });
  return out.sort((a, b) => a.page - b.page);
}

/** The hashed words of one page: which they are, their values at the reference state, and which changed. */
interface HashedPage {
  key: number;
  /** Its place in the hasher's page list. */
  index: number;
  /** Per-page salt of the word identities, so equal values on different pages hash apart. */
  salt: number;
  /** 1 for each hashed word index. */
  mask: Uint8Array;
  /** The page object at the reference state (null: unmapped then), its words, and a copy of them. */
  page: Page | null;
  live: Int32Array;
  reference: Int32Array;
  /** Scratch for accounting a batch of journal entries: the batch a word was last seen in, and its value before that write. */
  seen: Int32Array;
  before: Int32Array;
  /** The shares of the reference words (of zeros for a page unmapped then): fullSums starts from them. */
  refA: number;
  refB: number;
}

// One word's share of the memory sums, in two independent lanes (a murmur3-style finaliser of
// the value mixed with the word's identity). The sums are order-free, so a write changes them by
// (share of the new value - share of the old one): that is what makes the hash incremental.
function shareA(id: number, v: number): number {
  let x = Math.imul(v ^ id, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x ^ id, 0x1b873593);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  return x ^ (x >>> 13);
}

function shareB(id: number, v: number): number {
  let x = Math.imul(v + id, 0x27d4eb2f) ^ Math.imul(id, 0x165667b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function wordId(salt: number, index: number): number {
  return (salt + Math.imul(index, 0x9e3779b1)) | 0;
}

/**
 * A 53-bit key of "everything that decides the future" at an instruction boundary: the CPU
 * state the handlers can observe (registers, flags, RIP, CPL and segments, GS bases, CR2, IDTR,
 * NMI blocking and the latch), the memory the entry code and the harness use (the hashed regions)
 * and the caller's own bookkeeping. Two boundaries with equal keys have the same futures.
 *
 * Memory is hashed incrementally. The hasher keeps the regions' words at a reference state (the
 * explorer's steady state); while the machine's write journal holds every write since that state
 * was restored, only the words the journal names are read again. Otherwise (the journal
 * overflowed, another snapshot was taken) it hashes every word; both ways give the same key.
 */
export class StateHasher {
  private readonly pages: HashedPage[] = [];
  private readonly byKey = new Map<number, HashedPage>();
  private readonly reference: MemorySnapshot;
  private referenceA = 0;
  private referenceB = 0;
  // Each journaled write moves the sums by (share of the word after it - share before it). The
  // moves are kept as prefix sums over the journal, so that a journal cut back by a rewind
  // (Machine.rewind) only drops their tail: prefixA[i] is the move of entries [0, i).
  private prefixA = new Int32Array(1025);
  private prefixB = new Int32Array(1025);
  private processed = 0;
  private epoch = -1;
  private batch = 0;
  private readonly entryA = new Int32Array(1);
  private readonly entryB = new Int32Array(1);

  /** Take `m` at the reference state (its memory's current base snapshot) with these regions. */
  constructor(
    private readonly m: Machine,
    regions: readonly HashRegion[],
    reference: MemorySnapshot,
  ) {
    this.reference = reference;
    for (const r of regions) {
      let hp = this.byKey.get(r.page);
      if (hp === undefined) {
        const page = m.memory.pages.get(r.page) ?? null;
        hp = {
          key: r.page,
          index: this.pages.length,
          salt: Math.imul((r.page % 0x40000000) ^ Math.floor(r.page / 0x40000000), 0x2545f491) ^ 0x5bd1e995,
          mask: new Uint8Array(1024),
          page,
          live: page === null ? new Int32Array(1024) : wordsOf(page),
          reference: page === null ? new Int32Array(1024) : wordsOf(page).slice(),
          seen: new Int32Array(1024),
          before: new Int32Array(1024),
          refA: 0,
          refB: 0,
        };
        this.byKey.set(r.page, hp);
        this.pages.push(hp);
      }
      for (let i = r.from; i < r.to; i++) hp.mask[i] = 1;
    }
    let a = 0;
    let b = 0;
    for (const hp of this.pages) {
      this.pageSums(hp, hp.reference);
      hp.refA = this.entryA[0];
      hp.refB = this.entryB[0];
      if (hp.page === null) continue;
      a = (a + hp.refA) | 0;
      b = (b + hp.refB) | 0;
    }
    this.referenceA = a;
    this.referenceB = b;
    const cpu = m.cpu;
    this.control = [cpu.cr0, cpu.cr3, cpu.cr4, cpu.efer];
  }

  /** CR0, CR3, CR4 and EFER at the reference state: rarely written, so compared, not hashed each time. */
  private readonly control: readonly bigint[];

  /** 0 while the control registers hold their reference values, else a digest of them. */
  private controlDigest(cpu: Cpu): number {
    const c = this.control;
    if (cpu.cr0 === c[0] && cpu.cr3 === c[1] && cpu.cr4 === c[2] && cpu.efer === c[3]) return 0;
    const words: number[] = [];
    for (const v of [cpu.cr0, cpu.cr3, cpu.cr4, cpu.efer]) words.push(Number(v & 0xffffffffn), Number(v >> 32n));
    return digestOf(words, 0x2545f491) | 1;
  }

  /** The key of the machine now, mixed with `extra` and `extra2`. */
  key(extra: number, extra2: number): number {
    const cpu = this.m.cpu;
    let a = 0x9e3779b9 ^ extra;
    let b = 0x85ebca6b ^ extra2;
    const rl = cpu.rl;
    const rh = cpu.rh;
    for (let i = 0; i < 16; i++) {
      a = Math.imul(a ^ rl[i], 0x5bd1e995);
      a ^= a >>> 13;
      b = Math.imul(b ^ rh[i], 0x27d4eb2f);
      b ^= b >>> 15;
    }
    const cur = cpu.cur;
    const flags =
      (cpu.nmiBlocked ? 1 : 0) |
      (cpu.nmiPending ? 2 : 0) |
      (cpu.debugTrapPending ? 4 : 0) |
      (cpu.halted ? 8 : 0) |
      (cpu.shutdownReason !== null ? 16 : 0) |
      (cpu.csl << 5);
    a = mixA(a, cur.lo);
    b = mixB(b, cur.lo);
    a = mixA(a, cur.hi);
    b = mixB(b, cur.hi);
    const rflags = cpu.readRflags();
    a = mixA(a, rflags);
    b = mixB(b, rflags);
    const seg = cpu.cpl | (cpu.cs << 2) | (cpu.ss << 18);
    a = mixA(a, seg);
    b = mixB(b, seg);
    a = mixA(a, cpu.gsBaseLo);
    b = mixB(b, cpu.gsBaseLo);
    a = mixA(a, cpu.gsBaseHi);
    b = mixB(b, cpu.gsBaseHi);
    a = mixA(a, cpu.kgsLo);
    b = mixB(b, cpu.kgsLo);
    a = mixA(a, cpu.kgsHi);
    b = mixB(b, cpu.kgsHi);
    a = mixA(a, cpu.cr2Lo);
    b = mixB(b, cpu.cr2Lo);
    a = mixA(a, cpu.cr2Hi);
    b = mixB(b, cpu.cr2Hi);
    a = mixA(a, cpu.idtBaseLo);
    b = mixB(b, cpu.idtBaseLo);
    a = mixA(a, cpu.idtBaseHi);
    b = mixB(b, cpu.idtBaseHi);
    a = mixA(a, flags);
    b = mixB(b, flags);
    a = mixA(a, cpu.fsBaseLo);
    b = mixB(b, cpu.fsBaseLo);
    a = mixA(a, cpu.fsBaseHi);
    b = mixB(b, cpu.fsBaseHi);
    // The rest a design could change: the selectors SWAPGS and IRET leave alone, the IDT limit
    // (LIDT), the SYSCALL MSRs (WRMSR: the generation names their values; see Cpu.msrGeneration)
    // and the control registers.
    const segs = cpu.ds ^ (cpu.es << 16) ^ Math.imul(cpu.fsSel ^ (cpu.gsSel << 16), 0x9e3779b1);
    a = mixA(a, segs);
    b = mixB(b, segs);
    const other = cpu.idtLimit ^ Math.imul(cpu.msrGeneration, 0x85ebca6b) ^ this.controlDigest(cpu);
    a = mixA(a, other);
    b = mixB(b, other);
    this.memorySums();
    a = mixA(a, this.sumA);
    b = mixB(b, this.sumB);
    a = mixA(a, this.sumB);
    b = mixB(b, this.sumA);
    return (a >>> 0) * 2097152 + (b >>> 11);
  }

  private sumA = 0;
  private sumB = 0;

  /** The memory sums (sumA, sumB) of the hashed words now. */
  private memorySums(): void {
    const memory = this.m.memory;
    const n = memory.journaledSince(this.reference);
    if (n < 0) {
      this.fullSums();
      return;
    }
    if (memory.journalEpoch !== this.epoch) {
      this.epoch = memory.journalEpoch;
      this.processed = 0;
    }
    // Rewound since: the entries past the low-water mark were undone (and maybe written anew).
    if (memory.journalLowWater < this.processed) this.processed = memory.journalLowWater;
    if (n < this.processed) this.processed = n;
    if (n > this.processed) this.account(this.processed, n);
    memory.journalLowWater = n;
    // The sums now include every slot's live value: a later write to a slot must get an entry
    // of its own even if the slot was journaled earlier in the segment.
    memory.newJournalSegment();
    this.sumA = (this.referenceA + this.prefixA[n]) | 0;
    this.sumB = (this.referenceB + this.prefixB[n]) | 0;
  }

  /**
   * Prefix sums for journal entries [from, to). Newest first: a word's value after entry i is its
   * value before the next entry that wrote it, or its live value if none did.
   */
  private account(from: number, to: number): void {
    const memory = this.m.memory;
    if (this.prefixA.length <= to) {
      let size = this.prefixA.length;
      while (size <= to) size *= 2;
      const a = new Int32Array(size);
      a.set(this.prefixA);
      const b = new Int32Array(size);
      b.set(this.prefixB);
      this.prefixA = a;
      this.prefixB = b;
    }
    const batch = ++this.batch;
    const moveA = this.prefixA; // used as scratch for the entries' own moves, then summed
    const moveB = this.prefixB;
    let lastKey = -1;
    let hp: HashedPage | undefined;
    for (let i = to - 1; i >= from; i--) {
      const key = memory.journalPageAt(i);
      if (key !== lastKey) {
        hp = this.byKey.get(key);
        lastKey = key;
      }
      if (hp === undefined) {
        moveA[i + 1] = 0;
        moveB[i + 1] = 0;
        continue;
      }
      this.entryMove(hp, i, batch);
      moveA[i + 1] = this.entryA[0];
      moveB[i + 1] = this.entryB[0];
    }
    for (let i = from; i < to; i++) {
      moveA[i + 1] = (moveA[i] + moveA[i + 1]) | 0;
      moveB[i + 1] = (moveB[i] + moveB[i + 1]) | 0;
    }
    this.processed = to;
  }

  /** The move of journal entry i (on page hp) into entryA[0], entryB[0]. */
  private entryMove(hp: HashedPage, i: number, batch: number): void {
    const memory = this.m.memory;
    const off = memory.journalOffsetAt(i);
    const size = memory.journalSizeAt(i);
    const oldLo = memory.journalOldLoAt(i);
    const oldHi = memory.journalOldHiAt(i);
    let a = 0;
    let b = 0;
    const first = off >> 2;
    const last = (off + size - 1) >> 2;
    for (let w = first; w <= last; w++) {
      if (hp.mask[w] === 0) continue;
      const after = hp.seen[w] === batch ? hp.before[w] : hp.live[w];
      let before: number;
      if ((off & 3) === 0 && size >= 4) before = w === first ? oldLo : oldHi;
      else {
        // A write that covers part of this word: the word as after it, with the old bytes back.
        before = after;
        for (let k = 0; k < size; k++) {
          const byte = off + k;
          if (byte >> 2 !== w) continue;
          const old = (k < 4 ? oldLo >>> (8 * k) : oldHi >>> (8 * (k - 4))) & 0xff;
          const shift = 8 * (byte & 3);
          before = (before & ~(0xff << shift)) | (old << shift);
        }
      }
      hp.seen[w] = batch;
      hp.before[w] = before;
      if (before === after) continue;
      const id = wordId(hp.salt, w);
      a = (a + shareA(id, after) - shareA(id, before)) | 0;
      b = (b + shareB(id, after) - shareB(id, before)) | 0;
    }
    this.entryA[0] = a;
    this.entryB[0] = b;
  }

  /** Every hashed word read from the live pages: the definition the incremental sums keep. */
  private fullSums(): void {
    let a = 0;
    let b = 0;
    const live = this.m.memory.pages;
    for (const hp of this.pages) {
      const page = live.get(hp.key);
      if (page === undefined) {
        // An unmapped page: its words count as they did at the reference state if it was
        // unmapped then too (so the two ways agree), and as a distinct marker otherwise.
        if (hp.page !== null) {
          a = (a + 0x0bad) | 0;
          b = (b + 0x0bad0bad) | 0;
        }
        continue;
      }
      this.pageSumsFromReference(hp, wordsOf(page));
      a = (a + this.entryA[0]) | 0;
      b = (b + this.entryB[0]) | 0;
    }
    this.sumA = a;
    this.sumB = b;
  }

  /**
   * pageSums(hp, words), worked out from the reference sums: only the words that differ from the
   * reference are hashed (whole pages are hashed, and most of a page is as it was).
   */
  private pageSumsFromReference(hp: HashedPage, words: Int32Array): void {
    let a = hp.refA;
    let b = hp.refB;
    const ref = hp.reference;
    const mask = hp.mask;
    for (let i = 0; i < 1024; i++) {
      const v = words[i];
      const r = ref[i];
      if (v === r || mask[i] === 0) continue;
      const id = wordId(hp.salt, i);
      a = (a + shareA(id, v) - shareA(id, r)) | 0;
      b = (b + shareB(id, v) - shareB(id, r)) | 0;
    }
    this.entryA[0] = a;
    this.entryB[0] = b;
  }

  /** The shares of a page's hashed words, with these values, into entryA[0], entryB[0]. */
  private pageSums(hp: HashedPage, words: Int32Array): void {
    let a = 0;
    let b = 0;
    for (let i = 0; i < 1024; i++) {
      if (hp.mask[i] === 0) continue;
      const id = wordId(hp.salt, i);
      a = (a + shareA(id, words[i])) | 0;
      b = (b + shareB(id, words[i])) | 0;
    }
    this.entryA[0] = a;
    this.entryB[0] = b;
  }
}

function mixA(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x5bd1e995);
  return h ^ (h >>> 13);
}

function mixB(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** Mix numbers into a 32-bit digest (for the explorer's own state). */
export function digestOf(values: ArrayLike<number>, seed = 0x12345678): number {
  let h = seed;
  for (let i = 0; i < values.length; i++) {
    h = Math.imul(h ^ (values[i] | 0), 0x5bd1e995);
    h ^= h >>> 13;
  }
  return h | 0;
}

/** Page number and word index of a 4-aligned address (for peek32). */
export function wordAt(address: bigint): [number, number] {
  const a = BigInt.asUintN(64, address);
  return [Number(a >> 12n), Number(a & 0xfffn) >> 2];
}

/** The 32-bit word at a (page, word index) from wordAt(), without BigInt or allocation; 0 if unmapped. */
export function peek32(m: Machine, page: number, word: number): number {
  const p = m.memory.pages.get(page);
  return p === undefined ? 0 : wordsOf(p)[word];
}
