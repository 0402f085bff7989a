// Parsers of the BGP kinds Node, BGPConfiguration and BGPPeer: one function per kind, from
// the resource to its typed value (model/bgp.ts). A field that cannot be used is left out and
// its ModelError kept in `refused`; a resource that cannot be used at all throws ModelError.
// Validation (src/datastore) calls the same functions, so what it accepts runs as it was read.
import { canonicalAddress, familyOf, networkOf, parsePrefix, canonicalPrefix, type Family } from '../net/prefix.js';
import { parseSelector, SelectorError, type Selector } from '../selector/index.js';
import { errorMessage } from '../util/errors.js';
import { isValidAs } from './asn.js';
import { communityValue } from './community.js';
import { durationField } from './duration.js';
import { ModelError } from './errors.js';
import { parsePeerIP, type PeerIP } from './peer-ip.js';
import type { BgpConfiguration, BgpNode, BgpPeer, CidrValue, NodeAddress, SecretRef } from './bgp.js';
import type { BGPConfigurationResource, BGPPeerResource, BGPPeerSpec, NodeResource } from './types.js';
import { PRIORITY_EXPECTED, routePriority } from './route-priority.js';

/** Present: a string with something other than blanks. */
export function given(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * A Node's BGP address of `family`: "10.0.0.11/24" (host bits allowed: the address and its
 * subnet) or a bare address, taken as a host route (/32, /128). Calico's grammar for
 * `spec.bgp.ipv4Address`/`ipv6Address` (its validator's cidrv4/cidrv6: a CIDR or an IP);
 * validation, the model and `--ip`/IP/IP6 all parse with it. Throws Error naming the reason.
 */
export function parseNodeAddress(text: string, family: Family): NodeAddress {
  const famText = family === 'ipv4' ? 'IPv4' : 'IPv6';
  const [addr = '', len, extra] = text.trim().split('/');
  let address: string;
  try {
    address = canonicalAddress(addr);
  } catch {
    throw new Error(`"${text}" is not a valid ${famText} address or CIDR`);
  }
  if (familyOf(address) !== family) throw new Error(`"${text}" is not an ${famText} ${len === undefined ? 'address' : 'CIDR'}`);
  const max = family === 'ipv4' ? 32 : 128;
  const prefixLength = len === undefined ? max : Number(len);
  if (extra !== undefined || !/^\d{1,3}$/.test(len ?? String(max)) || prefixLength > max) throw new Error(`"${text}" has a bad prefix length`);
  return { address, prefixLength, network: networkOf(`${address}/${prefixLength}`) };
}

/**
 * A Calico selector, or the reason it is refused: `invalid selector "<text>": <reason> at
 * position <n>`. The one place a selector field's refusal is worded (validation uses it too).
 */
export function selectorField(text: string): { selector: Selector } | { reason: string } {
  try {
    return { selector: parseSelector(text) };
  } catch (e) {
    if (e instanceof SelectorError) return { reason: `invalid selector "${text}": ${e.reason} at position ${e.position}` };
    return { reason: errorMessage(e) };
  }
}

// ------------------------------------------------------------------------------------ Node

export function parseNode(r: NodeResource): BgpNode {
  const name = r.metadata.name;
  const bgp = r.spec.bgp ?? {};
  const refused: ModelError[] = [];
  const address = (family: Family): NodeAddress | undefined => {
    const field = family === 'ipv4' ? 'ipv4Address' : 'ipv6Address';
    const text = bgp[field];
    if (!given(text)) return undefined;
    try {
      return parseNodeAddress(text, family);
    } catch (e) {
      refused.push(new ModelError('Node', name, `spec.bgp.${field}`, errorMessage(e)));
      return undefined;
    }
  };
  const ipv4 = address('ipv4');
  const ipv6 = address('ipv6');
  let asNumber: number | undefined;
  if (bgp.asNumber !== undefined && bgp.asNumber !== null) {
    if (isValidAs(bgp.asNumber)) asNumber = bgp.asNumber;
    else refused.push(new ModelError('Node', name, 'spec.bgp.asNumber', `must be an integer 1..4294967295, got ${JSON.stringify(bgp.asNumber)}`));
  }
  const clusterId = typeof bgp.routeReflectorClusterID === 'string' ? bgp.routeReflectorClusterID.trim() : '';
  return {
    name,
    labels: r.metadata.labels ?? {},
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(asNumber !== undefined ? { asNumber } : {}),
    ...(clusterId ? { clusterId } : {}),
    refused,
  };
}

// ------------------------------------------------------------------------ BGPConfiguration

export function parseBgpConfiguration(r: BGPConfigurationResource): BgpConfiguration {
  const name = r.metadata.name;
  const s = r.spec;
  const refused: ModelError[] = [];
  const refuse = (field: string, reason: string) => refused.push(new ModelError('BGPConfiguration', name, field, reason));
  let asNumber: number | undefined;
  if (s.asNumber !== undefined && s.asNumber !== null) {
    if (isValidAs(s.asNumber)) asNumber = s.asNumber;
    else refuse('spec.asNumber', `must be an integer 1..4294967295, got ${JSON.stringify(s.asNumber)}`);
  }
  let restart: number | undefined;
  if (s.nodeMeshMaxRestartTime !== undefined && s.nodeMeshMaxRestartTime !== null) {
    const d = durationField(s.nodeMeshMaxRestartTime);
    if ('seconds' in d) restart = Math.round(d.seconds);
    else refuse('spec.nodeMeshMaxRestartTime', d.reason);
  }
  let listenPort: number | undefined;
  if (s.listenPort !== undefined && s.listenPort !== null && s.listenPort !== 0) {
    if (Number.isInteger(s.listenPort) && s.listenPort >= 1 && s.listenPort <= 65535) listenPort = s.listenPort;
    else refuse('spec.listenPort', `must be an integer 1..65535, got ${JSON.stringify(s.listenPort)}`);
  }
  const cidrs = (key: 'serviceClusterIPs' | 'serviceExternalIPs' | 'serviceLoadBalancerIPs'): CidrValue[] => {
    const out: CidrValue[] = [];
    (s[key] ?? []).forEach((c, i) => {
      try {
        out.push(cidrValue(c.cidr));
      } catch (e) {
        refuse(`spec.${key}[${i}].cidr`, `${JSON.stringify(c.cidr)}: ${errorMessage(e)}`);
      }
    });
    return out;
  };
  const priority = (key: 'ipv4NormalRoutePriority' | 'ipv6NormalRoutePriority'): number | undefined => {
    const v = s[key];
    if (v === undefined || v === null) return undefined;
    const n = routePriority(v);
    if (n === undefined) refuse(`spec.${key}`, `must be ${PRIORITY_EXPECTED}, got ${JSON.stringify(v)}`);
    return n;
  };
  const ipv4Priority = priority('ipv4NormalRoutePriority');
  const ipv6Priority = priority('ipv6NormalRoutePriority');
  const meshRef = s.nodeMeshPassword?.secretKeyRef;
  const communities = new Map((s.communities ?? []).map((c) => [c.name, c.value]));
  let prefixAdvertisements: { cidr: string; communities: string[] }[] | undefined;
  if (s.prefixAdvertisements !== undefined && s.prefixAdvertisements !== null) {
    prefixAdvertisements = [];
    s.prefixAdvertisements.forEach((pa, i) => {
      // A community value as written, or a name resolved in this resource's `communities`
      // (unknown names dropped); deduped and sorted as text.
      const values = new Set<string>();
      for (const c of pa.communities ?? []) {
        const v = communityValue(c) ?? communities.get(c);
        if (v !== undefined) values.add(v);
      }
      try {
        prefixAdvertisements!.push({ cidr: canonicalPrefix(pa.cidr), communities: [...values].sort() });
      } catch (e) {
        refuse(`spec.prefixAdvertisements[${i}].cidr`, `${JSON.stringify(pa.cidr)}: ${errorMessage(e)}`);
      }
    });
  }
  return {
    name,
    ...(s.logSeverityScreen ? { logSeverityScreen: s.logSeverityScreen } : {}),
    ...(typeof s.nodeToNodeMeshEnabled === 'boolean' ? { nodeToNodeMeshEnabled: s.nodeToNodeMeshEnabled } : {}),
    ...(asNumber !== undefined ? { asNumber } : {}),
    ...(listenPort !== undefined ? { listenPort } : {}),
    ...(s.bindMode ? { bindMode: s.bindMode } : {}),
    ...(restart !== undefined ? { nodeMeshMaxRestartTime: restart } : {}),
    ...(meshRef ? { nodeMeshPassword: { name: meshRef.name, key: meshRef.key } } : {}),
    serviceClusterIPs: cidrs('serviceClusterIPs'),
    serviceExternalIPs: cidrs('serviceExternalIPs'),
    serviceLoadBalancerIPs: cidrs('serviceLoadBalancerIPs'),
    aggregateLoadBalancerIPs: s.serviceLoadBalancerAggregation !== 'Disabled',
    ...(ipv4Priority !== undefined || ipv6Priority !== undefined
      ? { normalRoutePriority: { ...(ipv4Priority !== undefined ? { ipv4: ipv4Priority } : {}), ...(ipv6Priority !== undefined ? { ipv6: ipv6Priority } : {}) } }
      : {}),
    communities,
    ...(prefixAdvertisements ? { prefixAdvertisements } : {}),
    refused,
  };
}


/** A prefix as canonical text, family and length; throws Error. */
export function cidrValue(text: string): CidrValue {
  const p = parsePrefix(text);
  return { cidr: canonicalPrefix(text), family: p.family, length: p.length };
}

// --------------------------------------------------------------------------------- BGPPeer

/**
 * The one rule on which of BGPPeer's local and remote fields go together (Calico's
 * validator): node or nodeSelector; peerIP, peerSelector or localWorkloadSelector, exactly
 * one. The first conflict as {field, reason}, or undefined.
 */
export function bgpPeerConflict(s: Pick<BGPPeerSpec, 'node' | 'nodeSelector' | 'peerIP' | 'peerSelector' | 'localWorkloadSelector'>): { field: string; reason: string } | undefined {
  const peerIP = given(s.peerIP);
  const peerSelector = given(s.peerSelector);
  if (given(s.node) && given(s.nodeSelector)) return { field: 'spec.nodeSelector', reason: 'cannot be set together with spec.node' };
  if (peerIP && peerSelector) return { field: 'spec.peerSelector', reason: 'cannot be set together with spec.peerIP' };
  if (given(s.localWorkloadSelector)) {
    if (peerIP) return { field: 'spec.peerIP', reason: 'must be empty with spec.localWorkloadSelector' };
    if (peerSelector) return { field: 'spec.peerSelector', reason: 'must be empty with spec.localWorkloadSelector' };
  } else if (!peerIP && !peerSelector) {
    return { field: 'spec.peerIP', reason: 'one of spec.peerIP, spec.peerSelector or spec.localWorkloadSelector is required' };
  }
  return undefined;
}

/** The BGPPeer annotation that sets the import prefix limit (docs/operations.md). */
export const MAX_PREFIXES_ANNOTATION = 'tern/max-prefixes';

/**
 * `tern/max-prefixes`: "N" (each family) or "ipv4=N,ipv6=M" (either may be left out); N a
 * positive integer. Throws Error otherwise.
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

/** One BGPPeer → its typed value; throws ModelError when the peering cannot be used. */
export function parseBgpPeer(r: BGPPeerResource): BgpPeer {
  const name = r.metadata.name;
  const s = r.spec;
  const fail = (field: string, reason: string): never => { throw new ModelError('BGPPeer', name, field, reason); };
  const selector = (key: 'nodeSelector' | 'peerSelector' | 'localWorkloadSelector'): Selector | undefined => {
    const text = s[key];
    if (!given(text)) return undefined; // absent: not "all()"
    const sel = selectorField(text);
    return 'selector' in sel ? sel.selector : fail(`spec.${key}`, sel.reason);
  };
  const nodeSelector = selector('nodeSelector');
  const peerSelector = selector('peerSelector');
  const localWorkloadSelector = selector('localWorkloadSelector');
  const conflict = bgpPeerConflict(s);
  if (conflict) fail(conflict.field, conflict.reason);
  const parsed = <T>(field: string, parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      return fail(field, errorMessage(e));
    }
  };
  const peerIP: PeerIP | undefined = given(s.peerIP) ? parsed('spec.peerIP', () => parsePeerIP(s.peerIP!.trim())) : undefined;
  for (const key of ['asNumber', 'localASNumber'] as const) {
    const v = s[key];
    if (v !== undefined && v !== null && !isValidAs(v)) fail(`spec.${key}`, `must be an integer 1..4294967295, got ${JSON.stringify(v)}`);
  }
  const seconds = (key: 'maxRestartTime' | 'keepaliveTime'): number | undefined => {
    const v = s[key];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
    const d = durationField(v);
    return 'seconds' in d ? Math.round(d.seconds) : fail(`spec.${key}`, d.reason);
  };
  const maxRestartTime = seconds('maxRestartTime');
  const keepaliveTime = seconds('keepaliveTime');
  const reachableBy = given(s.reachableBy) ? parsed('spec.reachableBy', () => canonicalAddress(s.reachableBy!.trim())) : undefined;
  // confd skips the BGPPeer when reachableBy and peerIP are of different families.
  if (reachableBy !== undefined && peerIP && familyOf(reachableBy) !== peerIP.family) {
    fail('spec.reachableBy', `"${s.reachableBy!.trim()}" and spec.peerIP are of different address families`);
  }
  const refused: ModelError[] = [];
  let maxPrefixes: { ipv4?: number; ipv6?: number } | undefined;
  const limit = r.metadata.annotations?.[MAX_PREFIXES_ANNOTATION];
  if (limit !== undefined) {
    try {
      maxPrefixes = parseMaxPrefixes(limit);
    } catch (e) {
      refused.push(new ModelError('BGPPeer', name, `metadata.annotations.${MAX_PREFIXES_ANNOTATION}`, errorMessage(e)));
    }
  }
  const ref = s.password?.secretKeyRef;
  return {
    name,
    ...(given(s.node) ? { node: s.node } : {}),
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(peerIP ? { peerIP } : {}),
    ...(peerSelector ? { peerSelector } : {}),
    ...(localWorkloadSelector ? { localWorkloadSelector } : {}),
    ...(s.asNumber !== undefined && s.asNumber !== null ? { asNumber: s.asNumber } : {}),
    ...(s.localASNumber !== undefined && s.localASNumber !== null ? { localASNumber: s.localASNumber } : {}),
    ...(s.sourceAddress ? { sourceAddress: s.sourceAddress } : {}),
    keepOriginalNextHop: s.keepOriginalNextHop === true,
    ...(s.nextHopMode ? { nextHopMode: s.nextHopMode } : {}),
    ...(maxRestartTime !== undefined ? { maxRestartTime } : {}),
    ...(keepaliveTime !== undefined ? { keepaliveTime } : {}),
    ...(s.numAllowedLocalASNumbers ? { numAllowedLocalASNumbers: s.numAllowedLocalASNumbers } : {}),
    ...(s.ttlSecurity !== undefined && s.ttlSecurity !== null ? { ttlSecurity: s.ttlSecurity } : {}),
    ...(ref ? { password: { name: ref.name, key: ref.key } as SecretRef } : {}),
    filters: [...(s.filters ?? [])],
    ...(reachableBy !== undefined ? { reachableBy } : {}),
    reversePeering: s.reversePeering === 'Manual' ? 'Manual' : 'Auto',
    ...(maxPrefixes ? { maxPrefixes } : {}),
    refused,
  };
}
