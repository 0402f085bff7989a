// Export policy toward one peer: Calico's `calico_export_to_bgp_peers` prefix rules, then
// the BGP protocol rules (source, split horizon / reflection, well-known communities,
// attribute rewriting). Pure: it returns new attributes and never mutates the path's.
//
// The work is split in two so update groups can memoize: `exportDecision` depends on the
// prefix and the context only; `exportAttributes` on the path's source and attributes and
// the peer only. Calico's one rule on the source (reject_tunnel_routes) is
// `calicoRejectsSource`, skipped, like exportDecision, by a BGPFilter Accept.
// explainExport() / exportPath() are Calico's rules and the protocol rules together, after
// the route priority step every confd export filter begins with (pathPriority, withLocalPref:
// LOCAL_PREF and krt_metric, src/policy/priority.ts; withPriority: calico_aggr's exception).
import { familyOf, type Family } from '../net/prefix.js';
import type { AsPathSegment, PathAttributes } from '../bgp/wire/types.js';
import { WellKnownCommunity } from '../bgp/wire/constants.js';
import { mayAdvertise, isReflection, reflectAttributes } from './reflection.js';
import { matchPrefix, inside, samePrefix } from './prefix-match.js';
import type { MatchPrefix } from './prefix-match.js';
import type { PrefixCommunities } from './communities.js';
import { stableJson } from '../util/stable-json.js';
import { DEFAULT_LOCAL_PREF, exportPriority, metricBelow, normalPriority, type ExportPriority, type NormalRoutePriority } from './priority.js';

export interface PoolInfo {
  readonly cidr: string;
  readonly disableBGPExport: boolean;
  readonly disabled: boolean;
}

export interface ExportContext {
  readonly localAs: number;
  readonly routerId: string;
  /** Set when this node is a route reflector (Calico routeReflectorClusterID). */
  readonly clusterId?: string;
  readonly pools: readonly PoolInfo[];
  /** This node's confirmed block affinities. */
  readonly ownBlocks: readonly string[];
  /** Next hop self when the peer has no localAddress. */
  readonly localAddresses: { readonly ipv4?: string; readonly ipv6?: string };
  /** Calico /staticroutes: service CIDRs this node advertises (routes inside them are accepted). */
  readonly staticRoutes?: readonly string[];
  /**
   * A reflector's serviceLoadBalancerIPs and serviceExternalIPs (IPv4 and IPv6, single
   * addresses too): routes inside them are accepted (step 7).
   */
  readonly reflectorServiceRanges?: readonly string[];
  /** prefixAdvertisements of this node (node.<name> over default): communities added on export. */
  readonly prefixCommunities?: readonly PrefixCommunities[];
  /** BGPConfiguration default ipv4/ipv6NormalRoutePriority (route priority: priority.ts). */
  readonly normalRoutePriority?: NormalRoutePriority;
}

export interface ExportPeer {
  readonly key: string;
  readonly family: Family;
  readonly ebgp: boolean;
  readonly peerAs: number;
  /** We reflect to this iBGP peer (RFC 4456 client). */
  readonly routeReflectorClient: boolean;
  readonly nextHopMode: 'auto' | 'self' | 'keep';
  /** Our address on this session: the next hop when we set next hop self. */
  readonly localAddress?: string;
}

/** What export needs to know about a path. */
export interface ExportSource {
  readonly kind: 'peer' | 'local';
  readonly key: string;
  readonly ebgp: boolean;
  readonly routeReflectorClient: boolean;
  readonly routerId: string;
}

export interface ExportablePath {
  readonly source: ExportSource;
  readonly attrs: { readonly attrs: PathAttributes };
  /** A local route's kernel metric (BIRD's krt_metric); absent: it has none. */
  readonly krtMetric?: number;
}

export type PrefixVerdict =
  | 'disableBGPExport' // reject: inside a pool with disableBGPExport
  | 'ownBlock' // accept: one of our confirmed blocks (calico_aggr)
  | 'moreSpecificOfOwnBlock' // reject: inside one of our blocks (calico_aggr)
  | 'elevatedInOwnBlock' // accept: inside one of our blocks with krt_metric below N (calico_aggr, v3.32)
  | 'staticRoute' // accept: inside a service CIDR this node advertises (Calico /staticroutes)
  | 'serviceRange' // accept: a reflector passing on routes inside serviceLoadBalancerIPs / serviceExternalIPs
  | 'pool' // accept: inside a pool without disableBGPExport (disabled or not)
  | 'outsidePools'; // reject: host subnets, default routes, anything else

