// The model behind test/datastore/etcd-model.test.ts: the etcd keys the random steps write
// (Calico's layout), valid, invalid and very large values for them, and what a daemon's
// etcd datastore must hold for what etcd holds.
//
// What the datastore must hold (src/datastore/etcd.ts): for each key it reads (the v3
// resources, and the IPAM affinity keys of its own node only), its value when valid; under
// an invalid value (reported through onError), the last valid value it saw since the key
// was last created, or nothing if it saw none (Model.allowed); a delete forgets the key,
// so a value written after a delete is judged on its own. Keys tern does not read (another
// node's affinities, IPAM blocks, unknown kinds) never show.
import { stableJson } from '../../src/util/stable-json.js';
import { snapshotResources } from '../../src/datastore/index.js';
import type { Snapshot } from '../../src/datastore/index.js';

export const V3 = 'projectcalico.org/v3';
export const RES = '/calico/resources/v3/projectcalico.org';
export const HOST = '/calico/ipam/v2/host';
/** The daemon's node (its affinity keys are read); the others' are not. */
export const NODE = 'node-1';

export type KeyKind = 'Node' | 'BGPConfiguration' | 'BGPPeer' | 'IPPool' | 'BGPFilter' | 'FelixConfiguration' | 'affinity' | 'unread';

export interface ModelKey {
  key: string;
  kind: KeyKind;
  /** Resource name (affinity: the Calico name the datastore gives it). */
  name: string;
  /** Read by the daemon's datastore (v3 resources; this node's affinities). */
  visible: boolean;
  node?: string;
  cidr?: string;
}

const PLURALS: Record<string, string> = {
  Node: 'nodes', BGPConfiguration: 'bgpconfigurations', BGPPeer: 'bgppeers', IPPool: 'ippools',
  BGPFilter: 'bgpfilters', FelixConfiguration: 'felixconfigurations',
};

function resourceKey(kind: KeyKind, name: string): ModelKey {
  return { key: `${RES}/${PLURALS[kind]}/${name}`, kind, name, visible: true };
}

function affinity(node: string, cidr: string, keyCidr: string): ModelKey {
  const name = `${node}-${cidr.replace(/[.:/]/g, '-')}`;
  return { key: `${HOST}/${node}/ipv${cidr.includes(':') ? 6 : 4}/block/${keyCidr}`, kind: 'affinity', name, visible: node === NODE, node, cidr };
}

/** Every key the random steps touch: few names per kind, so re-creates and updates are common. */
export const KEYS: readonly ModelKey[] = [
  ...['node-1', 'node-2', 'node-10'].map((n) => resourceKey('Node', n)),
  ...['default', 'node.node-1', 'node.node-2'].map((n) => resourceKey('BGPConfiguration', n)),
  ...['tor-a', 'tor-b', 'rr-1'].map((n) => resourceKey('BGPPeer', n)),
  ...['pool-a', 'pool-b'].map((n) => resourceKey('IPPool', n)),
  ...['f-a', 'f-b'].map((n) => resourceKey('BGPFilter', n)),
  resourceKey('FelixConfiguration', 'default'),
  ...['node-1', 'node-10', 'node-2'].flatMap((node) => [
    affinity(node, '10.244.1.0/26', '10.244.1.0-26'),
    affinity(node, '10.244.1.64/26', '10.244.1.64-26'),
    affinity(node, 'fd00:1::/122', 'fd00:1::-122'),
  ]),
  // Keys tern never reads: IPAM's own block, a kind it does not know, another node's
  // BlockAffinity as v3 JSON (Calico keeps affinities at the IPAM keys only).
  { key: '/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26', kind: 'unread', name: 'block', visible: false },
  { key: `${RES}/futurekinds/default`, kind: 'unread', name: 'future', visible: false },
  { key: `${RES}/blockaffinities/node-2-10-244-2-0-26`, kind: 'unread', name: 'v3-affinity', visible: false },
];

/** One value to write: its text, and (valid ones) the view entry the datastore must hold. */
export interface Value {
  text: string;
  /** The snapshot entry this value becomes (undefined: an invalid value). */
  view?: string;
  /** Invalid: a marker its error names (besides the key). */
  invalid?: string;
}

