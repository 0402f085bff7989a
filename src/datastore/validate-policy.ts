// Spec validators for the Felix policy kinds: GlobalNetworkPolicy, NetworkPolicy, Profile,
// WorkloadEndpoint. Structure only (rule shapes, enums, ports, nets, selectors); what a rule
// means is src/acl's business.
import { Checker, join, type Obj } from './checker.js';
import { parsePolicyPort } from '../net/port.js';
import { parseProtocol, PROTOCOLS } from '../net/protocol.js';
import { errorMessage } from '../util/errors.js';

const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;
const PORT_PROTOCOLS = new Set<number>([PROTOCOLS.tcp, PROTOCOLS.udp, PROTOCOLS.sctp]);

const POLICY_COMMON = ['order', 'tier', 'selector', 'types', 'ingress', 'egress', 'serviceAccountSelector', 'performanceHints'];
const GNP_ONLY = ['namespaceSelector', 'doNotTrack', 'preDNAT', 'applyOnForward'];

export function validatePolicySpec(c: Checker, spec: Obj, global: boolean): Obj {
  c.knownFields(spec, global ? [...POLICY_COMMON, ...GNP_ONLY] : POLICY_COMMON, 'spec');
  if (spec.order !== undefined && spec.order !== null && (typeof spec.order !== 'number' || !Number.isFinite(spec.order))) {
    c.fail('spec.order', `must be a number, got ${JSON.stringify(spec.order)}`);
  }
  const tier = c.optString(spec, 'tier', 'spec');
  if (tier !== undefined && tier !== '') c.dnsName(tier, 'spec.tier');
  c.optSelector(spec, 'selector', 'spec');
  c.optSelector(spec, 'serviceAccountSelector', 'spec');
  const types = c.optArray(spec, 'types', 'spec');
  const seen = new Set<string>();
  types?.forEach((t, i) => {
    const v = c.oneOf(t, join('spec.types', i), ['Ingress', 'Egress'] as const);
    if (seen.has(v)) c.fail(join('spec.types', i), `${v} is listed twice`);
    seen.add(v);
  });
  if (global) {
    c.optSelector(spec, 'namespaceSelector', 'spec');
    c.optBool(spec, 'doNotTrack', 'spec');
    const preDNAT = c.optBool(spec, 'preDNAT', 'spec');
    c.optBool(spec, 'applyOnForward', 'spec');
    if (preDNAT && spec.doNotTrack === true) c.fail('spec.preDNAT', 'cannot be true together with spec.doNotTrack');
  }
  rules(c, spec, 'ingress', 'spec');
  rules(c, spec, 'egress', 'spec');
  if (types && spec.egress !== undefined && !seen.has('Egress') && (spec.egress as unknown[]).length > 0) {
    c.fail('spec.types', 'has egress rules but does not list Egress');
  }
  if (types && spec.ingress !== undefined && !seen.has('Ingress') && (spec.ingress as unknown[]).length > 0) {
    c.fail('spec.types', 'has ingress rules but does not list Ingress');
  }
  return { ...spec };
}

export function validateProfileSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, ['ingress', 'egress', 'labelsToApply'], 'spec');
  rules(c, spec, 'ingress', 'spec');
  rules(c, spec, 'egress', 'spec');
  const labels = c.optObject(spec, 'labelsToApply', 'spec');
  if (labels) c.stringMap(labels, 'spec.labelsToApply');
  return { ...spec };
}

const WEP_SPEC = [
  'node', 'orchestrator', 'workload', 'pod', 'endpoint', 'containerID', 'interfaceName', 'mac', 'ipNetworks', 'profiles',
  'ports', 'ipNATs', 'ipv4Gateway', 'ipv6Gateway', 'serviceAccountName', 'allowSpoofedSourcePrefixes', 'awsElasticIPs', 'qosControls',
];

export function validateWorkloadEndpointSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, WEP_SPEC, 'spec');
  c.dnsName(c.requiredString(spec, 'node', 'spec'), 'spec.node');
  const iface = c.requiredString(spec, 'interfaceName', 'spec');
  if (iface.length > 15 || /[\s/]/.test(iface)) c.fail('spec.interfaceName', `"${iface}" is not a Linux interface name (at most 15 characters, no '/' or spaces)`);
  for (const key of ['orchestrator', 'workload', 'pod', 'endpoint', 'containerID', 'serviceAccountName']) c.optString(spec, key, 'spec');
  const mac = c.optString(spec, 'mac', 'spec');
  if (mac !== undefined && mac !== '' && !/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(mac)) c.fail('spec.mac', `"${mac}" is not a MAC address`);
  c.optArray(spec, 'ipNetworks', 'spec')?.forEach((v, i) => c.prefix(v, join('spec.ipNetworks', i), { hostBits: 'allow' }));
  profilesAndPorts(c, spec);
  return { ...spec };
}