export type AttrRejectReason = 'sourcePeer' | 'noAdvertise' | 'noExport' | 'splitHorizon' | 'noNextHop' | 'tunnelRoute';

/**
 * The local source of kernel routes learned on a `*.cali` / `*.calico` device (Felix's VXLAN
 * and WireGuard devices): calico_export_to_bgp_peers' reject_tunnel_routes keeps them from
 * internal peers (the mesh and peers in our own AS).
 */
export const SOURCE_KERNEL_TUNNEL = 'local:kernel-tunnel';

/**
 * The local source of what calico-node's BIRD holds beyond pool routes: alien kernel routes
 * outside every pool and connected subnets (BIRD `learn` and `protocol direct`). Calico's
 * own export rules never send them; only an explicit Accept of the peer's BGPFilter export
 * chain does (update-group compute). They lose best-path selection to any BGP path.
 */
export const SOURCE_KERNEL_EXTRA = 'local:kernel-extra';

export type ExportResult = { readonly attrs: PathAttributes } | { readonly rejected: PrefixVerdict | AttrRejectReason };

interface Compiled {
  readonly noExport: MatchPrefix[];
  readonly blocks: MatchPrefix[];
  readonly enabled: MatchPrefix[];
  readonly statics: MatchPrefix[];
  readonly serviceRanges: MatchPrefix[];
}

const compiled = new WeakMap<ExportContext, Compiled>();

function compile(ctx: ExportContext): Compiled {
  let c = compiled.get(ctx);
  if (!c) {
    c = {
      noExport: ctx.pools.filter((p) => p.disableBGPExport).map((p) => matchPrefix(p.cidr)),
      blocks: ctx.ownBlocks.map(matchPrefix),
      // `disabled` only stops new allocations: Calico's templates never read it, so a
      // disabled pool is exported as long as routes inside it exist (pods still use it).
      enabled: ctx.pools.filter((p) => !p.disableBGPExport).map((p) => matchPrefix(p.cidr)),
      statics: (ctx.staticRoutes ?? []).map(matchPrefix),
      serviceRanges: ctx.clusterId !== undefined ? (ctx.reflectorServiceRanges ?? []).map(matchPrefix) : [],
    };
    compiled.set(ctx, c);
  }
  return c;
}

/**
 * Which prefixes may be exported differently under `next` than under `prev`: null when any
 * may (the pools, addresses, AS, cluster id or communities changed); else only those inside
 * an own block that came or went, the one thing calico_aggr looks at (step 5 below). A node
 * whose block is withdrawn re-evaluates the routes inside that block, not its whole table.
 */
export function changedScope(prev: ExportContext, next: ExportContext): MatchPrefix[] | null {
  if (stableJson({ ...prev, ownBlocks: [] }) !== stableJson({ ...next, ownBlocks: [] })) return null;
  const before = new Set(prev.ownBlocks);
  const after = new Set(next.ownBlocks);
  return [...prev.ownBlocks.filter((b) => !after.has(b)), ...next.ownBlocks.filter((b) => !before.has(b))].map(matchPrefix);
}

/** True when `prefix` lies inside (or is) one of the scope's prefixes. */
export function inScope(scope: readonly MatchPrefix[], prefix: string): boolean {
  if (scope.length === 0) return false;
  const p = matchPrefix(prefix);
  return scope.some((b) => inside(p, b));
}

export function isAccepted(v: PrefixVerdict): boolean {
  return v === 'ownBlock' || v === 'pool' || v === 'staticRoute' || v === 'serviceRange' || v === 'elevatedInOwnBlock';
}

/**
 * calico_aggr's exception (v3.32): a route more specific than an own block still leaves when
 * its krt_metric is below the family's normal route priority N (the elevated `/32` of a VM
 * that migrated here). `verdict` is exportDecision's for the route's prefix.
 */
export function withPriority(ctx: ExportContext, prefix: string, verdict: PrefixVerdict, krtMetric: number): PrefixVerdict {
  if (verdict !== 'moreSpecificOfOwnBlock') return verdict;
  return metricBelow(krtMetric, normalPriority(ctx.normalRoutePriority, familyOf(prefix))) ? 'elevatedInOwnBlock' : verdict;
}

