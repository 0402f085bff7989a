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
