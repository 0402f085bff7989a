// The rest of Calico's BGP surface as confd derives it: BGPPeer.filters (per family, in
// order, unknown names and empty lists skipped, never on the mesh), keepOriginalNextHop
// toward another AS only, numAllowedLocalASNumbers on peerIP peerings, prefixAdvertisements
// (node.<name> replaces default), and the service CIDRs (updateGlobalRoutes).
import t from 'tap';
import { deriveNodeConfig } from '../../src/peering/index.js';
import type { PeerSpec } from '../../src/peering/peer-spec.js';
import type { Resource } from '../../src/model/types.js';
import { bgpConfig, bgpPeer, node, snapshot } from './fixtures/snapshot.js';

const nodes = [
  node('a', { ipv4Address: '10.0.0.11/24', ipv6Address: 'fd00::11/64' }),
  node('b', { ipv4Address: '10.0.0.12/24' }),
];

function bgpFilter(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name }, spec } as Resource;
}

const find = (peers: readonly PeerSpec[], name: string) => peers.find((p) => p.name === name);

t.test('BGPPeer.filters: chains per family in filters order; unknown and empty skipped; mesh never', async (t) => {
  const snap = snapshot([...nodes,
    bgpFilter('first', { importV4: [{ action: 'Reject', matchOperator: 'In', cidr: '192.168.0.0/16' }], exportV4: [], exportV6: [{ action: 'Accept', source: 'RemotePeers' }] }),
    bgpFilter('second', { exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '172.16.0.0/12', prefixLength: { max: 24 } }] }),
    bgpPeer('tor', { node: 'a', peerIP: '10.0.0.1', asNumber: 65001, filters: ['missing', 'first', 'second'] }),
    bgpPeer('tor6', { node: 'a', peerIP: 'fd00::1', asNumber: 65001, filters: ['first'] }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  const tor = find(a.peers, 'Node_10_0_0_1');
  t.same(tor?.importFilter, [{ name: 'first', rules: [{ action: 'reject', cidr: '192.168.0.0/16', operator: 'in' }] }]);
  t.same(tor?.exportFilter, [{ name: 'second', rules: [{ action: 'accept', cidr: '172.16.0.0/12', operator: 'in', lengths: { min: 0, max: 24 } }] }],
    "'first' has no exportV4 rules: skipped, as confd skips it");
  const tor6 = find(a.peers, 'Node_fd00__1');
  t.equal(tor6?.importFilter, undefined, 'no importV6 rules');
  t.same(tor6?.exportFilter, [{ name: 'first', rules: [{ action: 'accept', remotePeers: true }] }]);
  const mesh = find(a.peers, 'Mesh_10_0_0_12');
  t.ok(mesh);
  t.equal(mesh?.importFilter, undefined);
  t.equal(mesh?.exportFilter, undefined);

  // A filter change keeps the session (not a session parameter).
  const { sessionParamsDiffer } = await import('../../src/peering/peer-spec.js');
  const changed = deriveNodeConfig(snapshot([...nodes,
    bgpFilter('first', { importV4: [{ action: 'Accept' }] }),
    bgpPeer('tor', { node: 'a', peerIP: '10.0.0.1', asNumber: 65001, filters: ['missing', 'first', 'second'] }),
  ]), 'a');
  const tor2 = find(changed.peers, 'Node_10_0_0_1')!;
  t.same(tor2.importFilter, [{ name: 'first', rules: [{ action: 'accept' }] }]);
  t.equal(tor2.exportFilter, undefined);
  t.equal(sessionParamsDiffer(tor!, tor2), false);
});

t.test('keepOriginalNextHop: next hop keep toward another AS only; nextHopMode wins when set', async (t) => {
  const snap = snapshot([...nodes, bgpConfig('default', { asNumber: 64512 }),
    bgpPeer('ext', { node: 'a', peerIP: '10.0.0.1', asNumber: 65001, keepOriginalNextHop: true }),
    bgpPeer('int', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512, keepOriginalNextHop: true }),
    bgpPeer('auto', { node: 'a', peerIP: '10.0.0.3', asNumber: 65001, keepOriginalNextHop: true, nextHopMode: 'Auto' }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(find(a.peers, 'Node_10_0_0_1')?.nextHopMode, 'keep');
  t.equal(find(a.peers, 'Node_10_0_0_2')?.nextHopMode, 'auto', 'same AS: confd writes no `next hop keep`');
  t.equal(find(a.peers, 'Node_10_0_0_3')?.nextHopMode, 'auto', 'nextHopMode set: keepOriginalNextHop ignored');
});

t.test('numAllowedLocalASNumbers: on peerIP peerings (confd copies it there only)', async (t) => {
  const snap = snapshot([...nodes, node('c', { ipv4Address: '10.0.0.13/24' }, { rr: 'true' }),
    bgpPeer('ext', { node: 'a', peerIP: '10.0.0.1', asNumber: 65001, numAllowedLocalASNumbers: 2 }),
    bgpPeer('sel', { node: 'a', peerSelector: "rr == 'true'", numAllowedLocalASNumbers: 3 }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(find(a.peers, 'Node_10_0_0_1')?.allowOwnAs, 2);
  t.equal(find(a.peers, 'Node_10_0_0_13')?.allowOwnAs, undefined);
});

t.test('prefixAdvertisements: node.<name> replaces default, names resolved in the same resource', async (t) => {
  const global = bgpConfig('default', {
    communities: [{ name: 'gold', value: '65000:100' }, { name: 'big', value: '65000:1:2' }],
    prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['gold', 'big', '65000:100', '64999:7'] }],
  });
  const a = deriveNodeConfig(snapshot([...nodes, global]), 'a');
  t.same(a.prefixCommunities, [{ cidr: '10.244.0.0/16', communities: ['64999:7', '65000:100', '65000:1:2'] }], 'deduped and sorted as text (byte order, as Go sort.Strings)');
  const own = bgpConfig('node.a', { communities: [{ name: 'silver', value: '65000:200' }], prefixAdvertisements: [{ cidr: '10.244.1.0/24', communities: ['silver'] }] });
  const withOwn = deriveNodeConfig(snapshot([...nodes, global, own]), 'a');
  t.same(withOwn.prefixCommunities, [{ cidr: '10.244.1.0/24', communities: ['65000:200'] }], 'no merge with default');
  t.same(deriveNodeConfig(snapshot([...nodes, global, own]), 'b').prefixCommunities, a.prefixCommunities, 'other nodes keep default');
  const empty = bgpConfig('node.a', { prefixAdvertisements: [] });
  t.same(deriveNodeConfig(snapshot([...nodes, global, empty]), 'a').prefixCommunities, [], 'an empty node list still replaces');
});

t.test('service CIDRs: cluster IPs and non-single external/LB CIDRs advertised and kept out of the kernel', async (t) => {
  const global = bgpConfig('default', {
    serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'fd00:96::/112' }],
    serviceExternalIPs: [{ cidr: '198.51.100.0/24' }, { cidr: '198.51.100.77/32' }],
    serviceLoadBalancerIPs: [{ cidr: '203.0.113.0/24' }, { cidr: '203.0.113.9/32' }],
  });
  const a = deriveNodeConfig(snapshot([...nodes, global]), 'a');
  t.same(a.services.advertise, ['10.96.0.0/12', 'fd00:96::/112', '198.51.100.0/24', '203.0.113.0/24'], 'single addresses are per-service routes');
  t.same(a.services.reject, a.services.advertise);
  t.same(a.services.loadBalancer, ['203.0.113.0/24', '203.0.113.9/32']);
  t.same(a.services.external, ['198.51.100.0/24', '198.51.100.77/32'], 'a reflector passes on routes inside every external range, single addresses too');
  const env = deriveNodeConfig(snapshot([...nodes, global]), 'a', { advertiseClusterIPs: '10.100.0.0/16' });
  t.same(env.services.advertise.slice(0, 1), ['10.100.0.0/16'], 'CALICO_ADVERTISE_CLUSTER_IPS replaces serviceClusterIPs');
  const excluded = node('a', { ipv4Address: '10.0.0.11/24' }, { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' });
  const ex = deriveNodeConfig(snapshot([excluded, nodes[1]!, global]), 'a');
  t.same(ex.services.advertise, [], 'an excluded node advertises none');
  t.same(ex.services.reject, a.services.reject, 'but still keeps learned routes for them out of the kernel');
});

t.test('serviceLoadBalancerAggregation Disabled: LoadBalancer ranges neither advertised nor rejected, still reflected', async (t) => {
  const spec = {
    serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
    serviceLoadBalancerIPs: [{ cidr: '203.0.113.0/24' }],
  };
  const on = deriveNodeConfig(snapshot([...nodes, bgpConfig('default', { ...spec, serviceLoadBalancerAggregation: 'Enabled' })]), 'a');
  t.same(on.services.advertise, ['10.96.0.0/12', '203.0.113.0/24'], 'Enabled is the default behaviour');
  const off = deriveNodeConfig(snapshot([...nodes, bgpConfig('default', { ...spec, serviceLoadBalancerAggregation: 'Disabled' })]), 'a');
  t.same(off.services.advertise, ['10.96.0.0/12']);
  t.same(off.services.reject, ['10.96.0.0/12'], 'confd drops the reject route with the static one');
  t.same(off.services.loadBalancer, ['203.0.113.0/24'], 'a reflector still passes on routes inside them');
});

t.test('ipv4NormalRoutePriority / ipv6NormalRoutePriority: N of the route priority model, from default only, without a warning', async (t) => {
  const cfg = deriveNodeConfig(snapshot([...nodes, bgpConfig('default', { ipv4NormalRoutePriority: 2048 }), bgpConfig('node.a', { logSeverityScreen: 'Debug' })]), 'a');
  t.same(cfg.normalRoutePriority, { ipv4: 2048 });
  t.notOk(cfg.warnings.some((w) => /NormalRoutePriority/.test(w)), cfg.warnings.join('; '));
  const none = deriveNodeConfig(snapshot([...nodes, bgpConfig('default', {})]), 'a');
  t.equal(none.normalRoutePriority, undefined, 'unset: Calico\'s 1024 (policy/priority.ts)');
});

t.test('reachableBy: carried to the session of its family; a family mismatch skips the BGPPeer', async (t) => {
  const snap = snapshot([...nodes,
    bgpPeer('gw', { node: 'a', peerIP: '192.0.2.1', asNumber: 65001, reachableBy: '10.0.0.1' }),
    bgpPeer('bad', { node: 'a', peerIP: '192.0.2.2', asNumber: 65001, reachableBy: 'fd00::1' }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(find(a.peers, 'Node_192_0_2_1')?.reachableBy, '10.0.0.1');
  t.equal(find(a.peers, 'Node_192_0_2_2'), undefined);
  t.match(a.warnings.join('\n'), /BGPPeer bad: spec\.reachableBy: "fd00::1" and spec\.peerIP are of different address families; skipped/);
});

t.test('localWorkloadSelector: passive Local_Workload_ sessions with the workloads Felix marked, no reverse peering', async (t) => {
  const { parseEndpointStatus } = await import('../../src/daemon/local-workloads.js');
  t.same(parseEndpointStatus('wl1', JSON.stringify({ ifaceName: 'cali1', ipv4Nets: ['10.244.1.5/32'], ipv6Nets: ['FD00:244::5/128'], bgpPeerName: 'workloads' })),
    { name: 'wl1', bgpPeerName: 'workloads', ipv4: '10.244.1.5', ipv6: 'fd00:244::5' });
  t.equal(parseEndpointStatus('wl2', JSON.stringify({ ifaceName: 'cali2', ipv4Nets: ['10.244.1.6/32'] })), undefined, 'not selected');
  t.equal(parseEndpointStatus('wl3', '{"bgpPeerName":'), undefined, 'half-written');
  const snap = snapshot([...nodes,
    bgpFilter('wl-in', { importV4: [{ action: 'Reject', matchOperator: 'NotIn', cidr: '10.200.0.0/16' }] }),
    { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'workloads' },
      spec: { node: 'a', localWorkloadSelector: "app == 'bgp'", asNumber: 65030, filters: ['wl-in'], password: { secretKeyRef: { name: 's', key: 'k' } }, maxRestartTime: '10s' } } as Resource,
  ]);
  const localWorkloads = [
    { name: 'wl1', bgpPeerName: 'workloads', ipv4: '10.244.1.5', ipv6: 'fd00:244::5' },
    { name: 'wl9', bgpPeerName: 'other', ipv4: '10.244.1.9' },
  ];
  const a = deriveNodeConfig(snap, 'a', { localWorkloads, secrets: () => ({ value: 'pw' }) });
  const v4 = find(a.peers, 'Local_Workload_10_244_1_5');
  t.same(v4, {
    key: '10.244.1.5|179', name: 'Local_Workload_10_244_1_5', type: 'localWorkload', address: '10.244.1.5', port: 179, family: 'ipv4',
    localAs: 64512, peerAs: 65030, passive: true, holdTime: 240, connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'auto',
    routeReflectorClient: false, addPath: true,
    importFilter: [{ name: 'wl-in', rules: [{ action: 'reject', cidr: '10.200.0.0/16', operator: 'notIn' }] }],
  }, 'no source address, password, timers or TTL, as confd');
  t.ok(find(a.peers, 'Local_Workload_fd00_244__5'));
  t.equal(a.peers.filter((p) => p.name.startsWith('Local_Workload_')).length, 2, "another BGPPeer's workload is not ours");
  const b = deriveNodeConfig(snap, 'b', { localWorkloads });
  t.equal(b.peers.filter((p) => p.type === 'localWorkload' || p.name.startsWith('Node_10_0_0_11')).length, 0, 'not selected locally, no reverse peering');
});

t.test('BGPFilter peerType: rules for the peer\'s type only (peer AS = the session\'s local AS is iBGP); a filter left without rules adds nothing', async (t) => {
  const snap = snapshot([...nodes, bgpConfig('default', { asNumber: 64512 }),
    bgpFilter('typed', { exportV4: [{ action: 'Reject', peerType: 'eBGP', communities: { values: ['65000:1'] } }, { action: 'Accept', peerType: 'iBGP', asPathPrefix: [65001] }] }),
    bgpFilter('ebgp-only', { importV4: [{ action: 'Reject', peerType: 'eBGP' }] }),
    bgpPeer('ext', { node: 'a', peerIP: '10.0.0.1', asNumber: 65001, filters: ['typed', 'ebgp-only'] }),
    bgpPeer('int', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512, filters: ['typed', 'ebgp-only'] }),
    bgpPeer('local-as', { node: 'a', peerIP: '10.0.0.3', asNumber: 65009, localASNumber: 65009, filters: ['typed'] }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  const ext = find(a.peers, 'Node_10_0_0_1');
  t.same(ext?.exportFilter, [{ name: 'typed', rules: [{ action: 'reject', community: '65000:1' }] }]);
  t.same(ext?.importFilter, [{ name: 'ebgp-only', rules: [{ action: 'reject' }] }]);
  const int = find(a.peers, 'Node_10_0_0_2');
  t.same(int?.exportFilter, [{ name: 'typed', rules: [{ action: 'accept', asPathPrefix: [65001] }] }]);
  t.equal(int?.importFilter, undefined, 'no rule of ebgp-only applies to an iBGP peer');
  const localAs = find(a.peers, 'Node_10_0_0_3');
  t.same(localAs?.exportFilter, [{ name: 'typed', rules: [{ action: 'accept', asPathPrefix: [65001] }] }], 'localASNumber = peer AS: iBGP, as confd compares them');
});
