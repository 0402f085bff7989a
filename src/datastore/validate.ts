// Resource validation: text (multi-document YAML or JSON) → Resource[], and one object →
// Resource. Every failure is a ConfigError naming file, 1-based document number, kind/name,
// field path and reason, e.g.
//   config.yaml document 3 (BGPPeer tor-1): spec.asNumber: must be an integer 1..4294967295, got 0
// The returned resources are fresh objects (the input is never mutated) with Calico's
// defaults applied where Calico's API server applies them (IPPool; namespace "default").
import { yamlPackage } from './yaml-lib.js';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { ConfigError } from '../util/errors.js';
import { API_VERSION, isIgnoredKind, NAMESPACED, RESOURCE_KINDS, type Resource, type ResourceKind } from '../model/types.js';
import { Checker, describe, type Obj, type Where } from './checker.js';
import {
  validateBgpConfigurationSpec,
  validateBgpPeerSpec,
  validateBlockAffinitySpec,
  validateIpPoolSpec,
  validateNodeSpec,
} from './validate-bgp.js';
import { validateBgpFilterSpec } from './validate-bgp-filter.js';
import { validatePolicySpec, validateProfileSpec, validateWorkloadEndpointSpec } from './validate-policy.js';
import { validateHostEndpointSpec, validateNetworkSetSpec, validateTierSpec } from './validate-sets.js';
import { isSecretDocument, validateSecret, type SecretResource } from './secret.js';

export type { Where } from './checker.js';

export interface ValidateOptions {
  /**
   * 'error' (default): a field tern does not know is an error (catches typos such as
   * `peerIp` in hand-written files). 'keep': unknown fields pass through untouched (etcd,
   * where newer Calico versions may have written fields tern does not use).
   */
  unknownFields?: 'error' | 'keep';
  /**
   * A daemon's node: a BlockAffinity whose spec.node names another node is left out, neither
   * validated nor kept (the daemon reads only its own, as etcd's per-node affinity keys give
   * it); an error inside such a document is that node's, not this one's. Unset: every
   * document is validated and kept.
   */
  affinitiesOf?: string;
}

/** True for a decoded document that ValidateOptions.affinitiesOf leaves out: another node's BlockAffinity. */
export function isOtherNodesAffinity(value: unknown, node: string | undefined): boolean {
  if (node === undefined || typeof value !== 'object' || value === null || (value as Obj).kind !== 'BlockAffinity') return false;
  const spec = (value as Obj).spec;
  return typeof spec === 'object' && spec !== null && typeof (spec as Obj).node === 'string' && (spec as Obj).node !== node;
}

