// The CPU's architectural state and the instructions that touch privileged state (IRET, SYSCALL,
// SYSRET, SWAPGS, RDMSR/WRMSR, HLT). Event delivery is in delivery.ts; the step loop in machine.ts.
import { ACC_FETCH_BIT, ACC_STACK_BIT, ACC_USER_BIT } from '../isa/access';
import type { ExecContext } from '../isa/context';
import { CpuFault, Vector } from '../isa/faults';
import {
  AC,
  ARITH_FLAGS,
  CF,
  DF,
  IF,
  IOPL,
  NT,
  OF,
  PARITY,
  PF,
  POPF_MASK,
  RESERVED1,
  RF,
  SF,
  TF,
  AF,
  ZF,
} from '../isa/flags';
import { Insn } from '../isa/insn';
import { LINUX_GDT, MSR, SELECTORS, SELECTOR_TI, SegmentDescriptor, descriptorFor } from './descriptors';
import { deliverEvent } from './delivery';
import { LoggedEvent, MachineEvent } from './event-log';
import { FRED_TYPE, fredReturn } from './fred';
import { Memory, joinU64, splitU64 } from './memory';
import { emptyObjectArray } from './object-array';
import {
  RAX as RAX_INDEX,
  RCX as RCX_INDEX,
  RDX as RDX_INDEX,
  RSP as RSP_INDEX,
  isCanonicalHigh,
} from '../isa/registers';

// Local copies of the arithmetic flag bits for readRflags(), which uses each on one side of a
// condition: an imported name compiles to a module property load, and one first reached after
// TurboFan optimized the caller deoptimizes it (see accessFor() in isa/operands.ts).
const F_CF = CF;
const F_PF = PF;
const F_AF = AF;
const F_ZF = ZF;
const F_SF = SF;
const F_OF = OF;

const RSP = RSP_INDEX;
const RCX = RCX_INDEX;
const R11 = 11;
const RAX = RAX_INDEX;
const RDX = RDX_INDEX;

/** Bits SYSRET takes from R11 (SDM SYSRET: RFLAGS <- (R11 & 3C7FD7H) | 2). */
const SYSRET_FLAGS = 0x3c7fd7;

const CODE_CACHE_SIZE = 256;

/** Counts writes to the SYSCALL MSRs across every Cpu (see Cpu.msrGeneration). */
let msrGenerations = 0;

