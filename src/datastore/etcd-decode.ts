// One etcd key/value as a tern resource: the key says what it must hold (etcd-keys.ts,
// Calico's layout), the value is JSON validated as that kind. An IPAM affinity key becomes
// a BlockAffinity resource; a v3 resource must sit under its own key (kind, name and
// namespace match). The key's mod revision is the resource's resourceVersion.
import type { IKeyValue } from 'etcd3';
import type { Resource } from '../model/types.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import { affinityResource, parseEtcdKey } from './etcd-keys.js';
import { validateResource } from './validate.js';

/** The resource `kv` holds; undefined for a key tern ignores; ConfigError for a bad value. */
export function decodeKeyValue(key: string, kv: IKeyValue): Resource | undefined {
  const parsed = parseEtcdKey(key);
  if (!parsed) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(kv.value.toString());
  } catch (e) {
    throw new ConfigError(`${key}: invalid JSON: ${errorMessage(e)}`, { file: key, reason: 'invalid JSON' });
  }
  if (parsed.type === 'affinity') {
    return validateResource(affinityResource(parsed.node, parsed.cidr, value, kv.mod_revision), { file: key }, { unknownFields: 'keep' });
  }
  const r = validateResource(value, { file: key }, { unknownFields: 'keep' });
  if (r.kind !== parsed.kind || r.metadata.name !== parsed.name || (parsed.namespace !== undefined && r.metadata.namespace !== parsed.namespace)) {
    throw new ConfigError(`${key}: holds ${r.kind} ${r.metadata.name}, which belongs under another key`, { file: key, reason: 'key mismatch' });
  }
  r.metadata.resourceVersion = kv.mod_revision;
  return r;
}
