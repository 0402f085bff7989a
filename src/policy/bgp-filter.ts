// BGPFilter evaluation, as confd renders Calico BGPFilters into BIRD functions
// (template_funcs.go filterStatement) and BIRD runs them:
// - A chain is the BGPPeer's `filters` in order, each contributing its rules for one
//   direction and family. Rules run in order; the first rule whose conditions all hold ends
//   the WHOLE chain with its action. No match anywhere: undefined (the caller's default —
//   import accepts, export falls through to calico_export_to_bgp_peers then rejects).
// - cidr + operator: Equal `net = cidr`, NotEqual `net != cidr`, In `net ~ cidr` (inside or
//   equal), NotIn `net !~ cidr`. With a prefixLength the cidr becomes the BIRD set
//   `[ cidr{lo,hi} ]` (lo = max(cidr length, min), hi = min(32/128, max)); In/NotIn test
//   membership; Equal/NotEqual compare a prefix with a set, which BIRD 2 evaluates as never
//   equal: Equal never matches and NotEqual always does (checked against BIRD 2.0.12).
// - source RemotePeers: the route was learned over BGP (`source ~ [ RTS_BGP ]`).
// - interface: `defined(ifname) && ifname ~ pattern`. BIRD's ifname is always defined: the
//   route's interface name, "" for a route without one. The pattern is a BIRD wildcard (`*`
//   any run, `?` one character) over the whole name, so "*" matches every route, "" too.
//   Where the interface comes from (kernel route device, next hop's interface) is the
//   caller's: the chain says whether it needs it (`usesInterface`).
// - peerType (v3.32+): resolved per peer by src/peering (rulesForPeer); chains never hold it.
// - community (v3.32+): `(aa, nn) ~ bgp_community` or `(aa, nn, mm) ~ bgp_large_community`,
//   the route as held (on export: before the export's own changes); no attribute: no match.
// - asPathPrefix (v3.32+): `bgp_path ~ [= a b * =]`, the AS_PATH begins with a, b, read as
//   BIRD reads a path (an AS_SET stands for a run of its members: asPathBegins); an empty
//   path (a locally originated route) never matches.
// - priority (v3.32+): `defined(bgp_local_pref) && bgp_local_pref = 2147483647 − priority`.
//   BIRD gives every route one in both directions (a received route without one: 100; on
//   export the route priority step sets it first: policy/priority.ts), so a route's LOCAL_PREF
//   as the filter sees it is compared, 100 when it has none.
// - operations (v3.32+, an Accept's, in order, on import and export; filter-operations.ts):
//   `bgp_community.add`, `bgp_large_community.add`, `bgp_path.prepend` once per AS, last
//   first, `bgp_local_pref = 2147483647 − value`.
// Pure; the spec types are plain data (JSON-comparable) so a change is detected by value.
import type { Family } from '../net/prefix.js';
import { inside, matchPrefix, samePrefix, type MatchPrefix } from './prefix-match.js';
import { communityWire } from './communities.js';
import { DEFAULT_LOCAL_PREF, invertPriority } from './priority.js';
import { AsPathSegmentType } from '../bgp/wire/constants.js';
import type { AsPathSegment, PathAttributes } from '../bgp/wire/types.js';
import type { FilterChainSpec, FilterOperationSpec, FilterRuleSpec, FilterSpec } from '../peering/filter-spec.js';

export type { FilterChainSpec, FilterOperationSpec, FilterRuleSpec, FilterSpec };

/** What a filter sees of a route. */
export interface FilterRoute {
  readonly prefix: string;
  /** The route's attributes as held (communities, large communities, AS_PATH, LOCAL_PREF are read). */
  readonly attrs: PathAttributes;
  readonly fromPeer: boolean;
  /**
   * BIRD's `ifname`: the route's interface, "" when it has none. Read only by interface
   * rules: callers may pass "" without resolving it when the chain's `usesInterface` is false.
   */
  readonly iface: string;
}

export type FilterVerdict = 'accept' | 'reject' | undefined;

export interface CompiledRule {
  readonly action: 'accept' | 'reject';
  readonly test: (p: MatchPrefix, r: FilterRoute) => boolean;
  /** An Accept's operations (none: undefined), and their identity for memoizing. */
  readonly operations?: readonly FilterOperationSpec[];
  readonly operationsKey?: string;
}

export interface CompiledChain {
  /** Stable identity of the chain's content (update groups, change detection). */
  readonly id: string;
  readonly rules: readonly CompiledRule[];
  /** Some rule matches on the interface: routes must carry theirs. */
  readonly usesInterface: boolean;
}

const cache = new WeakMap<FilterChainSpec, CompiledChain>();

export function compileChain(chain: FilterChainSpec): CompiledChain {
  let c = cache.get(chain);
  if (!c) {
    c = {
      id: JSON.stringify(chain),
      rules: chain.flatMap((f) => f.rules.map(compileRule)),
      usesInterface: chain.some((f) => f.rules.some((r) => r.iface !== undefined)),
    };
    cache.set(chain, c);
  }
  return c;
}

/** The first rule of the chain that matches the route, or undefined. */
export function firstMatch(chain: CompiledChain, route: FilterRoute): CompiledRule | undefined {
  if (chain.rules.length === 0) return undefined;
  const p = matchPrefix(route.prefix);
  for (const r of chain.rules) if (r.test(p, route)) return r;
  return undefined;
}