/** The route's priority at the start of the export filter (priority.ts), for a path of `prefix`. */
export function pathPriority(ctx: ExportContext, prefix: string, path: ExportablePath): ExportPriority {
  const n = normalPriority(ctx.normalRoutePriority, familyOf(prefix));
  return exportPriority(path.source.kind === 'peer', path.attrs.attrs.localPref, path.krtMetric, n);
}

/** The route's attributes as the export filter holds them: with the LOCAL_PREF of its priority. */
export function withLocalPref(attrs: PathAttributes, localPref: number): PathAttributes {
  return attrs.localPref === localPref ? attrs : { ...attrs, localPref };
}

/** calico-node's calico_export_to_bgp_peers filter, first match wins. */
export function exportDecision(ctx: ExportContext, prefix: string): PrefixVerdict {
  const c = compile(ctx);
  const p = matchPrefix(prefix);
  // 1. Reject pools with disableBGPExport.
  for (const pool of c.noExport) if (inside(p, pool)) return 'disableBGPExport';
  // 5. calico_aggr: accept each own block, reject routes more specific than it.
  for (const b of c.blocks) {
    if (samePrefix(p, b)) return 'ownBlock';
    if (inside(p, b)) return 'moreSpecificOfOwnBlock';
  }
  // 6. Accept routes inside the static routes (advertised service CIDRs).
  for (const s of c.statics) if (inside(p, s)) return 'staticRoute';
  // 7. A reflector accepts routes inside the LoadBalancer and external service ranges (each
  //    family's in its own filter: bird_ipam / bird6_ipam; the external ones since Calico
  //    #13341, after v3.32.1: a client's /32 for an external IP otherwise stops here).
  for (const s of c.serviceRanges) if (inside(p, s)) return 'serviceRange';
  // 8. Accept anything inside a pool without disableBGPExport (learned blocks, borrowed /32s).
  for (const pool of c.enabled) if (inside(p, pool)) return 'pool';
  return 'outsidePools';
}

function hasCommunity(a: PathAttributes, c: number): boolean {
  return a.communities?.includes(c) ?? false;
}

/**
 * The rules of exportAttributes that read only the path's source and the peer (iBGP split
 * horizon and reflection; not the source peer itself): false means no path of `src` is sent
 * to `peer`, whatever its prefix, attributes and export filter. Update groups use it to
 * pass over routes they can never export without looking at them one by one.
 */
export function sourceMayExport(ctx: ExportContext, src: ExportSource, peer: Pick<ExportPeer, 'ebgp' | 'routeReflectorClient'>): boolean {
  return mayAdvertise(src, peer, ctx.clusterId !== undefined);
}

/**
 * calico_export_to_bgp_peers' reject_tunnel_routes (step 2 below): Felix's tunnel and
 * WireGuard routes (SOURCE_KERNEL_TUNNEL) are not sent to internal peers by Calico's rules.
 * One of Calico's rules, not a protocol rule: a BGPFilter export Accept, which ends the
 * filter before calico_export_to_bgp_peers runs, sends them (as BIRD does).
 */
export function calicoRejectsSource(src: Pick<ExportSource, 'kind' | 'key'>, peer: Pick<ExportPeer, 'ebgp'>): boolean {
  return src.kind === 'local' && src.key === SOURCE_KERNEL_TUNNEL && !peer.ebgp;
}

/**
 * calico_export_to_bgp_peers' reject_local_routes (step 3, v3.29+): a local route whose
 * interface (BIRD's ifname) is an eBPF-mode `bpf*.cali` device goes to no peer by Calico's
 * rules. Also Calico's, not a protocol rule: a BGPFilter export Accept skips it.
 */
export function calicoRejectsInterface(ifname: string): boolean {
  return BPF_IFNAME.test(ifname);
}

const BPF_IFNAME = /^bpf.*\.cali$/;

/**
 * The attributes to send to `peer` for a path, or why it is not sent. `communitiesChecked`:
 * the path's attributes were changed by a BGPFilter Accept's operations after the RFC 1997
 * check passed on the route as held (BIRD checks well-known communities before the export
 * filter runs), so communities the operations added are not checked again.
 */
