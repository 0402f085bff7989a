// The old generation's growth held tight during a large burst of route changes.
//
// Why: V8 lets the old generation grow to 2–4× what was live at its last full GC before it
// collects again. A burst (an initial table of a million routes) promotes much of its
// short-lived garbage (decoded messages, kernel notifications, best-path changes) to the
// old space, so the heap climbs far above the live set until the burst ends: at 1 000 000
// routes the daemon's RSS peaked at 680–835 MiB for 327–367 MiB after it, with 400 MiB of
// heap in use just before the GC that follows the burst. Held at 1.15 from the burst's
// 10 000th kernel operation, the heap in use there was 171–196 MiB and the RSS peaked at
// 471–711 MiB (set for the whole process instead: 309–312 MiB; not done, so a start, a
// reflector or a small change keeps V8's own factor). The price is more full GCs during
// the burst (docs/benchmarks.md, round 2 changes).
//
// How: --heap-growing-percent is read each time V8 recomputes the old generation's limit
// (after every full GC), so setting it at run time takes effect from the next full GC on.
// It goes through setRuntimeFlag (v8-flags.ts) so that a code cache written during a burst
// is written with V8's defaults and stays valid for the next start.
import { getHeapSpaceStatistics } from 'node:v8';
import { setRuntimeFlag } from './v8-flags.js';

/** Growth of the old generation's limit over the live heap during a burst, in percent. */
export const BURST_HEAP_GROWING_PERCENT = 15;

let tight = false;

/** Holds the old generation's growth at BURST_HEAP_GROWING_PERCENT (on) or gives it back to V8 (off). */
export function tightHeapGrowth(on: boolean): void {
  if (on === tight) return;
  tight = on;
  setRuntimeFlag('heap-growing-percent', `--heap-growing-percent=${on ? BURST_HEAP_GROWING_PERCENT : 0}`, '--heap-growing-percent=0');
  if (!on) largeBurstYoungGeneration(false);
}

// The young generation during a large burst.
//
// Why: the daemon holds V8's young generation at 1 MiB per semi-space (v8-flags.ts). With
// the FIB's backlog bounded (daemon/input-gate.ts), a burst's objects live for a bounded
// time, but longer than a 1 MiB semi-space takes to fill, so most of them were copied twice
// and promoted, and the old generation's tight growth (above) collected them in repeated
// full GCs: the garbage collector was 29–36 % of the receiver's samples in the first 20 s
// of a 1 M-route ingest. Allowed to double up to BURST_SEMI_SPACE_MIB, the young generation
// lets them die there: 1 M-route ingest CPU 19.6–19.7 → 12.1–13.6 s at the same peak RSS
// (docs/benchmarks.md, round 2 changes). The grown semi-spaces (up to 16 MiB of RSS) stay
// after the burst until V8 gives them back (at a GC 5 s or more after the burst's
// allocation ended: V8 shrinks the young generation when its allocation rate is low), so
// only a burst whose table is large next to them grows it: from LARGE_BURST_OPS operations
// on (the writer counts them). At 100 000 routes the same growth cost 12 MiB of RSS
// after the ingest, 120 B per route more than the 200 B target allows.
//
// How: V8 reads --semi-space-growth-factor each time it grows the young generation; the
// size is checked on a timer while the burst lasts, and the growth held again at the cap.

/** Kernel operations in one burst from which its young generation may grow. */
export const LARGE_BURST_OPS = 200_000;
/** Largest semi-space a burst may grow the young generation to, MiB. */
export const BURST_SEMI_SPACE_MIB = 8;
let youngTimer: NodeJS.Timeout | undefined;
let young = false;

function newSpaceMib(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size / 2 ** 20;
  return 0;
}

function growYoung(on: boolean): void {
  setRuntimeFlag('semi-space-growth-factor', `--semi-space-growth-factor=${on ? 2 : 1}`, '--semi-space-growth-factor=2');
}

/** Lets the young generation grow to BURST_SEMI_SPACE_MIB (on) or holds it where it is (off). */
export function largeBurstYoungGeneration(on: boolean): void {
  if (on === young) return;
  young = on;
  clearInterval(youngTimer);
  youngTimer = undefined;
  // new_space's size counts both semi-spaces
  if (!on || newSpaceMib() >= 2 * BURST_SEMI_SPACE_MIB) { growYoung(false); return; }
  growYoung(true);
  youngTimer = setInterval(() => {
    if (newSpaceMib() < 2 * BURST_SEMI_SPACE_MIB) return;
    growYoung(false);
    clearInterval(youngTimer);
    youngTimer = undefined;
  }, 20);
  youngTimer.unref();
}
