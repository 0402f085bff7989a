// The model's parsers: each BGP kind from its resource to typed values (seconds, peerIP split,
// compiled selectors, checked AS numbers, canonical prefixes), and ModelError for refusals.
import t from 'tap';
import {
  bgpModel, bgpPeerConflict, ModelError, parseBgpConfiguration, parseBgpFilter, parseBgpPeer, parseBlockAffinity,
  parseIpPool, parseNode,
} from '../../src/model/index.js';
import type { BGPConfigurationSpec, BGPPeerSpec, Resource } from '../../src/model/types.js';
import { buildSnapshot } from '../../src/datastore/snapshot.js';

const meta = (name: string, annotations?: Record<string, string>) => ({ name, ...(annotations ? { annotations } : {}) });
const peer = (name: string, spec: BGPPeerSpec, annotations?: Record<string, string>) =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: meta(name, annotations), spec }) as const;
const config = (name: string, spec: BGPConfigurationSpec) => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: meta(name), spec }) as const;

t.test('BGPPeer: typed fields', async (t) => {
  const p = parseBgpPeer(peer('tor', {
    nodeSelector: "rack == 'r1'", peerIP: '[FD00::1]:1179', asNumber: 65001, maxRestartTime: '2m30.4s', keepaliveTime: '20s',
    reachableBy: 'fd00::0:fe', filters: ['f1'], reversePeering: 'Manual',
  }, { 'tern/max-prefixes': 'ipv6=100' }));
  t.same(p.peerIP, { address: 'fd00::1', family: 'ipv6', port: 1179 });
  t.equal(p.maxRestartTime, 150, 'seconds, rounded as Calico does');
  t.equal(p.keepaliveTime, 20);
  t.equal(p.reachableBy, 'fd00::fe', 'canonical');
  t.ok(p.nodeSelector?.matches({ rack: 'r1' }), 'selector compiled');
  t.notOk(p.nodeSelector?.matches({ rack: 'r2' }));
  t.same(p.maxPrefixes, { ipv6: 100 });
  t.equal(p.reversePeering, 'Manual');
  t.same(p.refused, []);
});

t.test('BGPPeer: refusals carry kind, resource, field and reason', async (t) => {
  const refuse = (spec: BGPPeerSpec) => {
    try {
      parseBgpPeer(peer('x', spec));
    } catch (e) {
      t.ok(e instanceof ModelError);
      const m = e as ModelError;
      t.equal(m.code, 'ERR_CONFIG_INVALID');
      t.same(m.details, { kind: 'BGPPeer', resource: 'x', field: m.field, reason: m.reason });
      return `${m.field}: ${m.reason}`;
    }
    return 'accepted';
  };
  t.equal(refuse({ node: 'a', nodeSelector: 'all()', peerIP: '10.0.0.1' }), 'spec.nodeSelector: cannot be set together with spec.node');
  t.equal(refuse({ peerIP: '10.0.0.1', peerSelector: 'all()' }), 'spec.peerSelector: cannot be set together with spec.peerIP');
  t.equal(refuse({}), 'spec.peerIP: one of spec.peerIP, spec.peerSelector or spec.localWorkloadSelector is required');
  t.match(refuse({ peerIP: '10.0.0.1:0' }), /^spec\.peerIP: "10\.0\.0\.1:0" has a port outside/);
  t.match(refuse({ peerIP: '10.0.0.1', maxRestartTime: '-5s' }), /^spec\.maxRestartTime: must not be negative/);
  t.match(refuse({ peerIP: '10.0.0.1', asNumber: 0 }), /^spec\.asNumber: must be an integer 1\.\.4294967295, got 0/);
  t.match(refuse({ peerSelector: "rack = 'r1'" }), /^spec\.peerSelector: /);
  t.equal(refuse({ peerIP: '10.0.0.1', reachableBy: 'fd00::1' }), 'spec.reachableBy: "fd00::1" and spec.peerIP are of different address families');
  t.equal(bgpPeerConflict({ localWorkloadSelector: 'all()' }), undefined);
  const badLimit = parseBgpPeer(peer('y', { peerIP: '10.0.0.1' }, { 'tern/max-prefixes': 'ten' }));
  t.equal(badLimit.maxPrefixes, undefined, 'a bad annotation is a refused field; the peering stands');
  t.equal(badLimit.refused[0]?.field, 'metadata.annotations.tern/max-prefixes');
});

