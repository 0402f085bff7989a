// The Loc-RIB's best-path changes as the FIB's routes: per prefix, the next hops of the
// multipath set when the best path came from a peer, and no route when the best is local
// (an own block's blackhole is programmed by LocalRoutes.setOwnBlocks; a kernel-learned
// route is already in the kernel) or the prefix is gone. A prefix that a reachableBy route
// owns is left to LocalRoutes.
import type { FibSync } from '../fib/fib-sync.js';
import type { BestChange } from '../rib/loc-rib.js';
import type { LocalRoutes } from './local-routes.js';

/** Hands `changes` to the FIB (Loc-RIB prefixes are canonical already: the FIB keeps these very strings). */
export function bestChangesToFib(changes: readonly BestChange[], fib: FibSync, local: LocalRoutes): void {
  const hops: string[] = []; // reused: the FIB copies what it keeps
  for (const c of changes) {
    if (local.reachOwns(c.prefix)) continue;
    if (!c.best || c.best.source.kind === 'local' || local.kernelRejected(c.prefix)) {
      fib.setCanonicalRoute(c.prefix, null);
      continue;
    }
    hops.length = 0;
    const paths = c.multipath;
    for (let i = 0; i < paths.length; i++) { // indexed: for-of over the frozen list allocates per route
      const p = paths[i]!;
      if (p.source.kind !== 'peer') continue;
      const nh = p.attrs.nextHops[0];
      if (nh && !hops.includes(nh)) hops.push(nh);
    }
    fib.setCanonicalRoute(c.prefix, hops.length ? hops : null);
  }
}
