// Converts the Calico edge resources (Node, BGPConfiguration, BGPPeer) into the internal
// inputs of src/mesh: ClusterNode and PeerRule. A resource that does not validate is
// skipped (or its bad field ignored) with a warning; it never takes the node down.
import type { BGPConfigurationSpec, BGPPeerResource, NodeResource } from '../datastore/types.js';
import type { ClusterNode, PeerRule } from '../mesh/index.js';
import { canonicalAddress, familyOf, networkOf, type Family } from '../net/prefix.js';
import { parseSelector, type Selector } from '../selector/index.js';
import { errorMessage } from '../util/errors.js';
import { parseGoDuration } from './duration.js';
import type { AddressConfig } from './node-config.js';

export const DEFAULT_AS = 64512;
export const DEFAULT_PORT = 179;

export type Warn = (message: string) => void;

/**
 * Looks up a password secret (BGPPeer password, nodeMeshPassword): the value, or why there
 * is none ("secret bgp-secrets not found", "key tor not in secret bgp-secrets").
 */
export type SecretResolver = (name: string, key: string) => SecretLookup;
export type SecretLookup = { readonly value: string } | { readonly missing: string };

/** Linux TCP_MD5SIG_MAXKEYLEN. */
const MD5_MAX_KEY_BYTES = 80;

/**
 * A secretKeyRef → the password or why it cannot be had. Calico renders the peering without
 * a password when the secret is missing (a session silently unauthenticated); tern does not
 * start it instead.
 */
export function resolvePassword(ref: { name: string; key: string }, secrets: SecretResolver | undefined): { password: string } | { passwordUnresolved: string } {
  const found: SecretLookup = secrets ? secrets(ref.name, ref.key) : { missing: 'no secret source (a v1 Secret in the file datastore, or --secrets-dir)' };
  if ('value' in found) {
    if (found.value === '') return { passwordUnresolved: `password secret ${ref.name}/${ref.key} is empty` };
    if (Buffer.byteLength(found.value, 'utf8') > MD5_MAX_KEY_BYTES) {
      return { passwordUnresolved: `password secret ${ref.name}/${ref.key} is longer than ${MD5_MAX_KEY_BYTES} bytes (the TCP MD5 key limit)` };
    }
    return { password: found.value };
  }
  return { passwordUnresolved: `password secret ${ref.name}/${ref.key} unavailable: ${found.missing}` };
}

export interface GlobalSettings {
  readonly global: BGPConfigurationSpec;
  readonly perNode: ReadonlyMap<string, BGPConfigurationSpec>;
  readonly asNumber: number;
}

