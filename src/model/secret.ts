// Kubernetes `v1 Secret` documents as tern holds them (validated by src/datastore/secret.ts):
// the passwords that BGPPeer `password.secretKeyRef` and BGPConfiguration
// `nodeMeshPassword.secretKeyRef` name. A value never appears in a message or a log line.
import { Buffer } from 'node:buffer';
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

/** The value of `key` in `secret` (stringData first, then base64-decoded data). */
export function secretValue(secret: SecretResource, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8');
}
