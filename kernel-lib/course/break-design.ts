// Break-the-design exercises: the learner removes one protection from a shipped design and says
// what the explorer will then find, as an invariant number and a schedule that shows it. The judge
// verifies all of it by running the machine: the change is small and touches that protection, a
// lone NMI is still handled, the schedule replayed on the changed design breaks that invariant and
// on the original does not, and the explorer, within the stated bound, reports it too.
// Nothing here knows the expected invariant: it is what the explorer reports for the learner's own
// listing. Must compile under tslab's TypeScript 5.0 (no ES2023 library calls).
import type { WorkloadId } from '../harness/kernel';
import type { Design } from '../designs/manifest';
import { getDesign } from '../designs/registry';
import { assembleDesign } from '../harness/kernel';
import { exploreWorkload } from '../explore/explore';
import { replaySchedule } from '../explore/replay';
import { INVARIANTS } from '../explore/invariants';
import { CheckFailure, defineExercise, describe, expectNumber, expectRecord, expectString, expectTrue } from './checks';
import type { Exercise } from './checks';

/** What a break-the-design exercise asks for. */
export interface BreakSpec {
  id: string;
  /** The shipped design to change. */
  design: string;
  /** The protection to remove, in a few words (for messages). */
  protection: string;
  /** At least one line the change removes or alters matches one of these (the protection's lines). */
  touches: RegExp[];
  /** Where the explorer judges the change, and its bound. */
  workload: WorkloadId;
  depth: number;
  exceptions: number;
  /** The name the exercise cell defines: `{ source, invariant, schedule }`. */
  name: string;
  title: string;
  hint: string;
}

/** Lines changed between two listings (removed plus added), by a longest-common-subsequence diff. */
export function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  // Trim the common head and tail first: a change is a few lines in a listing of a few hundred.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  if (x.length * y.length > 4_000_000) return { removed: x, added: y };
  const lcs: number[][] = [];
  for (let i = 0; i <= x.length; i++) lcs.push(new Array(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i >= x.length || lcs[i][j + 1] >= lcs[i + 1][j])) added.push(y[j++]);
    else removed.push(x[i++]);
  }
  return { removed, added };
}

/** The most lines a "remove one protection" change may touch. */
export const MAX_CHANGED_LINES = 8;

/** A learner's listing as a design with the original's manifest (harness options, declared returns). */
export function changedDesign(source: string, original: Design): Design {
  const design: Design = {
    ...original,
    id: `${original.id}-changed`,
    title: `${original.title} (changed)`,
    text: source,
  };
  const r = assembleDesign(design);
  if (r.ok === false)
    throw new CheckFailure(
      `the changed listing does not assemble: ${r.errors
        .slice(0, 3)
        .map((e) => `line ${e.line}: ${e.message}`)
        .join('; ')}`,
    );
  return design;
}

const explored = new Map<string, Promise<number[]>>();

/** The invariant numbers the explorer reports for a design (cached by listing and bound). */
export function exploredInvariants(
  design: Design,
  workload: WorkloadId,
  depth: number,
  exceptions: number,
): Promise<number[]> {
  const key = `${workload}/${depth}/${exceptions}/${JSON.stringify(design.harness)}/${design.text}`;
  let p = explored.get(key);
  if (!p) {
    p = exploreWorkload({ design, workload, depth, exceptions, maxStepsAfterEvent: 600, workers: 0 }).then((r) =>
      r.violations.map((v) => v.number).sort((a, b) => a - b),
    );
    if (explored.size > 64) explored.clear();
    explored.set(key, p);
  }
  return p;
}

function numbersOn(
  design: string | Design,
  workload: WorkloadId,
  schedule: string,
): { error?: string; found: number[] } {
  const r = replaySchedule({ design, workload, schedule, maxStepsAfterEvent: 1500 });
  if (r.schedule === undefined) return { error: r.error ?? 'it does not replay', found: [] };
  return { found: r.violations.map((v) => v.number) };
}

function listOf(numbers: number[]): string {
  return numbers.length === 0 ? 'no invariant' : `invariant${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')}`;
}

/** Defines a break-the-design exercise (see the header comment). */
export function breakTheDesign(spec: BreakSpec): Exercise<null> {
  return defineExercise<null>({
    id: spec.id,
    title: spec.title,
    hint: spec.hint,
    names: [spec.name],
    cases: [null],
    answer: (defs) => defs[spec.name],
    async judge(answer) {
      const a = expectRecord(answer, spec.name);
      const source = expectString(a.source, `${spec.name}.source`);
      const invariant = expectNumber(a.invariant, `${spec.name}.invariant`);
      const schedule = expectString(a.schedule, `${spec.name}.schedule`);
      expectTrue(
        INVARIANTS.some((i) => i.number === invariant),
        `${spec.name}.invariant should be the number of one of the six invariants (1 to 6), got ${describe(invariant)}`,
      );
      const original = getDesign(spec.design);
      expectTrue(
        source !== original.text,
        `${spec.name}.source is ${spec.design}'s listing unchanged: remove the ${spec.protection} first`,
      );
      const diff = changedLines(original.text, source);
      const changed = diff.removed.length + diff.added.length;
      expectTrue(
        changed <= MAX_CHANGED_LINES,
        `your change touches ${changed} lines; remove only the ${spec.protection} (at most ${MAX_CHANGED_LINES} changed lines)`,
      );
      expectTrue(
        diff.removed.some((line) => spec.touches.some((t) => t.test(line))),
        `your change leaves the ${spec.protection} as it was: remove or change its lines`,
      );
      const design = changedDesign(source, original);
      const lone = await exploredInvariants(design, 'kernel', 1, 0);
      expectTrue(
        lone.length === 0,
        `with your change even a lone NMI on the kernel workload breaks ${listOf(lone)}: the change should remove the ${spec.protection} and nothing else (keep the entry working for one NMI)`,
      );
      const mine = numbersOn(design, spec.workload, schedule);
      if (mine.error !== undefined)
        throw new CheckFailure(
          `the schedule does not replay on your design (${spec.workload} workload): ${mine.error}`,
        );
      expectTrue(
        mine.found.indexOf(invariant) >= 0,
        `replayed on your design (${spec.workload} workload), the schedule breaks ${listOf(mine.found)}, not invariant ${invariant}`,
      );
      const theirs = numbersOn(spec.design, spec.workload, schedule);
      expectTrue(
        theirs.found.indexOf(invariant) < 0,
        `the original ${spec.design} breaks invariant ${invariant} on this schedule too, so it does not show what your change removed: find a schedule that only the changed design fails`,
      );
      const found = await exploredInvariants(design, spec.workload, spec.depth, spec.exceptions);
      expectTrue(
        found.indexOf(invariant) >= 0,
        `the explorer on your design (${spec.workload} workload, depth ${spec.depth}, ${spec.exceptions} exception${spec.exceptions === 1 ? '' : 's'}) does not report invariant ${invariant}: your schedule is outside that bound`,
      );
    },
  });
}
