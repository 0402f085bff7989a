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
// Pure; the spec types are plain data (JSON-comparable) so a change is detected by value.
import type { Family } from '../net/prefix.js';
import { inside, matchPrefix, samePrefix, type MatchPrefix } from './prefix-match.js';
import type { FilterChainSpec, FilterRuleSpec, FilterSpec } from '../peering/filter-spec.js';

export type { FilterChainSpec, FilterRuleSpec, FilterSpec };

/** What a filter sees of a route. */
export interface FilterRoute {
  readonly prefix: string;
  readonly fromPeer: boolean;
  /**
   * BIRD's `ifname`: the route's interface, "" when it has none. Read only by interface
   * rules: callers may pass "" without resolving it when the chain's `usesInterface` is false.
   */
  readonly iface: string;
}

export type FilterVerdict = 'accept' | 'reject' | undefined;

interface CompiledRule {
  readonly action: 'accept' | 'reject';
  readonly test: (p: MatchPrefix, r: FilterRoute) => boolean;
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

/** First matching rule of the chain, or undefined. */
export function evaluateChain(chain: CompiledChain, route: FilterRoute): FilterVerdict {
  if (chain.rules.length === 0) return undefined;
  const p = matchPrefix(route.prefix);
  for (const r of chain.rules) if (r.test(p, route)) return r.action;
  return undefined;
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
  return { action: rule.action, test: (p, r) => tests.every((t) => t(p, r)) };
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
