// Event delivery in 64-bit mode: IDT gate, stack choice (IST, RSP0 or the current stack), the
// pushed frame, flag changes, NMI blocking, and the double-fault table when delivery itself faults.
import { ACC_STACK_BIT } from '../isa/access';
import { CpuFault, Vector, pushesErrorCode, vectorName } from '../isa/faults';
import { IF, NT, RF, TF, VM } from '../isa/flags';
import type { Cpu } from './cpu';
import { GATE_SIZE, TSS_RSP0, decodeGate, descriptorFor, tssIstOffset } from './descriptors';
import { joinU64, splitU64 } from './memory';

const RSP = 4;

export type EventSource = 'nmi' | 'fault' | 'trap' | 'software';

export interface PendingEvent {
  vector: number;
  errorCode: number;
  source: EventSource;
  /** The RIP the frame saves: the faulting instruction, or the next one for traps and interrupts. */
  returnRip: bigint;
}

/** Exception classes for the double-fault table (SDM 6.15, table 6-5). */
type FaultClass = 'benign' | 'contributory' | 'page-fault' | 'double-fault';

function classOf(vector: number): FaultClass {
  switch (vector) {
    case 0: case 10: case 11: case 12: case 13: return 'contributory';
    case 14: return 'page-fault';
    case 8: return 'double-fault';
    default: return 'benign';
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
    if (current.vector === Vector.PF) {
      // CR2 is loaded as part of raising #PF, before its delivery (SDM 4.7).
    }
    try {
      pushFrame(cpu, current);
      cpu.halted = false;
      return true;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      cpu.record({
        kind: 'delivery-fault',
        vector: e.vector,
        name: vectorName(e.vector),
        errorCode: e.errorCode,
        rip: current.returnRip,
        detail: `${vectorName(e.vector)} (${e.reason}) while delivering ${vectorName(current.vector)}`,
      });
      if (e.vector === Vector.PF) {
        cpu.cr2Lo = e.addrLo;
        cpu.cr2Hi = e.addrHi;
      }
      const rule = doubleFaultRule(current.vector, e.vector);
      if (rule === 'shutdown') {
        shutdown(cpu, `triple fault: ${vectorName(e.vector)} (${e.reason}) while delivering #DF`);
        return false;
      }
      if (rule === 'double') {
        cpu.record({
          kind: 'double-fault',
          vector: Vector.DF,
          name: '#DF',
          rip: current.returnRip,
          detail: `${vectorName(e.vector)} while delivering ${vectorName(current.vector)}`,
        });
        // The saved CS:RIP of a #DF is undefined (SDM 6.15); NMI Lab saves the first event's.
        current = { vector: Vector.DF, errorCode: 0, source: 'fault', returnRip: current.returnRip };
      } else {
        current = { vector: e.vector, errorCode: e.errorCode, source: 'fault', returnRip: current.returnRip };
      }
    }
  }
  shutdown(cpu, 'event delivery did not settle');
  return false;
}

export function shutdown(cpu: Cpu, reason: string): void {
  cpu.shutdownReason = reason;
  cpu.attention = 1;
  cpu.record({ kind: 'shutdown', rip: cpu.rip, detail: reason });
}

