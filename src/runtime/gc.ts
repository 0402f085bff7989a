// A full garbage collection after a large burst of route changes (used by FibSync), and a
// minor one when route activity is quiet (idle-gc.ts).
//
// Why: a burst (initial sync: 100 000 routes in a second or two) promotes most of its
// short-lived objects (requests in flight, notifications, best-path changes) to V8's old
// space before they die. V8 collects them at its next major GC, which after a burst may come
// only seconds later, when allocation picks up again or its memory reducer runs: until then
// the process holds about twice its live heap (measured at 100 000 routes: 88–108 MiB used
// before, 34 MiB after a full GC; RSS 169 → 126 MiB; docs/benchmarks.md §2). One synchronous
// full GC once the burst is applied returns that memory at a moment the daemon is idle.
//
// How: `global.gc` when node runs with --expose-gc; otherwise the flag is set at run time and
// the function taken from a fresh context (the way jest's leak detector gets it). If neither
// works, nothing happens.
import { setRuntimeFlag } from './v8-flags.js';
import { runInNewContext } from 'node:vm';

/** V8's gc extension: no argument for a full GC, { type: 'minor' } for a scavenge. */
type GcOptions = { type: 'minor' | 'major' };
type GcFunction = (opts?: GcOptions) => void;
/** The gc function, found on first use; null when this runtime offers none. */
let gc: GcFunction | null | undefined;

function gcFunction(): GcFunction | null {
  const g = (globalThis as { gc?: unknown }).gc;
  if (typeof g === 'function') return g as GcFunction;
  try {
    setRuntimeFlag('expose-gc', '--expose-gc', '--no-expose-gc');
    const f: unknown = runInNewContext('gc');
    return typeof f === 'function' ? (f as GcFunction) : null;
  } catch {
    return null;
  }
}

function runGc(opts?: GcOptions): boolean {
  if (gc === undefined) gc = gcFunction();
  if (!gc) return false;
  gc(opts);
  return true;
}

/** Runs a full, synchronous GC; false when this runtime offers none. */
export function collectGarbage(): boolean {
  return runGc();
}

/** Runs a synchronous minor GC (a scavenge of the young generation); false when this runtime offers none. */
export function collectYoungGarbage(): boolean {
  return runGc({ type: 'minor' });
}
