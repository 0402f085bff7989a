// Calico v3 kinds that tern accepts and stores but does not act on. A file or etcd written
// for calico-node holds them (FelixConfiguration, ClusterInformation, …): they load with the
// rest, are kept in the Snapshot's `ignored` map, are listed by `tern get`, and the daemon
// logs one warning per kind. Only apiVersion and metadata are checked; the spec is kept as
// written (it must be an object).
//
// A kind that gains a validator and a consumer leaves this table for ACTED_KINDS in
// types.ts (its own resource type, Snapshot field and validateSpec case); a kind listed in
// both is treated as acted on.
import type { API_VERSION, ObjectMeta } from './types.js';

/** Kind → Calico's plural (libcalico-go model/resource.go), as in etcd keys. */
const TABLE = {
  FelixConfiguration: 'felixconfigurations',
  ClusterInformation: 'clusterinformations',
  KubeControllersConfiguration: 'kubecontrollersconfigurations',
  IPAMConfig: 'ipamconfigs',
  IPAMConfiguration: 'ipamconfigurations',
  // projectcalico.org/v3 kinds since Calico v3.32.0 (a dump of all resources holds them); on
  // etcd Calico keeps IPAM blocks and handles under /calico/ipam/v2, which tern does not read.
  IPAMBlock: 'ipamblocks',
  IPAMHandle: 'ipamhandles',
  IPReservation: 'ipreservations',
  CalicoNodeStatus: 'caliconodestatuses',
  StagedGlobalNetworkPolicy: 'stagedglobalnetworkpolicies',
  StagedNetworkPolicy: 'stagednetworkpolicies',
  StagedKubernetesNetworkPolicy: 'stagedkubernetesnetworkpolicies',
} as const;

export type IgnoredKind = keyof typeof TABLE;

export const IGNORED_KINDS = Object.keys(TABLE) as IgnoredKind[];
export const IGNORED_PLURAL: Record<IgnoredKind, string> = TABLE;
export const IGNORED_NAMESPACED: readonly IgnoredKind[] = ['StagedNetworkPolicy', 'StagedKubernetesNetworkPolicy'];

export interface IgnoredResource {
  apiVersion: typeof API_VERSION;
  kind: IgnoredKind;
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
}

export function isIgnoredKind(kind: string): kind is IgnoredKind {
  return Object.prototype.hasOwnProperty.call(TABLE, kind);
}