export class Cpu implements ExecContext {
  readonly rl = new Int32Array(16);
  readonly rh = new Int32Array(16);
  cf = 0;
  zf = 0;
  sf = 0;
  of = 0;
  af = 0;
  pfByte = 1; // PF = 0 at reset
  flagsOther = RESERVED1;
  cpl = 0;
  cs: number = SELECTORS.KERNEL_CS;
  ss: number = SELECTORS.KERNEL_DS;
  ds = 0;
  es = 0;
  fsSel = 0;
  gsSel = 0;
  gsBaseLo = 0;
  gsBaseHi = 0;
  fsBaseLo = 0;
  fsBaseHi = 0;
  // IA32_KERNEL_GS_BASE as halves, like GS.base: SWAPGS is on every entry path.
  kgsLo = 0;
  kgsHi = 0;
  cr0 = 0x80050033n; // PG, WP, NE, ET, MP, PE: paging with supervisor write protection
  cr2Lo = 0;
  cr2Hi = 0;
  cr3 = 0x1000n;
  cr4 = 0x20n; // PAE
  efer = 0xd01n; // LMA, LME, SCE, NXE
  // STAR, LSTAR and FMASK are kept as BigInt and, for SYSCALL/SYSRET, as the numbers they use.
  /**
   * Names the current STAR/LSTAR/FMASK values: a fresh number on every write to any of them, so
   * that restoring a snapshot can tell unchanged values by one integer compare (BigInt compares
   * showed in trial profiles).
   */
  msrGeneration = 0;
  private starValue = 0n;
  private starSyscallSel = 0;
  private starSysretSel = 0;
  private lstarValue = 0n;
  private lstarLo = 0;
  private lstarHi = 0;
  private fmaskValue = 0n;
  private fmaskLo = 0;
  idtBaseLo = 0;
  idtBaseHi = 0;
  idtLimit = 0;
  trBaseLo = 0;
  trBaseHi = 0;
  gdt: ReadonlyArray<SegmentDescriptor | null> = LINUX_GDT;
  /** NMI blocking (SDM 6.7.1): set by NMI delivery, cleared by the next IRET. */
  nmiBlocked = false;
  /** The one-deep NMI latch: an NMI that arrived while blocked. */
  nmiPending = false;
  /** A single-step #DB trap is due at the next boundary (TF was set when the last instruction began). */
  debugTrapPending = false;
  halted = false;
  /** FRED event delivery is on (CR4.FRED); see fred.ts. */
  fred = false;
  /** FRED's current stack level (0..3). */
  csl = 0;
  /** FRED configuration (MSRs IA32_FRED_RSP0..3, STKLVLS, CONFIG): set up once, not snapshotted. */
  fredRsp: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  fredLevels: Record<number, number> = {};
  fredEntry = 0n;
  /** Set when the CPU shut down (triple fault); the machine no longer runs. */
  shutdownReason: string | null = null;
  /** The instruction at RIP. */
  cur: Insn;
  tHi = 0;
  steps = 0;
  log: LoggedEvent[] = emptyObjectArray();
  /** Non-zero when the step loop must look at pending events before the next instruction. */
  attention = 0;
  /**
   * Machine.hookScope 'changes': every logged event and every transfer that looks its target up
   * (insnAt: returns, indirect jumps, IRET, SYSCALL, deliveries) sets `attention`, so that the
   * boundary after it reaches the hook.
   */
  attentionOnChange = false;
  /**
   * The last RET executed and its step number (the step it ran as). Not machine state (it is not
   * snapshotted): the explorer reads it at the boundary right after, to see a return the design
   * makes without IRET (DesignManifest.returnsWithoutIret).
   */
  lastRet: Insn | null = null;
  lastRetStep = -1;
  private readonly codeCache: (Insn | null)[] = new Array(CODE_CACHE_SIZE).fill(null);
  private readonly codeCacheUser = new Uint8Array(CODE_CACHE_SIZE);
  private codeCacheVersion = -1;

  constructor(readonly memory: Memory) {
    this.cur = this.insnAt(0, 0);
    this.star = (BigInt(SELECTORS.USER32_CS) << 48n) | (BigInt(SELECTORS.KERNEL_CS) << 32n);
    this.fmask = BigInt(TF | DF | IF | IOPL | AC | NT); // what Linux's syscall_init() masks
  }

  get kernelGsBase(): bigint {
    return joinU64(this.kgsLo, this.kgsHi);
  }

  set kernelGsBase(v: bigint) {
    [this.kgsLo, this.kgsHi] = splitU64(v);
  }

  get star(): bigint {
    return this.starValue;
  }

  set star(v: bigint) {
    this.msrGeneration = ++msrGenerations;
    this.starValue = BigInt.asUintN(64, v);
    this.starSyscallSel = Number((this.starValue >> 32n) & 0xffffn);
    this.starSysretSel = Number((this.starValue >> 48n) & 0xffffn);
  }

  get lstar(): bigint {
    return this.lstarValue;
  }

  set lstar(v: bigint) {
    this.msrGeneration = ++msrGenerations;
    this.lstarValue = BigInt.asUintN(64, v);
    [this.lstarLo, this.lstarHi] = splitU64(v);
  }

  get fmask(): bigint {
    return this.fmaskValue;
  }

  set fmask(v: bigint) {
    this.msrGeneration = ++msrGenerations;
    this.fmaskValue = BigInt.asUintN(64, v);
    this.fmaskLo = Number(this.fmaskValue & 0xffffffffn) | 0;
  }

