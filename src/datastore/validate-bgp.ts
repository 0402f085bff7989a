// Spec validators for the BGP kinds: Node, BGPConfiguration, BGPPeer, IPPool, BlockAffinity
// (BGPFilter: validate-bgp-filter.ts).
// Each takes the raw spec (already known to be an object) and returns the spec to store:
// the input with numbers normalised (AS numbers given as text) and, for IPPool, Calico's
// defaults filled in (blockSize 26/122, ipipMode/vxlanMode Never, nodeSelector all()).
import { canonicalPrefix, parseAddress, parsePrefix, type Family } from '../net/prefix.js';
import { ModelError } from '../model/errors.js';
import { bgpPeerConflict, parseBgpConfiguration, parseBgpPeer, parseNode, parseNodeAddress } from '../model/parse-bgp.js';
import { parseBlockAffinity, parseIpPool } from '../model/parse-ipam.js';
import { communityValue } from '../model/community.js';
import type { BGPPeerSpec } from '../model/types.js';
import { Checker, join, type Obj } from './checker.js';
import { HOLD_TIME } from '../model/session-defaults.js';
import { errorMessage } from '../util/errors.js';

const NODE_SPEC = [
  'bgp', 'addresses', 'orchRefs', 'ipv4VXLANTunnelAddr', 'ipv6VXLANTunnelAddr', 'vxlanTunnelMACAddr', 'vxlanTunnelMACAddrV6', 'wireguard',
  'interfaceName', 'interfaces',
];
const NODE_BGP = ['ipv4Address', 'ipv6Address', 'asNumber', 'ipv4IPIPTunnelAddr', 'routeReflectorClusterID'];

export function validateNodeSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, NODE_SPEC, 'spec');
  const out: Obj = { ...spec };
  const bgp = c.optObject(spec, 'bgp', 'spec');
  if (bgp) {
    const p = 'spec.bgp';
    c.knownFields(bgp, NODE_BGP, p);
    const nb: Obj = { ...bgp };
    for (const [key, family] of [['ipv4Address', 'ipv4'], ['ipv6Address', 'ipv6']] as const) {
      const v = bgp[key];
      if (v === undefined || v === '') continue;
      const text = c.string(v, join(p, key));
      try {
        parseNodeAddress(text, family);
      } catch (e) {
        c.fail(join(p, key), errorMessage(e));
      }
    }
    if (bgp.asNumber !== undefined && bgp.asNumber !== null) nb.asNumber = c.asNumber(bgp.asNumber, join(p, 'asNumber'));
    if (bgp.ipv4IPIPTunnelAddr !== undefined && bgp.ipv4IPIPTunnelAddr !== '') c.address(bgp.ipv4IPIPTunnelAddr, join(p, 'ipv4IPIPTunnelAddr'), 'ipv4');
    const rr = bgp.routeReflectorClusterID;
    if (rr !== undefined && rr !== null && rr !== '') {
      const s = c.string(rr, join(p, 'routeReflectorClusterID'));
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(s) || !isAddr(s, 'ipv4')) c.fail(join(p, 'routeReflectorClusterID'), `"${s}" must be a dotted IPv4 such as "244.0.0.1"`);
    }
    out.bgp = nb;
  }
  const addrs = c.optArray(spec, 'addresses', 'spec');
  addrs?.forEach((a, i) => {
    const ap = join('spec.addresses', i);
    const o = c.object(a, ap);
    const text = c.requiredString(o, 'address', ap);
    if (text.includes('/')) c.prefix(text, join(ap, 'address'), { hostBits: 'allow' });
    else c.address(text, join(ap, 'address'));
    c.optString(o, 'type', ap);
  });
  // Calico v3.31+ (auto host endpoints): the node's interfaces as calico-node reports them; not used here.
  c.optArray(spec, 'interfaces', 'spec')?.forEach((v, i) => {
    const ip = join('spec.interfaces', i);
    const o = c.object(v, ip);
    c.knownFields(o, ['name', 'addresses'], ip);
    c.optString(o, 'name', ip);
    c.optArray(o, 'addresses', ip)?.forEach((a, j) => c.string(a, join(join(ip, 'addresses'), j)));
  });
  accepted(c, () => parseNode(asResource(c, 'Node', out)));
  return out;
}

