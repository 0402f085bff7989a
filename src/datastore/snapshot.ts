// Snapshot construction. A Snapshot is immutable: its maps reject writes at run time (not
// only in the type), and every resource in it is deep-frozen. `revision` comes from a
// per-datastore SnapshotCounter, so snapshots of one datastore have strictly increasing
// revisions, whatever the backend's own revision numbers do (etcd restored from backup, a
// file replaced by an older one).
//
// Sealed resources: the deep-frozen copy a snapshot holds is remembered (a WeakSet), so a
// backend that hands the same sealed object again (an unchanged document of a file) puts it
// in the next snapshot as is, without a copy, and consumers can tell an unchanged resource
// by identity. Each sealed resource's content fingerprint is computed once (a WeakMap).
import { DaemonError } from '../util/errors.js';
import { IGNORED_PLURAL } from '../model/ignored-kinds.js';
import type { Resource, ResourceKind, Snapshot } from '../model/types.js';
import { displayName } from './validate.js';
import { stableJson } from '../util/stable-json.js';
import { deepFreeze } from '../util/freeze.js';
import type { SecretResource } from '../model/secret.js';

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

const SEALED = new WeakSet<object>();
const FINGERPRINT = new WeakMap<object, string>();

/**
 * The deep-frozen copy of `r` a snapshot holds: `r` itself when it is already one (sealed
 * before), else a frozen structured clone, remembered as sealed.
 */
export function seal<T extends object>(r: T): T {
  if (SEALED.has(r)) return r;
  const out = deepFreeze(structuredClone(r));
  SEALED.add(out);
  return out;
}

/** seal() for an object nothing else holds (validateResource's fresh result): frozen in place, not copied. */
export function sealOwned<T extends object>(r: T): T {
  if (!SEALED.has(r)) SEALED.add(deepFreeze(r));
  return r;
}

/** True when `r` is a sealed resource: deep-frozen by seal(), so never changing. */
export function isSealed(r: object): boolean {
  return SEALED.has(r);
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

  /**
   * The snapshot of `resources` that follows `current`, or null when its content equals
   * `current`'s (the revision is spent only on a real change).
   */
  changed(current: Snapshot, resources: Iterable<Resource>, secrets: Iterable<SecretResource> = []): Snapshot | null {
    const next = buildSnapshot(resources, this.last + 1, secrets);
    if (sameContent(current, next)) return null;
    this.last++;
    return next;
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
    list.push([field === 'ignored' ? `${r.kind}/${displayName(r)}` : displayName(r), seal(r)]);
  }
  const mapOf = (field: keyof Snapshot): ReadonlyMap<string, Resource> => {
    const entries = [...new Map(byField.get(field) ?? []).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new FrozenMap(entries);
  };
  const fields: Record<string, unknown> = { revision };
  for (const field of new Set(Object.values(SNAPSHOT_FIELD))) fields[field] = mapOf(field);
  const snap = fields as unknown as Snapshot;
  const secretList = [...secrets].map((x): [string, SecretResource] => [x.metadata.name, seal(x)]);
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
  for (const field of SNAPSHOT_FIELDS) {
    if (!sameMap(a[field] as ReadonlyMap<string, Resource>, b[field] as ReadonlyMap<string, Resource>)) return false;
  }
  return sameMap(a.secrets, b.secrets);
}

const SNAPSHOT_FIELDS = [...new Set(Object.values(SNAPSHOT_FIELD))];

/** Same keys in the same order, each pair the same object or of equal content. */
function sameMap(a: ReadonlyMap<string, object> | undefined, b: ReadonlyMap<string, object> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  if (!a || !b || a.size === 0) return true;
  const ib = b.entries();
  for (const [k, v] of a) {
    const [kb, w] = ib.next().value as [string, object];
    if (k !== kb) return false;
    if (v !== w && fingerprint(v) !== fingerprint(w)) return false;
  }
  return true;
}

/** A resource's content as text, resourceVersion left out (computed once per sealed resource). */
function fingerprint(r: object): string {
  let f = FINGERPRINT.get(r);
  if (f === undefined) {
    const res = r as Resource;
    f = stableJson({ ...res, metadata: { ...res.metadata, resourceVersion: undefined } });
    if (SEALED.has(r)) FINGERPRINT.set(r, f);
  }
  return f;
}

export function contentFingerprint(s: Snapshot): string {
  return [...snapshotResources(s), ...(s.secrets?.values() ?? [])].map(fingerprint).join('\n');
}

/** An empty snapshot with the given revision. */
export function emptySnapshot(revision = 0): Snapshot {
  return buildSnapshot([], revision);
}
