// Route shape (pure): which kernel route a learned BGP route becomes, following Calico's
// `calico_kernel_programming` filter (calico-node's kernel protocol).
//
// - Prefix inside a VXLAN pool: not programmed (Felix programs those).
// - IPIP `always`: `via NH dev tunl0 onlink`.
// - IPIP `crossSubnet`: tunl0 onlink only when NH is outside the node's subnet, else direct.
//   Better than Calico (pain point 6: a /32 node address made every next hop "remote"): when
//   the node subnet is unknown or a /32, NH counts as local when a connected (link-scope)
//   route of another interface than tunl0 covers it, i.e. NH is reachable on a shared link.
// - IPIP `never`, or outside every pool, or IPv6 (never IPIP): direct, `via NH dev IFACE`
//   where IFACE is the interface of the longest connected route covering NH; no such route
//   means the next hop is unreachable (the hop is dropped; with no hop left the route is
//   'unresolved').
// - Several next hops (BGP multipath): one multipath route, next hops sorted, at most 16
//   (BIRD `merge paths`). Hops that cannot be shaped are left out; the route is installed
//   with the others.
import {
  bytesInPrefix, compareAddresses, familyOf, formatAddress, formatPrefix, parseAddress, parseIpv4Prefix, parsePrefix,
  prefixContains, type Family, type ParsedPrefix,
} from '../net/prefix.js';
import type { KernelNextHop, KernelRoute } from './kernel.js';

export type EncapMode = 'never' | 'always' | 'crossSubnet';

export interface Pool {
  cidr: string;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  /** Disabled pools (no new allocations) still shape, learn and export routes, as with Calico. */
  disabled?: boolean;
}

/** A link-scope route of the main table (`10.0.0.0/24 dev eth0 proto kernel scope link`). */
export interface ConnectedRoute {
  prefix: string;
  ifindex: number;
  dev: string;
}

export interface ShapeContext {
  pools: readonly Pool[];
  /** Network of Node.spec.bgp.ipv4Address, e.g. "10.0.0.0/24". */
  nodeSubnetV4?: string;
  connected: readonly ConnectedRoute[];
  /** The IPIP device; absent when the link does not exist. */
  tunnel?: { name: string; ifindex: number; up: boolean };
  protocol: number;
  table: number;
  maxPaths?: number;
}

export const TUNNEL_DEV = 'tunl0';
export const MAX_PATHS = 16;
export const METRIC = { ipv4: 0, ipv6: 1024 } as const;

export type HopProblem = 'tunnel-missing' | 'tunnel-down' | 'unreachable';

export type Shape =
  | { kind: 'route'; route: KernelRoute; dropped: { nextHop: string; problem: HopProblem }[] }
  | { kind: 'skip'; reason: string }
  | { kind: 'unresolved'; problem: HopProblem; reason: string };

/** Pool and connected prefixes are few and asked about for every route: parse them once. */
const parsedCache = new Map<string, ParsedPrefix>();
function parsedOnce(text: string): ParsedPrefix {
  let p = parsedCache.get(text);
  if (!p) {
    if (parsedCache.size > 4096) parsedCache.clear();
    p = parsePrefix(text);
    parsedCache.set(text, p);
  }
  return p;
}

/** Next hops are the cluster's node addresses: few, asked about for every route. */
const addrCache = new Map<string, { canonical: string; family: Family; bytes: Uint8Array }>();
function addressOnce(text: string): { canonical: string; family: Family; bytes: Uint8Array } {
  let a = addrCache.get(text);
  if (!a) {
    if (addrCache.size > 65536) addrCache.clear();
    const { family, bytes } = parseAddress(text);
    a = { canonical: formatAddress(family, bytes), family, bytes };
    addrCache.set(text, a);
  }
  return a;
}

/** A pool's CIDR as parseIpv4Prefix's number (-1: not IPv4), computed once per text. */
const v4Cache = new Map<string, number>();
function ipv4Once(text: string): number {
  let v = v4Cache.get(text);
  if (v === undefined) {
    if (v4Cache.size > 4096) v4Cache.clear();
    v = parseIpv4Prefix(text);
    v4Cache.set(text, v);
  }
  return v;
}