const BGPCONFIG_SPEC = [
  'logSeverityScreen', 'nodeToNodeMeshEnabled', 'asNumber', 'listenPort', 'bindMode', 'nodeMeshMaxRestartTime',
  'nodeMeshPassword', 'ignoredInterfaces', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs',
  'communities', 'prefixAdvertisements', 'localWorkloadPeeringIPV4', 'localWorkloadPeeringIPV6', 'programClusterRoutes',
  'serviceLoadBalancerAggregation', 'ipv4NormalRoutePriority', 'ipv6NormalRoutePriority',
];
const SEVERITIES = ['Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;

const GLOBAL_ONLY = [
  'asNumber', 'nodeToNodeMeshEnabled', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs', 'nodeMeshPassword',
  'nodeMeshMaxRestartTime', 'serviceLoadBalancerAggregation', 'ipv4NormalRoutePriority', 'ipv6NormalRoutePriority',
];

export function validateBgpConfigurationSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, BGPCONFIG_SPEC, 'spec');
  const out: Obj = { ...spec };
  if (c.strictFields && c.name?.startsWith('node.')) {
    // Calico reads these from "default" only; on node.<name> they would be silently ignored.
    const misplaced = GLOBAL_ONLY.find((k) => spec[k] !== undefined && spec[k] !== null);
    if (misplaced) c.fail(join('spec', misplaced), 'is global: set it in BGPConfiguration "default" (node.<name> overrides only listenPort, logSeverityScreen and prefixAdvertisements)');
  }
  if (spec.nodeToNodeMeshEnabled === false) {
    for (const k of ['nodeMeshPassword', 'nodeMeshMaxRestartTime']) {
      if (spec[k] !== undefined && spec[k] !== null) c.fail(join('spec', k), 'requires the node-to-node mesh (spec.nodeToNodeMeshEnabled is false)');
    }
  }
  passwordRef(c, spec, 'nodeMeshPassword');
  c.optOneOf(spec, 'logSeverityScreen', 'spec', SEVERITIES);
  c.optBool(spec, 'nodeToNodeMeshEnabled', 'spec');
  if (spec.asNumber !== undefined && spec.asNumber !== null) out.asNumber = c.asNumber(spec.asNumber, 'spec.asNumber');
  c.optInt(spec, 'listenPort', 'spec', 1, 65535);
  c.optOneOf(spec, 'bindMode', 'spec', ['None', 'NodeIP'] as const);
  c.optOneOf(spec, 'serviceLoadBalancerAggregation', 'spec', ['Enabled', 'Disabled'] as const);
  c.optDuration(spec, 'nodeMeshMaxRestartTime', 'spec');
  c.optArray(spec, 'ignoredInterfaces', 'spec')?.forEach((v, i) => c.string(v, join('spec.ignoredInterfaces', i)));
  for (const key of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs']) {
    c.optArray(spec, key, 'spec')?.forEach((v, i) => {
      const p = join(join('spec', key), i);
      const o = c.object(v, p);
      c.knownFields(o, ['cidr'], p);
      const cidr = c.requiredString(o, 'cidr', p);
      c.prefix(cidr, join(p, 'cidr'), { hostBits: 'forbid' });
    });
  }
  const names = new Set<string>();
  c.optArray(spec, 'communities', 'spec')?.forEach((v, i) => {
    const p = join('spec.communities', i);
    const o = c.object(v, p);
    c.knownFields(o, ['name', 'value'], p);
    names.add(c.requiredString(o, 'name', p));
    const value = c.requiredString(o, 'value', p);
    if (!isCommunity(value)) c.fail(join(p, 'value'), `"${value}" is not a community ("aa:nn" or large "aa:nn:mm")`);
  });
  c.optArray(spec, 'prefixAdvertisements', 'spec')?.forEach((v, i) => {
    const p = join('spec.prefixAdvertisements', i);
    const o = c.object(v, p);
    c.knownFields(o, ['cidr', 'communities'], p);
    c.prefix(c.requiredString(o, 'cidr', p), join(p, 'cidr'), { hostBits: 'forbid' });
    c.optArray(o, 'communities', p)?.forEach((cv, j) => {
      const s = c.string(cv, join(join(p, 'communities'), j));
      if (!isCommunity(s) && !names.has(s)) c.fail(join(join(p, 'communities'), j), `"${s}" is neither a community value nor a name defined in spec.communities`);
    });
  });
  accepted(c, () => parseBgpConfiguration(asResource(c, 'BGPConfiguration', out)));
  return out;
}

/** The hold time of every session tern runs. */
const SESSION_HOLD_TIME = HOLD_TIME;

const BGPPEER_SPEC = [
  'node', 'nodeSelector', 'peerIP', 'peerSelector', 'asNumber', 'localASNumber', 'sourceAddress', 'keepOriginalNextHop',
  'nextHopMode', 'maxRestartTime', 'keepaliveTime', 'numAllowedLocalASNumbers', 'ttlSecurity', 'password', 'filters',
  'reachableBy', 'reversePeering', 'localWorkloadSelector',
];

