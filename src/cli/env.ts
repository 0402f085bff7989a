// Command-line and environment resolution, with calico-node's variable names:
// NODENAME, IP, IP6, DATASTORE_TYPE (etcdv3 | file), ETCD_ENDPOINTS, and TERN_DATASTORE
// (a full "file:PATH" / "etcd:URL" spec).
import os from 'node:os';
import { ConfigError } from '../util/errors.js';

export function resolveDatastoreSpec(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return normaliseSpec(flag);
  if (env.TERN_DATASTORE) return normaliseSpec(env.TERN_DATASTORE);
  const type = (env.DATASTORE_TYPE ?? '').toLowerCase();
  if (type === 'etcdv3' || (!type && env.ETCD_ENDPOINTS)) {
    if (!env.ETCD_ENDPOINTS) throw new ConfigError('DATASTORE_TYPE=etcdv3 needs ETCD_ENDPOINTS (e.g. http://127.0.0.1:2379)');
    return `etcd:${env.ETCD_ENDPOINTS}`;
  }
  if (type === 'kubernetes') throw new ConfigError('DATASTORE_TYPE=kubernetes is not supported; use etcdv3 or a file (--datastore file:PATH)');
  if (type === 'file' && env.TERN_DATASTORE_FILE) return `file:${env.TERN_DATASTORE_FILE}`;
  throw new ConfigError('no datastore given: use --datastore file:PATH or etcd:URL[,URL...] (or DATASTORE_TYPE=etcdv3 with ETCD_ENDPOINTS)');
}

function normaliseSpec(spec: string): string {
  if (spec.startsWith('file:') || spec.startsWith('etcd:')) return spec;
  if (/^https?:\/\//.test(spec)) return `etcd:${spec}`;
  throw new ConfigError(`datastore "${spec}" must start with file: or etcd:`);
}

export function resolveNodeName(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const name = flag ?? env.NODENAME ?? env.HOSTNAME ?? os.hostname();
  if (!name) throw new ConfigError('no node name: use --node NAME or NODENAME');
  return name;
}

/** calico-node's IP / IP6: an address with length, "autodetect", "none", or unset. */
export function resolveAddressFlag(flag: string | undefined, envValue: string | undefined): string | undefined {
  const v = flag ?? envValue;
  if (!v || v.toLowerCase() === 'autodetect' || v.toLowerCase() === 'none') return undefined;
  return v;
}

/**
 * Felix's DefaultEndpointToHostAction (env FELIX_DEFAULTENDPOINTTOHOSTACTION): what happens to
 * workload-to-host traffic after the workload's egress policy. Drop (Felix's default), Accept
 * or Return (Calico's Kubernetes manifests set Accept).
 */
export function resolveEndpointToHostAction(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): 'Drop' | 'Accept' | 'Return' {
  const v = (flag ?? env.FELIX_DEFAULTENDPOINTTOHOSTACTION ?? 'Drop').trim().toLowerCase();
  if (v === 'drop') return 'Drop';
  if (v === 'accept') return 'Accept';
  if (v === 'return') return 'Return';
  throw new ConfigError(`DefaultEndpointToHostAction must be Drop, Accept or Return (got "${flag ?? env.FELIX_DEFAULTENDPOINTTOHOSTACTION}")`);
}