/** One delivery attempt (SDM 6.14): throws CpuFault if any step faults, before changing any state. */
function pushFrame(cpu: Cpu, ev: PendingEvent): void {
  const ext = ev.source === 'software' ? 0 : 1;
  const idtCode = (ev.vector << 3) | 2 | ext;
  const offset = ev.vector * GATE_SIZE;
  if (offset + GATE_SIZE - 1 > cpu.idtLimit) throw new CpuFault(Vector.GP, idtCode, 0, 0, 'vector beyond the IDT limit');
  const [gLo, gHi] = splitU64(cpu.idtBase + BigInt(offset));
  const q0lo = cpu.memory.read64(gLo, gHi, 0);
  const q0hi = cpu.memory.hi;
  const [g2Lo, g2Hi] = splitU64(cpu.idtBase + BigInt(offset + 8));
  const q1lo = cpu.memory.read64(g2Lo, g2Hi, 0);
  const gate = decodeGate(q0lo, q0hi, q1lo);
  if (!gate.kindOk) throw new CpuFault(Vector.GP, idtCode, 0, 0, 'IDT entry is not an interrupt or trap gate');
  // INT3 and INT n from user mode need a gate with DPL 3 (SDM 6.12.1.1).
  if (ev.source === 'software' && gate.dpl < cpu.cpl) throw new CpuFault(Vector.GP, idtCode, 0, 0, 'gate DPL below CPL');
  if (!gate.present) throw new CpuFault(Vector.NP, idtCode, 0, 0, 'gate not present');
  const target = descriptorFor(cpu.gdt, gate.selector);
  if (!target || target.kind !== 'code' || !target.long || target.dpl > cpu.cpl) {
    throw new CpuFault(Vector.GP, (gate.selector & 0xfffc) | ext, 0, 0, 'gate selector is not a usable 64-bit code segment');
  }
  const newCpl = target.dpl;

  // Stack (SDM 6.14.4, 6.14.5): IST unconditionally; else RSP0 on a privilege change; else as is.
  let rsp: bigint;
  if (gate.ist !== 0) rsp = readTss64(cpu, tssIstOffset(gate.ist));
  else if (newCpl < cpu.cpl) rsp = readTss64(cpu, TSS_RSP0);
  else rsp = cpu.getReg(RSP);
  const newSs = newCpl < cpu.cpl ? newCpl : cpu.ss; // a privilege change loads a null SS
  rsp = BigInt.asUintN(64, rsp & ~0xfn); // aligned to 16 bytes before the pushes

  const withCode = pushesErrorCode(ev.vector) && ev.source !== 'software';
  const slots = withCode ? 6 : 5;
  const frame = BigInt.asUintN(64, rsp - BigInt(8 * slots));
  const [fLo, fHi] = splitU64(frame);
  cpu.memory.probeWrite(fLo, fHi, 8 * slots, ACC_STACK_BIT); // an implicit supervisor access

  const oldRsp = cpu.getReg(RSP);
  const values: bigint[] = [BigInt(cpu.ss), oldRsp, BigInt(cpu.readRflags() >>> 0), BigInt(cpu.cs), ev.returnRip];
  if (withCode) values.push(BigInt(ev.errorCode >>> 0));
  for (let i = 0; i < values.length; i++) {
    const [aLo, aHi] = splitU64(BigInt.asUintN(64, rsp - BigInt(8 * (i + 1))));
    const [vLo, vHi] = splitU64(values[i]);
    cpu.memory.write64(aLo, aHi, vLo, vHi, ACC_STACK_BIT);
  }

  // Commit: flags (SDM 6.12.1.3: all gates clear TF, NT, RF and VM; interrupt gates also IF).
  let flags = cpu.readRflags() & ~(TF | NT | RF | VM);
  if (gate.type === 'interrupt') flags &= ~IF;
  cpu.writeRflags(flags);
  const fromCs = cpu.cs;
  cpu.cs = gate.selector & 0xfffc;
  cpu.cpl = newCpl;
  cpu.ss = newSs;
  cpu.setReg(RSP, frame);
  cpu.jumpTo(gate.handler);
  cpu.record({
    kind: 'deliver',
    vector: ev.vector,
    name: vectorName(ev.vector),
    errorCode: withCode ? ev.errorCode : undefined,
    rip: ev.returnRip,
    toRip: gate.handler,
    toRsp: frame,
    toCs: cpu.cs,
    fromCs,
    ist: gate.ist,
    cr2: ev.vector === Vector.PF ? joinU64(cpu.cr2Lo, cpu.cr2Hi) : undefined,
  });
}

function readTss64(cpu: Cpu, offset: number): bigint {
  const [lo, hi] = splitU64(cpu.trBase + BigInt(offset));
  const vLo = cpu.memory.read64(lo, hi, 0);
  return joinU64(vLo, cpu.memory.hi);
}