export function validateBgpPeerSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, BGPPEER_SPEC, 'spec');
  const out: Obj = { ...spec };
  const node = nonEmpty(spec.node);
  const nodeSelector = nonEmpty(spec.nodeSelector);
  const peerIP = nonEmpty(spec.peerIP);
  const peerSelector = nonEmpty(spec.peerSelector);
  if (node !== undefined) c.dnsName(node, 'spec.node');
  // Selectors and peerIP are type-checked here and parsed only by the model (accepted() below).
  if (nodeSelector !== undefined) c.string(nodeSelector, 'spec.nodeSelector');
  if (peerSelector !== undefined) c.string(peerSelector, 'spec.peerSelector');
  c.optString(spec, 'localWorkloadSelector', 'spec');
  const conflict = bgpPeerConflict(spec as BGPPeerSpec);
  if (conflict) c.fail(conflict.field, conflict.reason);
  if (nonEmpty(spec.localWorkloadSelector) !== undefined && (spec.asNumber === undefined || spec.asNumber === null)) {
    c.fail('spec.asNumber', 'is required with spec.localWorkloadSelector');
  }
  const asSet = spec.asNumber !== undefined && spec.asNumber !== null;
  if (peerIP !== undefined) {
    c.string(peerIP, 'spec.peerIP');
    if (!asSet) c.fail('spec.asNumber', 'is required with spec.peerIP');
  }
  if (peerSelector !== undefined && asSet) c.fail('spec.asNumber', "must be empty with spec.peerSelector (each selected node's own AS is used)");
  if (asSet) out.asNumber = c.asNumber(spec.asNumber, 'spec.asNumber');
  if (spec.localASNumber !== undefined && spec.localASNumber !== null) out.localASNumber = c.asNumber(spec.localASNumber, 'spec.localASNumber');
  c.optOneOf(spec, 'sourceAddress', 'spec', ['UseNodeIP', 'None'] as const);
  c.optBool(spec, 'keepOriginalNextHop', 'spec');
  c.optOneOf(spec, 'nextHopMode', 'spec', ['Auto', 'Self', 'Keep'] as const);
  c.optDuration(spec, 'maxRestartTime', 'spec');
  const keepalive = c.optDuration(spec, 'keepaliveTime', 'spec', 1);
  // RFC 4271 §10: keepalives at most a third of the hold time (tern's sessions use BIRD's 240 s,
  // src/model/session-defaults.ts HOLD_TIME), else the peer's hold timer may expire between them.
  if (keepalive !== undefined && keepalive * 3 > SESSION_HOLD_TIME) {
    c.fail('spec.keepaliveTime', `must be at most a third of the hold time (${SESSION_HOLD_TIME} s), i.e. ${SESSION_HOLD_TIME / 3} s; got ${keepalive} s`);
  }
  c.optInt(spec, 'numAllowedLocalASNumbers', 'spec', 0, 255);
  c.optInt(spec, 'ttlSecurity', 'spec', 0, 255);
  passwordRef(c, spec, 'password');
  c.optArray(spec, 'filters', 'spec')?.forEach((v, i) => c.dnsName(v, join('spec.filters', i)));
  const reach = nonEmpty(spec.reachableBy);
  if (reach !== undefined) {
    c.address(reach, 'spec.reachableBy');
    if (peerIP === undefined) c.fail('spec.reachableBy', 'must be empty when spec.peerIP is empty');
  }
  if (spec.keepOriginalNextHop === true && nonEmpty(spec.nextHopMode) !== undefined) {
    c.fail('spec.keepOriginalNextHop', 'is deprecated and must not be true when spec.nextHopMode is set');
  }
  c.optOneOf(spec, 'reversePeering', 'spec', ['Auto', 'Manual'] as const);
  accepted(c, () => parseBgpPeer(asResource(c, 'BGPPeer', out)));
  return out;
}

/** The stored spec as a resource of `kind`, for the model's parser. */
export function asResource<R>(c: Checker, kind: string, spec: Obj): R {
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: { name: c.name ?? '' }, spec } as unknown as R;
}

/**
 * Validation is parsing: the model's parser is the only check of the fields it types (selectors,
 * peerIP, reachableBy's family); a field or resource it refuses is an error here, worded by it.
 */
export function accepted(c: Checker, parse: () => object): void {
  try {
    const value = parse() as { refused?: readonly ModelError[] };
    // Annotations (tern/max-prefixes) are tern's own: a bad one is a warning, never a refusal.
    const first = value.refused?.find((e) => e.field.startsWith('spec.'));
    if (first) c.fail(first.field, first.reason);
  } catch (e) {
    if (e instanceof ModelError) c.fail(e.field, e.reason);
    throw e;
  }
}

