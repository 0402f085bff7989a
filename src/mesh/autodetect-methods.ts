// calico-node's IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD (its
// autodetection_methods.go), over an interface table shaped like os.networkInterfaces():
//   first-found (or empty)   default exclusions (EXCLUDED_INTERFACES)
//   interface=RE[,RE…]       only matching interfaces, NO default exclusions
//   skip-interface=RE[,RE…]  default exclusions plus these
//   cidr=CIDR[,CIDR…]        any interface, an address inside one of the CIDRs
//   can-reach=DEST           the source address the kernel picks toward DEST (UDP connect
//                            to DEST:80, nothing sent), with its interface's prefix length
// Patterns are regular expressions matched anywhere in the name (unanchored), comma
// separated with optional spaces, as calico-node splits them. `kubernetes-internal-ip`
// needs the Kubernetes API, which tern does not use: refused with a clear error.
import dgram from 'node:dgram';
import os from 'node:os';
import { canonicalAddress, canonicalPrefix, familyOf, type Family } from '../net/prefix.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import { EXCLUDED_INTERFACES, filteredEnumeration, interfaceAddresses, type DetectedAddress, type InterfaceTable } from './autodetect.js';

export type AutodetectMethod =
  | { readonly kind: 'first-found' }
  | { readonly kind: 'interface'; readonly patterns: readonly RegExp[] }
  | { readonly kind: 'skip-interface'; readonly patterns: readonly RegExp[] }
  | { readonly kind: 'cidr'; readonly cidrs: readonly string[] }
  | { readonly kind: 'can-reach'; readonly destination: string };

const list = (text: string): string[] => text.split(/\s*,\s*/).filter((x) => x !== '');

/** Parses a method; `variable` names the setting in errors. Throws ConfigError. */
export function parseAutodetectMethod(text: string | undefined, family: Family, variable: string): AutodetectMethod {
  const t = (text ?? '').trim();
  const bad = (why: string): never => {
    throw new ConfigError(`${variable}=${JSON.stringify(t)}: ${why}`, { field: variable, reason: why });
  };
  if (t === '' || t === 'first-found') return { kind: 'first-found' };
  const regexes = (s: string): RegExp[] => list(s).map((p) => {
    try { return new RegExp(p); } catch (e) { return bad(`invalid interface pattern ${JSON.stringify(p)}: ${errorMessage(e)}`); }
  });
  if (t.startsWith('interface=')) {
    const patterns = regexes(t.slice('interface='.length));
    return patterns.length ? { kind: 'interface', patterns } : bad('no interface pattern');
  }
  if (t.startsWith('skip-interface=')) {
    const patterns = regexes(t.slice('skip-interface='.length));
    return patterns.length ? { kind: 'skip-interface', patterns } : bad('no interface pattern');
  }
  if (t.startsWith('cidr=')) {
    const cidrs = list(t.slice('cidr='.length)).map((c) => {
      try { return canonicalPrefix(c); } catch (e) { return bad(`invalid CIDR ${JSON.stringify(c)}: ${errorMessage(e)}`); }
    });
    return cidrs.length ? { kind: 'cidr', cidrs } : bad('no CIDR');
  }
  if (t.startsWith('can-reach=')) {
    const dest = t.slice('can-reach='.length).trim();
    if (dest === '') bad('no destination');
    try {
      const address = canonicalAddress(dest);
      if (familyOf(address) !== family) bad(`${dest} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
      return { kind: 'can-reach', destination: address };
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      return { kind: 'can-reach', destination: dest }; // a host name: resolved by connect
    }
  }
  if (t.startsWith('kubernetes-internal-ip')) bad('needs the Kubernetes API, which tern does not read; use cidr=, interface= or can-reach=');
  return bad('unknown method (first-found, interface=, skip-interface=, cidr=, can-reach=)');
}

/** The address a table-based method picks (every method but can-reach). */
export function detectFromTable(table: InterfaceTable, family: Family, method: Exclude<AutodetectMethod, { kind: 'can-reach' }>): DetectedAddress | undefined {
  switch (method.kind) {
    case 'first-found': return filteredEnumeration(table, family, { exclude: EXCLUDED_INTERFACES });
    case 'interface': return filteredEnumeration(table, family, { include: method.patterns });
    case 'skip-interface': return filteredEnumeration(table, family, { exclude: [...EXCLUDED_INTERFACES, ...method.patterns] });
    case 'cidr': return filteredEnumeration(table, family, { cidrs: method.cidrs });
  }
}

/** An address with the prefix length of the interface that holds it (calico-node's GetLocalCIDR). */
export function withLocalPrefix(table: InterfaceTable, address: string): DetectedAddress | undefined {
  const a = canonicalAddress(address);
  return interfaceAddresses(table, familyOf(a)).find((d) => d.address === a);
}

/** The source address the kernel uses toward `destination` (UDP connect; nothing is sent). */
export async function sourceToward(destination: string, family: Family): Promise<string> {
  const sock = dgram.createSocket(family === 'ipv4' ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(80, destination, () => resolve());
    });
    return canonicalAddress(sock.address().address);
  } finally {
    sock.close();
  }
}

/** Runs a method on this host; undefined when it finds nothing. */
export async function detectAddress(family: Family, method: AutodetectMethod, table: InterfaceTable = os.networkInterfaces()): Promise<DetectedAddress | undefined> {
  if (method.kind !== 'can-reach') return detectFromTable(table, family, method);
  let source: string;
  try {
    source = await sourceToward(method.destination, family);
  } catch {
    return undefined;
  }
  return withLocalPrefix(table, source);
}
