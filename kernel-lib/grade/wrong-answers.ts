// Plausible wrong answers for every exercise, next to the hidden tests (hidden.ts) that catch them.
// Each is the text of an exercise cell a learner might submit. `caughtBy` says which check rejects
// it: 'visible' (the notebook's check() already says Not yet, and the grader agrees) or 'hidden'
// (the notebook's check passes it; the grader's hidden cases do not). tests/grade/wrong-answers.test.ts
// grades each one and holds the grader to it.

export interface WrongAnswer {
  /** What is wrong, in a few words. */
  name: string;
  /** The exercise cell's code. */
  cell: string;
  caughtBy: 'visible' | 'hidden';
}

export const WRONG_ANSWERS: Record<string, readonly WrongAnswer[]> = {};
