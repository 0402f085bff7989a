// The model's parsers of the policy kinds: rules to typed values (actions, protocol numbers,
// port ranges and names, nets canonical by family, compiled selectors, ICMP), policies,
// profiles, tiers, endpoints and sets, ModelError for refusals, and policyModel() parsing a
// resource object once.
import t from 'tap';
import {
  ModelError, parseGlobalNetworkPolicy, parseGlobalNetworkSet, parseHostEndpoint, parseNetworkPolicy, parseProfile, parseRule,
  parseTier, parseWorkloadEndpoint, policyModel,
} from '../../src/model/index.js';
import type { PolicySpec, Resource } from '../../src/model/types.js';
import { buildSnapshot } from '../../src/datastore/snapshot.js';

const V3 = 'projectcalico.org/v3';
const gnp = (name: string, spec: PolicySpec) => ({ apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name }, spec }) as const;

t.test('a rule: every field typed', async (t) => {
  const r = parseRule({
    action: 'Allow', protocol: 'TCP', notProtocol: 17,
    source: { nets: ['10.0.0.9/8', '10.0.0.0/8', 'fd00::1'], selector: "role == 'fe'", serviceAccounts: { names: ['sa1'] } },
    destination: { ports: [80, '8000:8080', 'http'], notPorts: ['9000'], namespaceSelector: 'all()' },
    http: { methods: ['GET'] },
  }, 'GlobalNetworkPolicy', 'p', 'spec.ingress[0]');
  t.equal(r.action, 'Allow');
  t.equal(r.protocol, 6, 'protocol number');
  t.equal(r.notProtocol, 17);
  t.same(r.source.nets, { v4: ['10.0.0.0/8'], v6: ['fd00::1/128'] }, 'canonical, deduped, split by family, bare address as host route');
  t.ok(r.source.selector?.matches({ role: 'fe' }), 'selector compiled');
  t.same(r.source.serviceAccounts?.names, ['sa1']);
  t.same(r.destination.ports, { ranges: [{ from: 80, to: 80 }, { from: 8000, to: 8080 }], names: ['http'] }, 'named ports kept as names');
  t.same(r.destination.notPorts, { ranges: [{ from: 9000, to: 9000 }], names: [] });
  t.ok(r.destination.namespaceSelector);
  t.equal(r.http, true);
  t.equal(r.ipVersion, null);
  const icmp = parseRule({ action: 'Deny', protocol: 'ICMPv6', ipVersion: 6, icmp: { type: 128, code: 0 }, notICMP: { type: 1 } }, 'Profile', 'p', 'spec.egress[0]');
  t.same([icmp.protocol, icmp.ipVersion, icmp.icmp, icmp.notIcmp], [58, 6, { type: 128, code: 0 }, { type: 1 }]);
});

t.test('a rule: refusals name the field and the reason', async (t) => {
  const refused = (rule: unknown): ModelError => {
    try {
      parseRule(rule, 'GlobalNetworkPolicy', 'p', 'spec.ingress[0]');
    } catch (e) {
      if (e instanceof ModelError) return e;
      throw e;
    }
    throw new Error('accepted');
  };
  const cases: [unknown, string, RegExp][] = [
    [{ action: 'Accept' }, 'spec.ingress[0].action', /must be one of Allow, Deny, Log, Pass, got "Accept"/],
    [{}, 'spec.ingress[0].action', /is required/],
    [{ action: 'Allow', protocol: 256 }, 'spec.ingress[0].protocol', /1\.\.255/],
    [{ action: 'Allow', destination: { ports: [179] } }, 'spec.ingress[0].destination.ports', /needs protocol TCP, UDP or SCTP on the rule/],
    [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['2000:1000'] } }, 'spec.ingress[0].destination.ports[0]', /range start is greater/],
    [{ action: 'Deny', source: { nets: ['10.0.0.0/8', '10.0.0.0/33'] } }, 'spec.ingress[0].source.nets[1]', /"10\.0\.0\.0\/33" is not a valid CIDR or IP address/],
    [{ action: 'Allow', icmp: { type: 8 } }, 'spec.ingress[0].icmp', /needs protocol ICMP or ICMPv6/],
    [{ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }, 'spec.ingress[0].icmp.code', /needs icmp type/],
    [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }, 'spec.ingress[0].icmp.type', /0\.\.254/],
    [{ action: 'Allow', ipVersion: 5 }, 'spec.ingress[0].ipVersion', /must be 4 or 6/],
    [{ action: 'Allow', source: { selector: "a == 'b" } }, 'spec.ingress[0].source.selector', /invalid selector/],
  ];
  for (const [rule, field, reason] of cases) {
    const e = refused(rule);
    t.equal(e.code, 'ERR_CONFIG_INVALID');
    t.same([e.kind, e.resource, e.field], ['GlobalNetworkPolicy', 'p', field], JSON.stringify(rule));
    t.match(e.reason, reason);
  }
});

