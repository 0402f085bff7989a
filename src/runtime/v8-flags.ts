// V8 flags the daemon sets at run time, and the way back to their defaults.
//
// Every flag set here changes V8's flag hash, which V8 stamps into a code cache and checks
// when the cache is read: a cache written after a flag changed is rejected by the next start
// (which compiles before any flag is set). code-cache.ts therefore writes the cache inside
// withDefaultFlags(), which puts each flag set through setRuntimeFlag() back to its default
// for that synchronous moment (measured: a cache written with the young-generation flag set
// was rejected at every start; written with the defaults restored it is accepted).
import { setFlagsFromString } from 'node:v8';

/** Flags changed through setRuntimeFlag: name → [value set, V8's default]. */
const changed = new Map<string, [string, string]>();

/** Sets `--name=value` (or `--name` / `--no-name` for booleans); `byDefault` is V8's default, restored by withDefaultFlags. */
export function setRuntimeFlag(name: string, value: string, byDefault: string): void {
  setFlagsFromString(value);
  changed.set(name, [value, byDefault]);
}

/** Runs fn with every flag of setRuntimeFlag back at its default, then sets them again. */
export function withDefaultFlags<T>(fn: () => T): T {
  for (const [, byDefault] of changed.values()) setFlagsFromString(byDefault);
  try {
    return fn();
  } finally {
    for (const [value] of changed.values()) setFlagsFromString(value);
  }
}

/**
 * Keeps V8's young generation at its initial size. It starts at 1 MiB per semi-space and
 * doubles under allocation up to 16 MiB; a daemon's bursts (an initial table, a reflector's
 * fan-out) grow it to its maximum and it stays committed. Holding it cost no measurable CPU
 * or time and took the RSS growth of a 100 000-route ingest from ~520 to ~306 B/route
 * (docs/benchmarks.md §2). Set at run time rather than as `node --max-semi-space-size`: any
 * heap flag on the command line cost every start 0.03 s of CPU (measured on a 20-node mesh).
 */
export function holdYoungGeneration(): void {
  setRuntimeFlag('semi-space-growth-factor', '--semi-space-growth-factor=1', '--semi-space-growth-factor=2');
}
