// A minor GC (scavenge) once route activity has been quiet for a while, so that the next
// route events do not pay for one.
//
// Why: the daemon's young generation is held at 1 MiB per semi-space (v8-flags.ts), so a
// scavenge comes after every MiB allocated, inside whichever event allocates that MiB. A
// start leaves the young generation full of the start's objects, and the first route events
// after it paid the scavenge that copies their survivors: in a K=50 mesh's churn (15 blocks
// withdrawn) 1.4 ms of the 9.8 ms of CPU a node spent on the withdrawals (perf,
// docs/benchmarks.md, round 2 changes: "scavenge when quiet").
//
// How: every Loc-RIB flush with changes and every kernel write counts as activity (one
// increment and one test); the first arms a timer, which re-arms itself while activity goes
// on and, once QUIET_MS pass without any, scavenges if the young generation is at least
// MIN_FILL full. Kernel writes count so that a large burst, whose Loc-RIB may pause while the
// FIB drains its backlog, is never scavenged midway: that would copy and promote the burst's
// objects in flight, which its grown young generation lets die there (heap-growth.ts). After
// a burst FibSync's full GC leaves the young generation empty. The scavenge takes the
// GC function gc.ts finds; without one nothing happens.
import { getHeapSpaceStatistics } from 'node:v8';
import { collectYoungGarbage } from './gc.js';

/** Quiet time after the last route activity before the young generation is looked at. */
export const QUIET_MS = 250;
/** Fill of the young generation (used / capacity) from which a quiet scavenge runs. */
export const MIN_FILL = 0.25;

let activity = 0;
let seen = 0;
let armed = false;
let scavenges = 0;

/** A route change was applied (per Loc-RIB flush with changes) or written to the kernel (per write). */
export function routeActivity(): void {
  activity++;
  if (!armed) arm();
}

function arm(): void {
  armed = true;
  seen = activity;
  setTimeout(quietCheck, QUIET_MS).unref();
}

function quietCheck(): void {
  if (activity !== seen) { arm(); return; }
  armed = false;
  if (youngFill() >= MIN_FILL && collectYoungGarbage()) scavenges++;
}

/** Used part of the young generation's allocation space, 0..1. */
export function youngFill(): number {
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name !== 'new_space') continue;
    const cap = s.space_used_size + s.space_available_size;
    return cap > 0 ? s.space_used_size / cap : 0;
  }
  return 0;
}

/** Scavenges run here since start (tests). */
export function quietScavenges(): number {
  return scavenges;
}
