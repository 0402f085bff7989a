// This node's identity from the flags and calico-node's environment (read through
// src/settings): the IPv4 and IPv6 address settings (IP, IP6 with IP_AUTODETECTION_METHOD,
// IP6_AUTODETECTION_METHOD), CALICO_ROUTER_ID, AS and BGP_LOGSEVERITYSCREEN. The daemon
// applies it (src/daemon/node-address.ts).
import { canonicalAddress, familyOf, type Family } from '../net/prefix.js';
import { parseAutodetectMethod } from '../daemon/autodetect-methods.js';
import type { AddressSetting, NodeIdentity } from '../daemon/node-address.js';
import { parseAsNumber } from '../model/asn.js';
import { envValue, type Env } from '../settings/index.js';
import { parseNodeAddress } from '../model/parse-bgp.js';
import { ConfigError, errorMessage } from '../util/errors.js';

function addressSetting(value: string | undefined, family: Family, env: Env | undefined): AddressSetting {
  const variable = family === 'ipv4' ? 'IP' : 'IP6';
  const methodVar = family === 'ipv4' ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD';
  const v = (value ?? '').trim();
  const method = () => parseAutodetectMethod(envValue(methodVar, env), family, methodVar);
  if (v.toLowerCase() === 'autodetect') return { kind: 'autodetect', method: method(), always: true };
  // IP unset: detect when nothing is stored; IP6 unset: IPv6 only if stored (calico-node).
  if (v === '') return family === 'ipv4' ? { kind: 'autodetect', method: method(), always: false } : { kind: 'none' };
  if (v.toLowerCase() === 'none') return { kind: 'none' };
  try {
    // The Node address grammar (an address, or address/len); a bare address stays bare so
    // the daemon can take its length from the local interface (node-address.ts).
    const a = parseNodeAddress(v, family);
    return { kind: 'literal', value: v.includes('/') ? `${a.address}/${a.prefixLength}` : a.address };
  } catch (e) {
    throw new ConfigError(`${variable}=${JSON.stringify(v)}: ${errorMessage(e)} (give ADDR[/LEN], "autodetect" or "none")`, { field: variable, reason: 'bad address' });
  }
}

/** Flags first (--ip, --ip6), then calico-node's environment. Throws ConfigError on bad values. */
export function resolveIdentity(flags: { ip?: string | undefined; ip6?: string | undefined }, env?: Env): NodeIdentity {
  const routerIdText = (envValue('CALICO_ROUTER_ID', env) ?? '').trim();
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
  const asText = (envValue('AS', env) ?? '').trim();
  const severity = (envValue('BGP_LOGSEVERITYSCREEN', env) ?? '').trim();
  return {
    ipv4: addressSetting(flags.ip ?? envValue('IP', env), 'ipv4', env),
    ipv6: addressSetting(flags.ip6 ?? envValue('IP6', env), 'ipv6', env),
    ...(routerId ? { routerId } : {}),
    ...(asText ? { asNumber: parseAsNumber(asText) } : {}),
    ...(severity ? { logSeverityScreen: severity } : {}),
  };
}