  // ---- RIP and code ----------------------------------------------------------------------------

  get rip(): bigint {
    return joinU64(this.cur.lo, this.cur.hi);
  }

  /**
   * The instruction at lo:hi. Where there is none, or the fetch would fault, a stand-in whose
   * execution raises the fault: a fetch fault belongs to the *target* instruction (its saved RIP is
   * the target), not to the jump or IRET that got there.
   */
  insnAt(lo: number, hi: number): Insn {
    if (this.attentionOnChange) this.attention = 1;
    // A small direct-mapped cache in front of the page map: returns (RET, IRET) and event
    // delivery look up a handful of addresses over and over.
    const slot = (lo >>> 2) & (CODE_CACHE_SIZE - 1);
    if (this.codeCacheVersion === this.memory.mapVersion) {
      const cached = this.codeCache[slot];
      if (cached !== null && cached.lo === lo && cached.hi === hi && (this.cpl !== 3 || this.codeCacheUser[slot] === 1))
        return cached;
    } else {
      this.codeCache.fill(null);
      this.codeCacheVersion = this.memory.mapVersion;
    }
    const page = this.memory.pages.get((hi >>> 0) * 1048576 + (lo >>> 12));
    if (page !== undefined && page.code !== null && (this.cpl !== 3 || page.user)) {
      const found = page.code[lo & 0xfff] as Insn | undefined;
      if (found !== undefined) {
        this.codeCache[slot] = found;
        this.codeCacheUser[slot] = page.user ? 1 : 0;
        return found;
      }
    }
    return new Insn(lo, hi, lo, hi, null, (m) => {
      const acc = ACC_FETCH_BIT | (m.cpl === 3 ? ACC_USER_BIT : 0);
      m.memory.read8(lo, hi, acc); // raises #PF (not present / supervisor page) or #GP (non-canonical)
      // Hardware would decode whatever bytes are here; NMI Lab only runs assembled code.
      throw new CpuFault(Vector.UD, 0, 0, 0, 'no assembled instruction at this address');
    });
  }

  jumpTo(address: bigint): void {
    const [lo, hi] = splitU64(address);
    this.cur = this.insnAt(lo, hi);
  }

  // ---- RFLAGS -------------------------------------------------------------------------------

  readRflags(): number {
    return (
      (this.flagsOther & ~ARITH_FLAGS) |
      RESERVED1 |
      (this.cf ? F_CF : 0) |
      (PARITY[this.pfByte] ? F_PF : 0) |
      (this.af ? F_AF : 0) |
      (this.zf ? F_ZF : 0) |
      (this.sf ? F_SF : 0) |
      (this.of ? F_OF : 0)
    );
  }

  /** Load every RFLAGS bit (the caller has applied any privilege rules). */
  writeRflags(v: number): void {
    this.cf = v & CF ? 1 : 0;
    this.pfByte = v & PF ? 0 : 1; // PARITY[0] = 1, PARITY[1] = 0
    this.af = v & AF ? 1 : 0;
    this.zf = v & ZF ? 1 : 0;
    this.sf = v & SF ? 1 : 0;
    this.of = v & OF ? 1 : 0;
    this.flagsOther = (v & ~ARITH_FLAGS) | RESERVED1;
    // TF now set: the step loop must take its single-step path from the next instruction on.
    if ((v & TF) !== 0) this.attention = 1;
  }

  /** POPF in 64-bit mode (SDM POPF): IOPL changes only at CPL 0, IF only when CPL <= IOPL; RF clears. */
  popRflags(value: number): void {
    this.writeRflags(this.mergeFlags(value));
  }

  private mergeFlags(value: number): number {
    const old = this.readRflags();
    let mask = POPF_MASK;
    if (this.cpl !== 0) mask &= ~IOPL;
    if (this.cpl > (old & IOPL) >>> 12) mask &= ~IF;
    return ((old & ~mask) | (value & mask)) & ~RF;
  }

