// Event delivery in 64-bit mode: IDT gate, stack choice (IST, RSP0 or the current stack), the
// pushed frame, flag changes, NMI blocking, and the double-fault table when delivery itself faults.
import { ACC_STACK_BIT } from '../isa/access';
import { CpuFault, Vector, pushesErrorCode, vectorName } from '../isa/faults';
import { IF, NT, RF, TF, VM } from '../isa/flags';
import type { Cpu } from './cpu';
import { FredEvent, fredTypeOf, pushFredFrame } from './fred';
import { GATE_SIZE, TSS_RSP0, TYPE_INTERRUPT, TYPE_TRAP, descriptorFor, tssIstOffset } from './descriptors';
import { RSP as RSP_INDEX } from '../isa/registers';

const RSP = RSP_INDEX; // a local copy (see isa/operands.ts)

export type EventSource = 'nmi' | 'fault' | 'trap' | 'software';

export interface PendingEvent {
  vector: number;
  errorCode: number;
  source: EventSource;
  /** The RIP the frame saves (halves): the faulting instruction, or the next one for traps and interrupts. */
  returnLo: number;
  returnHi: number;
  /** FRED only: the event type when it is not implied by the vector (SYSCALL is type 7). */
  fredType?: number;
}

/** Exception classes for the double-fault table (SDM 6.15, table 6-5). */
type FaultClass = 'benign' | 'contributory' | 'page-fault' | 'double-fault';

function classOf(vector: number): FaultClass {
  switch (vector) {
    case 0:
    case 10:
    case 11:
    case 12:
    case 13:
      return 'contributory';
    case 14:
      return 'page-fault';
    case 8:
      return 'double-fault';
    default:
      return 'benign';
  }
}

/**
 * What happens when `second` is raised while delivering `first` (SDM table 6-5).
 * 'serial': deliver the second one instead; 'double': deliver #DF; 'shutdown': triple fault.
 */
export function doubleFaultRule(first: number, second: number): 'serial' | 'double' | 'shutdown' {
  const a = classOf(first);
  const b = classOf(second);
  if (a === 'double-fault') return b === 'contributory' || b === 'page-fault' ? 'shutdown' : 'serial';
  if (a === 'contributory' && b === 'contributory') return 'double';
  if (a === 'page-fault' && (b === 'contributory' || b === 'page-fault')) return 'double';
  return 'serial';
}

/**
 * Deliver an event, escalating per the double-fault table. Returns false when the CPU shut down.
 * NMI blocking is set by the caller when the NMI is accepted (it stays set even if delivery then
 * faults; the SDM does not describe that case, QEMU behaves the same).
 */
export function deliverEvent(cpu: Cpu, event: PendingEvent): boolean {
  let current = event;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      if (cpu.fred) pushFredFrame(cpu, fredEventOf(cpu, current));
      else pushFrame(cpu, current);
      cpu.halted = false;
      return true;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      const df = cpu.event('delivery-fault').at(current.returnLo, current.returnHi);
      df.vector = e.vector;
      df.name = vectorName(e.vector);
      df.errorCode = e.errorCode;
      df.detail = `${vectorName(e.vector)} (${e.reason}) while delivering ${vectorName(current.vector)}`;
      if (e.vector === Vector.PF) {
        // CR2 is loaded when #PF is raised, before its own delivery is attempted (SDM 4.7).
        cpu.cr2Lo = e.addrLo;
        cpu.cr2Hi = e.addrHi;
        df.withCr2(e.addrLo, e.addrHi);
      }
      const rule = doubleFaultRule(current.vector, e.vector);
      if (rule === 'shutdown') {
        shutdown(cpu, `triple fault: ${vectorName(e.vector)} (${e.reason}) while delivering #DF`);
        return false;
      }
      if (rule === 'double') {
        const d = cpu.event('double-fault').at(current.returnLo, current.returnHi);
        d.vector = Vector.DF;
        d.name = '#DF';
        d.detail = `${vectorName(e.vector)} while delivering ${vectorName(current.vector)}`;
        // The saved CS:RIP of a #DF is undefined (SDM 6.15); NMI Lab saves the first event's.
        current = {
          vector: Vector.DF,
          errorCode: 0,
          source: 'fault',
          returnLo: current.returnLo,
          returnHi: current.returnHi,
        };
      } else {
        current = {
          vector: e.vector,
          errorCode: e.errorCode,
          source: 'fault',
          returnLo: current.returnLo,
          returnHi: current.returnHi,
        };
      }
    }
  }
  shutdown(cpu, 'event delivery did not settle');
  return false;
}

function fredEventOf(cpu: Cpu, ev: PendingEvent): FredEvent {
  const pf = ev.vector === Vector.PF;
  return {
    vector: ev.vector,
    type: ev.fredType ?? fredTypeOf(ev.vector, ev.source),
    errorCode: ev.errorCode,
    returnLo: ev.returnLo,
    returnHi: ev.returnHi,
    dataLo: pf ? cpu.cr2Lo : 0,
    dataHi: pf ? cpu.cr2Hi : 0,
  };
}

export function shutdown(cpu: Cpu, reason: string): void {
  cpu.shutdownReason = reason;
  cpu.attention = 1;
  cpu.event('shutdown').at(cpu.cur.lo, cpu.cur.hi).detail = reason;
}

