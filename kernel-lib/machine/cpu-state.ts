// The CPU's state as a value, for snapshots. Written out field by field (not a loop over names)
// because restore is on the explorer's hot path and named property copies stay fast.
import type { Cpu } from './cpu';
import type { Insn } from '../isa/insn';

export class CpuState {
  readonly cf: number;
  readonly zf: number;
  readonly sf: number;
  readonly of: number;
  readonly af: number;
  readonly pfByte: number;
  readonly flagsOther: number;
  readonly cpl: number;
  readonly cs: number;
  readonly ss: number;
  readonly ds: number;
  readonly es: number;
  readonly fsSel: number;
  readonly gsSel: number;
  readonly gsBaseLo: number;
  readonly gsBaseHi: number;
  readonly fsBaseLo: number;
  readonly fsBaseHi: number;
  readonly kgsLo: number;
  readonly kgsHi: number;
  readonly cr0: bigint;
  readonly cr2Lo: number;
  readonly cr2Hi: number;
  readonly cr3: bigint;
  readonly cr4: bigint;
  readonly efer: bigint;
  readonly star: bigint;
  readonly lstar: bigint;
  readonly fmask: bigint;
  readonly msrGeneration: number;
  readonly idtBaseLo: number;
  readonly idtBaseHi: number;
  readonly idtLimit: number;
  readonly trBaseLo: number;
  readonly trBaseHi: number;
  readonly nmiBlocked: boolean;
  readonly nmiPending: boolean;
  readonly debugTrapPending: boolean;
  readonly halted: boolean;
  readonly fred: boolean;
  readonly csl: number;
  readonly shutdownReason: string | null;
  readonly steps: number;
  readonly attention: number;
  readonly rl: readonly number[];
  readonly rh: readonly number[];
  readonly cur: Insn;

  constructor(cpu: Cpu) {
    this.cf = cpu.cf;
    this.zf = cpu.zf;
    this.sf = cpu.sf;
    this.of = cpu.of;
    this.af = cpu.af;
    this.pfByte = cpu.pfByte;
    this.flagsOther = cpu.flagsOther;
    this.cpl = cpu.cpl;
    this.cs = cpu.cs;
    this.ss = cpu.ss;
    this.ds = cpu.ds;
    this.es = cpu.es;
    this.fsSel = cpu.fsSel;
    this.gsSel = cpu.gsSel;
    this.gsBaseLo = cpu.gsBaseLo;
    this.gsBaseHi = cpu.gsBaseHi;
    this.fsBaseLo = cpu.fsBaseLo;
    this.fsBaseHi = cpu.fsBaseHi;
    this.kgsLo = cpu.kgsLo;
    this.kgsHi = cpu.kgsHi;
    this.cr0 = cpu.cr0;
    this.cr2Lo = cpu.cr2Lo;
    this.cr2Hi = cpu.cr2Hi;
    this.cr3 = cpu.cr3;
    this.cr4 = cpu.cr4;
    this.efer = cpu.efer;
    this.star = cpu.star;
    this.lstar = cpu.lstar;
    this.fmask = cpu.fmask;
    this.msrGeneration = cpu.msrGeneration;
    this.idtBaseLo = cpu.idtBaseLo;
    this.idtBaseHi = cpu.idtBaseHi;
    this.idtLimit = cpu.idtLimit;
    this.trBaseLo = cpu.trBaseLo;
    this.trBaseHi = cpu.trBaseHi;
    this.nmiBlocked = cpu.nmiBlocked;
    this.nmiPending = cpu.nmiPending;
    this.debugTrapPending = cpu.debugTrapPending;
    this.halted = cpu.halted;
    this.fred = cpu.fred;
    this.csl = cpu.csl;
    this.shutdownReason = cpu.shutdownReason;
    this.steps = cpu.steps;
    this.attention = cpu.attention;
    // Plain arrays: two typed-array allocations per snapshot or checkpoint showed in profiles.
    const rl = new Array<number>(16);
    const rh = new Array<number>(16);
    for (let i = 0; i < 16; i++) {
      rl[i] = cpu.rl[i];
      rh[i] = cpu.rh[i];
    }
    this.rl = rl;
    this.rh = rh;
    this.cur = cpu.cur;
  }

  applyTo(cpu: Cpu): void {
    cpu.cf = this.cf;
    cpu.zf = this.zf;
    cpu.sf = this.sf;
    cpu.of = this.of;
    cpu.af = this.af;
    cpu.pfByte = this.pfByte;
    cpu.flagsOther = this.flagsOther;
    cpu.cpl = this.cpl;
    cpu.cs = this.cs;
    cpu.ss = this.ss;
    cpu.ds = this.ds;
    cpu.es = this.es;
    cpu.fsSel = this.fsSel;
    cpu.gsSel = this.gsSel;
    cpu.gsBaseLo = this.gsBaseLo;
    cpu.gsBaseHi = this.gsBaseHi;
    cpu.fsBaseLo = this.fsBaseLo;
    cpu.fsBaseHi = this.fsBaseHi;
    cpu.kgsLo = this.kgsLo;
    cpu.kgsHi = this.kgsHi;
    cpu.cr0 = this.cr0;
    cpu.cr2Lo = this.cr2Lo;
    cpu.cr2Hi = this.cr2Hi;
    cpu.cr3 = this.cr3;
    cpu.cr4 = this.cr4;
    cpu.efer = this.efer;
    // Setting these recomputes what SYSCALL uses: only when they were written since (rarely).
    if (cpu.msrGeneration !== this.msrGeneration) {
      cpu.star = this.star;
      cpu.lstar = this.lstar;
      cpu.fmask = this.fmask;
      cpu.msrGeneration = this.msrGeneration;
    }
    cpu.idtBaseLo = this.idtBaseLo;
    cpu.idtBaseHi = this.idtBaseHi;
    cpu.idtLimit = this.idtLimit;
    cpu.trBaseLo = this.trBaseLo;
    cpu.trBaseHi = this.trBaseHi;
    cpu.nmiBlocked = this.nmiBlocked;
    cpu.nmiPending = this.nmiPending;
    cpu.debugTrapPending = this.debugTrapPending;
    cpu.halted = this.halted;
    cpu.fred = this.fred;
    cpu.csl = this.csl;
    cpu.shutdownReason = this.shutdownReason;
    cpu.steps = this.steps;
    cpu.attention = this.attention;
    const rl = cpu.rl;
    const rh = cpu.rh;
    for (let i = 0; i < 16; i++) {
      rl[i] = this.rl[i];
      rh[i] = this.rh[i];
    }
    cpu.cur = this.cur;
  }
}
