// The judge's side of grading: an exercise's answers (data from the learner's process) judged
// against its visible or hidden cases, by the exercise's judge(), in the grader's own process
// (judge-worker.ts runs this in a worker thread with a time and memory limit). The learner's
// process never sees the cases' expected results, only the probes it is asked to answer.
import { decodeAnswer } from '../course/answers';
import type { Json } from '../course/answers';
import { exerciseById, thrownMessage } from '../course/checks';
import type { Exercise } from '../course/checks';
import { HIDDEN_CASES } from './hidden';

export type CheckName = 'visible' | 'hidden';

/** What the learner's process said for one probe. */
export interface AnswerEntry {
  answer?: Json;
  /** The answer was malformed (a CheckFailure in answer()): its message. */
  failure?: string;
  /** The learner's code threw: its message. */
  error?: string;
}

export interface JudgeJob {
  exercise: string;
  check: CheckName;
  /** Answers by probe key (probeKey). */
  answers: Record<string, AnswerEntry>;
  /** Why a probe has no answer (the process ended or timed out first). */
  missing: string;
}

export interface CheckVerdict {
  check: CheckName;
  ok: boolean;
  message: string;
}

/** The cases of one check of an exercise ([] when it has no such check). */
export function casesOf(e: Exercise<unknown>, check: CheckName): readonly unknown[] {
  return check === 'visible' ? e.cases : (HIDDEN_CASES[e.id] ?? []);
}

/** The checks an exercise has: the visible one, and a hidden one when it has hidden cases. */
export function checksOf(e: Exercise<unknown>): CheckName[] {
  return casesOf(e, 'hidden').length > 0 ? ['visible', 'hidden'] : ['visible'];
}

/** The probe a case gives the learner's code, and its key (equal probes are answered once). */
export function probeOf(e: Exercise<unknown>, c: unknown): { probe: Json; key: string } {
  const probe = e.probe ? e.probe(c) : null;
  return { probe, key: JSON.stringify(probe) };
}

/** Judges one check: its cases in order, stopping at the first that fails. */
export async function judgeCheck(job: JudgeJob): Promise<CheckVerdict> {
  const e = exerciseById(job.exercise);
  if (!e) return { check: job.check, ok: false, message: `there is no exercise '${job.exercise}'` };
  for (const c of casesOf(e, job.check)) {
    const entry = job.answers[probeOf(e, c).key];
    if (!entry) return { check: job.check, ok: false, message: job.missing };
    if (entry.failure !== undefined) return { check: job.check, ok: false, message: String(entry.failure) };
    if (entry.error !== undefined) return { check: job.check, ok: false, message: `your code threw ${entry.error}` };
    try {
      await e.judge(decodeAnswer(entry.answer), c);
    } catch (err) {
      return { check: job.check, ok: false, message: thrownMessage(err) };
    }
  }
  return { check: job.check, ok: true, message: e.title };
}
