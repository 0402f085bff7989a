// BGPFilter `interface` rules: BIRD's `ifname` of the routes tern holds, from the FIB.
// - kernel-learned routes: the device of the route's first next hop ("" for a blackhole);
// - BGP routes: the interface their next hop (the first one: IPv6 global before
//   link-local) is reached through, as BIRD's `gateway recursive` resolves it;
// - own blocks and service CIDRs (BIRD static blackholes): "".
// Without a FIB (--no-fib) no interface is known: every route's is "".
import { compileChain, evaluateChain, type FilterChainSpec } from '../policy/bgp-filter.js';
import type { AttrSet } from '../rib/attr-set.js';
import type { ImportRejects } from '../rib/loc-rib.js';
import type { PathInterface } from '../rib/update-group.js';

/** What the FIB knows of interfaces (FibSync). */
export interface InterfaceSource {
  learnedInterface(prefix: string): string;
  interfaceToward(address: string): string;
}

function nextHopInterface(fib: InterfaceSource, attrs: AttrSet): string {
  const nh = attrs.nextHops[0];
  return nh === undefined ? '' : fib.interfaceToward(nh);
}

/** The interface of a Loc-RIB path; `kernelSources` are the local sources of learned routes. */
export function pathInterfaceOf(fib: InterfaceSource | null, kernelSources: ReadonlySet<string>): PathInterface {
  return (prefix, path) => {
    if (!fib) return '';
    const src = path.source;
    if (src.kind === 'peer') return nextHopInterface(fib, path.attrs);
    return kernelSources.has(src.key) ? fib.learnedInterface(prefix) : '';
  };
}

/** The Loc-RIB import filter of a chain: true when the chain rejects the route. */
export function importRejects(chain: FilterChainSpec | undefined, fib: InterfaceSource | null): ImportRejects | null {
  if (!chain) return null;
  const c = compileChain(chain);
  return (prefix, attrs) =>
    evaluateChain(c, { prefix, attrs: attrs.attrs, fromPeer: true, iface: c.usesInterface && fib ? nextHopInterface(fib, attrs) : '' }) === 'reject';
}

/** True when the chain has a rule on the interface. */
export function chainUsesInterface(chain: FilterChainSpec | undefined): boolean {
  return chain !== undefined && compileChain(chain).usesInterface;
}
