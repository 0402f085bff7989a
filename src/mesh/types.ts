// Internal inputs of the peer-set computation. src/config builds these from the Calico
// resources (the edge types); nothing here carries Calico field names.
import type { Family } from '../net/prefix.js';
import type { Selector } from '../selector/index.js';
import type { FilterSpec } from '../policy/bgp-filter.js';

/** A Calico node as the peer computation sees it. Addresses are canonical, without length. */
export interface ClusterNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** Node AS, or the global AS when the node sets none. */
  readonly asNumber: number;
  /** Port the node listens on (its node.<name> BGPConfiguration, else the global one, else 179). */
  readonly listenPort: number;
  /**
   * True when listenPort comes from a BGPConfiguration (node.<name> or default) rather than
   * the 179 default. Calico then writes the port into the peering, and the session name gets
   * `_port_N`.
   */
  readonly listenPortConfigured: boolean;
  /** routeReflectorClusterID; set means the node is a route reflector. */
  readonly clusterId?: string;
}

/** One BGPPeer resource, validated. */
export interface PeerRule {
  /** BGPPeer metadata.name, for ordering and messages. */
  readonly name: string;
  /** Local side: a node name, a node selector, or neither (global peer: every node). */
  readonly node?: string;
  readonly nodeSelector?: Selector;
  /** Remote side: exactly one of peerIP and peerSelector. */
  readonly peerIP?: { readonly address: string; readonly port?: number };
  readonly peerSelector?: Selector;
  readonly asNumber?: number;
  readonly localAsNumber?: number;
  /** false for `sourceAddress: None`. */
  readonly useNodeIP: boolean;
  readonly keepaliveTime?: number;
  /** maxRestartTime in seconds. */
  readonly restartTime?: number;
  /** nextHopMode as written (Auto/Self/Keep); undefined: keepOriginalNextHop decides. */
  readonly nextHopMode?: 'auto' | 'self' | 'keep';
  /** keepOriginalNextHop: `next hop keep` toward peers of another AS only (Calico). */
  readonly keepOriginalNextHop?: boolean;
  /** numAllowedLocalASNumbers (peerIP peerings only, as Calico copies it). */
  readonly allowOwnAs?: number;
  /** localWorkloadSelector set: the remote ends are this node's selected workloads. */
  readonly localWorkload?: boolean;
  /** reachableBy: gateway toward the peer (same family as peerIP). */
  readonly reachableBy?: string;
  /** BGPFilter names, in order. */
  readonly filters?: readonly string[];
  readonly ttlSecurity?: number;
  readonly password?: string;
  /** A password is configured and cannot be resolved: why (sessions are not started). */
  readonly passwordUnresolved?: string;
  /** Calico reversePeering: 'auto' (default) also creates the session on the remote node. */
  readonly reversePeering: 'auto' | 'manual';
  /** Import limit per family, from the BGPPeer annotation `tern/max-prefixes`. */
  readonly maxPrefixes?: { readonly ipv4?: number; readonly ipv6?: number };
}

/** One BGPFilter's rule lists by direction and family (empty lists left out). */
export interface FilterSet {
  readonly importV4?: FilterSpec;
  readonly exportV4?: FilterSpec;
  readonly importV6?: FilterSpec;
  readonly exportV6?: FilterSpec;
}

export interface MeshSettings {
  /** BGPConfiguration default nodeToNodeMeshEnabled (default true). */
  readonly enabled: boolean;
  /** nodeMeshMaxRestartTime in seconds (default 120). */
  readonly restartTime: number;
  readonly password?: string;
  readonly passwordUnresolved?: string;
}

/**
 * How mesh (and global Calico-node) passivity orders two addresses: 'string' (the default:
 * Calico's BIRD template, so tern and calico-node agree in one mesh) or 'numeric' (see the
 * header of src/mesh/index.ts).
 */
export type AddressOrder = 'numeric' | 'string';

export interface PeerSetInput {
  readonly self: ClusterNode;
  /** Every Calico node, self included (it is skipped). */
  readonly nodes: readonly ClusterNode[];
  readonly mesh: MeshSettings;
  readonly rules: readonly PeerRule[];
  readonly addressOrder?: AddressOrder;
  /** BGPFilters by name. */
  readonly filters?: ReadonlyMap<string, FilterSet>;
  /** Workloads on this node selected for local BGP peering (Felix's endpoint-status files). */
  readonly localWorkloads?: readonly LocalWorkload[];
}

export interface LocalWorkload {
  readonly name: string;
  readonly bgpPeerName: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export type { Family };
