// Resolution of the settings that combine a flag with calico-node's environment: the
// datastore spec (TERN_DATASTORE, or DATASTORE_TYPE with ETCD_ENDPOINTS / TERN_DATASTORE_FILE),
// the node name (NODENAME, HOSTNAME), the logger, the secrets directory and Felix's
// DefaultEndpointToHostAction. The node's identity (IP, IP6, …) is resolved by
// src/cli/identity.ts. Variables are read through envValue(), so an empty variable counts
// as unset everywhere.
import os from 'node:os';
import { ConfigError } from '../util/errors.js';
import { envValue, type Env } from './registry.js';

export function resolveDatastoreSpec(flag: string | undefined, env: Env = process.env): string {
  if (flag) return normaliseSpec(flag);
  const spec = envValue('TERN_DATASTORE', env);
  if (spec) return normaliseSpec(spec);
  const type = (envValue('DATASTORE_TYPE', env) ?? '').toLowerCase();
  const endpoints = envValue('ETCD_ENDPOINTS', env);
  if (type === 'etcdv3' || (!type && endpoints)) {
    if (!endpoints) throw new ConfigError('DATASTORE_TYPE=etcdv3 needs ETCD_ENDPOINTS (e.g. http://127.0.0.1:2379)');
    return `etcd:${endpoints}`;
  }
  if (type === 'kubernetes') throw new ConfigError('DATASTORE_TYPE=kubernetes is not supported; use etcdv3 or a file (--datastore file:PATH)');
  const file = envValue('TERN_DATASTORE_FILE', env);
  if (type === 'file' && file) return `file:${file}`;
  throw new ConfigError('no datastore given: use --datastore file:PATH or etcd:URL[,URL...] (or DATASTORE_TYPE=etcdv3 with ETCD_ENDPOINTS)');
}

function normaliseSpec(spec: string): string {
  if (spec.startsWith('file:') || spec.startsWith('etcd:')) return spec;
  if (/^https?:\/\//.test(spec)) return `etcd:${spec}`;
  throw new ConfigError(`datastore "${spec}" must start with file: or etcd:`);
}

export function resolveNodeName(flag: string | undefined, env: Env = process.env): string {
  const name = flag ?? envValue('NODENAME', env) ?? envValue('HOSTNAME', env) ?? os.hostname();
  if (!name) throw new ConfigError('no node name: use --node NAME or NODENAME');
  return name;
}

/** The control socket: the flag, else TERN_SOCKET, else `fallback`. */
export function resolveSocket(flag: string | undefined, fallback: string, env: Env = process.env): string {
  return flag ?? envValue('TERN_SOCKET', env) ?? fallback;
}

/** The logger's settings: TERN_LOG_FORMAT=json, and the level (flag, else TERN_LOG_LEVEL, else info). */
export function logSettings(levelFlag: string | undefined, env: Env = process.env): { json: boolean; level: string } {
  return { json: envValue('TERN_LOG_FORMAT', env) === 'json', level: levelFlag ?? envValue('TERN_LOG_LEVEL', env) ?? 'info' };
}

/**
 * Felix's DefaultEndpointToHostAction (env FELIX_DEFAULTENDPOINTTOHOSTACTION): what happens to
 * workload-to-host traffic after the workload's egress policy. Drop (Felix's default), Accept
 * or Return (Calico's Kubernetes manifests set Accept).
 */
export function resolveEndpointToHostAction(flag: string | undefined, env: Env = process.env): 'Drop' | 'Accept' | 'Return' {
  const given = flag ?? envValue('FELIX_DEFAULTENDPOINTTOHOSTACTION', env);
  const v = (given ?? 'Drop').trim().toLowerCase();
  if (v === 'drop') return 'Drop';
  if (v === 'accept') return 'Accept';
  if (v === 'return') return 'Return';
  throw new ConfigError(`DefaultEndpointToHostAction must be Drop, Accept or Return (got "${given}")`);
}

/**
 * Felix's FailsafeInboundHostPorts / FailsafeOutboundHostPorts as given (flag, else
 * FELIX_FAILSAFEINBOUNDHOSTPORTS / FELIX_FAILSAFEOUTBOUNDHOSTPORTS); undefined means Felix's
 * defaults. src/acl/hostendpoints.ts parses the list.
 */
export function resolveFailsafePorts(flag: string | undefined, which: 'inbound' | 'outbound', env: Env = process.env): string | undefined {
  return flag ?? envValue(which === 'inbound' ? 'FELIX_FAILSAFEINBOUNDHOSTPORTS' : 'FELIX_FAILSAFEOUTBOUNDHOSTPORTS', env);
}

/** The secrets directory: --secrets-dir, else TERN_SECRETS_DIR. */
export function resolveSecretsDir(flag: string | undefined, env: Env = process.env): string | undefined {
  return flag ?? envValue('TERN_SECRETS_DIR', env);
}