/** "10.0.0.11/24" (or a bare address, taken as a host route) → AddressConfig of `family`. */
export function parseNodeAddress(text: string, family: Family): AddressConfig {
  const [addr = '', len] = text.trim().split('/');
  const address = canonicalAddress(addr);
  if (familyOf(address) !== family) throw new Error(`"${text}" is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
  const max = family === 'ipv4' ? 32 : 128;
  const prefixLength = len === undefined ? max : Number(len);
  if (!/^\d{1,3}$/.test(len ?? String(max)) || prefixLength > max) throw new Error(`"${text}" has a bad prefix length`);
  return { address, prefixLength, network: networkOf(`${address}/${prefixLength}`) };
}

export function isValidAs(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
}

export function listenPortOf(settings: GlobalSettings, nodeName: string): { port: number; configured: boolean } {
  const port = settings.perNode.get(nodeName)?.listenPort || settings.global.listenPort || 0;
  return port > 0 ? { port, configured: true } : { port: DEFAULT_PORT, configured: false };
}

function nodeAddress(node: NodeResource, family: Family, override: string | undefined, warn: Warn): string | undefined {
  const text = override ?? (family === 'ipv4' ? node.spec.bgp?.ipv4Address : node.spec.bgp?.ipv6Address);
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseNodeAddress(text, family).address;
  } catch (err) {
    warn(`Node ${node.metadata.name}: bad ${family === 'ipv4' ? 'ipv4Address' : 'ipv6Address'} ${JSON.stringify(text)} (${errorMessage(err)}); ignored`);
    return undefined;
  }
}

export function toClusterNode(
  node: NodeResource,
  settings: GlobalSettings,
  warn: Warn,
  overrides: { ipv4?: string | undefined; ipv6?: string | undefined } = {},
): ClusterNode {
  const name = node.metadata.name;
  const bgp = node.spec.bgp ?? {};
  let asNumber = settings.asNumber;
  if (bgp.asNumber !== undefined) {
    if (isValidAs(bgp.asNumber)) asNumber = bgp.asNumber;
    else warn(`Node ${name}: bad asNumber ${JSON.stringify(bgp.asNumber)}; using the global AS ${settings.asNumber}`);
  }
  const { port, configured } = listenPortOf(settings, name);
  const ipv4 = nodeAddress(node, 'ipv4', overrides.ipv4, warn);
  const ipv6 = nodeAddress(node, 'ipv6', overrides.ipv6, warn);
  const clusterId = bgp.routeReflectorClusterID?.trim();
  return {
    name,
    labels: node.metadata.labels ?? {},
    ...(ipv4 !== undefined ? { ipv4 } : {}),
    ...(ipv6 !== undefined ? { ipv6 } : {}),
    asNumber,
    listenPort: port,
    listenPortConfigured: configured,
    ...(clusterId ? { clusterId } : {}),
  };
}

/** "ip", "ip:port", "[v6]:port" or a bare IPv6 address. */
export function parsePeerIP(text: string): { address: string; port?: number } {
  const t = text.trim();
  let host = t;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (bracket) { host = bracket[1] ?? ''; portText = bracket[2]; }
  else if (/^[^:]+:\d+$/.test(t)) { [host = '', portText] = t.split(':'); }
  const address = canonicalAddress(host);
  if (portText === undefined) return { address };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in "${text}"`);
  return { address, port };
}

function optionalSelector(text: string | undefined, what: string): Selector | undefined {
  if (text === undefined || text.trim() === '') return undefined; // absent: not "all()"
  try {
    return parseSelector(text);
  } catch (err) {
    throw new Error(`${what}: ${errorMessage(err)}`);
  }
}

function duration(text: string | undefined, field: string): number | undefined {
  return text === undefined || text.trim() === '' ? undefined : parseGoDuration(text, field);
}

/** nextHopMode as written; undefined leaves the choice to keepOriginalNextHop (per peer AS). */
function nextHopMode(spec: BGPPeerResource['spec']): PeerRule['nextHopMode'] {
  if (spec.nextHopMode === 'Self') return 'self';
  if (spec.nextHopMode === 'Keep') return 'keep';
  if (spec.nextHopMode === 'Auto') return 'auto';
  return undefined;
}

