// Calico `projectcalico.org/v3` resources as tern reads and stores them, field names exactly
// as Calico's JSON/YAML. These are EDGE types: the datastore validates them into these
// shapes, and src/peering derives internal types from them; inner modules (bgp, rib, fib)
// never import this file.

import type { SecretResource } from './secret.js';
import { IGNORED_KINDS, IGNORED_NAMESPACED, IGNORED_PLURAL, type IgnoredResource } from './ignored-kinds.js';

export { IGNORED_KINDS, isIgnoredKind, type IgnoredKind, type IgnoredResource } from './ignored-kinds.js';

export const API_VERSION = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
}

interface ResourceBase<K extends string, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

export interface NodeSpec {
  bgp?: {
    /** address with prefix length, e.g. "10.0.0.11/24" */
    ipv4Address?: string;
    ipv6Address?: string;
    asNumber?: number;
    ipv4IPIPTunnelAddr?: string;
    routeReflectorClusterID?: string;
  };
  addresses?: { address: string; type?: string }[];
  orchRefs?: { nodeName?: string; orchestrator?: string }[];
}
export type NodeResource = ResourceBase<'Node', NodeSpec>;

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  listenPort?: number;
  bindMode?: 'None' | 'NodeIP';
  nodeMeshMaxRestartTime?: string;
  nodeMeshPassword?: { secretKeyRef?: { name: string; key: string } };
  ignoredInterfaces?: string[];
  serviceClusterIPs?: { cidr: string }[];
  serviceExternalIPs?: { cidr: string }[];
  serviceLoadBalancerIPs?: { cidr: string }[];
  communities?: { name: string; value: string }[];
  prefixAdvertisements?: { cidr: string; communities?: string[] }[];
  /** Calico v3.31+: "Disabled" advertises no serviceLoadBalancerIPs range from every node. */
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  /** Calico v3.32+ route priority model: the family's normal route priority N (src/policy/priority.ts). */
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
}
export type BGPConfigurationResource = ResourceBase<'BGPConfiguration', BGPConfigurationSpec>;

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  /** "ip" or "ip:port" ("[v6]:port" for IPv6 with a port) */
  peerIP?: string;
  peerSelector?: string;
  asNumber?: number;
  localASNumber?: number;
  sourceAddress?: 'UseNodeIP' | 'None';
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  /** Go duration text, e.g. "120s", "2m" */
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  password?: { secretKeyRef?: { name: string; key: string } };
  filters?: string[];
  reachableBy?: string;
  reversePeering?: 'Auto' | 'Manual';
  /** Peer with this node's workloads that match (Felix marks them in its endpoint-status files). */
  localWorkloadSelector?: string;
}
export type BGPPeerResource = ResourceBase<'BGPPeer', BGPPeerSpec>;

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';

export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  allowedUses?: string[];
}
export type IPPoolResource = ResourceBase<'IPPool', IPPoolSpec>;

export interface BlockAffinitySpec {
  node: string;
  cidr: string;
  state: 'confirmed' | 'pending' | 'pendingDeletion';
  deleted?: boolean | string;
}
export type BlockAffinityResource = ResourceBase<'BlockAffinity', BlockAffinitySpec>;

export type BGPFilterAction = 'Accept' | 'Reject';
export type BGPFilterMatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';

/** One route modification of a BGPFilter rule (Calico v3.32+ BGPFilterOperation): exactly one field. */
export interface BGPFilterOperation {
  addCommunity?: { value: string };
  /** AS numbers as numbers or text (plain or asdot), as Calico's numorstring.ASNumber. */
  prependASPath?: { prefix: (number | string)[] };
  setPriority?: { value: number };
}

/** One rule of a BGPFilter list (Calico v3 BGPFilterRuleV4 / BGPFilterRuleV6). */
export interface BGPFilterRule {
  cidr?: string;
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  matchOperator?: BGPFilterMatchOperator;
  /** v3.32+: the rule applies only toward/from peers of this type. */
  peerType?: 'eBGP' | 'iBGP';
  /** v3.32+: exactly one value, "aa:nn" or large "aa:nn:mm". */
  communities?: { values: string[] };
  /** v3.32+: AS numbers the AS_PATH must begin with. */
  asPathPrefix?: (number | string)[];
  /** v3.32+: the route priority the route must have (LOCAL_PREF 2147483647 − priority). */
  priority?: number;
  action: BGPFilterAction;
  /** v3.32+: applied in order on Accept. */
  operations?: BGPFilterOperation[];
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}
export type BGPFilterResource = ResourceBase<'BGPFilter', BGPFilterSpec>;

// ---- policy resources (the ACL companion) ----

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: (number | string)[];
  notPorts?: (number | string)[];
  serviceAccounts?: { names?: string[]; selector?: string };
  services?: { name: string; namespace?: string };
}

export interface IcmpFields {
  type?: number;
  code?: number;
}

export interface Rule {
  action: 'Allow' | 'Deny' | 'Log' | 'Pass';
  ipVersion?: 4 | 6;
  protocol?: string | number;
  notProtocol?: string | number;
  icmp?: IcmpFields;
  notICMP?: IcmpFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: { methods?: string[]; paths?: unknown[] };
  metadata?: { annotations?: Record<string, string> };
}

export interface PolicySpec {
  order?: number;
  serviceAccountSelector?: string;
  tier?: string;
  selector?: string;
  types?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}
