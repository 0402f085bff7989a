// Snapshot construction. A Snapshot is immutable: its maps reject writes at run time (not
// only in the type), and every resource in it is deep-frozen. `revision` comes from a
// per-datastore SnapshotCounter, so snapshots of one datastore have strictly increasing
// revisions, whatever the backend's own revision numbers do (etcd restored from backup, a
// file replaced by an older one).
import { DaemonError } from '../util/errors.js';
import { IGNORED_PLURAL } from './ignored-kinds.js';
import type {
  BGPConfigurationResource,
  BGPFilterResource,
  IgnoredResource,
  BGPPeerResource,
  BlockAffinityResource,
  GlobalNetworkPolicyResource,
  IPPoolResource,
  NetworkPolicyResource,
  NodeResource,
  ProfileResource,
  Resource,
  ResourceKind,
  Snapshot,
  WorkloadEndpointResource,
  TierResource,
  NetworkSetResource,
  GlobalNetworkSetResource,
  HostEndpointResource,
} from './types.js';
import { displayName } from './validate.js';
import type { SecretResource } from './secret.js';

/** The Snapshot field holding each kind. */
export const SNAPSHOT_FIELD = {
  Node: 'nodes',
  BGPConfiguration: 'bgpConfigurations',
  BGPPeer: 'bgpPeers',
  IPPool: 'ipPools',
  BlockAffinity: 'blockAffinities',
  BGPFilter: 'bgpFilters',
  GlobalNetworkPolicy: 'globalNetworkPolicies',
  NetworkPolicy: 'networkPolicies',
  Profile: 'profiles',
  WorkloadEndpoint: 'workloadEndpoints',
  Tier: 'tiers',
  NetworkSet: 'networkSets',
  GlobalNetworkSet: 'globalNetworkSets',
  HostEndpoint: 'hostEndpoints',
  ...(Object.fromEntries(Object.keys(IGNORED_PLURAL).map((k) => [k, 'ignored'])) as Record<keyof typeof IGNORED_PLURAL, 'ignored'>),
} as const satisfies Record<ResourceKind, keyof Snapshot>;

/** A Map that refuses set/delete/clear once built. */
class FrozenMap<K, V> extends Map<K, V> {
  private sealed = false;
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    this.sealed = true;
    Object.freeze(this);
  }
  override set(key: K, value: V): this {
    if (this.sealed) throw new DaemonError('ERR_SNAPSHOT_IMMUTABLE', 'snapshot maps are read-only');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new DaemonError('ERR_SNAPSHOT_IMMUTABLE', 'snapshot maps are read-only');
  }
  override clear(): void {
    throw new DaemonError('ERR_SNAPSHOT_IMMUTABLE', 'snapshot maps are read-only');
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as Record<string, unknown>)) deepFreeze(child);
  }
  return v;
}

/** Hands out strictly increasing snapshot revisions (one counter per datastore). */
export class SnapshotCounter {
  private last = 0;
  next(): number {
    return ++this.last;
  }
  get current(): number {
    return this.last;
  }
}

/**
 * Builds an immutable Snapshot. Maps are keyed by name ("namespace/name" for namespaced
 * kinds) and iterate in name order, so two snapshots of the same content iterate alike.
 * Later duplicates replace earlier ones. The resources are copied, then frozen.
 */
export function buildSnapshot(resources: Iterable<Resource>, revision: number, secrets: Iterable<SecretResource> = []): Snapshot {
  const byField = new Map<keyof Snapshot, [string, Resource][]>();
  for (const r of resources) {
    const field = SNAPSHOT_FIELD[r.kind];
    let list = byField.get(field);
    if (!list) byField.set(field, (list = []));
    list.push([field === 'ignored' ? `${r.kind}/${displayName(r)}` : displayName(r), deepFreeze(structuredClone(r))]);
  }
  const map = <R extends Resource>(kind: R['kind']): ReadonlyMap<string, R> => {
    const entries = [...new Map(byField.get(SNAPSHOT_FIELD[kind]) ?? []).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new FrozenMap(entries as [string, R][]);
  };
  const snap: Snapshot = {
    revision,
    nodes: map<NodeResource>('Node'),
    bgpConfigurations: map<BGPConfigurationResource>('BGPConfiguration'),
    bgpPeers: map<BGPPeerResource>('BGPPeer'),
    ipPools: map<IPPoolResource>('IPPool'),
    blockAffinities: map<BlockAffinityResource>('BlockAffinity'),
    bgpFilters: map<BGPFilterResource>('BGPFilter'),
    globalNetworkPolicies: map<GlobalNetworkPolicyResource>('GlobalNetworkPolicy'),
    networkPolicies: map<NetworkPolicyResource>('NetworkPolicy'),
    profiles: map<ProfileResource>('Profile'),
    workloadEndpoints: map<WorkloadEndpointResource>('WorkloadEndpoint'),
    tiers: map<TierResource>('Tier'),
    networkSets: map<NetworkSetResource>('NetworkSet'),
    globalNetworkSets: map<GlobalNetworkSetResource>('GlobalNetworkSet'),
    hostEndpoints: map<HostEndpointResource>('HostEndpoint'),
    ignored: map<IgnoredResource>('FelixConfiguration'), // every ignored kind shares the field
  };
  const secretList = [...secrets].map((x): [string, SecretResource] => [x.metadata.name, deepFreeze(structuredClone(x))]);
  if (secretList.length > 0) {
    secretList.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.freeze({ ...snap, secrets: new FrozenMap(secretList) });
  }
  return Object.freeze(snap);
}

/** Every resource in a snapshot, kinds in RESOURCE_KINDS order, names sorted. */
export function snapshotResources(s: Snapshot): Resource[] {
  const out: Resource[] = [];
  for (const field of new Set(Object.values(SNAPSHOT_FIELD))) {
    for (const r of (s[field] as ReadonlyMap<string, Resource>).values()) out.push(r);
  }
  return out;
}

/** The resources of one kind in a snapshot. */
export function resourcesOfKind(s: Snapshot, kind: ResourceKind): Resource[] {
  return [...(s[SNAPSHOT_FIELD[kind]] as ReadonlyMap<string, Resource>).values()].filter((r) => r.kind === kind);
}

/**
 * True when two snapshots hold the same resources (revision and bookkeeping metadata —
 * resourceVersion — ignored). Used to suppress duplicate change notifications.
 */
export function sameContent(a: Snapshot, b: Snapshot): boolean {
  return contentFingerprint(a) === contentFingerprint(b);
}

export function contentFingerprint(s: Snapshot): string {
  return [...snapshotResources(s), ...(s.secrets?.values() ?? [])]
    .map((r) => stableJson({ ...r, metadata: { ...r.metadata, resourceVersion: undefined } }))
    .join('\n');
}

/** JSON with object keys sorted, so equal content gives equal text. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** An empty snapshot with the given revision. */
export function emptySnapshot(revision = 0): Snapshot {
  return buildSnapshot([], revision);
}