/** How a snapshot resource is compared: kind/name → its spec (annotations' sizes for big values). */
function viewOf(kind: string, name: string, spec: unknown, annotations?: Record<string, string>): string {
  const ann = annotations ? Object.fromEntries(Object.entries(annotations).map(([k, v]) => [k, v.length])) : undefined;
  return stableJson({ kind, name, spec, ...(ann ? { ann } : {}) });
}

function specFor(kind: KeyKind, pick: (n: number) => number): Record<string, unknown> {
  const i = pick(200) + 1;
  switch (kind) {
    case 'Node': return { bgp: { ipv4Address: `10.0.${pick(4)}.${i}/24`, ...(pick(2) ? { asNumber: 64600 + i } : {}) } };
    case 'BGPConfiguration': return pick(2) ? { asNumber: 64512 + i, nodeToNodeMeshEnabled: pick(2) === 1, logSeverityScreen: 'Info' } : { listenPort: 1000 + i };
    case 'BGPPeer': return { peerIP: `10.1.0.${i}`, asNumber: 65000 + i };
    case 'IPPool': return { cidr: `10.${100 + pick(50)}.0.0/16`, ipipMode: pick(2) ? 'Never' : 'Always', natOutgoing: pick(2) === 1, blockSize: 26, vxlanMode: 'Never', nodeSelector: 'all()' };
    case 'BGPFilter': return { exportV4: [{ action: pick(2) ? 'Reject' : 'Accept', matchOperator: 'In', cidr: `10.${pick(200)}.0.0/16` }] };
    default: return { bpfEnabled: pick(2) === 1, logSeverityScreen: 'Info' };
  }
}

/**
 * A random value for `k`: mostly valid, some invalid (bad JSON, a field that fails
 * validation, a resource filed under another name's key), now and then a very large one.
 * `n` makes every invalid value's text unique (each is reported once per key and value);
 * its marker ends in a letter, so no marker is part of another ("bad-1z", "bad-13z").
 */
export function randomValue(k: ModelKey, random: () => number, n: number): Value {
  const pick = (m: number): number => Math.floor(random() * m);
  const roll = random();
  if (k.kind === 'unread' && k.name === 'v3-affinity') {
    const spec = { node: 'node-2', cidr: '10.244.2.0/26', state: roll < 0.3 ? `bogus-${n}z` : 'confirmed', deleted: 'false' };
    return { text: JSON.stringify({ kind: 'BlockAffinity', apiVersion: V3, metadata: { name: 'node-2-10-244-2-0-26', uid: `u-${n}` }, spec }) };
  }
  if (k.kind === 'unread') return { text: JSON.stringify({ n, filler: 'x'.repeat(pick(200)) }) };
  if (k.kind === 'affinity') {
    if (roll < 0.12) return { text: `{"state":"confirmed","n":${n}`, invalid: '' };
    if (roll < 0.2) return { text: JSON.stringify({ state: `bogus-${n}z`, deleted: false }), invalid: `bogus-${n}z` };
    const state = (['confirmed', 'pending', 'pendingDeletion'] as const)[pick(3)]!;
    const deleted = pick(4) === 0;
    return { text: JSON.stringify({ state, deleted }), view: viewOf('BlockAffinity', k.name, { node: k.node, cidr: k.cidr, state, deleted }) };
  }
  const meta: Record<string, unknown> = { name: k.name, uid: `u-${n}` };
  const spec = specFor(k.kind, pick);
  if (roll < 0.07) return { text: `{"kind":"${k.kind}","apiVersion":"${V3}","metadata":{"name":"${k.name}","uid":"u-${n}"`, invalid: '' };
  if (roll < 0.12) return { text: JSON.stringify({ kind: k.kind, apiVersion: V3, metadata: { ...meta, name: `${k.name}.x${n}z` }, spec }), invalid: `${k.name}.x${n}z` };
  if (roll < 0.2 && k.kind !== 'FelixConfiguration') {
    const bad = `bad-${n}z`;
    const broken: Record<KeyKind, unknown> = {
      Node: { bgp: { ipv4Address: bad } }, BGPConfiguration: { asNumber: bad }, BGPPeer: { peerIP: bad, asNumber: 65001 },
      IPPool: { ...spec, cidr: bad }, BGPFilter: { exportV4: [{ action: bad }] }, FelixConfiguration: {}, affinity: {}, unread: {},
    };
    return { text: JSON.stringify({ kind: k.kind, apiVersion: V3, metadata: meta, spec: broken[k.kind] }), invalid: bad };
  }
  // About one value in thirty is large: 100 kB to 1 MB of annotations (etcd takes 1.5 MiB).
  const annotations = roll > 0.967 && k.kind !== 'FelixConfiguration' ? { big: 'y'.repeat(100_000 + pick(900_000)) } : undefined;
  if (annotations) meta.annotations = annotations;
  return { text: JSON.stringify({ kind: k.kind, apiVersion: V3, metadata: meta, spec }), view: viewOf(k.kind, k.name, spec, annotations) };
}

