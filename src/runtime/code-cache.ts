// The bundle's side of the V8 code cache (the loader is launch.ts): once the daemon has
// started and run its first session, the functions V8 compiled on the way are written to the
// cache, so that the next start deserializes them instead of parsing and compiling the bundle
// again (measured: docs/benchmarks.md, round 2, "start-up"). The route events that come
// after that write (an UPDATE applied, a kernel route learned) run functions the start did
// not (the learned route's way to the peers, a single route's way to the kernel): the cache
// is written once more after the first of them (when it comes within 30 s of that write),
// so the next start does not compile them at its first events either (docs/benchmarks.md,
// round 2 changes: "the V8 code cache written once more").
//
// The loader leaves a hook on globalThis when the cache it read was missing, stale or
// corrupt; without the hook (tests, the unbundled dist/, a cache that was used) nothing
// happens. The cache is written with V8's flags at their defaults (v8-flags.ts), the state
// in which the next start reads it.
import { withDefaultFlags } from './v8-flags.js';

/** What launch.ts leaves on globalThis under CODE_CACHE_HOOK. */
export interface CodeCacheHook {
  /** How the cache was found at this start: used, missing, rejected (V8: other Node, other flags, or its checksum failed) or corrupt. */
  readonly status: 'used' | 'missing' | 'rejected' | 'corrupt';
  /** Writes the cache (each call; errors such as a read-only dist/ are ignored). */
  save(): void;
}

export const CODE_CACHE_HOOK = Symbol.for('tern.codeCache');

function hook(): CodeCacheHook | undefined {
  return (globalThis as { [CODE_CACHE_HOOK]?: CodeCacheHook })[CODE_CACHE_HOOK];
}

/** How this process found the code cache; undefined when it was not started through it. */
export function codeCacheStatus(): string | undefined {
  return hook()?.status;
}

let timer: NodeJS.Timeout | undefined;
let saved = false;
/** The write after the first route event is armed, or will never be (no hook, a cache used): per event, one test. */
let routeWriteDone = false;

/** After the first route event past the first write: the rest of its burst runs first. */
const ROUTE_WRITE_DELAY_MS = 1000;
/**
 * Only a route event this soon after the first write arms the second: V8 drops the bytecode
 * of functions not run for 5 full GCs (--bytecode-old-age), and a write after that would
 * lose the start's own functions (the loader also refuses a smaller cache than its last).
 */
export const ROUTE_WRITE_WINDOW_MS = 30_000;
/** Date.now() of the first write (0: not yet). */
let firstWriteAt = 0;

/**
 * A start-up milestone: 'started' writes the cache 10 s later (a node without peers),
 * 'firstSession' 1 s later (the session code is compiled by then). Only when the loader
 * asked for a cache; this first write only once per process.
 */
export function codeCacheMilestone(kind: 'started' | 'firstSession'): void {
  const h = hook();
  if (!h || h.status === 'used' || saved) return;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    saved = true;
    firstWriteAt = Date.now();
    withDefaultFlags(() => h.save());
  }, kind === 'started' ? 10_000 : 1000);
  timer.unref();
}

/**
 * A route event (an UPDATE applied, a kernel route learned or gone). The first one after the
 * first write, within ROUTE_WRITE_WINDOW_MS of it, arms one more write ROUTE_WRITE_DELAY_MS
 * later; events before that write are in it already. Runs per event: after the first call
 * that decides, one boolean test. `now`: Date.now() (tests pass a later time).
 */
export function codeCacheRouteEvent(now?: number): void {
  if (routeWriteDone) return;
  const h = hook();
  if (!h || h.status === 'used') { routeWriteDone = true; return; }
  if (!saved) return; // the first write, armed or not yet, comes after this event
  routeWriteDone = true;
  if ((now ?? Date.now()) - firstWriteAt > ROUTE_WRITE_WINDOW_MS) return;
  const t = setTimeout(() => withDefaultFlags(() => h.save()), ROUTE_WRITE_DELAY_MS);
  t.unref();
}