const IPPOOL_SPEC = [
  'cidr', 'blockSize', 'ipipMode', 'vxlanMode', 'natOutgoing', 'disabled', 'disableBGPExport', 'nodeSelector',
  'allowedUses', 'assignmentMode', 'namespaceSelector',
];
const ENCAP = ['Never', 'Always', 'CrossSubnet'] as const;

export function validateIpPoolSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, IPPOOL_SPEC, 'spec');
  const out: Obj = { ...spec };
  const cidr = c.requiredString(spec, 'cidr', 'spec');
  c.prefix(cidr, 'spec.cidr', { hostBits: 'forbid' });
  const pool = parsePrefix(cidr);
  out.cidr = canonicalPrefix(cidr); // e.g. "FD00:0::/48" → "fd00::/48", usable as a Map key
  const v4 = pool.family === 'ipv4';
  if (spec.blockSize === undefined || spec.blockSize === null) out.blockSize = v4 ? 26 : 122;
  else out.blockSize = c.int(spec.blockSize, 'spec.blockSize', v4 ? 20 : 116, v4 ? 32 : 128);
  if ((out.blockSize as number) < pool.length) {
    c.fail('spec.blockSize', `${String(out.blockSize)} is larger than the pool ${cidr} (the pool must hold at least one block)`);
  }
  const ipip = c.optOneOf(spec, 'ipipMode', 'spec', ENCAP) ?? 'Never';
  const vxlan = c.optOneOf(spec, 'vxlanMode', 'spec', ENCAP) ?? 'Never';
  if (ipip !== 'Never' && vxlan !== 'Never') c.fail('spec.vxlanMode', `cannot be ${vxlan} while spec.ipipMode is ${ipip}; choose one encapsulation`);
  if (ipip !== 'Never' && !v4) c.fail('spec.ipipMode', `IPIP is for IPv4 pools only; set Never for ${cidr}`);
  out.ipipMode = ipip;
  out.vxlanMode = vxlan;
  c.optBool(spec, 'natOutgoing', 'spec');
  c.optBool(spec, 'disabled', 'spec');
  c.optBool(spec, 'disableBGPExport', 'spec');
  out.nodeSelector = c.optSelector(spec, 'nodeSelector', 'spec') ?? 'all()';
  c.optArray(spec, 'allowedUses', 'spec')?.forEach((v, i) =>
    c.oneOf(v, join('spec.allowedUses', i), ['Workload', 'Tunnel', 'LoadBalancer'] as const));
  accepted(c, () => parseIpPool(asResource(c, 'IPPool', out)));
  return out;
}

export function validateBlockAffinitySpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, ['node', 'cidr', 'state', 'deleted', 'type'], 'spec');
  c.dnsName(c.requiredString(spec, 'node', 'spec'), 'spec.node');
  const cidr = c.prefix(c.requiredString(spec, 'cidr', 'spec'), 'spec.cidr', { hostBits: 'forbid' });
  c.oneOf(spec.state, 'spec.state', ['confirmed', 'pending', 'pendingDeletion'] as const);
  const d = spec.deleted;
  if (d !== undefined && d !== null && typeof d !== 'boolean' && d !== 'true' && d !== 'false' && d !== '') {
    c.fail('spec.deleted', `must be true or false, got ${JSON.stringify(d)}`);
  }
  const out: Obj = { ...spec, cidr: canonicalPrefix(cidr) };
  accepted(c, () => parseBlockAffinity(asResource(c, 'BlockAffinity', out)));
  return out;
}

/** `{secretKeyRef: {name, key}}` (BGPPeer password, BGPConfiguration nodeMeshPassword). */
function passwordRef(c: Checker, spec: Obj, key: string): void {
  const pw = c.optObject(spec, key, 'spec');
  if (!pw) return;
  const p = join('spec', key);
  c.knownFields(pw, ['secretKeyRef'], p);
  const ref = c.optObject(pw, 'secretKeyRef', p);
  if (ref) {
    c.requiredString(ref, 'name', join(p, 'secretKeyRef'));
    c.requiredString(ref, 'key', join(p, 'secretKeyRef'));
  }
}

export function nonEmpty(v: unknown): unknown {
  return v === undefined || v === null || v === '' ? undefined : v;
}

function isAddr(s: string, family: Family): boolean {
  try {
    return parseAddress(s).family === family;
  } catch {
    return false;
  }
}

/** "aa:nn" (RFC 1997, each 16 bits) or large "aa:nn:mm" (RFC 8092, each 32 bits). */
function isCommunity(s: string): boolean {
  return communityValue(s) !== undefined;
}
