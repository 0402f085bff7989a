// Calico's etcd v3 key layout, both ways.
//   v3 resources:  /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>
//                  value: the resource as JSON (kind, apiVersion, metadata, spec)
//   affinities:    /calico/ipam/v2/host/<node>/ipv4/block/10.244.1.0-26
//                  /calico/ipam/v2/host/<node>/ipv6/block/fd00:1::-122   (':' kept; '/' → '-')
//                  value: {"state":"confirmed","deleted":false}
// BlockAffinity resources are synthesised from affinity keys and named as Calico names
// them: `<node>-<cidr with '.', ':' and '/' → '-'>` (libcalico-go names.CIDRToName).
// A BlockAffinity as v3 JSON under the resource prefix (…/blockaffinities/<name>) is not
// read: in etcd mode Calico's IPAM keeps affinities at the IPAM keys only and calico-node's
// confd reads only `/calico/ipam/v2/host/<node>/`, `tern apply` writes the IPAM key, so such
// a key routes nothing in Calico and would not here (nor be another node's to validate).
import { nodeCrypto } from '../util/crypto.js';
import { canonicalPrefix, familyOf } from '../net/prefix.js';
import { API_VERSION, NAMESPACED, PLURAL, RESOURCE_KINDS, type BlockAffinityResource, type Resource, type ResourceKind } from '../model/types.js';

export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const AFFINITY_PREFIX = '/calico/ipam/v2/host/';

const KIND_BY_PLURAL = new Map<string, ResourceKind>(RESOURCE_KINDS.map((k) => [PLURAL[k], k]));

export type ParsedKey =
  | { type: 'resource'; kind: ResourceKind; namespace?: string; name: string }
  | { type: 'affinity'; node: string; cidr: string };

/** The etcd key of a resource (BlockAffinity: its IPAM affinity key). */
export function resourceEtcdKey(r: Resource): string {
  if (r.kind === 'BlockAffinity') return affinityKey(r.spec.node, r.spec.cidr);
  return kindPrefix(r.kind, r.metadata.namespace) + r.metadata.name;
}

/** Key prefix of one kind (and namespace, for namespaced kinds). */
export function kindPrefix(kind: ResourceKind, namespace?: string): string {
  if (kind === 'BlockAffinity') return AFFINITY_PREFIX;
  const base = `${RESOURCE_PREFIX}${PLURAL[kind]}/`;
  return NAMESPACED.has(kind) && namespace ? `${base}${namespace}/` : base;
}

/** `/calico/ipam/v2/host/<node>/ipv<v>/block/<net>-<len>` (Calico BlockAffinityKey.defaultPath). */
export function affinityKey(node: string, cidr: string): string {
  const c = canonicalPrefix(cidr);
  const v = familyOf(c) === 'ipv4' ? 4 : 6;
  return `${AFFINITY_PREFIX}${node}/ipv${v}/block/${c.replace('/', '-')}`;
}

/** Calico's BlockAffinity name: node + '-' + CIDR with '.', ':' and '/' replaced by '-'. */
export function affinityName(node: string, cidr: string): string {
  return `${node}-${canonicalPrefix(cidr).replace(/[.:/]/g, '-')}`;
}

const AFFINITY_RE = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/;

/** Classifies a key; undefined for keys tern does not read (other kinds, IPAM blocks…). */
export function parseEtcdKey(key: string): ParsedKey | undefined {
  if (key.startsWith(RESOURCE_PREFIX)) {
    const parts = key.slice(RESOURCE_PREFIX.length).split('/');
    const kind = KIND_BY_PLURAL.get(parts[0] ?? '');
    if (!kind || kind === 'BlockAffinity') return undefined; // affinities: the IPAM keys only
    if (NAMESPACED.has(kind)) {
      if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
      return { type: 'resource', kind, namespace: parts[1], name: parts[2] };
    }
    if (parts.length !== 2 || !parts[1]) return undefined;
    return { type: 'resource', kind, name: parts[1] };
  }
  const m = AFFINITY_RE.exec(key);
  if (m) {
    const dash = (m[2] ?? '').lastIndexOf('-');
    if (dash < 0) return undefined;
    const text = `${(m[2] ?? '').slice(0, dash)}/${(m[2] ?? '').slice(dash + 1)}`;
    try {
      return { type: 'affinity', node: m[1] ?? '', cidr: canonicalPrefix(text) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The BlockAffinity resource for an affinity key and its decoded value. */
export function affinityResource(node: string, cidr: string, value: unknown, modRevision?: string): BlockAffinityResource {
  const v = (value && typeof value === 'object' ? value : {}) as { state?: unknown; deleted?: unknown };
  return {
    apiVersion: API_VERSION,
    kind: 'BlockAffinity',
    metadata: { name: affinityName(node, cidr), ...(modRevision ? { resourceVersion: modRevision } : {}) },
    spec: {
      node,
      cidr,
      state: v.state as BlockAffinityResource['spec']['state'],
      deleted: v.deleted === true || v.deleted === 'true',
    },
  };
}

/** The value Calico's IPAM stores at an affinity key. */
export function affinityValue(r: BlockAffinityResource): string {
  return JSON.stringify({ state: r.spec.state, deleted: r.spec.deleted === true || r.spec.deleted === 'true' });
}

/** The first key after every key with this prefix (etcd range_end for a prefix scan). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] ?? 0) < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = (out[i] ?? 0) + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

/** The JSON Calico stores: no resourceVersion; uid and creationTimestamp kept or created. */
export function storedForm(r: Resource, existingJson: string | null): Resource {
  let prev: { metadata?: { uid?: string; creationTimestamp?: string } } = {};
  try {
    if (existingJson) prev = JSON.parse(existingJson) as typeof prev;
  } catch {
    prev = {};
  }
  const metadata = { ...r.metadata };
  delete metadata.resourceVersion;
  metadata.uid ??= prev.metadata?.uid ?? nodeCrypto().randomUUID();
  metadata.creationTimestamp ??= prev.metadata?.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { kind: r.kind, apiVersion: r.apiVersion, metadata, spec: r.spec } as Resource; // Calico's field order
}
