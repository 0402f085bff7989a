// Calico's etcd key layout and BlockAffinity naming, both ways (pure).
import t from 'tap';
import { affinityKey, affinityName, parseEtcdKey, resourceEtcdKey, type Resource } from '../../src/datastore/index.js';

t.test('v3 resource keys', async (t) => {
  const peer: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'rr-peers' }, spec: {} };
  t.equal(resourceEtcdKey(peer), '/calico/resources/v3/projectcalico.org/bgppeers/rr-peers');
  const np: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'prod' }, spec: {} };
  t.equal(resourceEtcdKey(np), '/calico/resources/v3/projectcalico.org/networkpolicies/prod/web');
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/networkpolicies/prod/web'), { type: 'resource', kind: 'NetworkPolicy', namespace: 'prod', name: 'web' });
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool'), { type: 'resource', kind: 'IPPool', name: 'default-ipv4-ippool' });
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/felixconfigurations/default'), { type: 'resource', kind: 'FelixConfiguration', name: 'default' }, 'kinds tern keeps but ignores are read too');
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/bgpfilters/no-lb'), { type: 'resource', kind: 'BGPFilter', name: 'no-lb' });
  t.same(parseEtcdKey('/calico/resources/v3/projectcalico.org/networksets/prod/ext'), { type: 'resource', kind: 'NetworkSet', namespace: 'prod', name: 'ext' });
  t.equal(parseEtcdKey('/calico/resources/v3/projectcalico.org/unknownthings/default'), undefined, 'plurals tern does not know');
  t.equal(parseEtcdKey('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26'), undefined, 'IPAM blocks are not affinities');
  t.equal(parseEtcdKey('/calico/resources/v3/projectcalico.org/networkpolicies/web'), undefined, 'namespaced kind without namespace');
  t.equal(parseEtcdKey('/calico/resources/v3/projectcalico.org/blockaffinities/node-2-10-244-2-0-26'), undefined, 'affinities are read from the IPAM keys only, never as v3 JSON');
});

t.test('block affinities: key and name as Calico builds them', async (t) => {
  t.equal(affinityKey('node-1', '10.244.1.0/26'), '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26');
  t.equal(affinityKey('node-1', 'fd00:1:0::/122'), '/calico/ipam/v2/host/node-1/ipv6/block/fd00:1::-122', "IPv6 keeps ':'; only '/' becomes '-'");
  t.equal(affinityName('node-1', '10.244.1.0/26'), 'node-1-10-244-1-0-26');
  t.equal(affinityName('node-1', 'fd00:1::/122'), 'node-1-fd00-1---122');
  t.same(parseEtcdKey('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26'), { type: 'affinity', node: 'node-1', cidr: '10.244.1.0/26' });
  t.same(parseEtcdKey('/calico/ipam/v2/host/node-1/ipv6/block/fd00:1::-122'), { type: 'affinity', node: 'node-1', cidr: 'fd00:1::/122' });
  const aff: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'ignored' }, spec: { node: 'n2', cidr: '10.244.2.64/26', state: 'confirmed' } };
  t.equal(resourceEtcdKey(aff), '/calico/ipam/v2/host/n2/ipv4/block/10.244.2.64-26');
});
