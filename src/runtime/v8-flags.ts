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

/** V8's interrupt budget in Node 20 (V8 11.3): bytecode a function runs between two tiering checks. */
export const DEFAULT_INTERRUPT_BUDGET = 67_584;
/** The daemon's steady-state budget: 16× V8's, so a small change does not wake TurboFan. */
export const STEADY_INTERRUPT_BUDGET = 16 * DEFAULT_INTERRUPT_BUDGET;
/** Quiet time after a burst before the steady budget comes back. */
const BURST_QUIET_MS = 1_000;

let lateTiering = false;
let restoreTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Tiers up late outside bursts: V8's interrupt budget 16× its default in the steady state, its
 * default during a burst. Why: in a churn (one block withdrawn and re-announced), 33–45 % of a
 * node's CPU was TurboFan compiling functions that had just crossed V8's default budget, for
 * work that ends a few milliseconds later; the high budget cut that churn CPU by about a third,
 * but held through a 100 000-route ingest it cost that ingest +18 % CPU (hot code optimized
 * later), so a burst gets V8's default back as soon as it is seen (docs/benchmarks.md, round 2
 * changes). The budget is read each time a function's budget is renewed, so a change reaches a
 * function at its next tiering check (checked with %GetOptimizationStatus: a function first
 * run after the default came back was optimized after 91 calls, as with no flag at all).
 */
export function tierLate(on: boolean): void {
  if (on === lateTiering) return;
  lateTiering = on;
  setRuntimeFlag('interrupt-budget', `--interrupt-budget=${on ? STEADY_INTERRUPT_BUDGET : DEFAULT_INTERRUPT_BUDGET}`,
    `--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`);
}

/** Starts late tiering (the daemon, once it runs): bursts then switch it off through tieringBurst. */
export function startLateTiering(): void {
  tierLate(true);
}

/**
 * A burst began (true: V8's default budget at once) or ended (false: the steady budget again
 * after BURST_QUIET_MS without another burst). The FIB's kernel writer calls it at a burst's
 * 256th operation and when that burst is over. Does nothing unless startLateTiering ran.
 */
export function tieringBurst(on: boolean): void {
  if (!changed.has('interrupt-budget')) return;
  if (restoreTimer) { clearTimeout(restoreTimer); restoreTimer = null; }
  if (on) { tierLate(false); return; }
  restoreTimer = setTimeout(() => { restoreTimer = null; tierLate(true); }, BURST_QUIET_MS);
  restoreTimer.unref();
}