  // ---- segments and control registers -------------------------------------------------------

  readSegment(seg: string): number {
    switch (seg) {
      case 'cs':
        return this.cs;
      case 'ss':
        return this.ss;
      case 'ds':
        return this.ds;
      case 'es':
        return this.es;
      case 'fs':
        return this.fsSel;
      default:
        return this.gsSel;
    }
  }

  readControlLo(cr: number): number {
    let v: bigint;
    switch (cr) {
      case 0:
        v = this.cr0;
        break;
      case 2:
        v = joinU64(this.cr2Lo, this.cr2Hi);
        break;
      case 3:
        v = this.cr3;
        break;
      default:
        v = this.cr4;
    }
    const [lo, hi] = splitU64(v);
    this.tHi = hi;
    return lo;
  }

  writeControl(cr: number, lo: number, hi: number): void {
    const v = joinU64(lo, hi);
    switch (cr) {
      case 0:
        this.cr0 = v;
        break;
      case 2:
        this.cr2Lo = lo;
        this.cr2Hi = hi;
        break;
      case 3:
        this.cr3 = v;
        break;
      default:
        this.cr4 = v;
    }
  }

  get gsBase(): bigint {
    return joinU64(this.gsBaseLo, this.gsBaseHi);
  }

  set gsBase(v: bigint) {
    [this.gsBaseLo, this.gsBaseHi] = splitU64(v);
  }

  get fsBase(): bigint {
    return joinU64(this.fsBaseLo, this.fsBaseHi);
  }

  set fsBase(v: bigint) {
    [this.fsBaseLo, this.fsBaseHi] = splitU64(v);
  }

  getReg(n: number): bigint {
    return joinU64(this.rl[n], this.rh[n]);
  }

  setReg(n: number, v: bigint): void {
    [this.rl[n], this.rh[n]] = splitU64(v);
  }

  get idtBase(): bigint {
    return joinU64(this.idtBaseLo, this.idtBaseHi);
  }

  set idtBase(v: bigint) {
    [this.idtBaseLo, this.idtBaseHi] = splitU64(v);
  }

  get trBase(): bigint {
    return joinU64(this.trBaseLo, this.trBaseHi);
  }

  set trBase(v: bigint) {
    [this.trBaseLo, this.trBaseHi] = splitU64(v);
  }

  /** Append an event to the log (the caller fills in its fields). */
  event(kind: MachineEvent['kind']): LoggedEvent {
    if (this.attentionOnChange) this.attention = 1;
    const e = new LoggedEvent(kind, this.steps);
    this.log.push(e);
    return e;
  }

  /** Append an event described with BigInt addresses (for the rarer events). */
  record(fields: Omit<MachineEvent, 'step'>): void {
    const e = this.event(fields.kind);
    const { kind: _k, rip, toRip, toRsp, cr2, ...rest } = fields;
    Object.assign(e, rest);
    if (rip !== undefined) e.at(...splitU64(rip));
    if (toRip !== undefined) {
      const [tl, th] = splitU64(toRip);
      if (toRsp !== undefined) e.to(tl, th, ...splitU64(toRsp));
      else e.to(tl, th);
    }
    if (cr2 !== undefined) e.withCr2(...splitU64(cr2));
  }

  private gp(code: number, reason: string): CpuFault {
    return new CpuFault(Vector.GP, code, 0, 0, reason);
  }

  // ---- privileged instructions -----------------------------------------------------------------