const METADATA_FIELDS = ['name', 'namespace', 'labels', 'annotations', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'ownerReferences', 'finalizers', 'generateName', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** Validates one decoded object as a Calico v3 resource; throws ConfigError. */
export function validateResource(obj: unknown, where: Where = {}, opts: ValidateOptions = {}): Resource {
  const c = new Checker(where, (opts.unknownFields ?? 'error') === 'error');
  const o = c.object(obj, '');
  // Name the resource in messages as early as possible, even if other parts are broken.
  if (typeof o.kind === 'string' && o.kind !== '') c.kind = o.kind;
  const metaRaw = o.metadata;
  if (metaRaw && typeof metaRaw === 'object' && typeof (metaRaw as Obj).name === 'string' && (metaRaw as Obj).name !== '') {
    const m = metaRaw as Obj;
    c.name = typeof m.namespace === 'string' && m.namespace !== '' ? `${m.namespace}/${String(m.name)}` : String(m.name);
  }
  if (o.kind === undefined || o.kind === '') c.fail('kind', 'is required');
  if (typeof o.kind !== 'string' || !(RESOURCE_KINDS as readonly string[]).includes(o.kind)) {
    c.fail('kind', `unknown kind ${describe(o.kind)} (expected one of ${RESOURCE_KINDS.join(', ')})`);
  }
  const kind = o.kind as ResourceKind;
  if (o.apiVersion !== API_VERSION) {
    const hint = o.apiVersion === 'crd.projectcalico.org/v1' ? ' (crd.projectcalico.org/v1 is the Kubernetes CRD storage form; write projectcalico.org/v3 as calicoctl does)' : '';
    c.fail('apiVersion', `must be "${API_VERSION}", got ${describe(o.apiVersion)}${hint}`);
  }
  c.knownFields(o, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '');
  const metadata = validateMetadata(c, kind, o.metadata);
  const specRaw = o.spec === undefined || o.spec === null ? {} : c.object(o.spec, 'spec');
  const spec = validateSpec(c, kind, specRaw);
  const out: Obj = { apiVersion: API_VERSION, kind, metadata, spec };
  return structuredClone(out) as unknown as Resource;
}

function validateMetadata(c: Checker, kind: ResourceKind, raw: unknown): Obj {
  if (raw === undefined || raw === null) c.fail('metadata.name', 'is required');
  const m = c.object(raw, 'metadata');
  c.knownFields(m, METADATA_FIELDS, 'metadata');
  if (m.name === undefined || m.name === null || m.name === '') c.fail('metadata.name', 'is required');
  c.dnsName(m.name, 'metadata.name');
  const out: Obj = { ...m };
  if (NAMESPACED.has(kind)) {
    if (m.namespace === undefined || m.namespace === null || m.namespace === '') out.namespace = 'default';
    else c.dnsName(m.namespace, 'metadata.namespace');
  } else if (m.namespace !== undefined && m.namespace !== null && m.namespace !== '') {
    c.fail('metadata.namespace', `must not be set: ${kind} is not namespaced`);
  } else {
    delete out.namespace;
  }
  for (const key of ['labels', 'annotations']) {
    const v = m[key];
    if (v !== undefined && v !== null) c.stringMap(v, `metadata.${key}`);
  }
  return out;
}

function validateSpec(c: Checker, kind: ResourceKind, spec: Obj): Obj {
  switch (kind) {
    case 'Node': return validateNodeSpec(c, spec);
    case 'BGPConfiguration': return validateBgpConfigurationSpec(c, spec);
    case 'BGPPeer': return validateBgpPeerSpec(c, spec);
    case 'IPPool': return validateIpPoolSpec(c, spec);
    case 'BlockAffinity': return validateBlockAffinitySpec(c, spec);
    case 'GlobalNetworkPolicy': return validatePolicySpec(c, spec, true);
    case 'NetworkPolicy': return validatePolicySpec(c, spec, false);
    case 'Profile': return validateProfileSpec(c, spec);
    case 'WorkloadEndpoint': return validateWorkloadEndpointSpec(c, spec);
    case 'Tier': return validateTierSpec(c, spec);
    case 'NetworkSet':
    case 'GlobalNetworkSet': return validateNetworkSetSpec(c, spec);
    case 'HostEndpoint': return validateHostEndpointSpec(c, spec);
    case 'BGPFilter': return validateBgpFilterSpec(c, spec);
  }
  if (isIgnoredKind(kind)) return { ...spec }; // accepted and kept as written (ignored-kinds.ts)
  return c.fail('kind', `no validator for ${kind}`);
}

/** One decoded document: its 1-based number and value (null for an empty document). */
export interface RawDocument {
  document: number;
  value: unknown;
}

/**
 * Decodes multi-document YAML, a JSON object or a JSON array of objects, without validating.
 * Syntax errors are ConfigErrors naming the document, line and column.
 */
export function decodeDocuments(text: string, source: string): RawDocument[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${source}: invalid JSON: ${(e as Error).message}`, { file: source, reason: (e as Error).message });
    }
    const items = Array.isArray(value) ? value : [value];
    return items.map((v, i) => ({ document: i + 1, value: v }));
  }
  const docs = yamlPackage().parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const offset = err.pos[0];
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const at = ` at line ${line}, column ${offset - before.lastIndexOf('\n')}`;
      const reason = `YAML syntax error${at}: ${err.message.split('\n')[0] ?? err.message}`;
      throw new ConfigError(`${source} document ${i + 1}: ${reason}`, { file: source, document: i + 1, reason });
    }
    return { document: i + 1, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  });
}

/**
 * Parses and validates every resource in `text`. Empty documents are skipped (they still
 * count for numbering). A `kind: List` document's `items` are taken in order. Two documents
 * naming the same kind/namespace/name are an error.
 */
/**
 * The fast reader for valid files: js-yaml with the YAML 1.2 core schema gives the same
 * values as `yaml` (no timestamps, no merge keys) in a fifth of the time on a cold process,
 * which every node pays at start and on every change of a shared file. `undefined` sends
 * the text to decodeDocuments: JSON, anchors/aliases (`yaml` bounds alias expansion), and
 * any syntax error (its messages carry line and column).
 */
export function decodeDocumentsFast(text: string): RawDocument[] | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || ANCHOR_OR_ALIAS.test(text)) return undefined;
  try {
    return loadAll(text, undefined, { schema: CORE_SCHEMA }).map((value, i) => ({ document: i + 1, value }));
  } catch {
    return undefined;
  }
}
export const ANCHOR_OR_ALIAS = /(^|[\s[{,:-])[&*][^\s&*]/m; // an anchor or alias token; "a && b" is not one

export function parseResources(text: string, source: string, opts: ValidateOptions = {}): Resource[] {
  return parseDocuments(text, source, opts, undefined).resources;
}

/** A file datastore's content: Calico resources and the v1 Secrets beside them. */
export interface FileContent {
  resources: Resource[];
  secrets: SecretResource[];
}

/** parseResources for a file datastore, where `v1 Secret` documents are also allowed. */
export function parseFileContent(text: string, source: string, opts: ValidateOptions = {}): FileContent {
  const secrets: SecretResource[] = [];
  return { resources: parseDocuments(text, source, opts, secrets).resources, secrets };
}

function parseDocuments(text: string, source: string, opts: ValidateOptions, secrets: SecretResource[] | undefined): { resources: Resource[] } {
  const fast = decodeDocumentsFast(text);
  if (fast) {
    try {
      const found: SecretResource[] = [];
      const resources = collectResources(fast, source, opts, secrets ? found : undefined);
      secrets?.push(...found);
      return { resources };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // fall through: the report comes from the reference reader, numbered exactly as it numbers documents
    }
  }
  return { resources: collectResources(decodeDocuments(text, source), source, opts, secrets) };
}

function collectResources(docs: RawDocument[], source: string, opts: ValidateOptions, secrets: SecretResource[] | undefined): Resource[] {
  const out: Resource[] = [];
  const seen = new Map<string, number>();
  for (const { document, value } of docs) {
    if (value === null || value === undefined) continue;
    const items = isList(value) ? listItems(value, source, document) : [value];
    for (const item of items) {
      if (isSecretDocument(item)) {
        if (!secrets) {
          throw new ConfigError(`${source} document ${document} (Secret): v1 Secret documents are read from a file datastore only (write it into that file, or use --secrets-dir)`, {
            file: source, document, kind: 'Secret', reason: 'v1 Secret outside a file datastore',
          });
        }
        const secret = validateSecret(item, { file: source, document });
        const key = `Secret/${secret.metadata.name}`;
        const prev = seen.get(key);
        if (prev !== undefined) {
          throw new ConfigError(`${source} document ${document} (Secret ${secret.metadata.name}): metadata.name: duplicate of document ${prev}`, {
            file: source, document, kind: 'Secret', resource: secret.metadata.name, field: 'metadata.name', reason: `duplicate of document ${prev}`,
          });
        }
        seen.set(key, document);
        secrets.push(secret);
        continue;
      }
      if (isOtherNodesAffinity(item, opts.affinitiesOf)) continue;
      const r = validateResource(item, { file: source, document }, opts);
      const key = resourceKey(r);
      const prev = seen.get(key);
      if (prev !== undefined) {
        throw new ConfigError(`${source} document ${document} (${r.kind} ${displayName(r)}): metadata.name: duplicate of document ${prev}`, {
          file: source, document, kind: r.kind, resource: r.metadata.name, field: 'metadata.name', reason: `duplicate of document ${prev}`,
        });
      }
      seen.set(key, document);
      out.push(r);
    }
  }
  return out;
}

function isList(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Obj).kind === 'string' && /List$/.test((v as Obj).kind as string);
}

function listItems(v: Obj, source: string, document: number): unknown[] {
  if (!Array.isArray(v.items)) {
    throw new ConfigError(`${source} document ${document} (${String(v.kind)}): items: must be a list`, { file: source, document, field: 'items', reason: 'must be a list' });
  }
  return v.items as unknown[];
}

/** Identity of a resource inside one datastore: "Kind/name" or "Kind/namespace/name". */
export function resourceKey(r: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return r.metadata.namespace ? `${r.kind}/${r.metadata.namespace}/${r.metadata.name}` : `${r.kind}/${r.metadata.name}`;
}

/** "name" or "namespace/name", as snapshot maps key them and messages name them. */
export function displayName(r: { metadata: { name: string; namespace?: string } }): string {
  return r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name;
}
