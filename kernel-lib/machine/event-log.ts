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
  cr2?: bigint;
  /** Human-readable detail. */
  detail?: string;
}