/**
 * poolFor for an IPv4 prefix given as parseIpv4Prefix's number (address × 64 + length): the
 * index in `pools` of the longest match, the first on ties; -1: none. Allocates nothing.
 */
export function ipv4PoolIndex(v4: number, pools: readonly Pool[]): number {
  const addr = Math.floor(v4 / 64);
  const len = v4 % 64;
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < pools.length; i++) {
    const p = ipv4Once(pools[i]!.cidr);
    if (p < 0) continue;
    const plen = p % 64;
    if (plen <= bestLen || len < plen) continue;
    if (plen === 0 || (addr ^ Math.floor(p / 64)) >>> (32 - plen) === 0) { best = i; bestLen = plen; }
  }
  return best;
}

/** The pool holding `prefix` (longest match, the first on ties), if any. */
export function poolFor(prefix: string | ParsedPrefix, pools: readonly Pool[]): Pool | undefined {
  if (typeof prefix === 'string') {
    const v4 = parseIpv4Prefix(prefix); // the common case, without parsing into bytes
    if (v4 >= 0) {
      const i = ipv4PoolIndex(v4, pools);
      return i < 0 ? undefined : pools[i];
    }
  }
  const p = typeof prefix === 'string' ? parsePrefix(prefix) : prefix;
  let best: Pool | undefined;
  let bestLen = -1;
  for (const pool of pools) {
    const pp = parsedOnce(pool.cidr);
    if (pp.length > bestLen && prefixContains(pp, p)) { best = pool; bestLen = pp.length; }
  }
  return best;
}

/** Longest connected route covering `address` (excluding the tunnel device). */
export function connectedFor(address: string, connected: readonly ConnectedRoute[], exceptDev?: string): ConnectedRoute | undefined {
  const a = addressOnce(address);
  let best: ConnectedRoute | undefined;
  let bestLen = -1;
  for (const c of connected) {
    if (c.dev === exceptDev) continue;
    const cp = parsedOnce(c.prefix);
    if (cp.family === a.family && cp.length > bestLen && bytesInPrefix(cp, a.bytes)) { best = c; bestLen = cp.length; }
  }
  return best;
}

/** CrossSubnet: is the next hop on this node's subnet? (see the header for the /32 case) */
export function sameSubnet(nextHop: string, ctx: ShapeContext): boolean {
  const subnet = ctx.nodeSubnetV4 ? parsedOnce(ctx.nodeSubnetV4) : undefined;
  if (subnet && subnet.length < 32) {
    const a = addressOnce(nextHop);
    return a.family === 'ipv4' && bytesInPrefix(subnet, a.bytes);
  }
  return connectedFor(nextHop, ctx.connected, ctx.tunnel?.name ?? TUNNEL_DEV) !== undefined;
}

type HopResult = { hop: KernelNextHop } | { problem: HopProblem; reason: string };

function tunnelHop(nextHop: string, ctx: ShapeContext): HopResult {
  const t = ctx.tunnel;
  if (!t) return { problem: 'tunnel-missing', reason: `${TUNNEL_DEV} missing` };
  if (!t.up) return { problem: 'tunnel-down', reason: `${t.name} is down` };
  return { hop: { gateway: nextHop, ifindex: t.ifindex, dev: t.name, onlink: true } };
}

function directHop(nextHop: string, ctx: ShapeContext): HopResult {
  const c = connectedFor(nextHop, ctx.connected, ctx.tunnel?.name ?? TUNNEL_DEV);
  if (!c) return { problem: 'unreachable', reason: `next hop ${nextHop} unreachable: no connected route covers it` };
  return { hop: { gateway: nextHop, ifindex: c.ifindex, dev: c.dev, onlink: false } };
}