/** An endpoint's spec.profiles (names) and spec.ports (named ports), as workload and host endpoints carry them. */
export function profilesAndPorts(c: Checker, spec: Obj): void {
  c.optArray(spec, 'profiles', 'spec')?.forEach((v, i) => c.string(v, join('spec.profiles', i)));
  c.optArray(spec, 'ports', 'spec')?.forEach((v, i) => {
    const p = join('spec.ports', i);
    const o = c.object(v, p);
    c.requiredString(o, 'name', p);
    protocol(c, o.protocol, join(p, 'protocol'));
    c.int(o.port, join(p, 'port'), 1, 65535);
  });
}

function rules(c: Checker, spec: Obj, key: 'ingress' | 'egress', path: string): void {
  c.optArray(spec, key, path)?.forEach((r, i) => rule(c, r, join(join(path, key), i)));
}

const RULE_FIELDS = ['action', 'ipVersion', 'protocol', 'notProtocol', 'icmp', 'notICMP', 'source', 'destination', 'metadata', 'http'];

function rule(c: Checker, v: unknown, p: string): void {
  const r = c.object(v, p);
  c.knownFields(r, RULE_FIELDS, p);
  if (r.action === undefined) c.fail(join(p, 'action'), `is required (one of ${ACTIONS.join(', ')})`);
  c.oneOf(r.action, join(p, 'action'), ACTIONS);
  if (r.ipVersion !== undefined && r.ipVersion !== null && r.ipVersion !== 4 && r.ipVersion !== 6) {
    c.fail(join(p, 'ipVersion'), `must be 4 or 6, got ${JSON.stringify(r.ipVersion)}`);
  }
  const proto = r.protocol === undefined || r.protocol === null ? undefined : protocol(c, r.protocol, join(p, 'protocol'));
  if (r.notProtocol !== undefined && r.notProtocol !== null) protocol(c, r.notProtocol, join(p, 'notProtocol'));
  for (const key of ['icmp', 'notICMP']) {
    const icmp = c.optObject(r, key, p);
    if (!icmp) continue;
    const ip = join(p, key);
    c.knownFields(icmp, ['type', 'code'], ip);
    if (proto === undefined || (proto !== PROTOCOLS.icmp && proto !== PROTOCOLS.icmpv6)) {
      c.fail(ip, 'needs protocol ICMP or ICMPv6');
    }
    c.optInt(icmp, 'type', ip, 0, 254);
    c.optInt(icmp, 'code', ip, 0, 255);
    if (icmp.code !== undefined && icmp.type === undefined) c.fail(join(ip, 'code'), 'needs icmp type');
  }
  for (const side of ['source', 'destination'] as const) {
    const e = c.optObject(r, side, p);
    if (e) entity(c, e, join(p, side), proto);
  }
}

const ENTITY_FIELDS = ['nets', 'notNets', 'selector', 'notSelector', 'namespaceSelector', 'ports', 'notPorts', 'serviceAccounts', 'services'];

function entity(c: Checker, e: Obj, p: string, proto: number | undefined): void {
  c.knownFields(e, ENTITY_FIELDS, p);
  for (const key of ['nets', 'notNets']) c.optArray(e, key, p)?.forEach((n, i) => c.net(n, join(join(p, key), i)));
  for (const key of ['selector', 'notSelector', 'namespaceSelector']) c.optSelector(e, key, p);
  for (const key of ['ports', 'notPorts']) {
    const ports = c.optArray(e, key, p);
    if (!ports || ports.length === 0) continue;
    if (proto === undefined || !PORT_PROTOCOLS.has(proto)) {
      c.fail(join(p, key), 'needs protocol TCP, UDP or SCTP on the rule');
    }
    ports.forEach((v, i) => port(c, v, join(join(p, key), i)));
  }
  const sa = c.optObject(e, 'serviceAccounts', p);
  if (sa) {
    const sp = join(p, 'serviceAccounts');
    c.knownFields(sa, ['names', 'selector'], sp);
    c.optArray(sa, 'names', sp)?.forEach((n, i) => c.string(n, join(join(sp, 'names'), i)));
    c.optSelector(sa, 'selector', sp);
  }
}

/** A protocol: the one grammar (src/net/protocol.ts) names the reason; its number. */
export function protocol(c: Checker, v: unknown, p: string): number {
  try {
    return parseProtocol(v);
  } catch (e) {
    return c.fail(p, errorMessage(e));
  }
}

/** A port: the one grammar of policy ports (src/net/port.ts) names the reason. */
function port(c: Checker, v: unknown, p: string): void {
  try {
    parsePolicyPort(v);
  } catch (e) {
    c.fail(p, errorMessage(e));
  }
}
