// Datastore: Calico `projectcalico.org/v3` resources from a YAML/JSON file or from etcd,
// validated at the edge and handed on as immutable Snapshots.
//
//   openDatastore('file:/etc/tern/resources.yaml') → FileDatastore   (file.ts)
//   openDatastore('etcd:http://10.0.0.1:2379,http://10.0.0.2:2379') → EtcdDatastore (etcd.ts,
//   its connection in etcd-client.ts, its edits and listings in etcd-edit.ts, its problems
//   in force in etcd-problems.ts, its watch stall check in etcd-watch-check.ts, its
//   check for a watch etcd never confirmed in etcd-watch-confirm.ts, one key/value as a
//   resource in etcd-decode.ts)
//   openDatastore('') with DATASTORE_TYPE=etcdv3 and ETCD_ENDPOINTS → etcd, TLS from
//   ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE (calico-node's variables).
//
// Invariants
// - Everything in a Snapshot passed validateResource(): apiVersion projectcalico.org/v3, a
//   known kind, a DNS-1123 name, and a spec that is well formed field by field (validate*.ts);
//   the BGP kinds also passed their src/model parser, so bgpModel(snapshot) refuses nothing
//   a datastore loaded.
//   Validation errors are ConfigError naming file, document (1-based), kind/name, field and
//   reason: `config.yaml document 3 (BGPPeer tor-1): spec.asNumber: must be an integer …`.
// - Snapshots are immutable (frozen resources, write-refusing maps) and their `revision`
//   strictly increases per datastore. onChange never repeats a snapshot of equal content.
// - load() either returns a complete snapshot or throws (ConfigError for invalid content,
//   DatastoreError ERR_DATASTORE_UNREACHABLE for an etcd that does not answer within the
//   request timeout, ~5 s). After load() nothing is thrown to the caller: later invalid
//   edits and lost connections go to onError, and the last good snapshot stays in force.
// - The etcd layout is Calico's own (etcd-keys.ts): v3 JSON under
//   /calico/resources/v3/projectcalico.org/<plural>/[<ns>/]<name>, block affinities as IPAM
//   keys /calico/ipam/v2/host/<node>/ipv4/block/<net>-<len> only (a v3 blockaffinities key
//   is not read).
// - problems() is what is wrong now, as reported through onError: etcd keeps a lost
//   connection (also a failed re-read after a dropped watch; until a re-read succeeds) and
//   each key's invalid value (until the key is valid or gone) apart; onRecovered comes when none is left. The daemon's status lists problems().
// - A file datastore may also hold `v1 Secret` documents (secret.ts): the passwords that
//   secretKeyRefs name, in Snapshot.secrets. Their values never appear in messages or in
//   list(). secrets-dir.ts reads the same from a mounted Secret volume, for any datastore.
// - Inner modules do not import this folder's types (src/model/types.ts are edge types); src/peering
//   derives internal types from the Snapshot's typed model (src/model bgpModel).
//
// Async model: single-threaded; each backend debounces bursts of changes (75 ms default)
// through the injected Clock, and serialises its own writes.
import { envValue, resolveDatastoreSpec } from '../settings/index.js';
import { DatastoreError, errorMessage } from '../util/errors.js';
import type { Datastore, DatastoreOptions } from './datastore.js';
import { EtcdDatastore, type EtcdDatastoreOptions } from './etcd.js';
import { FileDatastore } from './file.js';

export type { Datastore, DatastoreOptions } from './datastore.js';
export { FileDatastore } from './file.js';
export { EtcdDatastore, type EtcdDatastoreOptions, type EtcdTls } from './etcd.js';
export { parseResources, parseFileContent, validateResource, decodeDocuments, resourceKey, displayName, type FileContent, type ValidateOptions, type Where } from './validate.js';
export { validateSecret } from './secret.js';
export { secretValue, type SecretResource } from '../model/secret.js';
export { parseDuration, formatDuration, DurationError } from '../model/duration.js';
export { buildSnapshot, emptySnapshot, snapshotResources, resourcesOfKind, sameContent, SnapshotCounter, SNAPSHOT_FIELD } from './snapshot.js';
export { affinityKey, affinityName, parseEtcdKey, resourceEtcdKey, RESOURCE_PREFIX, AFFINITY_PREFIX } from './etcd-keys.js';
export * from '../model/types.js';

/**
 * Opens a datastore from a spec: "file:PATH", "etcd:URL[,URL...]" (URLs http:// or
 * https://; a bare host:port gets http://). An empty spec falls back to the environment:
 * DATASTORE_TYPE=etcdv3 with ETCD_ENDPOINTS. Nothing is read until load().
 */
export function openDatastore(spec: string | undefined, opts: DatastoreOptions = {}): Datastore {
  const env = opts.env; // undefined: the process environment, read by src/settings
  let text = (spec ?? '').trim();
  if (text === '') {
    try {
      text = resolveDatastoreSpec(undefined, env);
    } catch (err) {
      throw new DatastoreError('ERR_DATASTORE_SPEC', errorMessage(err));
    }
  }
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new DatastoreError('ERR_DATASTORE_SPEC', `"${text}": file path missing`);
    return new FileDatastore(path, opts);
  }
  if (text.startsWith('etcd:') || text.startsWith('etcdv3:')) {
    const list = text.slice(text.indexOf(':') + 1);
    const endpoints = list.split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (endpoints.length === 0) throw new DatastoreError('ERR_DATASTORE_SPEC', `"${text}": no etcd endpoints`);
    const urls = endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`));
    const etcdOpts: EtcdDatastoreOptions = {
      ...opts,
      tls: { caFile: envValue('ETCD_CA_CERT_FILE', env), certFile: envValue('ETCD_CERT_FILE', env), keyFile: envValue('ETCD_KEY_FILE', env) },
      username: envValue('ETCD_USERNAME', env),
      password: envValue('ETCD_PASSWORD', env),
    };
    return new EtcdDatastore(urls, etcdOpts);
  }
  throw new DatastoreError('ERR_DATASTORE_SPEC', `unknown datastore "${text}": use "file:PATH" or "etcd:URL[,URL...]"`);
}
