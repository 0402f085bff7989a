// Tier, NetworkSet, GlobalNetworkSet and HostEndpoint: validated from files, keyed in etcd
// as Calico keys them, and carried in the Snapshot.
import t from 'tap';
import { buildSnapshot, parseEtcdKey, parseResources, resourceEtcdKey } from '../../src/datastore/index.js';

const DOCS = `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: partners, namespace: shop, labels: {partner: 'yes'}}
spec: {nets: [203.0.113.0/24, '2001:db8::/64']}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: bad, labels: {threat: 'yes'}}
spec: {nets: [192.0.2.0/24]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {role: edge}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [192.168.1.10], ports: [{name: ssh, protocol: TCP, port: 22}]}
`;

t.test('the four kinds parse, key and snapshot like Calico', async (t) => {
  const rs = parseResources(DOCS, 'policy.yaml');
  t.same(rs.map((r) => r.kind), ['Tier', 'NetworkSet', 'GlobalNetworkSet', 'HostEndpoint']);
  t.same(rs.map(resourceEtcdKey), [
    '/calico/resources/v3/projectcalico.org/tiers/security',
    '/calico/resources/v3/projectcalico.org/networksets/shop/partners',
    '/calico/resources/v3/projectcalico.org/globalnetworksets/bad',
    '/calico/resources/v3/projectcalico.org/hostendpoints/node1-eth0',
  ]);
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/networksets/shop/partners'), { type: 'resource', kind: 'NetworkSet', namespace: 'shop', name: 'partners' });
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/tiers/security'), { type: 'resource', kind: 'Tier', name: 'security' });
  const s = buildSnapshot(rs, 1);
  t.same([...s.tiers.keys()], ['security']);
  t.same([...s.networkSets.keys()], ['shop/partners']);
  t.same([...s.globalNetworkSets.keys()], ['bad']);
  t.same([...s.hostEndpoints.keys()], ['node1-eth0']);
});

t.test('bad specs are refused with the field named', async (t) => {
  const doc = (kind: string, spec: string, ns = ''): string => `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata: {name: x${ns}}\nspec: ${spec}\n`;
  t.throws(() => parseResources(doc('Tier', '{defaultAction: Allow}'), 'f'), /spec\.defaultAction/);
  t.throws(() => parseResources(doc('GlobalNetworkSet', '{nets: [not-a-net]}'), 'f'), /spec\.nets\[0\]/);
  t.throws(() => parseResources(doc('HostEndpoint', '{node: n1}'), 'f'), /interfaceName or expectedIPs/);
  t.throws(() => parseResources(doc('GlobalNetworkSet', '{}', ', namespace: a'), 'f'), /not namespaced/);
});

t.test('addresses, nets and named ports: refused by the model\'s parsers, worded by them', async (t) => {
  const doc = (kind: string, spec: string): string => `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata: {name: x}\nspec: ${spec}\n`;
  t.throws(() => parseResources(doc('NetworkSet', '{nets: [10.0.0.0/8, 10.0.0.0/33]}'), 'f'), /spec\.nets\[1\]: "10\.0\.0\.0\/33" is not a valid CIDR or IP address/);
  t.throws(() => parseResources(doc('HostEndpoint', '{node: n1, expectedIPs: [10.0.0.300]}'), 'f'), /spec\.expectedIPs\[0\]: "10\.0\.0\.300" is not an IP address/);
  t.throws(() => parseResources(doc('HostEndpoint', '{node: n1, interfaceName: eth0, ports: [{name: ssh, protocol: XTP, port: 22}]}'), 'f'), /spec\.ports\[0\]\.protocol: must be TCP/);
  t.throws(() => parseResources(doc('HostEndpoint', '{node: n1, interfaceName: eth0, ports: [{name: ssh, protocol: TCP, port: 0}]}'), 'f'), /spec\.ports\[0\]\.port: must be an integer 1\.\.65535/);
  t.throws(() => parseResources(doc('WorkloadEndpoint', '{node: n1, interfaceName: cali1, ipNetworks: [10.65.0.1]}'), 'f'), /spec\.ipNetworks\[0\]: "10\.65\.0\.1" must be an address with a prefix length/);
  t.throws(() => parseResources(doc('WorkloadEndpoint', '{node: n1, interfaceName: cali1, ports: [{protocol: TCP, port: 5432}]}'), 'f'), /spec\.ports\[0\]\.name: is required/);
  t.doesNotThrow(() => parseResources(doc('WorkloadEndpoint', '{node: n1, interfaceName: cali1, ipNetworks: [10.65.0.1/32], ports: [{name: pg, protocol: TCP, port: 5432}]}'), 'f'));
  t.throws(() => parseResources(doc('Profile', '{ingress: [{action: Allow, source: {selector: "a == \'b"}}]}'), 'f'), /spec\.ingress\[0\]\.source\.selector: invalid selector/);
  t.throws(() => parseResources(doc('GlobalNetworkPolicy', '{selector: "a == \'b"}'), 'f'), /spec\.selector: invalid selector/);
});
