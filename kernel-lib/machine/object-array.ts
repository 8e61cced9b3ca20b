// Empty arrays that will hold objects, made in V8's generic elements kind from the start.
//
// `[]` starts as an array of small integers and changes its hidden class on the first object
// pushed. Optimized code that has only seen arrays after that change deoptimizes (wrong map)
// the first time it meets a fresh one: a new machine's event log, a snapshot's empty list of
// injected events. Each such deopt costs a recompile of a large hot function, which is most of
// what a fresh explorer worker spends its first second on. Speed only; no behaviour depends on it.

/** An empty array already in the elements kind an array of objects has. */
export function emptyObjectArray<T extends object>(): T[] {
  const a: unknown[] = [undefined];
  a.pop();
  return a as T[];
}
