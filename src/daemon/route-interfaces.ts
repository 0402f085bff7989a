// BGPFilter `interface` rules: BIRD's `ifname` of the routes tern holds, from the FIB.
// - kernel-learned routes: the device of the first next hop of the lowest-metric route ("" for a blackhole);
// - BGP routes: the interface their next hop (the first one: IPv6 global before
//   link-local) is reached through, as BIRD's `gateway recursive` resolves it;
// - own blocks and service CIDRs (BIRD static blackholes): "".
// Without a FIB (--no-fib) no interface is known: every route's is "".
// The route priority step of the export filter (src/policy/priority.ts) reads a local route's
// kernel metric (BIRD's `krt_metric`) from the FIB the same way: kernel-learned routes have
// theirs, own blocks and service CIDRs none (nor does any route without a FIB).
import { compileChain, firstMatch, type FilterChainSpec } from '../policy/bgp-filter.js';
import type { AttrSet } from '../rib/attr-set.js';
import { ACCEPT_AS_RECEIVED, type ImportFilter } from '../rib/loc-rib.js';
import type { PathInterface, PathMetric } from '../rib/update-group.js';

/** What the FIB knows of interfaces and learned routes (FibSync). */
export interface InterfaceSource {
  learnedInterface(prefix: string): string;
  interfaceToward(address: string): string;
}

/** The kernel metric of a local Loc-RIB path; `kernelSources` are the local sources of learned routes. */
export function pathMetricOf(fib: { learnedMetric(prefix: string): number | undefined } | null, kernelSources: ReadonlySet<string>): PathMetric {
  return (prefix, path) => (fib && path.source.kind === 'local' && kernelSources.has(path.source.key) ? fib.learnedMetric(prefix) : undefined);
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

/**
 * The Loc-RIB import filter of a chain: null when the chain rejects the route, else the
 * operations of the Accept rule that matched (none when no rule matched: Calico's import
 * filter ends in `accept`).
 */
export function importFilterOf(chain: FilterChainSpec | undefined, fib: InterfaceSource | null): ImportFilter | null {
  if (!chain) return null;
  const c = compileChain(chain);
  return (prefix, attrs) => {
    const rule = firstMatch(c, { prefix, attrs: attrs.attrs, fromPeer: true, iface: c.usesInterface && fib ? nextHopInterface(fib, attrs) : '' });
    if (rule === undefined) return ACCEPT_AS_RECEIVED;
    if (rule.action === 'reject') return null;
    return rule.operations ? { operations: rule.operations, ...(rule.operationsKey ? { operationsKey: rule.operationsKey } : {}) } : ACCEPT_AS_RECEIVED;
  };
}

/** True when the chain has a rule on the interface. */
export function chainUsesInterface(chain: FilterChainSpec | undefined): boolean {
  return chain !== undefined && compileChain(chain).usesInterface;
}
