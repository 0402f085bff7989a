// Route reflection (RFC 4456), as pure rules used by export and import policy.
//
// What: when this node has a route reflector cluster id (Calico `routeReflectorClusterID`),
// iBGP peers marked `routeReflectorClient` are our clients. Routes from clients are
// reflected to every peer, routes from non-client iBGP peers to clients only, eBGP-learned
// and local routes go everywhere (§6). A reflected route gets ORIGINATOR_ID (the
// originating peer's router id) when it has none and our cluster id prepended to
// CLUSTER_LIST; no other attribute changes, the next hop included (§8, §10; Calico:
// "next hops are not rewritten on reflection").
//
// Invariants
// - Pure functions, no state, the one module of RFC 4456 route rules: export
//   (src/policy/export.ts) asks mayAdvertise() and reflectAttributes(); import
//   (src/policy/import.ts, src/rib/loc-rib.ts) asks reflectionLoop(); best path
//   (src/rib/best-path.ts) asks originatorKey() and clusterListLength().
//   Which sessions are reflector clients is topology: src/peering/session.ts.
// - The cluster id defaults to the router id when none is configured (§7).
// - The cluster id can be set or cleared at run time (calicoctl patch node …): the Loc-RIB's
//   import check follows it (LocRib.setClusterId), dropping held paths that now loop, and
//   the routing core asks its iBGP peers for their routes again (ROUTE-REFRESH), since
//   paths dropped as loops under the old id are not kept (src/daemon/routing.ts).
// - ORIGINATOR_ID / CLUSTER_LIST are never sent to eBGP peers (optional non-transitive,
//   stripped by export).
// - Best path uses ORIGINATOR_ID in place of the router id and prefers the shorter
//   CLUSTER_LIST (§9; src/rib/best-path.ts).
//
// RFCs: 4456 (BGP Route Reflection), 4271 §9.2 (iBGP split horizon).
import type { PathAttributes } from '../bgp/wire/types.js';
import { ipv4Num } from '../net/prefix.js';

/** Where a route came from, as far as reflection cares. */
export interface ReflectFrom {
  /** 'local' for locally originated routes. */
  readonly kind: 'peer' | 'local';
  readonly ebgp: boolean;
  /** The source peer is one of our RR clients. */
  readonly routeReflectorClient: boolean;
}

export interface ReflectTo {
  readonly ebgp: boolean;
  readonly routeReflectorClient: boolean;
}

/**
 * May a route from `from` be advertised to `to`? Covers iBGP split horizon (RFC 4271 §9.2:
 * iBGP-learned routes are not sent to iBGP peers) and its RFC 4456 §6 exceptions when we
 * reflect (`reflector`: we have clients or a cluster id):
 * - from a client → all peers, clients and non-clients;
 * - from a non-client iBGP peer → clients only;
 * - eBGP-learned or local → all (ordinary BGP, not reflection).
 */
export function mayAdvertise(from: ReflectFrom, to: ReflectTo, reflector: boolean): boolean {
  if (from.kind === 'local' || from.ebgp || to.ebgp) return true;
  if (!reflector) return false; // RFC 4271 §9.2 split horizon
  if (from.routeReflectorClient) return true; // RFC 4456 §6 (a)
  return to.routeReflectorClient; // RFC 4456 §6 (b)
}

/** True when advertising `from` → `to` is a reflection (iBGP → iBGP through us). */
export function isReflection(from: ReflectFrom, to: ReflectTo): boolean {
  return from.kind === 'peer' && !from.ebgp && !to.ebgp;
}

/**
 * The attributes of a reflected route: ORIGINATOR_ID set to the originating peer's router
 * id when absent (RFC 4456 §8), our cluster id prepended to CLUSTER_LIST (RFC 4456 §8).
 * Everything else, the next hop included, is unchanged (RFC 4456 §10).
 */
export function reflectAttributes(attrs: PathAttributes, originRouterId: string, clusterId: string): PathAttributes {
  return {
    ...attrs,
    originatorId: attrs.originatorId ?? originRouterId,
    clusterList: [clusterId, ...(attrs.clusterList ?? [])],
  };
}

export type ReflectionLoop = 'clusterList' | 'originatorId';

/**
 * RFC 4456 §8 import check: a route carrying our own router id as ORIGINATOR_ID, or our
 * cluster id in its CLUSTER_LIST, has looped and must be ignored.
 */
export function reflectionLoop(attrs: PathAttributes, routerId: string, clusterId: string | undefined): ReflectionLoop | null {
  if (attrs.originatorId !== undefined && attrs.originatorId === routerId) return 'originatorId';
  if (clusterId !== undefined && attrs.clusterList?.includes(clusterId)) return 'clusterList';
  return null;
}

/**
 * RFC 4456 §9: best path compares ORIGINATOR_ID where RFC 4271 §9.1.2.2 (f) compares the
 * router id; `routerIdNum` is the numeric router id of the peer the route came from.
 */
export function originatorKey(attrs: PathAttributes, routerIdNum: number): number {
  return attrs.originatorId !== undefined ? ipv4Num(attrs.originatorId) : routerIdNum;
}

/** RFC 4456 §9: a shorter CLUSTER_LIST is preferred (absent counts as empty). */
export function clusterListLength(attrs: PathAttributes): number {
  return attrs.clusterList?.length ?? 0;
}