  /**
   * IRETQ (SDM IRET pseudocode, IA-32e mode). NMI blocking ends *first*: the SDM (6.7.1) says an
   * IRET unblocks NMIs even if it then faults, and the fault is delivered with NMIs unblocked.
   */
  iret(insn: Insn): Insn {
    if (this.nmiBlocked) {
      this.nmiBlocked = false;
      this.event('nmi-unblocked').at(insn.lo, insn.hi).detail = 'by IRET';
      if (this.nmiPending) this.attention = 1;
    }
    const mem = this.memory;
    const acc = (this.cpl === 3 ? ACC_USER_BIT : 0) | ACC_STACK_BIT;
    const sLo = this.rl[RSP];
    const sHi = this.rh[RSP];
    // The five slots, read before anything changes (a fault leaves RSP as it was).
    const ripLo = mem.read64(sLo, sHi, acc);
    const ripHi = mem.hi;
    const csSel = mem.read64(slotLo(sLo, 8), slotHi(sLo, sHi, 8), acc) & 0xffff;
    const newFlags = mem.read64(slotLo(sLo, 16), slotHi(sLo, sHi, 16), acc);
    const rspLo = mem.read64(slotLo(sLo, 24), slotHi(sLo, sHi, 24), acc);
    const rspHi = mem.hi;
    const ssSel = mem.read64(slotLo(sLo, 32), slotHi(sLo, sHi, 32), acc) & 0xffff;

    const rpl = csSel & 3;
    if ((csSel & ~3) === 0) throw this.gp(0, 'IRET to a null CS');
    if ((csSel & SELECTOR_TI) !== 0)
      throw this.gp(csSel & 0xfffc, `IRET: CS ${hex16(csSel)} names an LDT entry, and there is no LDT`);
    const csDesc = descriptorFor(this.gdt, csSel);
    if (!csDesc || csDesc.kind !== 'code')
      throw this.gp(csSel & 0xfffc, `IRET: CS ${hex16(csSel)} is not a code segment`);
    if (rpl < this.cpl) throw this.gp(csSel & 0xfffc, `IRET: CS ${hex16(csSel)} has RPL ${rpl} < CPL ${this.cpl}`);
    if (csDesc.dpl !== rpl) throw this.gp(csSel & 0xfffc, `IRET: CS ${hex16(csSel)} DPL ${csDesc.dpl} != RPL ${rpl}`);
    if (!csDesc.long) throw this.gp(csSel & 0xfffc, 'IRET to compatibility mode is not modelled');
    if ((ssSel & ~3) === 0) {
      // 64-bit mode allows a null SS only when returning to CPL < 3.
      if (rpl === 3) throw this.gp(0, 'IRET to CPL 3 with a null SS');
    } else {
      if ((ssSel & SELECTOR_TI) !== 0)
        throw this.gp(ssSel & 0xfffc, `IRET: SS ${hex16(ssSel)} names an LDT entry, and there is no LDT`);
      const ssDesc = descriptorFor(this.gdt, ssSel);
      if (!ssDesc || ssDesc.kind !== 'data' || !ssDesc.writable || (ssSel & 3) !== rpl || ssDesc.dpl !== rpl) {
        throw this.gp(ssSel & 0xfffc, `IRET: SS ${hex16(ssSel)} does not fit CS ${hex16(csSel)}`);
      }
    }
    if (!isCanonicalHigh(ripHi)) throw this.gp(0, 'IRET to a non-canonical RIP');

    // Commit. Flags follow POPF's privilege rules, judged at the old CPL.
    this.writeRflags(this.iretFlags(newFlags));
    this.cpl = rpl;
    this.cs = csSel;
    this.ss = ssSel;
    this.rl[RSP] = rspLo;
    this.rh[RSP] = rspHi;
    this.event('iret').at(insn.lo, insn.hi).to(ripLo, ripHi, rspLo, rspHi).toCs = csSel;
    if (this.flagsOther & TF) this.attention = 1;
    return this.insnAt(ripLo, ripHi);
  }

  private iretFlags(value: number): number {
    const old = this.readRflags();
    let mask = POPF_MASK | RF;
    if (this.cpl !== 0) mask &= ~IOPL;
    if (this.cpl > (old & IOPL) >>> 12) mask &= ~IF;
    return (old & ~mask) | (value & mask);
  }

