// The structured record of what the CPU did besides plain instructions: deliveries, IRETs, NMI
// blocking and the latch, faults, shutdown. Views and the explorer read this, never the CPU's insides.

export type MachineEventKind =
  | 'deliver' // an event went through the IDT: a frame was pushed and the handler entered
  | 'fault' // an instruction raised an exception (delivered next, or escalated)
  | 'delivery-fault' // an exception while delivering another one
  | 'double-fault' // the double-fault table turned two faults into #DF
  | 'shutdown' // a triple fault or an undeliverable event: the machine stops
  | 'iret'
  | 'nmi-raised' // an NMI arrived at the CPU
  | 'nmi-blocked' // delivery of an NMI blocks further NMIs
  | 'nmi-unblocked' // an IRET (or FRED return) ended NMI blocking
  | 'nmi-latched' // an NMI arrived while blocked: the one pending bit is set
  | 'nmi-collapsed' // an NMI arrived while blocked with the bit already set: it merges into it
  | 'nmi-latch-consumed' // the pending NMI is delivered now that blocking ended
  | 'syscall'
  | 'sysret'
  | 'swapgs'
  | 'hlt';

export interface MachineEvent {
  kind: MachineEventKind;
  /** Instructions retired before this event. */
  step: number;
  vector?: number;
  /** e.g. 'NMI', '#PF'. */
  name?: string;
  errorCode?: number;
  /** RIP of the instruction involved (the return RIP for a delivery). */
  rip?: bigint;
  /** For deliveries and returns: where execution goes, and on which stack. */
  toRip?: bigint;
  toRsp?: bigint;
  toCs?: number;
  fromCs?: number;
  /** IST index used by a delivery (0: none). */
  ist?: number;
  /** FRED: the stack level a delivery moved to. */
  level?: number;
  cr2?: bigint;
  /** Human-readable detail. */
  detail?: string;
}

function join(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const HAS_RIP = 1;
const HAS_TO_RIP = 2;
const HAS_TO_RSP = 4;
const HAS_CR2 = 8;

/**
 * A log entry as the CPU records it. Addresses are kept as int32 halves and turned into BigInt
 * only when read, because the explorer records a few events per trial and BigInt is slow.
 */
export class LoggedEvent implements MachineEvent {
  // Every field is initialised, set or not, so that all entries share one hidden class: readers
  // (the explorer's log processing) then make monomorphic property loads. With fields added per
  // kind the loads saw a dozen shapes and went megamorphic.
  vector: number | undefined = undefined;
  name: string | undefined = undefined;
  errorCode: number | undefined = undefined;
  toCs: number | undefined = undefined;
  fromCs: number | undefined = undefined;
  ist: number | undefined = undefined;
  level: number | undefined = undefined;
  detail: string | undefined = undefined;
  // The addresses as halves (what rip, toRip, toRsp and cr2 read), for readers on a hot path;
  // a half means something only where its BigInt getter is not undefined.
  private has = 0;
  ripLo = 0;
  ripHi = 0;
  toRipLo = 0;
  toRipHi = 0;
  toRspLo = 0;
  toRspHi = 0;
  cr2Lo = 0;
  cr2Hi = 0;

  constructor(
    readonly kind: MachineEventKind,
    readonly step: number,
  ) {}

  at(lo: number, hi: number): this {
    this.ripLo = lo;
    this.ripHi = hi;
    this.has |= HAS_RIP;
    return this;
  }

  to(ripLo: number, ripHi: number, rspLo?: number, rspHi?: number): this {
    this.toRipLo = ripLo;
    this.toRipHi = ripHi;
    this.has |= HAS_TO_RIP;
    if (rspLo !== undefined && rspHi !== undefined) {
      this.toRspLo = rspLo;
      this.toRspHi = rspHi;
      this.has |= HAS_TO_RSP;
    }
    return this;
  }

  withCr2(lo: number, hi: number): this {
    this.cr2Lo = lo;
    this.cr2Hi = hi;
    this.has |= HAS_CR2;
    return this;
  }

  get rip(): bigint | undefined {
    return this.has & HAS_RIP ? join(this.ripLo, this.ripHi) : undefined;
  }

  get toRip(): bigint | undefined {
    return this.has & HAS_TO_RIP ? join(this.toRipLo, this.toRipHi) : undefined;
  }

  get toRsp(): bigint | undefined {
    return this.has & HAS_TO_RSP ? join(this.toRspLo, this.toRspHi) : undefined;
  }

  get cr2(): bigint | undefined {
    return this.has & HAS_CR2 ? join(this.cr2Lo, this.cr2Hi) : undefined;
  }

  /** A plain object with every field that is set (for JSON, tests and views). */
  toJSON(): MachineEvent {
    const out: MachineEvent = { kind: this.kind, step: this.step };
    const keys = [
      'vector',
      'name',
      'errorCode',
      'toCs',
      'fromCs',
      'ist',
      'level',
      'detail',
      'rip',
      'toRip',
      'toRsp',
      'cr2',
    ] as const;
    for (const k of keys) {
      const v = this[k];
      if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
    }
    return out;
  }
}
