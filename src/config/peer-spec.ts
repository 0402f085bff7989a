// PeerSpec: one BGP session tern should run, derived from the datastore (mesh, BGPPeer,
// reflector topology) and handed to the Speaker. Internal type: no Calico field names.
import type { Family } from '../net/prefix.js';
import type { FilterChainSpec } from '../policy/bgp-filter.js';

export type PeerType = 'node-to-node mesh' | 'global' | 'node specific' | 'local workload';

export interface PeerSpec {
  /** Stable identity of the session: `${address}|${port}`. */
  readonly key: string;
  /** BIRD-style protocol name, as calicoctl parses it: Mesh_10_0_0_12, Global_…, Node_…. */
  readonly name: string;
  readonly type: PeerType;
  readonly address: string;
  readonly port: number;
  /** Transport family; the session carries routes of this family only. */
  readonly family: Family;
  readonly localAs: number;
  readonly peerAs: number;
  /** Local address to bind (mesh and explicit peers: the node's own IP unless sourceAddress: None). */
  readonly sourceAddress?: string;
  /** Never connect, only accept (the higher address of a mesh pair). */
  readonly passive: boolean;
  /** Seconds; BIRD's default 240. */
  readonly holdTime: number;
  /** Seconds; default holdTime / 3. */
  readonly keepaliveTime?: number;
  /** Seconds; Calico's `connect retry time 5`. */
  readonly connectRetryTime: number;
  /** Seconds we advertise in our GR capability (BGPPeer maxRestartTime / nodeMeshMaxRestartTime), default 120. */
  readonly gracefulRestartTime: number;
  readonly nextHopMode: 'auto' | 'self' | 'keep';
  /** We act as route reflector toward this iBGP peer (RFC 4456). */
  readonly routeReflectorClient: boolean;
  /** RFC 7911 ADD-PATH send and receive (Calico: `add paths on`). */
  readonly addPath: boolean;
  /** GTSM (RFC 5082): the peer is at most this many hops away. */
  readonly ttlSecurity?: number;
  /** TCP MD5 key (RFC 2385), resolved from a secretKeyRef. A secret: never log or show it. */
  readonly password?: string;
  /**
   * A password is configured but could not be resolved: why, naming the secret and key but
   * never a value. The session is not started.
   */
  readonly passwordUnresolved?: string;
  /** Name of the Calico node behind this peer, when it is one. */
  readonly calicoNode?: string;
  /** Occurrences of our AS tolerated in received AS_PATHs (numAllowedLocalASNumbers, BIRD `allow local as`). */
  readonly allowOwnAs?: number;
  /** reachableBy: the gateway of a `<address>/32 via <gateway>` kernel route to the peer. */
  readonly reachableBy?: string;
  /** BGPFilter chains for this session's family (explicit peers only); changed live, no reset. */
  readonly importFilter?: FilterChainSpec;
  readonly exportFilter?: FilterChainSpec;
  /**
   * Most routes (paths) accepted from the peer on this session; one more ends the session
   * with Cease 6/1 (RFC 4486). From the BGPPeer annotation `tern/max-prefixes`.
   */
  readonly importLimit?: number;
}

export function peerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

/** True when a session must be restarted to move from `a` to `b`. */
export function sessionParamsDiffer(a: PeerSpec, b: PeerSpec): boolean {
  const strip = (s: PeerSpec) => {
    // The import limit is read at each UPDATE, filters apply in place: neither needs a new session.
    const { name: _n, type: _t, calicoNode: _c, importLimit: _l, importFilter: _i, exportFilter: _e, ...rest } = s;
    return JSON.stringify(rest, Object.keys(rest).sort());
  };
  return strip(a) !== strip(b);
}