  /**
   * SYSCALL (SDM SYSCALL): RCX <- RIP of the next instruction, R11 <- RFLAGS, RFLAGS &= ~FMASK,
   * CS/SS from STAR, CPL 0, RIP <- LSTAR. RSP is *not* changed: until the entry code switches
   * stacks it runs in kernel mode on the user's stack (the "syscall gap").
   */
  syscall(insn: Insn): Insn {
    if (this.fred && this.cpl === 3) {
      // Under FRED, SYSCALL is delivered as an event (type "other", vector 1): no syscall gap.
      deliverEvent(this, {
        vector: 1,
        errorCode: 0,
        source: 'trap',
        returnLo: insn.nextLo,
        returnHi: insn.nextHi,
        fredType: FRED_TYPE.OTHER,
      });
      return this.cur;
    }
    const flags = this.readRflags();
    this.rl[RCX] = insn.nextLo;
    this.rh[RCX] = insn.nextHi;
    this.rl[R11] = flags & ~RF;
    this.rh[R11] = 0;
    this.writeRflags(flags & ~this.fmaskLo & ~RF);
    const sel = this.starSyscallSel;
    this.cs = sel & 0xfffc;
    this.ss = (sel + 8) & 0xffff;
    this.cpl = 0;
    this.event('syscall').at(insn.lo, insn.hi).to(this.lstarLo, this.lstarHi);
    return this.insnAt(this.lstarLo, this.lstarHi);
  }

  /**
   * SYSRETQ (SDM SYSRET): #GP(0) unless CPL 0; a non-canonical RCX faults #GP(0) *in ring 0*
   * (Intel's behaviour, on the user's RSP); else back to CPL 3 with RFLAGS from R11.
   */
  sysret(insn: Insn): Insn {
    if (this.cpl !== 0) throw this.gp(0, `sysret at CPL ${this.cpl}`);
    if (!isCanonicalHigh(this.rh[RCX])) throw this.gp(0, 'sysret to a non-canonical RCX');
    const sel = this.starSysretSel;
    this.writeRflags((this.rl[R11] & SYSRET_FLAGS) | RESERVED1);
    this.cs = ((sel + 16) & 0xffff) | 3;
    this.ss = ((sel + 8) & 0xffff) | 3;
    this.cpl = 3;
    this.event('sysret').at(insn.lo, insn.hi).to(this.rl[RCX], this.rh[RCX]);
    if (this.flagsOther & TF) this.attention = 1;
    return this.insnAt(this.rl[RCX], this.rh[RCX]);
  }

  /** SWAPGS (SDM SWAPGS): exchange GS.base with IA32_KERNEL_GS_BASE; #GP(0) unless CPL 0. */
  swapgs(insn: Insn): Insn {
    // With FRED, delivery and ERETU swap GS themselves and SWAPGS is disallowed (fred.rst).
    if (this.fred) throw new CpuFault(Vector.UD, 0, 0, 0, 'swapgs with FRED enabled');
    if (this.cpl !== 0) throw this.gp(0, `swapgs at CPL ${this.cpl}`);
    this.swapGsBases();
    this.event('swapgs').at(insn.lo, insn.hi);
    return this.fallthrough(insn);
  }

  /** GS.base <-> IA32_KERNEL_GS_BASE (SWAPGS, and FRED's transitions to and from ring 3). */
  swapGsBases(): void {
    const lo = this.gsBaseLo;
    const hi = this.gsBaseHi;
    this.gsBaseLo = this.kgsLo;
    this.gsBaseHi = this.kgsHi;
    this.kgsLo = lo;
    this.kgsHi = hi;
  }

