// Runtime tuning: every trick tern plays on Node.js and V8 for speed or memory, in one
// place, each with what it buys and the figure in docs/benchmarks.md that measured it.
//
//   v8-flags.ts     holdYoungGeneration(): --semi-space-growth-factor=1 at run time, set by the
//                   daemon just before its FIB starts (§2); withDefaultFlags() for the code cache;
//                   startLateTiering()/tieringBurst(): --interrupt-budget 16× V8's outside bursts
//                   of kernel writes (round 2 changes: churn CPU per node)
//   launch.ts       the loader bin/tern runs: the bundle through vm.Script with a V8 code
//                   cache (built separately into dist/bundle/launch.cjs; round 2, start-up)
//   code-cache.ts   codeCacheMilestone(): the daemon writes that cache after its first session
//                   (codeCacheRouteEvent(): and once more after its first route events)
//   koffi.ts        loadKoffi(): koffi's native module without its install tooling (round 2)
//   gc.ts           collectGarbage(): one full GC after a burst of kernel writes (§2)
//   idle-gc.ts      routeActivity(): a scavenge once route changes and kernel writes have been
//                   quiet for 250 ms and the young generation is a quarter full (round 2
//                   changes: scavenge when quiet)
//   heap-growth.ts  tightHeapGrowth(): --heap-growing-percent=15 during a burst of kernel
//                   writes, V8's own growth otherwise (round 2 changes: 1 M routes peak RSS);
//                   largeBurstYoungGeneration(): young generation up to 8 MiB semi-spaces from
//                   a burst's 200 000th write (round 2 changes: 1 M routes CPU)
//   netlink-raw.ts  RawNetlinkSocket from netlink's raw layer only (§4)
//   netlink-binding.ts  loadNetlinkBinding(): that layer's prebuilt addon without node-gyp-build,
//                   for the bundle (scripts/bundle.mjs; round 2 changes)
//   latin1.ts       latin1Scratch(): flat prefix strings from bytes (§1)
//
// Invariants: each module imports only Node built-ins (or the one package it tunes); none
// holds state beyond a cached function; removing any of them changes speed or memory,
// never behaviour.
export { holdYoungGeneration, setRuntimeFlag, startLateTiering, tieringBurst, withDefaultFlags } from './v8-flags.js';
export { codeCacheMilestone, codeCacheRouteEvent, codeCacheStatus } from './code-cache.js';
export { loadKoffi } from './koffi.js';
export { collectGarbage } from './gc.js';
export { routeActivity } from './idle-gc.js';
export { tightHeapGrowth, largeBurstYoungGeneration, BURST_HEAP_GROWING_PERCENT, BURST_SEMI_SPACE_MIB, LARGE_BURST_OPS } from './heap-growth.js';
export { latin1Scratch, type Latin1Buffer } from './latin1.js';
