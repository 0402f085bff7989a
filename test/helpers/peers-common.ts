// Shared types and helpers of the test peer launchers (peers-bird.ts, peers-gobgp.ts, peers-frr.ts).
import type { Lab } from '../../lab/netns.js';

export type Family = 'ipv4' | 'ipv6';

export interface NeighborSpec {
  address: string;
  asn: number;
  /** Routes carried; default: the family of `address`. */
  family?: Family | 'both';
  /** BIRD protocol name (default `Peer_<address with _>`, Calico names Mesh_/Global_/Node_). */
  name?: string;
  port?: number;
  passive?: boolean;
  /** true: multihop (no TTL limit), a number: that TTL. */
  multihop?: boolean | number;
  /** RFC 7911 send+receive; default true for BIRD (Calico), false for GoBGP/FRR. */
  addPaths?: boolean;
  /** default true for BIRD (Calico), false for GoBGP/FRR. */
  gracefulRestart?: boolean;
  gracefulRestartTime?: number;
  holdTime?: number;
  keepaliveTime?: number;
  sourceAddress?: string;
  localAsn?: number;
  password?: string;
  /** GTSM (RFC 5082): BIRD `ttl security on` (hops from `multihop`, default 1). */
  ttlSecurity?: boolean;
  nextHop?: 'self' | 'keep';
  /** We reflect to this peer (RFC 4456). */
  rrClient?: boolean;
}

export interface StaticRoute {
  prefix: string;
  blackhole?: boolean;
  via?: string;
  /** BIRD only: the LOCAL_PREF the route carries (`bgp_local_pref`), sent to iBGP peers. */
  localPref?: number;
}

export async function retry<T>(lab: Lab, what: string, fn: () => Promise<T>): Promise<T> {
  return lab.waitFor(async () => ({ v: await fn() }), { what, timeoutMs: 15_000, intervalMs: 200 }).then((r) => r.v);
}

export const fam = (a: string): Family => (a.includes(':') ? 'ipv6' : 'ipv4');
export const families = (n: NeighborSpec): Family[] =>
  (n.family === 'both' ? ['ipv4', 'ipv6'] : [n.family ?? fam(n.address)]);
export const birdName = (n: NeighborSpec): string => n.name ?? `Peer_${n.address.replace(/[.:]/g, '_')}`;