  rdmsr(insn: Insn): Insn {
    if (this.cpl !== 0) throw this.gp(0, `rdmsr at CPL ${this.cpl}`);
    const n = this.rl[RCX] >>> 0;
    let lo: number;
    let hi: number;
    // The base MSRs, which entry code reads on every paranoid entry, without BigInt.
    if (n === MSR.GS_BASE) {
      lo = this.gsBaseLo;
      hi = this.gsBaseHi;
    } else if (n === MSR.KERNEL_GS_BASE) {
      lo = this.kgsLo;
      hi = this.kgsHi;
    } else if (n === MSR.FS_BASE) {
      lo = this.fsBaseLo;
      hi = this.fsBaseHi;
    } else {
      const v = this.readMsr(n);
      lo = Number(v & 0xffffffffn) | 0;
      hi = Number((v >> 32n) & 0xffffffffn) | 0;
    }
    this.rl[RAX] = lo;
    this.rh[RAX] = 0;
    this.rl[RDX] = hi;
    this.rh[RDX] = 0;
    return this.fallthrough(insn);
  }

  wrmsr(insn: Insn): Insn {
    if (this.cpl !== 0) throw this.gp(0, `wrmsr at CPL ${this.cpl}`);
    const v = (BigInt(this.rl[RDX] >>> 0) << 32n) | BigInt(this.rl[RAX] >>> 0);
    this.writeMsr(this.rl[RCX] >>> 0, v);
    return this.fallthrough(insn);
  }

  readMsr(n: number): bigint {
    switch (n) {
      case MSR.EFER:
        return this.efer;
      case MSR.STAR:
        return this.star;
      case MSR.LSTAR:
        return this.lstar;
      case MSR.FMASK:
        return this.fmask;
      case MSR.FS_BASE:
        return this.fsBase;
      case MSR.GS_BASE:
        return this.gsBase;
      case MSR.KERNEL_GS_BASE:
        return this.kernelGsBase;
      default:
        throw this.gp(0, `rdmsr of unmodelled MSR 0x${n.toString(16)}`);
    }
  }

  writeMsr(n: number, v: bigint): void {
    const canonical = () => {
      if (!isCanonicalHigh(Number((v >> 32n) & 0xffffffffn) | 0)) throw this.gp(0, 'wrmsr of a non-canonical address');
    };
    switch (n) {
      case MSR.EFER:
        this.efer = v;
        return;
      case MSR.STAR:
        this.star = v;
        return;
      case MSR.LSTAR:
        canonical();
        this.lstar = v;
        return;
      case MSR.FMASK:
        this.fmask = v & 0xffffffffn;
        return;
      case MSR.FS_BASE:
        canonical();
        this.fsBase = v;
        return;
      case MSR.GS_BASE:
        canonical();
        this.gsBase = v;
        return;
      case MSR.KERNEL_GS_BASE:
        canonical();
        this.kernelGsBase = v;
        return;
      default:
        throw this.gp(0, `wrmsr of unmodelled MSR 0x${n.toString(16)}`);
    }
  }

  /** HLT: stop until the next event; #GP(0) unless CPL 0. RIP moves past the HLT (SDM HLT). */
  hlt(insn: Insn): Insn {
    if (this.cpl !== 0) throw this.gp(0, `hlt at CPL ${this.cpl}`);
    this.halted = true;
    this.attention = 1;
    this.event('hlt').at(insn.lo, insn.hi);
    return this.fallthrough(insn);
  }

  /** ERETS/ERETU (fred.ts). */
  fredReturn(insn: Insn, toUser: boolean): Insn {
    return fredReturn(this, insn, toUser);
  }

  fallthrough(insn: Insn): Insn {
    return insn.next !== null ? insn.next : this.insnAt(insn.nextLo, insn.nextHi);
  }
}

function slotLo(lo: number, n: number): number {
  return (lo + n) | 0;
}

function slotHi(lo: number, hi: number, n: number): number {
  return (lo >>> 0) + n > 0xffffffff ? (hi + 1) | 0 : hi;
}

function hex16(v: number): string {
  return `0x${v.toString(16)}`;
}
