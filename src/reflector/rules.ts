// RFC 4456 route reflection rules as pure functions (see index.ts for the overview).
import type { PathAttributes } from '../bgp/wire/types.js';

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
