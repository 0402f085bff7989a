// Command-line and environment resolution, with calico-node's variable names:
// NODENAME, IP, IP6, IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD, CALICO_ROUTER_ID,
// AS, BGP_LOGSEVERITYSCREEN, DATASTORE_TYPE (etcdv3 | file), ETCD_ENDPOINTS, and
// TERN_DATASTORE (a full "file:PATH" / "etcd:URL" spec). docs/operations.md lists them all.
import os from 'node:os';
import { canonicalAddress, familyOf, type Family } from '../net/prefix.js';
import { parseAutodetectMethod } from '../mesh/autodetect-methods.js';
import type { AddressSetting, NodeIdentity } from '../mesh/node-address.js';
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

function addressSetting(value: string | undefined, family: Family, env: NodeJS.ProcessEnv): AddressSetting {
  const variable = family === 'ipv4' ? 'IP' : 'IP6';
  const methodVar = family === 'ipv4' ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD';
  const v = (value ?? '').trim();
  const method = () => parseAutodetectMethod(env[methodVar], family, methodVar);
  if (v.toLowerCase() === 'autodetect') return { kind: 'autodetect', method: method(), always: true };
  // IP unset: detect when nothing is stored; IP6 unset: IPv6 only if stored (calico-node).
  if (v === '') return family === 'ipv4' ? { kind: 'autodetect', method: method(), always: false } : { kind: 'none' };
  if (v.toLowerCase() === 'none') return { kind: 'none' };
  const [addr, len, extra] = v.split('/');
  try {
    const a = canonicalAddress(addr ?? '');
    if (familyOf(a) !== family) throw new Error(`not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
    const max = family === 'ipv4' ? 32 : 128;
    if (extra !== undefined || (len !== undefined && !(/^\d+$/.test(len) && Number(len) <= max))) throw new Error(`bad prefix length`);
    return { kind: 'literal', value: len === undefined ? a : `${a}/${Number(len)}` };
  } catch (e) {
    throw new ConfigError(`${variable}=${JSON.stringify(v)}: ${(e as Error).message} (give ADDR[/LEN], "autodetect" or "none")`, { field: variable, reason: 'bad address' });
  }
}

/** calico-node's ASNumberFromString: plain ("64512") or dotted ("1.10" = 1·65536+10). */
export function parseAsNumber(text: string, variable = 'AS'): number {
  const t = text.trim();
  const dotted = /^(\d+)\.(\d+)$/.exec(t);
  const n = dotted ? Number(dotted[1]) * 65536 + Number(dotted[2]) : /^\d+$/.test(t) ? Number(t) : NaN;
  const ok = Number.isInteger(n) && n >= 1 && n <= 4294967295 && (!dotted || (Number(dotted[1]) <= 65535 && Number(dotted[2]) <= 65535));
  if (!ok) throw new ConfigError(`${variable}=${JSON.stringify(t)}: not an AS number (1–4294967295, or dotted A.B)`, { field: variable, reason: 'bad AS number' });
  return n;
}

/** Flags first (--ip, --ip6), then calico-node's environment. Throws ConfigError on bad values. */
export function resolveIdentity(flags: { ip?: string | undefined; ip6?: string | undefined }, env: NodeJS.ProcessEnv = process.env): NodeIdentity {
  const routerIdText = (env.CALICO_ROUTER_ID ?? '').trim();
  let routerId: string | undefined;
  if (routerIdText.toLowerCase() === 'hash') routerId = 'hash';
  else if (routerIdText !== '') {
    try {
      routerId = canonicalAddress(routerIdText);
      if (familyOf(routerId) !== 'ipv4') throw new Error('not IPv4');
    } catch {
      throw new ConfigError(`CALICO_ROUTER_ID=${JSON.stringify(routerIdText)}: must be an IPv4 address or "hash"`, { field: 'CALICO_ROUTER_ID', reason: 'bad router id' });
    }
  }
  const asText = (env.AS ?? '').trim();
  const severity = (env.BGP_LOGSEVERITYSCREEN ?? '').trim();
  return {
    ipv4: addressSetting(flags.ip ?? env.IP, 'ipv4', env),
    ipv6: addressSetting(flags.ip6 ?? env.IP6, 'ipv6', env),
    ...(routerId ? { routerId } : {}),
    ...(asText ? { asNumber: parseAsNumber(asText) } : {}),
    ...(severity ? { logSeverityScreen: severity } : {}),
  };
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