/** One BGPPeer → PeerRule; throws Error with a reason when the resource is unusable. */
function toRuleOrThrow(res: BGPPeerResource, secrets: SecretResolver | undefined, warn: Warn): PeerRule {
  const s = res.spec;
  const nodeSelector = optionalSelector(s.nodeSelector, 'nodeSelector');
  const peerSelector = optionalSelector(s.peerSelector, 'peerSelector');
  const hasPeerIP = s.peerIP !== undefined && s.peerIP.trim() !== '';
  if (hasPeerIP && peerSelector) throw new Error('peerIP and peerSelector are exclusive');
  const localWorkload = s.localWorkloadSelector !== undefined && s.localWorkloadSelector.trim() !== '';
  if (!hasPeerIP && !peerSelector && !localWorkload) throw new Error('needs peerIP, peerSelector or localWorkloadSelector');
  if (s.node && nodeSelector) throw new Error('node and nodeSelector are exclusive');
  for (const [field, v] of [['asNumber', s.asNumber], ['localASNumber', s.localASNumber]] as const) {
    if (v !== undefined && !isValidAs(v)) throw new Error(`bad ${field} ${JSON.stringify(v)}`);
  }
  let reachableBy: string | undefined;
  if (s.reachableBy !== undefined && s.reachableBy.trim() !== '') {
    reachableBy = canonicalAddress(s.reachableBy.trim());
    // confd skips the BGPPeer when reachableBy and peerIP are of different families.
    if (hasPeerIP && familyOf(reachableBy) !== familyOf(parsePeerIP(s.peerIP ?? '').address)) {
      throw new Error(`reachableBy ${reachableBy} and peerIP ${s.peerIP ?? ''} are of different families`);
    }
  }
  const ref = s.password?.secretKeyRef;
  const pw = ref ? resolvePassword(ref, secrets) : {};
  if ('passwordUnresolved' in pw) warn(`BGPPeer ${res.metadata.name}: ${pw.passwordUnresolved}; its sessions are not started`);
  return {
    name: res.metadata.name,
    ...(s.node ? { node: s.node } : {}),
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(hasPeerIP ? { peerIP: parsePeerIP(s.peerIP ?? '') } : {}),
    ...(peerSelector ? { peerSelector } : {}),
    ...(s.asNumber !== undefined ? { asNumber: s.asNumber } : {}),
    ...(s.localASNumber !== undefined ? { localAsNumber: s.localASNumber } : {}),
    useNodeIP: s.sourceAddress !== 'None',
    ...optional('keepaliveTime', duration(s.keepaliveTime, 'keepaliveTime')),
    ...optional('restartTime', duration(s.maxRestartTime, 'maxRestartTime')),
    ...optional('nextHopMode', nextHopMode(s)),
    ...(s.keepOriginalNextHop ? { keepOriginalNextHop: true } : {}),
    ...(s.numAllowedLocalASNumbers ? { allowOwnAs: s.numAllowedLocalASNumbers } : {}),
    ...(s.filters && s.filters.length > 0 ? { filters: [...s.filters] } : {}),
    ...optional('reachableBy', reachableBy),
    ...(localWorkload ? { localWorkload: true } : {}),
    ...optional('ttlSecurity', s.ttlSecurity),
    ...pw,
    reversePeering: s.reversePeering === 'Manual' ? 'manual' : 'auto',
    ...maxPrefixesOf(res, warn),
  };
}

/** The BGPPeer annotation that sets the import prefix limit (docs/operations.md). */
export const MAX_PREFIXES_ANNOTATION = 'tern/max-prefixes';

/**
 * `tern/max-prefixes`: "N" (each family) or "ipv4=N,ipv6=M" (either may be left out); N a
 * positive integer. Anything else is warned about and ignored (the peering itself stays).
 */
export function parseMaxPrefixes(text: string): { ipv4?: number; ipv6?: number } {
  const num = (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new Error(`"${v}" is not a positive integer`);
    return Number(v);
  };
  if (!text.includes('=')) { const n = num(text); return { ipv4: n, ipv6: n }; }
  const out: { ipv4?: number; ipv6?: number } = {};
  for (const part of text.split(',')) {
    const [k = '', v = '', ...more] = part.split('=').map((x) => x.trim());
    if (more.length > 0 || (k !== 'ipv4' && k !== 'ipv6')) throw new Error(`"${part.trim()}" is not ipv4=N or ipv6=N`);
    out[k] = num(v);
  }
  return out;
}

function maxPrefixesOf(res: BGPPeerResource, warn: Warn): { maxPrefixes?: { ipv4?: number; ipv6?: number } } {
  const text = res.metadata.annotations?.[MAX_PREFIXES_ANNOTATION];
  if (text === undefined) return {};
  try {
    return { maxPrefixes: parseMaxPrefixes(text) };
  } catch (err) {
    warn(`BGPPeer ${res.metadata.name}: annotation ${MAX_PREFIXES_ANNOTATION}: ${errorMessage(err)}; no import limit`);
    return {};
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function toPeerRules(peers: Iterable<BGPPeerResource>, warn: Warn, secrets?: SecretResolver): PeerRule[] {
  const out: PeerRule[] = [];
  for (const res of peers) {
    try {
      out.push(toRuleOrThrow(res, secrets, warn));
    } catch (err) {
      warn(`BGPPeer ${res.metadata.name}: ${errorMessage(err)}; skipped`);
    }
  }
  return out;
}
