// Sliced synchronous work: a generator yields between small steps, and runStepsAsync runs
// it in slices of at most `sliceMs` milliseconds, yielding to the event loop (setImmediate)
// in between. The ACL model, render and diff run this way so the BGP speaker, which shares
// the event loop, is never held for long by ACL work.

/** Runs every step at once. */
export function runSteps<T>(g: Generator<void, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** Runs the steps in slices of at most `sliceMs` of synchronous work. */
export async function runStepsAsync<T>(g: Generator<void, T>, sliceMs: number): Promise<T> {
  for (;;) {
    const end = performance.now() + sliceMs;
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (performance.now() >= end) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