/** The action of the first matching rule of the chain, or undefined. */
export function evaluateChain(chain: CompiledChain, route: FilterRoute): FilterVerdict {
  return firstMatch(chain, route)?.action;
}

/**
 * True when the chain could Accept a locally held route (not learned over BGP): some Accept
 * rule without `source: RemotePeers`. False means no route outside Calico's own export
 * rules can reach the peer through this chain, so nothing beyond them needs to be held.
 */
export function mayAcceptLocal(chain: FilterChainSpec | undefined): boolean {
  return chain !== undefined && chain.some((f) => f.rules.some((r) => r.action === 'accept' && !r.remotePeers));
}

function compileRule(rule: FilterRuleSpec): CompiledRule {
  const tests: ((p: MatchPrefix, r: FilterRoute) => boolean)[] = [];
  if (rule.cidr !== undefined && rule.operator !== undefined) tests.push(cidrTest(rule.cidr, rule.operator, rule.lengths));
  if (rule.remotePeers) tests.push((_p, r) => r.fromPeer);
  if (rule.iface !== undefined) {
    const re = wildcard(rule.iface);
    tests.push((_p, r) => re.test(r.iface));
  }
  if (rule.community !== undefined) tests.push(communityTest(rule.community));
  if (rule.asPathPrefix !== undefined && rule.asPathPrefix.length > 0) {
    const want = rule.asPathPrefix;
    tests.push((_p, r) => asPathBegins(r.attrs.asPath ?? [], want));
  }
  if (rule.priority !== undefined) {
    const lp = invertPriority(rule.priority);
    tests.push((_p, r) => (r.attrs.localPref ?? DEFAULT_LOCAL_PREF) === lp);
  }
  const ops = rule.action === 'accept' && rule.operations && rule.operations.length > 0 ? rule.operations : undefined;
  return {
    action: rule.action,
    test: (p, r) => tests.every((t) => t(p, r)),
    ...(ops ? { operations: ops, operationsKey: JSON.stringify(ops) } : {}),
  };
}

function communityTest(value: string): (p: MatchPrefix, r: FilterRoute) => boolean {
  const w = communityWire(value);
  if ('large' in w) {
    const [a, b, c] = w.large;
    return (_p, r) => (r.attrs.largeCommunities ?? []).some((l) => l[0] === a && l[1] === b && l[2] === c);
  }
  const std = w.standard;
  return (_p, r) => (r.attrs.communities ?? []).includes(std);
}

/**
 * BIRD's `bgp_path ~ [= a b * =]` (as_path_match): the path begins with a, b. BIRD reads the
 * path as positions, one per AS of a sequence and one per AS_SET, and a set as standing for
 * any run of one or more of its members, after which the sets that directly follow it may
 * be passed over; the mask's AS numbers are stepped through those positions as a
 * nondeterministic automaton, and the trailing `*` accepts whatever is left.
 */
export function asPathBegins(path: readonly AsPathSegment[], want: readonly number[]): boolean {
  if (!path.some(isSet)) { // sequences only: a plain comparison
    let i = 0;
    for (const seg of path) {
      for (const asn of seg.asns) {
        if (i === want.length) return true;
        if (asn !== want[i++]) return false;
      }
    }
    return i === want.length;
  }
  const pos: (number | readonly number[])[] = [];
  for (const seg of path) {
    if (isSet(seg)) pos.push(seg.asns);
    else pos.push(...seg.asns);
  }
  let states = new Set([0]);
  for (const asn of want) {
    const next = new Set<number>();
    for (const i of states) {
      const p = pos[i];
      if (p === undefined) continue; // past the end
      if (typeof p === 'number') {
        if (p === asn) next.add(i + 1);
        continue;
      }
      if (!p.includes(asn)) continue;
      let j = i;
      do next.add(j++); while (j < pos.length && typeof pos[j] !== 'number');
      next.add(j);
    }
    if (next.size === 0) return false;
    states = next;
  }
  return true;
}

function isSet(seg: AsPathSegment): boolean {
  return seg.type === AsPathSegmentType.AsSet || seg.type === AsPathSegmentType.AsConfedSet;
}

function cidrTest(cidr: string, op: NonNullable<FilterRuleSpec['operator']>, lengths: FilterRuleSpec['lengths']): (p: MatchPrefix) => boolean {
  const c = matchPrefix(cidr);
  if (lengths) {
    const max = c.family === 'ipv4' ? 32 : 128;
    const lo = Math.max(c.length, lengths.min);
    const hi = Math.min(max, lengths.max);
    const inSet = (p: MatchPrefix) => p.length >= lo && p.length <= hi && inside(p, c);
    switch (op) {
      case 'in': return inSet;
      case 'notIn': return (p) => !inSet(p);
      case 'equal': return () => false; // a prefix is never equal to a set (BIRD 2)
      case 'notEqual': return () => true;
    }
  }
  switch (op) {
    case 'in': return (p) => inside(p, c);
    case 'notIn': return (p) => !inside(p, c);
    case 'equal': return (p) => samePrefix(p, c);
    case 'notEqual': return (p) => !samePrefix(p, c);
  }
}

/** BIRD pattern: `*` any run, `?` one character, whole string. */
function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export type { Family };