t.test('Node and BGPConfiguration: bad fields are left out and kept in refused', async (t) => {
  const n = parseNode({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a' },
    spec: { bgp: { ipv4Address: '10.0.0.11/24', ipv6Address: '10.0.0.1/64', asNumber: 0, routeReflectorClusterID: ' 1.0.0.1 ' } } });
  t.same(n.ipv4, { address: '10.0.0.11', prefixLength: 24, network: '10.0.0.0/24' });
  t.equal(n.ipv6, undefined);
  t.equal(n.asNumber, undefined);
  t.equal(n.clusterId, '1.0.0.1');
  t.same(n.refused.map((e) => e.field), ['spec.bgp.ipv6Address', 'spec.bgp.asNumber']);
  t.equal(n.refused[0]?.reason, '"10.0.0.1/64" is not an IPv6 CIDR');
  const bare = parseNode({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'b' },
    spec: { bgp: { ipv4Address: '10.0.0.12', ipv6Address: 'FD00::12' } } });
  t.same(bare.ipv4, { address: '10.0.0.12', prefixLength: 32, network: '10.0.0.12/32' }, 'a bare address is a host route, as Calico reads it');
  t.same(bare.ipv6, { address: 'fd00::12', prefixLength: 128, network: 'fd00::12/128' });
  t.same(bare.refused, []);
  const c = parseBgpConfiguration(config('default', {
    nodeMeshMaxRestartTime: '90s', listenPort: 1790, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'nope' }],
    communities: [{ name: 'a', value: '65000:1' }], prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['a', '65000:2', 'a', 'zzz'] }],
  }));
  t.equal(c.nodeMeshMaxRestartTime, 90);
  t.equal(c.listenPort, 1790);
  t.same(c.serviceClusterIPs, [{ cidr: '10.96.0.0/12', family: 'ipv4', length: 12 }]);
  t.same(c.refused.map((e) => e.field), ['spec.serviceClusterIPs[1].cidr']);
  t.same(c.prefixAdvertisements, [{ cidr: '10.244.0.0/16', communities: ['65000:1', '65000:2'] }], 'names resolved, unknown dropped, deduped, sorted');
});

t.test('IPPool, BlockAffinity, BGPFilter; bgpModel collects refusals and is parsed once per snapshot', async (t) => {
  const pool = parseIpPool({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'v6' }, spec: { cidr: 'FD00:1::/48' } });
  t.same([pool.cidr, pool.family, pool.blockSize, pool.ipipMode], ['fd00:1::/48', 'ipv6', 122, 'Never']);
  const aff = parseBlockAffinity({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'b' }, spec: { node: 'a', cidr: '10.244.1.0/26', state: 'confirmed', deleted: 'true' } });
  t.equal(aff.deleted, true);
  const f = parseBgpFilter({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'f' },
    spec: { importV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { min: 16 } }] } });
  t.same(f.importV4, [{ action: 'Reject', match: { cidr: '10.0.0.0/8', operator: 'In' }, prefixLength: { min: 16, max: 32 }, remotePeers: false, operations: [] }]);
  t.same(f.exportV6, []);
  const snap = buildSnapshot([
    peer('good', { peerIP: '10.0.0.1', asNumber: 65001 }), peer('bad', { peerIP: 'x' }),
    { apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: 'c' }, spec: { node: 'n2', cidr: '10.0.0.0/33', state: 'confirmed' } },
  ] as Resource[], 1);
  const m = bgpModel(snap);
  t.same([...m.bgpPeers.keys()], ['good']);
  t.same(m.refused.map((e) => [e.kind, e.resource, e.field, e.node]), [['BGPPeer', 'bad', 'spec.peerIP', undefined], ['BlockAffinity', 'c', 'spec.cidr', 'n2']]);
  t.equal(bgpModel(snap), m, 'the same model for the same snapshot');
});

t.test('validation ends in the model parser, but a bad tern annotation stays a warning', async (t) => {
  const { validateResource } = await import('../../src/datastore/validate.js');
  const r = validateResource(peer('p', { peerIP: '10.0.0.1', asNumber: 65001 }, { 'tern/max-prefixes': 'ten' }));
  t.equal(r.metadata.annotations?.['tern/max-prefixes'], 'ten', 'accepted and kept as written');
  t.throws(() => validateResource(peer('q', { peerIP: '10.0.0.1', peerSelector: 'all()' })),
    { code: 'ERR_CONFIG_INVALID', message: /spec\.peerSelector: cannot be set together with spec\.peerIP/ });
});