export function exportAttributes(ctx: ExportContext, path: ExportablePath, peer: ExportPeer, communitiesChecked = false): ExportResult {
  const src = path.source;
  const a = path.attrs.attrs;
  if (src.kind === 'peer' && src.key === peer.key) return { rejected: 'sourcePeer' };
  // RFC 1997: NO_ADVERTISE to nobody; NO_EXPORT (and NO_EXPORT_SUBCONFED, no confederations
  // here) not outside the AS.
  if (!communitiesChecked && hasCommunity(a, WellKnownCommunity.NoAdvertise)) return { rejected: 'noAdvertise' };
  if (!communitiesChecked && peer.ebgp && (hasCommunity(a, WellKnownCommunity.NoExport) || hasCommunity(a, WellKnownCommunity.NoExportSubconfed))) {
    return { rejected: 'noExport' };
  }
  const reflector = ctx.clusterId !== undefined;
  if (!mayAdvertise(src, peer, reflector)) return { rejected: 'splitHorizon' };
  const self = peer.localAddress ?? ctx.localAddresses[peer.family];
  const { mpReach: _r, mpUnreach: _u, ...base } = a;
  let out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { ...base };
  if (peer.ebgp) {
    out.asPath = prependAs(a.asPath ?? [], ctx.localAs); // RFC 4271 §5.1.2
    delete out.localPref; // RFC 4271 §5.1.5: not sent to external peers
    delete out.originatorId; // RFC 4456 §8: optional non-transitive, AS-internal
    delete out.clusterList;
    // RFC 4271 §5.1.4: a MED received from a neighbouring AS is not passed on to another one,
    // whether the route came straight from eBGP or across our AS (a non-empty AS_PATH).
    if (src.ebgp || (a.asPath ?? []).some((seg) => seg.asns.length > 0)) delete out.med;
    const keep = peer.nextHopMode === 'keep' && a.nextHop !== undefined;
    const nh = keep ? a.nextHop : self; // RFC 4271 §5.1.3: next hop self toward eBGP
    if (nh === undefined) return { rejected: 'noNextHop' };
    out.nextHop = nh;
    return { attrs: out };
  }
  // RFC 4271 §5.1.5: LOCAL_PREF in every iBGP UPDATE; the export filter set it (pathPriority)
  out.localPref = a.localPref ?? DEFAULT_LOCAL_PREF;
  const keepNh = peer.nextHopMode === 'keep' || (peer.nextHopMode === 'auto' && src.kind === 'peer');
  const nh = keepNh && a.nextHop !== undefined ? a.nextHop : self; // locally originated: self
  if (nh === undefined) return { rejected: 'noNextHop' };
  out.nextHop = nh;
  if (reflector && isReflection(src, peer)) {
    // RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST on reflection; next hop unchanged (§10).
    out = { ...reflectAttributes(out, src.routerId, ctx.clusterId ?? ctx.routerId) };
  }
  return { attrs: out };
}

/** Prepends `asn` to the leading AS_SEQUENCE, or starts a new one (max 255 per segment). */
export function prependAs(path: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const first = path[0];
  if (first && first.type === 2 && first.asns.length < 255) {
    return [{ type: 2, asns: [asn, ...first.asns] }, ...path.slice(1)];
  }
  return [{ type: 2, asns: [asn] }, ...path];
}

/** The full export decision for one prefix, path and peer. */
export function explainExport(ctx: ExportContext, prefix: string, path: ExportablePath, peer: ExportPeer): ExportResult {
  const prio = pathPriority(ctx, prefix, path);
  const verdict = withPriority(ctx, prefix, exportDecision(ctx, prefix), prio.krtMetric);
  if (!isAccepted(verdict)) return { rejected: verdict };
  if (calicoRejectsSource(path.source, peer)) return { rejected: 'tunnelRoute' };
  return exportAttributes(ctx, { source: path.source, attrs: { attrs: withLocalPref(path.attrs.attrs, prio.localPref) } }, peer);
}

/** The attributes to advertise to `peer`, or null when the path is not exported. */
export function exportPath(ctx: ExportContext, prefix: string, path: ExportablePath, peer: ExportPeer): PathAttributes | null {
  const r = explainExport(ctx, prefix, path, peer);
  return 'attrs' in r ? r.attrs : null;
}
