// The etcd datastore's edits and listings (`tern apply`, `get`, `delete`): single requests
// on the connection, in Calico's layout (etcd-keys.ts). They neither read nor change the
// watched state; what they write reaches a watching datastore through its watch.
// A BlockAffinity is written to, listed from and deleted at its IPAM affinity key, never
// under the v3 resource prefix (which no reader of this datastore reads: etcd-keys.ts).
import type { IKeyValue } from 'etcd3';
import { ConfigError } from '../util/errors.js';
import { NAMESPACED, type Resource, type ResourceKind } from '../model/types.js';
import type { EtcdConnection } from './etcd-client.js';
import { decodeKeyValue } from './etcd-decode.js';
import { affinityValue, kindPrefix, prefixEnd, resourceEtcdKey, storedForm } from './etcd-keys.js';
import { validateResource } from './validate.js';

/** Validates every resource, then writes them all in one transaction. */
export async function applyResources(connection: EtcdConnection, resources: Resource[]): Promise<void> {
  const valid = resources.map((r, i) => validateResource(r, { document: i + 1 }));
  const puts: { key: string; value: string }[] = [];
  for (const r of valid) {
    const key = resourceEtcdKey(r);
    if (r.kind === 'BlockAffinity') {
      puts.push({ key, value: affinityValue(r) });
      continue;
    }
    const existing = await connection.request(() => connection.client.get(key).string());
    puts.push({ key, value: JSON.stringify(storedForm(r, existing)) });
  }
  await connection.request(() =>
    connection.client.kv.txn(
      { success: puts.map((p) => ({ request_put: { key: Buffer.from(p.key), value: Buffer.from(p.value) } })) },
      { deadline: connection.deadline() },
    ),
  );
}

/** Removes one resource; false when it did not exist. */
export async function deleteResource(connection: EtcdConnection, kind: ResourceKind, name: string, namespace?: string): Promise<boolean> {
  let key: string;
  if (kind === 'BlockAffinity') {
    const found = (await listResources(connection, 'BlockAffinity', name))[0];
    if (!found || found.kind !== 'BlockAffinity') return false;
    key = resourceEtcdKey(found);
  } else {
    key = kindPrefix(kind, NAMESPACED.has(kind) ? namespace ?? 'default' : undefined) + name;
  }
  const res = await connection.request(() => connection.client.delete().key(key).exec());
  return Number(res.deleted) > 0;
}

/** Resources of a kind as stored now (every node's affinities); invalid values are left out. */
export async function listResources(connection: EtcdConnection, kind: ResourceKind, name?: string, namespace?: string): Promise<Resource[]> {
  const prefix = kindPrefix(kind, namespace);
  const res = await connection.request(() =>
    connection.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }, { deadline: connection.deadline() }),
  );
  const out: Resource[] = [];
  for (const kv of res.kvs) {
    const r = decodeOrSkip(kv);
    if (r && r.kind === kind && (name === undefined || r.metadata.name === name)) out.push(r);
  }
  return out;
}

function decodeOrSkip(kv: IKeyValue): Resource | undefined {
  try {
    return decodeKeyValue(kv.key.toString(), kv);
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
}
