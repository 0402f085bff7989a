// Spec validators for the Felix policy kinds: GlobalNetworkPolicy, NetworkPolicy, Profile,
// WorkloadEndpoint. The shape (known fields, objects where objects belong) is checked here;
// every grammar of a policy or profile (selectors, rules: actions, protocols, ports, nets,
// ICMP) is checked by the model's parser (model/parse-policy.ts), which words the refusal:
// validation is parsing. What a rule means is src/acl's business.
import { Checker, join, type Obj } from './checker.js';
import { ModelError } from '../model/errors.js';
import { parseWorkloadEndpoint } from '../model/parse-endpoints.js';
import { parseGlobalNetworkPolicy, parseNetworkPolicy, parseProfile } from '../model/parse-policy.js';
import type { Policy } from '../model/policy.js';


const POLICY_COMMON = ['order', 'tier', 'selector', 'types', 'ingress', 'egress', 'serviceAccountSelector', 'performanceHints'];
const GNP_ONLY = ['namespaceSelector', 'doNotTrack', 'preDNAT', 'applyOnForward'];

export function validatePolicySpec(c: Checker, spec: Obj, global: boolean): Obj {
  c.knownFields(spec, global ? [...POLICY_COMMON, ...GNP_ONLY] : POLICY_COMMON, 'spec');
  if (spec.order !== undefined && spec.order !== null && (typeof spec.order !== 'number' || !Number.isFinite(spec.order))) {
    c.fail('spec.order', `must be a number, got ${JSON.stringify(spec.order)}`);
  }
  const tier = c.optString(spec, 'tier', 'spec');
  if (tier !== undefined && tier !== '') c.dnsName(tier, 'spec.tier');
  const types = c.optArray(spec, 'types', 'spec');
  const seen = new Set<string>();
  types?.forEach((t, i) => {
    const v = c.oneOf(t, join('spec.types', i), ['Ingress', 'Egress'] as const);
    if (seen.has(v)) c.fail(join('spec.types', i), `${v} is listed twice`);
    seen.add(v);
  });
  if (global) {
    c.optBool(spec, 'doNotTrack', 'spec');
    const preDNAT = c.optBool(spec, 'preDNAT', 'spec');
    c.optBool(spec, 'applyOnForward', 'spec');
    if (preDNAT && spec.doNotTrack === true) c.fail('spec.preDNAT', 'cannot be true together with spec.doNotTrack');
  }
  rules(c, spec, 'ingress', 'spec');
  rules(c, spec, 'egress', 'spec');
  accepted(c, () => (global ? parseGlobalNetworkPolicy(asResource(c, spec)) : parseNetworkPolicy(asResource(c, spec), `default/${c.name ?? ''}`)));
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
  accepted(c, () => parseProfile(asResource(c, spec)));
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
  c.optArray(spec, 'ipNetworks', 'spec');
  profilesAndPorts(c, spec);
  entriesAccepted(c, parseWorkloadEndpoint(asResource(c, spec)));
  return { ...spec };
}

/**
 * An endpoint's spec.profiles (names) and the shape of spec.ports (named ports), as workload
 * and host endpoints carry them; the model's parser checks each port's fields.
 */
export function profilesAndPorts(c: Checker, spec: Obj): void {
  c.optArray(spec, 'profiles', 'spec')?.forEach((v, i) => c.string(v, join('spec.profiles', i)));
  c.optArray(spec, 'ports', 'spec')?.forEach((v, i) => c.object(v, join('spec.ports', i)));
}

/** The first entry the model's parser refused (addresses, named ports, nets), as this resource's error. */
export function entriesAccepted(c: Checker, value: { readonly refused: readonly ModelError[] }): void {
  const first = value.refused[0];
  if (first) c.fail(first.field, first.reason);
}

/** The stored spec as a resource, for the model's parser (which reads only its spec and name). */
export function asResource<R>(c: Checker, spec: Obj): R {
  return { apiVersion: 'projectcalico.org/v3', metadata: { name: c.name ?? '' }, spec } as unknown as R;
}

/** The model's refusal of the policy's selectors or rules, if any, as this resource's error. */
function accepted(c: Checker, parse: () => Policy): void {
  try {
    const p = parse();
    const first = p.selectorRefused ?? p.rulesRefused;
    if (first) c.fail(first.field, first.reason);
  } catch (e) {
    if (e instanceof ModelError) c.fail(e.field, e.reason);
    throw e;
  }
}

/** The shape of a rules list: objects with known fields (the model parses their values). */
function rules(c: Checker, spec: Obj, key: 'ingress' | 'egress', path: string): void {
  c.optArray(spec, key, path)?.forEach((r, i) => rule(c, r, join(join(path, key), i)));
}

const RULE_FIELDS = ['action', 'ipVersion', 'protocol', 'notProtocol', 'icmp', 'notICMP', 'source', 'destination', 'metadata', 'http'];
const ENTITY_FIELDS = ['nets', 'notNets', 'selector', 'notSelector', 'namespaceSelector', 'ports', 'notPorts', 'serviceAccounts', 'services'];

function rule(c: Checker, v: unknown, p: string): void {
  const r = c.object(v, p);
  c.knownFields(r, RULE_FIELDS, p);
  for (const key of ['icmp', 'notICMP']) {
    const icmp = c.optObject(r, key, p);
    if (icmp) c.knownFields(icmp, ['type', 'code'], join(p, key));
  }
  for (const side of ['source', 'destination'] as const) {
    const e = c.optObject(r, side, p);
    if (!e) continue;
    const sp = join(p, side);
    c.knownFields(e, ENTITY_FIELDS, sp);
    const sa = c.optObject(e, 'serviceAccounts', sp);
    if (sa) c.knownFields(sa, ['names', 'selector'], join(sp, 'serviceAccounts'));
  }
}
