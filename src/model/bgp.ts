// The BGP kinds as typed values: what src/peering consumes. Every text field of Calico's
// resources is parsed here once (model/parse-bgp.ts, model/parse-ipam.ts): durations are
// seconds, peerIP is address + port + family, selectors are compiled, AS numbers are checked
// numbers, prefixes are canonical. A value a parser refused is absent, and its ModelError is
// in `refused` (a field) or in BgpModel.refused (the whole resource).
import type { Family } from '../net/prefix.js';
import type { Selector } from '../selector/index.js';
import type { ModelError } from './errors.js';
import type { PeerIP } from './peer-ip.js';
import type { BGPFilterAction, BGPFilterMatchOperator, EncapMode } from './types.js';

/** A node address with its length: "10.0.0.11/24" → 10.0.0.11, 24, 10.0.0.0/24. */
export interface NodeAddress {
  /** Canonical address, e.g. "10.0.0.11". */
  readonly address: string;
  readonly prefixLength: number;
  /** Canonical subnet, e.g. "10.0.0.0/24" (CrossSubnet decisions). */
  readonly network: string;
}

export interface SecretRef { readonly name: string; readonly key: string }

export interface BgpNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipv4?: NodeAddress;
  readonly ipv6?: NodeAddress;
  readonly asNumber?: number;
  /** routeReflectorClusterID, trimmed; set means the node is a route reflector. */
  readonly clusterId?: string;
  /** Fields refused (and left out above). */
  readonly refused: readonly ModelError[];
}

export interface CidrValue {
  /** Canonical prefix. */
  readonly cidr: string;
  readonly family: Family;
  readonly length: number;
}

export interface BgpConfiguration {
  readonly name: string;
  readonly logSeverityScreen?: string;
  readonly nodeToNodeMeshEnabled?: boolean;
  readonly asNumber?: number;
  readonly listenPort?: number;
  readonly bindMode?: 'None' | 'NodeIP';
  /** Seconds, rounded as Calico does. */
  readonly nodeMeshMaxRestartTime?: number;
  readonly nodeMeshPassword?: SecretRef;
  readonly serviceClusterIPs: readonly CidrValue[];
  readonly serviceExternalIPs: readonly CidrValue[];
  readonly serviceLoadBalancerIPs: readonly CidrValue[];
  /** serviceLoadBalancerAggregation: false when "Disabled" (no range advertised from every node). */
  readonly aggregateLoadBalancerIPs: boolean;
  /** ipv4/ipv6NormalRoutePriority as written (Calico v3.32's route priority: N, src/policy/priority.ts). */
  readonly normalRoutePriority?: { readonly ipv4?: number; readonly ipv6?: number };
  /** Named community values, by name. */
  readonly communities: ReadonlyMap<string, string>;
  /**
   * undefined when the resource does not set the list (an empty list still replaces). Each
   * entry's communities are values: names resolved in `communities` (unknown names dropped),
   * deduped, sorted as text.
   */
  readonly prefixAdvertisements?: readonly { readonly cidr: string; readonly communities: readonly string[] }[];
  readonly refused: readonly ModelError[];
}

export interface BgpPeer {
  readonly name: string;
  readonly node?: string;
  readonly nodeSelector?: Selector;
  readonly peerIP?: PeerIP;
  readonly peerSelector?: Selector;
  readonly localWorkloadSelector?: Selector;
  readonly asNumber?: number;
  readonly localASNumber?: number;
  readonly sourceAddress?: 'UseNodeIP' | 'None';
  readonly keepOriginalNextHop: boolean;
  readonly nextHopMode?: 'Auto' | 'Self' | 'Keep';
  /** Seconds, rounded as Calico does. */
  readonly maxRestartTime?: number;
  /** Seconds, rounded as Calico does. */
  readonly keepaliveTime?: number;
  readonly numAllowedLocalASNumbers?: number;
  readonly ttlSecurity?: number;
  readonly password?: SecretRef;
  readonly filters: readonly string[];
  /** Canonical address, same family as peerIP. */
  readonly reachableBy?: string;
  readonly reversePeering: 'Auto' | 'Manual';
  /** The annotation `tern/max-prefixes`, parsed (a bad value is in `refused`). */
  readonly maxPrefixes?: { readonly ipv4?: number; readonly ipv6?: number };
  /** Fields refused while the peering itself stands. */
  readonly refused: readonly ModelError[];
}

export interface IpPool {
  readonly name: string;
  /** Canonical prefix. */
  readonly cidr: string;
  readonly family: Family;
  /** Default 26 (IPv4) / 122 (IPv6). */
  readonly blockSize: number;
  readonly ipipMode: EncapMode;
  readonly vxlanMode: EncapMode;
  readonly natOutgoing: boolean;
  /** No new allocations; the pool is still routed. */
  readonly disabled: boolean;
  readonly disableBGPExport: boolean;
}

export interface BlockAffinity {
  readonly name: string;
  readonly node: string;
  readonly cidr: string;
  readonly state: 'confirmed' | 'pending' | 'pendingDeletion';
  readonly deleted: boolean;
}

export interface BgpFilterRule {
  readonly action: BGPFilterAction;
  /** Canonical prefix with its operator; both or neither. */
  readonly match?: { readonly cidr: string; readonly operator: BGPFilterMatchOperator };
  /** Only with a cidr; defaults filled (0 and the family's maximum). */
  readonly prefixLength?: { readonly min: number; readonly max: number };
  readonly remotePeers: boolean;
  readonly interface?: string;
  /** The rule is skipped toward/from peers of the other type (peer AS = local AS is iBGP). */
  readonly peerType?: 'eBGP' | 'iBGP';
  /** A community the route must carry: canonical "aa:nn" (RFC 1997) or "aa:nn:mm" (RFC 8092). */
  readonly community?: string;
  /** AS numbers the route's AS_PATH must begin with. */
  readonly asPathPrefix?: readonly number[];
  /** The route priority the route must have (1 .. 2147483646; LOCAL_PREF 2147483647 − priority). */
  readonly priority?: number;
  /** Applied in order when the rule accepts (Accept rules only; empty otherwise). */
  readonly operations: readonly BgpFilterOperation[];
}

/** A route modification of an Accept rule. */
export type BgpFilterOperation =
  | { readonly kind: 'addCommunity'; readonly community: string }
  /** The path afterwards begins with `asns` in this order. */
  | { readonly kind: 'prependAsPath'; readonly asns: readonly number[] }
  /** LOCAL_PREF becomes 2147483647 − priority (1 .. 2147483646). */
  | { readonly kind: 'setPriority'; readonly priority: number };

export interface BgpFilter {
  readonly name: string;
  readonly exportV4: readonly BgpFilterRule[];
  readonly importV4: readonly BgpFilterRule[];
  readonly exportV6: readonly BgpFilterRule[];
  readonly importV6: readonly BgpFilterRule[];
}

/** The BGP kinds of one Snapshot as typed values, each map in name order. */
export interface BgpModel {
  readonly nodes: ReadonlyMap<string, BgpNode>;
  readonly bgpConfigurations: ReadonlyMap<string, BgpConfiguration>;
  readonly bgpPeers: ReadonlyMap<string, BgpPeer>;
  readonly ipPools: ReadonlyMap<string, IpPool>;
  readonly blockAffinities: ReadonlyMap<string, BlockAffinity>;
  readonly bgpFilters: ReadonlyMap<string, BgpFilter>;
  /** Resources refused whole, in kind then name order. */
  readonly refused: readonly ModelError[];
}