/**
 * etcd's content as the steps wrote it, and per key the valid values written since its
 * creation, each marked observed (written while the datastore was watching, so it saw it)
 * or not (written during an outage: a later write may have replaced it before the
 * datastore read it again).
 */
export class Model {
  /** key → text in etcd now. */
  readonly stored = new Map<string, Value>();
  readonly good = new Map<string, { view: string; observed: boolean; seq: number }[]>();
  private seq = 0;
  private settledSeq = 0;

  put(k: ModelKey, v: Value, observed: boolean): void {
    this.stored.set(k.key, v);
    if (v.view === undefined) return;
    const list = this.good.get(k.key) ?? [];
    this.good.set(k.key, [...list, { view: v.view, observed, seq: ++this.seq }]);
  }

  /** The datastore has seen every write so far (a quiet point). */
  settled(): void {
    this.settledSeq = this.seq;
  }

  /**
   * An outage or a compaction begins: the events of writes since the last quiet point may
   * still be on their way, and lost with the watch (the re-read finds only what is there).
   */
  blur(): void {
    for (const list of this.good.values()) for (const g of list) if (g.seq > this.settledSeq) g.observed = false;
  }

  /**
   * A new tern process: it has seen nothing yet; its first read finds what etcd holds then,
   * the value stored now (when valid) or one written later.
   */
  forget(): void {
    for (const [key, list] of this.good) {
      const last = list.at(-1);
      const keep = this.stored.get(key)?.view !== undefined && last ? [{ ...last, observed: false }] : [];
      this.good.set(key, keep);
    }
  }

  delete(k: ModelKey): void {
    this.stored.delete(k.key);
    this.good.delete(k.key);
  }

  /**
   * The view entries the datastore may hold for `k`: its value when valid; under an invalid
   * value, the last valid one it saw, so any from the last observed on (none observed: also
   * nothing); nothing for a key it does not read or that is absent.
   */
  allowed(k: ModelKey): (string | undefined)[] {
    const v = this.stored.get(k.key);
    if (!k.visible || !v) return [undefined];
    if (v.view !== undefined) return [v.view];
    const list = this.good.get(k.key) ?? [];
    const last = list.map((g) => g.observed).lastIndexOf(true);
    return [...(last < 0 ? [undefined] : []), ...list.slice(Math.max(last, 0)).map((g) => g.view)];
  }

  /**
   * The snapshot's view entries (sorted) and the closest allowed ones: equal when the
   * snapshot is one the model allows.
   */
  compare(s: Snapshot): { actual: string[]; expected: string[] } {
    const held = new Map(viewOfSnapshot(s).map((v) => [idOf(v), v]));
    const expected: string[] = [];
    for (const k of KEYS) {
      const id = k.kind === 'affinity' ? `BlockAffinity/${k.name}` : `${k.kind}/${k.name}`;
      const allowed = this.allowed(k);
      const pick = allowed.includes(held.get(id)) ? held.get(id) : allowed.at(-1);
      if (pick !== undefined) expected.push(pick);
    }
    return { actual: [...held.values()].sort(), expected: expected.sort() };
  }
}

const idOf = (view: string): string => {
  const v = JSON.parse(view) as { kind: string; name: string };
  return `${v.kind}/${v.name}`;
};

/** A snapshot as the model's view entries (sorted). */
export function viewOfSnapshot(s: Snapshot): string[] {
  return snapshotResources(s).map((r) => viewOf(r.kind, r.metadata.name, r.spec, r.metadata.annotations as Record<string, string> | undefined)).sort();
}
