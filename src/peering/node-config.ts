// NodeBgpConfig: everything the daemon needs to run BGP on one node, derived from a
// Snapshot by deriveNodeConfig(). Internal types: no Calico field names beyond this file's
// documentation.
import type { IpPool, NodeAddress } from '../model/bgp.js';
import type { PeerSpec } from './peer-spec.js';
import type { PrefixCommunities } from './filter-spec.js';
import type { ServiceRoutes } from './filters.js';

export type EncapMode = 'never' | 'always' | 'crossSubnet';

/** This node's address with its length (the model's NodeAddress). */
export type AddressConfig = NodeAddress;

/** An IP pool as the daemon routes it: the model's IpPool with tern's encapsulation names. */
export type PoolConfig = Omit<IpPool, 'name' | 'ipipMode' | 'vxlanMode'> & {
  readonly ipipMode: EncapMode;
  readonly vxlanMode: EncapMode;
};

export interface OwnBlock {
  /** Canonical prefix. */
  readonly cidr: string;
  /**
   * Only 'confirmed' blocks are programmed (blackhole) and advertised; 'pending' ones are
   * ignored (an affinity not yet confirmed may still go to another node); 'pendingDeletion' ones keep the blackhole in Calico but
   * get no aggregation. The state is kept so consumers can decide.
   */
  readonly state: 'confirmed' | 'pending' | 'pendingDeletion';
}

export interface NodeBgpConfig {
  readonly nodeName: string;
  /** The node's IPv4 address; never in 224.0.0.0/4 (RFC 6286 §2.1 BGP Identifier). */
  readonly routerId: string;
  /** Node.spec.bgp.asNumber ?? BGPConfiguration default asNumber ?? 64512. */
  readonly asNumber: number;
  /** node.<name> BGPConfiguration listenPort ?? default listenPort ?? 179. */
  readonly listenPort: number;
  /**
   * Addresses the BGP listener binds: the node's own (IPv4 and IPv6) with the default
   * BGPConfiguration's `bindMode: NodeIP` (confd's `listen bgp address`), else [] (all).
   */
  readonly listenAddresses: readonly string[];
  /** logSeverityScreen (node.<name> over default), default "Info". */
  readonly logSeverity: string;
  readonly ipv4?: AddressConfig;
  readonly ipv6?: AddressConfig;
  /** routeReflectorClusterID: this node is a route reflector with this cluster id. */
  readonly clusterId?: string;
  /** Effective: nodeToNodeMeshEnabled (default true) and this node is not a route reflector. */
  readonly meshEnabled: boolean;
  /** Every IPPool, sorted by cidr. */
  readonly pools: readonly PoolConfig[];
  /** This node's block affinities (not deleted), sorted by cidr. */
  readonly ownBlocks: readonly OwnBlock[];
  /** Communities added on export to routes inside each cidr (node.<name> over default). */
  readonly prefixCommunities: readonly PrefixCommunities[];
  /**
   * BGPConfiguration default ipv4/ipv6NormalRoutePriority as written (absent: Calico's 1024):
   * N of the route priority model (src/policy/priority.ts).
   */
  readonly normalRoutePriority?: { readonly ipv4?: number; readonly ipv6?: number };
  /** Service CIDRs: advertised from this node, and kept out of the kernel. */
  readonly services: ServiceRoutes;
  /** Sessions to run, sorted by name. */
  readonly peers: readonly PeerSpec[];
  /** Resources that were skipped or partly ignored, one line each (for the log). */
  readonly warnings: readonly string[];
}

/** The blocks to program and advertise: only confirmed affinities (pending ones wait, as in Calico). */
export function confirmedBlocks(cfg: Pick<NodeBgpConfig, 'ownBlocks'>): string[] {
  return cfg.ownBlocks.filter((b) => b.state === 'confirmed').map((b) => b.cidr);
}