export type GlobalNetworkPolicyResource = ResourceBase<'GlobalNetworkPolicy', PolicySpec>;
export type NetworkPolicyResource = ResourceBase<'NetworkPolicy', PolicySpec>;

export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  labelsToApply?: Record<string, string>;
}
export type ProfileResource = ResourceBase<'Profile', ProfileSpec>;

export interface WorkloadEndpointSpec {
  node: string;
  orchestrator?: string;
  workload?: string;
  pod?: string;
  endpoint?: string;
  containerID?: string;
  interfaceName: string;
  mac?: string;
  ipNetworks?: string[];
  profiles?: string[];
  ports?: { name: string; protocol: string; port: number }[];
  serviceAccountName?: string;
  allowSpoofedSourcePrefixes?: string[];
}
export type WorkloadEndpointResource = ResourceBase<'WorkloadEndpoint', WorkloadEndpointSpec>;

export interface TierSpec {
  order?: number;
  defaultAction?: 'Deny' | 'Pass';
}
export type TierResource = ResourceBase<'Tier', TierSpec>;

export interface NetworkSetSpec {
  nets?: string[];
  allowedEgressDomains?: string[];
}
export type NetworkSetResource = ResourceBase<'NetworkSet', NetworkSetSpec>;
export type GlobalNetworkSetResource = ResourceBase<'GlobalNetworkSet', NetworkSetSpec>;

export interface HostEndpointSpec {
  node: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: { name: string; protocol: string; port: number }[];
}
export type HostEndpointResource = ResourceBase<'HostEndpoint', HostEndpointSpec>;

export type Resource =
  | NodeResource
  | BGPConfigurationResource
  | BGPPeerResource
  | IPPoolResource
  | BlockAffinityResource
  | BGPFilterResource
  | GlobalNetworkPolicyResource
  | NetworkPolicyResource
  | ProfileResource
  | WorkloadEndpointResource
  | TierResource
  | NetworkSetResource
  | GlobalNetworkSetResource
  | HostEndpointResource
  | IgnoredResource;

export type ResourceKind = Resource['kind'];

/** The kinds tern validates field by field and acts on. */
export const ACTED_KINDS = [
  'Node',
  'BGPConfiguration',
  'BGPPeer',
  'IPPool',
  'BlockAffinity',
  'BGPFilter',
  'GlobalNetworkPolicy',
  'NetworkPolicy',
  'Profile',
  'WorkloadEndpoint',
  'Tier',
  'NetworkSet',
  'GlobalNetworkSet',
  'HostEndpoint',
] as const;

export const RESOURCE_KINDS: readonly ResourceKind[] = [...ACTED_KINDS, ...IGNORED_KINDS];

/** Calico's plural names, as used in etcd keys and `tern get`. */
export const PLURAL: Record<ResourceKind, string> = {
  Node: 'nodes',
  BGPConfiguration: 'bgpconfigurations',
  BGPPeer: 'bgppeers',
  IPPool: 'ippools',
  BlockAffinity: 'blockaffinities',
  BGPFilter: 'bgpfilters',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  NetworkPolicy: 'networkpolicies',
  Profile: 'profiles',
  WorkloadEndpoint: 'workloadendpoints',
  Tier: 'tiers',
  NetworkSet: 'networksets',
  GlobalNetworkSet: 'globalnetworksets',
  HostEndpoint: 'hostendpoints',
  ...IGNORED_PLURAL,
};

export const NAMESPACED: ReadonlySet<ResourceKind> = new Set<ResourceKind>(['NetworkPolicy', 'WorkloadEndpoint', 'NetworkSet', ...IGNORED_NAMESPACED]);

/**
 * Everything the datastore holds at one moment, keyed by name ("namespace/name" for
 * namespaced kinds). Immutable: a change produces a new Snapshot.
 */
export interface Snapshot {
  readonly revision: number;
  readonly nodes: ReadonlyMap<string, NodeResource>;
  readonly bgpConfigurations: ReadonlyMap<string, BGPConfigurationResource>;
  readonly bgpPeers: ReadonlyMap<string, BGPPeerResource>;
  readonly ipPools: ReadonlyMap<string, IPPoolResource>;
  readonly blockAffinities: ReadonlyMap<string, BlockAffinityResource>;
  readonly bgpFilters: ReadonlyMap<string, BGPFilterResource>;
  readonly globalNetworkPolicies: ReadonlyMap<string, GlobalNetworkPolicyResource>;
  readonly networkPolicies: ReadonlyMap<string, NetworkPolicyResource>;
  readonly profiles: ReadonlyMap<string, ProfileResource>;
  readonly workloadEndpoints: ReadonlyMap<string, WorkloadEndpointResource>;
  readonly tiers: ReadonlyMap<string, TierResource>;
  readonly networkSets: ReadonlyMap<string, NetworkSetResource>;
  readonly globalNetworkSets: ReadonlyMap<string, GlobalNetworkSetResource>;
  readonly hostEndpoints: ReadonlyMap<string, HostEndpointResource>;
  /** Calico kinds tern accepts and keeps but does not act on, keyed "Kind/[namespace/]name". */
  readonly ignored: ReadonlyMap<string, IgnoredResource>;
  /** v1 Secrets by name (a file datastore only): the passwords secretKeyRefs name. */
  readonly secrets?: ReadonlyMap<string, SecretResource>;
}
