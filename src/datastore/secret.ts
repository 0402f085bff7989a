// Kubernetes `v1 Secret` documents, which a file datastore may hold beside the Calico
// resources: the passwords that BGPPeer `password.secretKeyRef` and BGPConfiguration
// `nodeMeshPassword.secretKeyRef` name (Calico reads them from the Kubernetes API).
//
// Invariants
// - A secret value never appears in an error message, a log line or `tern get` output:
//   messages name the document, the secret and the key only.
// - `stringData` wins over `data` for the same key (what the Kubernetes API server does
//   when it stores a Secret); `data` values are base64 (RFC 4648, standard alphabet).
// - Secrets are looked up by name; the namespace is kept but not used to select (tern has
//   one set of secrets, as calico-node reads one namespace).
import { Checker, type Obj, type Where } from './checker.js';
import type { ObjectMeta } from './types.js';

export interface SecretResource {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  immutable?: boolean;
  /** base64 values, as Kubernetes stores them. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** True for a decoded document that is a v1 Secret (validated separately from Calico kinds). */
export function isSecretDocument(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Obj).kind === 'Secret' && (v as Obj).apiVersion === 'v1';
}

const METADATA_FIELDS = ['name', 'namespace', 'labels', 'annotations', 'resourceVersion', 'uid', 'creationTimestamp'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const KEY = /^[-._a-zA-Z0-9]+$/; // Kubernetes: a Secret key is a config-map key

/** Validates a v1 Secret; ConfigErrors name fields and keys, never values. */
export function validateSecret(obj: unknown, where: Where = {}): SecretResource {
  const c = new Checker(where, true);
  c.kind = 'Secret';
  const o = c.object(obj, '');
  c.knownFields(o, ['apiVersion', 'kind', 'metadata', 'type', 'immutable', 'data', 'stringData'], '');
  const m = c.object(o.metadata ?? null, 'metadata');
  c.knownFields(m, METADATA_FIELDS, 'metadata');
  if (m.name === undefined || m.name === null || m.name === '') c.fail('metadata.name', 'is required');
  c.name = c.dnsName(m.name, 'metadata.name');
  const metadata: ObjectMeta = { name: c.name };
  if (m.namespace !== undefined && m.namespace !== null && m.namespace !== '') metadata.namespace = c.dnsName(m.namespace, 'metadata.namespace');
  for (const k of ['labels', 'annotations'] as const) if (m[k] !== undefined && m[k] !== null) metadata[k] = c.stringMap(m[k], `metadata.${k}`);
  const out: SecretResource = { apiVersion: 'v1', kind: 'Secret', metadata };
  const type = c.optString(o, 'type', '');
  if (type !== undefined) out.type = type;
  const immutable = c.optBool(o, 'immutable', '');
  if (immutable !== undefined) out.immutable = immutable;
  const data = valueMap(c, o.data, 'data');
  if (data) {
    for (const [k, v] of Object.entries(data)) if (!BASE64.test(v.replace(/\s+/g, ''))) c.fail(`data.${k}`, 'must be base64 (the value is not shown)');
    out.data = data;
  }
  const stringData = valueMap(c, o.stringData, 'stringData');
  if (stringData) out.stringData = stringData;
  return out;
}

/** A map of key → string value; messages never include a value. */
function valueMap(c: Checker, v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = c.object(v, path);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (!KEY.test(k)) c.fail(`${path}.${k}`, "is not a valid key (letters, digits, '-', '_' and '.')");
    if (typeof val !== 'string') c.fail(`${path}.${k}`, 'must be a string (quote it; the value is not shown)');
    out[k] = val;
  }
  return out;
}

/** The value of `key` in `secret` (stringData first, then base64-decoded data). */
export function secretValue(secret: SecretResource, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8');
}
