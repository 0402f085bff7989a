// PeerSpec: one BGP session tern should run, derived from the datastore (mesh, BGPPeer,
// reflector topology) and handed to the Speaker. Internal type: no Calico field names.
import type { Family } from '../net/prefix.js';
import { sameJson } from '../util/stable-json.js';
import type { FilterChainSpec } from './filter-spec.js';

/** Where the session comes from: the node-to-node mesh, a global BGPPeer, a node-specific one (or a reverse peering), a local workload. */
export type PeerType = 'mesh' | 'global' | 'node' | 'localWorkload';

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

/** Fields a running session follows without a restart: the import limit is read at each UPDATE, filters apply in place. */
const LIVE_FIELDS = new Set(['name', 'type', 'calicoNode', 'importLimit', 'importFilter', 'exportFilter']);

/**
 * True when a session must be restarted to move from `a` to `b`. Field by field: every
 * reconfiguration compares each configured peer (49 of them on a 50-node mesh), and the
 * session fields are plain values.
 */
export function sessionParamsDiffer(a: PeerSpec, b: PeerSpec): boolean {
  if (a === b) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (LIVE_FIELDS.has(k) || x[k] === y[k]) continue;
    if (typeof x[k] !== 'object' || typeof y[k] !== 'object' || x[k] === null || y[k] === null || !sameJson(x[k], y[k])) return true;
  }
  return false;
}
