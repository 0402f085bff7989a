// Spec validators for the policy-side kinds that hold no rules: Tier (order, defaultAction),
// NetworkSet / GlobalNetworkSet (nets selectable by labels) and HostEndpoint (a host
// interface and its expected addresses). The shape is checked here; addresses, nets and
// named ports by the model's parsers (model/parse-endpoints.ts), which word the refusal.
// src/acl gives them meaning.
import { Checker, join, type Obj } from './checker.js';
import { parseGlobalNetworkSet, parseHostEndpoint } from '../model/parse-endpoints.js';
import { asResource, entriesAccepted, profilesAndPorts } from './validate-policy.js';

export function validateTierSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, ['order', 'defaultAction'], 'spec');
  if (spec.order !== undefined && spec.order !== null && (typeof spec.order !== 'number' || !Number.isFinite(spec.order))) {
    c.fail('spec.order', `must be a number, got ${JSON.stringify(spec.order)}`);
  }
  if (spec.defaultAction !== undefined && spec.defaultAction !== null) c.oneOf(spec.defaultAction, 'spec.defaultAction', ['Deny', 'Pass'] as const);
  return { ...spec };
}

export function validateNetworkSetSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, ['nets', 'allowedEgressDomains'], 'spec');
  c.optArray(spec, 'nets', 'spec');
  c.optArray(spec, 'allowedEgressDomains', 'spec')?.forEach((n, i) => c.string(n, join('spec.allowedEgressDomains', i)));
  entriesAccepted(c, parseGlobalNetworkSet(asResource(c, spec)));
  return { ...spec };
}

export function validateHostEndpointSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, ['node', 'interfaceName', 'expectedIPs', 'profiles', 'ports'], 'spec');
  c.dnsName(c.requiredString(spec, 'node', 'spec'), 'spec.node');
  const iface = c.optString(spec, 'interfaceName', 'spec');
  if (iface !== undefined && iface !== '*' && (iface.length > 15 || /[\s/]/.test(iface))) c.fail('spec.interfaceName', `"${iface}" is not a Linux interface name`);
  const ips = c.optArray(spec, 'expectedIPs', 'spec');
  if ((iface === undefined || iface === '') && (!ips || ips.length === 0)) c.fail('spec', 'needs interfaceName or expectedIPs');
  profilesAndPorts(c, spec);
  entriesAccepted(c, parseHostEndpoint(asResource(c, spec)));
  return { ...spec };
}