function shapeHop(nextHop: string, family: Family, pool: Pool | undefined, ctx: ShapeContext): HopResult {
  if (family === 'ipv6' || !pool || pool.ipipMode === 'never') return directHop(nextHop, ctx);
  if (pool.ipipMode === 'always') return tunnelHop(nextHop, ctx);
  return sameSubnet(nextHop, ctx) ? directHop(nextHop, ctx) : tunnelHop(nextHop, ctx);
}

/** Sorted, de-duplicated next hops of the route's family, at most `max`. */
export function normalizeNextHops(nextHops: readonly string[], family: Family, max = MAX_PATHS): string[] {
  const set = new Set<string>();
  for (const nh of nextHops) {
    const a = addressOnce(nh);
    if (a.family === family) set.add(a.canonical);
  }
  return [...set].sort(compareAddresses).slice(0, max);
}

/** The next hops of a route: its own shape without the prefix (shapeHops). */
export type HopShape =
  | { kind: 'hops'; nextHops: KernelNextHop[]; dropped: { nextHop: string; problem: HopProblem }[] }
  | { kind: 'skip'; reason: string }
  | { kind: 'unresolved'; problem: HopProblem; reason: string };

/**
 * The next hops for a BGP route of `family` whose prefix lies in `pool` (poolFor): depends on
 * nothing else of the prefix, so one answer serves every route with the same next hops.
 */
export function shapeHops(family: Family, pool: Pool | undefined, nextHops: readonly string[], ctx: ShapeContext): HopShape {
  if (pool && pool.vxlanMode !== 'never') return { kind: 'skip', reason: `VXLAN pool ${pool.cidr}: programmed by Felix` };
  const hops = normalizeNextHops(nextHops, family, ctx.maxPaths ?? MAX_PATHS);
  if (hops.length === 0) return { kind: 'skip', reason: 'no next hop of the route family' };
  const out: KernelNextHop[] = [];
  const dropped: { nextHop: string; problem: HopProblem }[] = [];
  let first: { problem: HopProblem; reason: string } | undefined;
  for (const nh of hops) {
    const r = shapeHop(nh, family, pool, ctx);
    if ('hop' in r) out.push(r.hop);
    else { dropped.push({ nextHop: nh, problem: r.problem }); first ??= r; }
  }
  if (out.length === 0) return { kind: 'unresolved', problem: first!.problem, reason: first!.reason };
  return { kind: 'hops', nextHops: out, dropped };
}

/** Decides the kernel route for a BGP route with these next hops. */
export function shapeRoute(prefix: string, nextHops: readonly string[], ctx: ShapeContext): Shape {
  const p = parsePrefix(prefix);
  const s = shapeHops(p.family, poolFor(p, ctx.pools), nextHops, ctx);
  if (s.kind !== 'hops') return s;
  return {
    kind: 'route',
    dropped: s.dropped,
    route: {
      prefix: formatPrefix(p.family, p.bytes, p.length), family: p.family, table: ctx.table, protocol: ctx.protocol,
      type: 'unicast', nextHops: s.nextHops, metric: METRIC[p.family],
    },
  };
}

/** The blackhole tern installs for one of its own blocks (Calico static protocol). */
export function blackholeFor(canonicalPrefix: string, protocol: number, table: number): KernelRoute {
  const family = familyOf(canonicalPrefix);
  return { prefix: canonicalPrefix, family, table, protocol, type: 'blackhole', nextHops: [], metric: METRIC[family] };
}

/**
 * Comparable identity of a route's forwarding content: type, metric and the set of
 * (gateway, ifindex, onlink). Observed and desired routes are equal when these are.
 */
export function routeSignature(r: Pick<KernelRoute, 'type' | 'metric'> & { readonly nextHops: readonly KernelNextHop[] }): string {
  const hops = r.nextHops
    .map((nh) => `${nh.gateway ?? '-'}@${nh.ifindex ?? nh.dev ?? '?'}${nh.onlink ? ':onlink' : ''}`)
    .sort()
    .join(',');
  return `${r.type}|${r.metric ?? ''}|${hops}`;
}