/** lo:hi + n (n small, may be negative) as halves; the high half is left in `carried`. */
let carried = 0;
function offset(lo: number, hi: number, n: number): number {
  const s = (lo >>> 0) + n;
  carried = (s > 0xffffffff ? hi + 1 : s < 0 ? hi - 1 : hi) | 0;
  return s | 0;
}

/** Scratch for the frame pushFrame writes (at most 6 slots). */
const frameWords = new Int32Array(12);

/** One delivery attempt (SDM 6.14): throws CpuFault if any step faults, before changing any state. */
function pushFrame(cpu: Cpu, ev: PendingEvent): void {
  const mem = cpu.memory;
  const ext = ev.source === 'software' ? 0 : 1;
  const idtCode = (ev.vector << 3) | 2 | ext;
  const gateOffset = ev.vector * GATE_SIZE;
  if (gateOffset + GATE_SIZE - 1 > cpu.idtLimit)
    throw new CpuFault(Vector.GP, idtCode, 0, 0, 'vector beyond the IDT limit');
  const gLo = offset(cpu.idtBaseLo, cpu.idtBaseHi, gateOffset);
  const gHi = carried;
  const q0lo = mem.read64(gLo, gHi, 0);
  const q0hi = mem.hi;
  const q1lo = mem.read64(offset(gLo, gHi, 8), carried, 0);
  const attr = (q0hi >>> 8) & 0xff;
  const type = attr & 0xf;
  if (type !== TYPE_INTERRUPT && type !== TYPE_TRAP)
    throw new CpuFault(Vector.GP, idtCode, 0, 0, 'IDT entry is not an interrupt or trap gate');
  const dpl = (attr >>> 5) & 3;
  // INT3 and INT n from user mode need a gate with DPL 3 (SDM 6.12.1.1).
  if (ev.source === 'software' && dpl < cpu.cpl) throw new CpuFault(Vector.GP, idtCode, 0, 0, 'gate DPL below CPL');
  if ((attr & 0x80) === 0) throw new CpuFault(Vector.NP, idtCode, 0, 0, 'gate not present');
  const selector = (q0lo >>> 16) & 0xffff;
  const ist = q0hi & 7;
  const handlerLo = (q0hi & 0xffff0000) | (q0lo & 0xffff);
  const handlerHi = q1lo;
  const target = descriptorFor(cpu.gdt, selector);
  if (!target || target.kind !== 'code' || !target.long || target.dpl > cpu.cpl) {
    throw new CpuFault(Vector.GP, (selector & 0xfffc) | ext, 0, 0, 'gate selector is not a usable 64-bit code segment');
  }
  const newCpl = target.dpl;

  // Stack (SDM 6.14.4, 6.14.5): IST unconditionally; else RSP0 on a privilege change; else as is.
  let rspLo: number;
  let rspHi: number;
  if (ist !== 0 || newCpl < cpu.cpl) {
    const off = ist !== 0 ? tssIstOffset(ist) : TSS_RSP0;
    rspLo = mem.read64(offset(cpu.trBaseLo, cpu.trBaseHi, off), carried, 0);
    rspHi = mem.hi;
  } else {
    rspLo = cpu.rl[RSP];
    rspHi = cpu.rh[RSP];
  }
  const newSs = newCpl < cpu.cpl ? newCpl : cpu.ss; // a privilege change loads a null SS
  rspLo &= ~0xf; // aligned to 16 bytes before the pushes

  const withCode = pushesErrorCode(ev.vector) && ev.source !== 'software';
  const bytes = withCode ? 48 : 40;
  const fLo = offset(rspLo, rspHi, -bytes);
  const fHi = carried;
  // The frame from its lowest slot up: [error code,] RIP, CS, RFLAGS, RSP, SS.
  const flags = cpu.readRflags();
  const f = frameWords;
  let i = 0;
  if (withCode) {
    f[i++] = ev.errorCode;
    f[i++] = 0;
  }
  f[i++] = ev.returnLo;
  f[i++] = ev.returnHi;
  f[i++] = cpu.cs;
  f[i++] = 0;
  f[i++] = flags;
  f[i++] = 0;
  f[i++] = cpu.rl[RSP];
  f[i++] = cpu.rh[RSP];
  f[i++] = cpu.ss;
  f[i++] = 0;
  mem.writeSlots(fLo, fHi, f, i >> 1, ACC_STACK_BIT); // an implicit supervisor access, checked whole first

  // Commit: flags (SDM 6.12.1.3: all gates clear TF, NT, RF and VM; interrupt gates also IF).
  let newFlags = flags & ~(TF | NT | RF | VM);
  if (type === 0xe) newFlags &= ~IF;
  cpu.writeRflags(newFlags);
  const fromCs = cpu.cs;
  cpu.cs = selector & 0xfffc;
  cpu.cpl = newCpl;
  cpu.ss = newSs;
  cpu.rl[RSP] = fLo;
  cpu.rh[RSP] = fHi;
  cpu.cur = cpu.insnAt(handlerLo, handlerHi);
  const e = cpu.event('deliver').at(ev.returnLo, ev.returnHi).to(handlerLo, handlerHi, fLo, fHi);
  e.vector = ev.vector;
  e.name = vectorName(ev.vector);
  if (withCode) e.errorCode = ev.errorCode;
  e.toCs = cpu.cs;
  e.fromCs = fromCs;
  e.ist = ist;
  if (ev.vector === Vector.PF) e.withCr2(cpu.cr2Lo, cpu.cr2Hi);
}