t.test('policies, profiles and tiers', async (t) => {
  const p = parseGlobalNetworkPolicy(gnp('a', { order: 10, tier: 'sec', selector: "app == 'x'", egress: [{ action: 'Allow' }], preDNAT: true }));
  t.same([p.kind, p.key, p.tier, p.order, p.applies, p.preDNAT, p.doNotTrack], ['GlobalNetworkPolicy', 'a', 'sec', 10, { ingress: false, egress: true }, true, false]);
  t.ok(p.selector?.matches({ app: 'x' }));
  t.equal(p.rules.egress.length, 1);
  const d = parseGlobalNetworkPolicy(gnp('d', {}));
  t.same([d.tier, d.order, d.applies, d.selector?.toString()], ['default', undefined, { ingress: true, egress: false }, 'all()'], "Calico's defaults");
  const bad = parseGlobalNetworkPolicy(gnp('b', { selector: "x == '", ingress: [{ action: 'Allow', protocol: 'nope' }] }));
  t.equal(bad.selector, null);
  t.match(bad.selectorRefused, { field: 'spec.selector', reason: /invalid selector/ });
  t.match(bad.rulesRefused, { field: 'spec.ingress[0].protocol' });
  t.same(bad.rules, { ingress: [], egress: [] }, 'refused rules are not half kept');
  const np = parseNetworkPolicy({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'n', namespace: 'ns1' }, spec: { types: ['Ingress', 'Egress'] } });
  t.same([np.key, np.namespace, np.applies], ['ns1/n', 'ns1', { ingress: true, egress: true }]);
  const prof = parseProfile({ apiVersion: V3, kind: 'Profile', metadata: { name: 'kns.a' }, spec: { ingress: [{ action: 'Allow' }], labelsToApply: { x: 'y' } } });
  t.same([prof.applies, prof.labelsToApply, prof.rules.ingress.length], [{ ingress: true, egress: true }, { x: 'y' }, 1]);
  t.same(parseTier({ apiVersion: V3, kind: 'Tier', metadata: { name: 'default' }, spec: {} }), { name: 'default', order: 1_000_000, defaultAction: 'Deny' });
  t.same(parseTier({ apiVersion: V3, kind: 'Tier', metadata: { name: 's' }, spec: { order: 5, defaultAction: 'Pass' } }), { name: 's', order: 5, defaultAction: 'Pass' });
});

t.test('endpoints and sets', async (t) => {
  const w = parseWorkloadEndpoint({
    apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: 'w', namespace: 'ns', labels: { app: 'db' } },
    spec: { node: 'n1', interfaceName: 'cali1', ipNetworks: ['10.65.0.1/32', 'fd00::1/128'], ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }], allowSpoofedSourcePrefixes: ['10.1.0.0/16'] },
  });
  t.same([w.key, w.namespace, w.node, w.iface, w.orchestrator], ['ns/w', 'ns', 'n1', 'cali1', 'k8s']);
  t.same(w.addrs, { v4: ['10.65.0.1/32'], v6: ['fd00::1/128'] });
  t.same(w.ports, [{ name: 'pg', protocol: 6, port: 5432 }]);
  t.same(w.allowSpoofed, { v4: ['10.1.0.0/16'], v6: [] });
  t.same(w.refused, []);
  const bad = parseWorkloadEndpoint({
    apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: 'w' },
    spec: { node: 'n1', interfaceName: 'cali1', ipNetworks: ['10.65.0.1/32', 'nope'], ports: [{ name: 'pg', protocol: 'XTP', port: 5432 }] },
  });
  t.same(bad.addrs, { v4: [], v6: [] }, 'addresses never half known');
  t.same(bad.ports, []);
  t.same(bad.refused.map((e) => e.field), ['spec.ipNetworks[1]', 'spec.ports[0].protocol']);
  const h = parseHostEndpoint({ apiVersion: V3, kind: 'HostEndpoint', metadata: { name: 'h' }, spec: { node: 'n1', expectedIPs: ['fd00:0::1', 'x'] } });
  t.same([h.iface, h.expectedIPs], ['', ['fd00::1']]);
  t.match(h.refused, [{ field: 'spec.expectedIPs[1]', reason: /not an IP address/ }]);
  const g = parseGlobalNetworkSet({ apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name: 'g' }, spec: { nets: ['192.168.1.7/24'] } });
  t.same([g.namespace, g.nets], [null, { v4: ['192.168.1.0/24'], v6: [] }]);
});

t.test('policyModel: per snapshot, and once per resource object', async (t) => {
  const a = gnp('a', { ingress: [{ action: 'Allow' }] }) as Resource;
  const b = gnp('b', { ingress: [{ action: 'Deny' }] }) as Resource;
  const s1 = buildSnapshot([a, b], 1);
  const m1 = policyModel(s1);
  t.equal(policyModel(s1), m1, 'memoised per snapshot');
  t.same([...m1.globalNetworkPolicies.keys()], ['a', 'b']);
  const s2 = buildSnapshot([s1.globalNetworkPolicies.get('a')!, gnp('b', { ingress: [{ action: 'Allow' }] }) as Resource], 2);
  const m2 = policyModel(s2);
  t.equal(s2.globalNetworkPolicies.get('a'), s1.globalNetworkPolicies.get('a'), 'a sealed resource is reused');
  t.equal(m2.globalNetworkPolicies.get('a'), m1.globalNetworkPolicies.get('a'), 'the same resource object: parsed once');
  t.not(m2.globalNetworkPolicies.get('b'), m1.globalNetworkPolicies.get('b'));
  t.equal(m2.globalNetworkPolicies.get('b')!.rules.ingress[0]!.action, 'Allow');
});
