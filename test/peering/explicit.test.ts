// Explicit BGPPeers: global, node, nodeSelector, peerSelector with reverse peering, the
// route-reflector topology, deduplication and per-peer options.
import t from 'tap';
import { deriveNodeConfig } from '../../src/peering/index.js';
import type { PeerSpec } from '../../src/peering/peer-spec.js';
import type { Resource } from '../../src/model/types.js';
import { bgpConfig, bgpPeer, names, node, snapshot } from './fixtures/snapshot.js';

const meshOff = bgpConfig('default', { nodeToNodeMeshEnabled: false });
const abc = [
  node('a', { ipv4Address: '10.0.0.11/24' }, { rack: 'r1' }),
  node('b', { ipv4Address: '10.0.0.12/24' }, { rack: 'r1' }),
  node('c', { ipv4Address: '10.0.0.13/24' }, { rack: 'r2' }),
];

function find(peers: readonly PeerSpec[], name: string): PeerSpec | undefined {
  return peers.find((p) => p.name === name);
}

t.test('global peer (no node, no nodeSelector) on every node; port in the name', async (t) => {
  const snap = snapshot([...abc, meshOff,
    bgpPeer('tor', { peerIP: '192.168.1.1', asNumber: 65100 }),
    bgpPeer('tor2', { peerIP: '192.168.1.2:1179', asNumber: 65100 })]);
  for (const n of ['a', 'b', 'c']) {
    const cfg = deriveNodeConfig(snap, n);
    t.same(names(cfg.peers), ['Global_192_168_1_1', 'Global_192_168_1_2_port_1179'], n);
  }
  const p = deriveNodeConfig(snap, 'a').peers;
  t.same(p[0], {
    key: '192.168.1.1|179', name: 'Global_192_168_1_1', type: 'global', address: '192.168.1.1', port: 179,
    family: 'ipv4', localAs: 64512, peerAs: 65100, sourceAddress: '10.0.0.11', passive: false, holdTime: 240,
    connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'auto', routeReflectorClient: false, addPath: true,
  });
  t.equal(p[1]?.key, '192.168.1.2|1179');
  t.equal(p[1]?.port, 1179);
});

t.test('node-specific peer (node:) only on that node', async (t) => {
  const snap = snapshot([...abc, meshOff, bgpPeer('a-tor', { node: 'a', peerIP: '192.168.1.1', asNumber: 65100 })]);
  t.same(names(deriveNodeConfig(snap, 'a').peers), ['Node_192_168_1_1']);
  t.equal(deriveNodeConfig(snap, 'a').peers[0]?.type, 'node');
  t.same(deriveNodeConfig(snap, 'b').peers, []);
});

t.test('nodeSelector peer on the selected nodes only', async (t) => {
  const snap = snapshot([...abc, meshOff, bgpPeer('r1-tor', { nodeSelector: "rack == 'r1'", peerIP: '192.168.1.1', asNumber: 65100 })]);
  t.same(names(deriveNodeConfig(snap, 'a').peers), ['Node_192_168_1_1']);
  t.same(names(deriveNodeConfig(snap, 'b').peers), ['Node_192_168_1_1']);
  t.same(deriveNodeConfig(snap, 'c').peers, []);
});

t.test('a node-specific peer duplicating a global peer is dropped', async (t) => {
  const snap = snapshot([...abc, meshOff,
    bgpPeer('global-tor', { peerIP: '192.168.1.1', asNumber: 65100 }),
    bgpPeer('a-tor', { node: 'a', peerIP: '192.168.1.1', asNumber: 65200, keepaliveTime: '10s' })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(names(a.peers), ['Global_192_168_1_1']);
  t.equal(a.peers[0]?.peerAs, 65100);
  t.equal(a.peers[0]?.keepaliveTime, undefined);
});

t.test('self is skipped; explicit session wins over the mesh session to the same address', async (t) => {
  const snap = snapshot([...abc, bgpPeer('to-a', { peerIP: '10.0.0.11', asNumber: 64512 })]);
  const b = deriveNodeConfig(snap, 'b');
  t.same(names(b.peers), ['Global_10_0_0_11', 'Mesh_10_0_0_13'], 'Global_ replaces Mesh_10_0_0_11');
  t.equal(find(b.peers, 'Global_10_0_0_11')?.calicoNode, 'a');
  t.equal(find(b.peers, 'Global_10_0_0_11')?.passive, false, 'peer .11 is lower: b connects');
  const c = deriveNodeConfig(snap, 'c');
  t.equal(find(c.peers, 'Global_10_0_0_11')?.passive, false);
  // a is the peer itself: no session to its own address, and reverse peering (the BGPPeer
  // names a's IP and AS) gives a Node_ session back to every node the peer applies to.
  const a = deriveNodeConfig(snap, 'a');
  t.same(names(a.peers), ['Node_10_0_0_12', 'Node_10_0_0_13']);
  t.notOk(a.peers.some((p) => p.address === '10.0.0.11'));
});

t.test('global peer that is a Calico node: passive when its address is greater, its listen port used', async (t) => {
  const snap = snapshot([...abc, meshOff, bgpConfig('node.c', { listenPort: 1790 }),
    bgpPeer('to-c', { peerIP: '10.0.0.13', asNumber: 64512 })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(names(a.peers), ['Global_10_0_0_13_port_1790']);
  t.equal(a.peers[0]?.port, 1790);
  t.equal(a.peers[0]?.passive, true, '.13 > .11: a waits');
  t.equal(a.peers[0]?.calicoNode, 'c');
});

t.test('route reflector topology: nodeSelector all() x peerSelector route-reflector == true', async (t) => {
  const rrLabels = { 'route-reflector': 'true' };
  const snap = snapshot([
    node('c1', { ipv4Address: '10.0.1.1/24' }),
    node('c2', { ipv4Address: '10.0.1.2/24' }),
    node('rr1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, rrLabels),
    node('rr2', { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '244.0.0.1' }, rrLabels),
    bgpPeer('rr-peers', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
  ]);
  const rrClient = (peers: readonly PeerSpec[]) => Object.fromEntries(peers.map((p) => [p.name, p.routeReflectorClient]));
  // mesh stays on: clients still mesh with each other but never with RRs
  const c1 = deriveNodeConfig(snap, 'c1');
  t.same(names(c1.peers), ['Mesh_10_0_1_2', 'Node_10_0_0_1', 'Node_10_0_0_2']);
  t.same(rrClient(c1.peers), { Mesh_10_0_1_2: false, Node_10_0_0_1: false, Node_10_0_0_2: false });
  t.same(c1.peers.map((p) => p.calicoNode), ['c2', 'rr1', 'rr2']);
  const rr1 = deriveNodeConfig(snap, 'rr1');
  t.same(names(rr1.peers), ['Node_10_0_0_2', 'Node_10_0_1_1', 'Node_10_0_1_2']);
  t.same(rrClient(rr1.peers), { Node_10_0_0_2: false, Node_10_0_1_1: true, Node_10_0_1_2: true },
    'RR->client is rr client; RR->RR with the same cluster id is plain iBGP');
  t.same(rr1.peers.map((p) => p.type), ['node', 'node', 'node']);
  t.equal(rr1.meshEnabled, false);
  const rr2 = deriveNodeConfig(snap, 'rr2');
  t.same(names(rr2.peers), ['Node_10_0_0_1', 'Node_10_0_1_1', 'Node_10_0_1_2']);
  t.same(rrClient(rr2.peers), { Node_10_0_0_1: false, Node_10_0_1_1: true, Node_10_0_1_2: true });
  // every client<->RR pair exists on both ends
  for (const [client, cfgC] of [['10.0.1.1', c1], ['10.0.1.2', deriveNodeConfig(snap, 'c2')]] as const) {
    for (const [rrIp, cfgR] of [['10.0.0.1', rr1], ['10.0.0.2', rr2]] as const) {
      t.ok(cfgC.peers.some((p) => p.address === rrIp) && cfgR.peers.some((p) => p.address === client), `${client}<->${rrIp}`);
    }
  }
});

t.test('RRs with different cluster ids reflect to each other; eBGP peers are never rr clients', async (t) => {
  const snap = snapshot([
    node('rr1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'y' }),
    node('rr2', { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '244.0.0.2' }, { rr: 'y' }),
    bgpPeer('rrs', { nodeSelector: 'has(rr)', peerSelector: 'has(rr)' }),
    bgpPeer('ext', { peerIP: '192.168.1.1', asNumber: 65100 }),
    bgpPeer('ibgp-ext', { peerIP: '192.168.1.2', asNumber: 64512 }),
  ]);
  const rr1 = deriveNodeConfig(snap, 'rr1');
  t.same(rr1.peers.map((p) => [p.name, p.routeReflectorClient]), [
    ['Global_192_168_1_1', false],
    ['Global_192_168_1_2', true],
    ['Node_10_0_0_2', true],
  ]);
});

t.test('reversePeering: Manual creates no session on the selected node', async (t) => {
  const snap = snapshot([...abc, meshOff,
    bgpPeer('to-c', { node: 'a', peerSelector: "rack == 'r2'", reversePeering: 'Manual' })]);
  t.same(names(deriveNodeConfig(snap, 'a').peers), ['Node_10_0_0_13']);
  t.same(deriveNodeConfig(snap, 'c').peers, []);
  const auto = snapshot([...abc, meshOff, bgpPeer('to-c', { node: 'a', peerSelector: "rack == 'r2'" })]);
  t.same(names(deriveNodeConfig(auto, 'c').peers), ['Node_10_0_0_11']);
  t.same(deriveNodeConfig(auto, 'b').peers, []);
});

t.test('peerSelector: one session per family where both sides have an address, with that node AS', async (t) => {
  const snap = snapshot([
    node('a', { ipv4Address: '10.0.0.11/24', ipv6Address: 'fd00::11/64' }),
    node('b', { ipv4Address: '10.0.0.12/24', ipv6Address: 'fd00::12/64', asNumber: 65002 }, { peer: 'y' }),
    node('c', { ipv4Address: '10.0.0.13/24', asNumber: 65003 }, { peer: 'y' }),
    meshOff,
    bgpPeer('sel', { node: 'a', peerSelector: "peer == 'y'" }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.peers.map((p) => [p.name, p.peerAs, p.sourceAddress]), [
    ['Node_10_0_0_12', 65002, '10.0.0.11'],
    ['Node_10_0_0_13', 65003, '10.0.0.11'],
    ['Node_fd00__12', 65002, 'fd00::11'],
  ]);
});

t.test('per-peer options: sourceAddress None, timers, next hop, TTL, local AS, password', async (t) => {
  const snap = snapshot([...abc, meshOff,
    bgpPeer('opts', {
      node: 'a', peerIP: '192.168.1.1', asNumber: 65100, sourceAddress: 'None', keepaliveTime: '30s',
      maxRestartTime: '2m', nextHopMode: 'Keep', ttlSecurity: 2, localASNumber: 65010,
      password: { secretKeyRef: { name: 'bgp', key: 'tor' } },
    }),
    bgpPeer('legacy', { node: 'a', peerIP: '192.168.1.2', asNumber: 65100, keepOriginalNextHop: true }),
    bgpPeer('self', { node: 'a', peerIP: '192.168.1.3', asNumber: 65100, nextHopMode: 'Self' })]);
  const a = deriveNodeConfig(snap, 'a', { secrets: (name, key) => (name === 'bgp' && key === 'tor' ? { value: 's3cret' } : { missing: 'not here' }) });
  t.same(find(a.peers, 'Node_192_168_1_1'), {
    key: '192.168.1.1|179', name: 'Node_192_168_1_1', type: 'node', address: '192.168.1.1', port: 179,
    family: 'ipv4', localAs: 65010, peerAs: 65100, passive: false, holdTime: 240, keepaliveTime: 30,
    connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'keep', routeReflectorClient: false, addPath: true,
    ttlSecurity: 2, password: 's3cret',
  });
  t.equal(find(a.peers, 'Node_192_168_1_2')?.nextHopMode, 'keep');
  t.equal(find(a.peers, 'Node_192_168_1_3')?.nextHopMode, 'self');
  // Calico would render this peering without a password; tern keeps it and does not start it.
  const noSecret = deriveNodeConfig(snap, 'a', { secrets: () => ({ missing: 'no Secret bgp in the datastore' }) });
  const unsigned = find(noSecret.peers, 'Node_192_168_1_1');
  t.equal(unsigned?.password, undefined);
  t.equal(unsigned?.passwordUnresolved, 'password secret bgp/tor unavailable: no Secret bgp in the datastore');
  t.match(noSecret.warnings.join('\n'), /BGPPeer opts: password secret bgp\/tor unavailable: no Secret bgp in the datastore; its sessions are not started/);
  const noSource = deriveNodeConfig(snap, 'a');
  t.match(find(noSource.peers, 'Node_192_168_1_1')?.passwordUnresolved, /no secret source/);
  const empty = deriveNodeConfig(snap, 'a', { secrets: () => ({ value: '' }) });
  t.equal(find(empty.peers, 'Node_192_168_1_1')?.passwordUnresolved, 'password secret bgp/tor is empty');
  const long = deriveNodeConfig(snap, 'a', { secrets: () => ({ value: 'x'.repeat(81) }) });
  t.equal(find(long.peers, 'Node_192_168_1_1')?.passwordUnresolved, 'password secret bgp/tor is longer than 80 bytes (the TCP MD5 key limit)');
  t.equal(find(deriveNodeConfig(snap, 'a', { secrets: () => ({ value: 'x'.repeat(80) }) }).peers, 'Node_192_168_1_1')?.password, 'x'.repeat(80));
});

t.test('nodeMeshPassword: every mesh session signed with it, or none started when it cannot be resolved', async (t) => {
  const withPw = (extra: Resource[]) => snapshot([...abc, bgpConfig('default', { nodeMeshPassword: { secretKeyRef: { name: 'mesh', key: 'pw' } } }), ...extra]);
  const ok = deriveNodeConfig(withPw([]), 'a', { secrets: (n, k) => (n === 'mesh' && k === 'pw' ? { value: 'meshpw' } : { missing: 'x' }) });
  const mesh = ok.peers.filter((p) => p.type === 'mesh');
  t.ok(mesh.length >= 2);
  t.ok(mesh.every((p) => p.password === 'meshpw' && p.passwordUnresolved === undefined));
  const bad = deriveNodeConfig(withPw([]), 'a', { secrets: () => ({ missing: 'no Secret mesh in the datastore' }) });
  const badMesh = bad.peers.filter((p) => p.type === 'mesh');
  t.ok(badMesh.length >= 2 && badMesh.every((p) => p.password === undefined && /mesh\/pw unavailable/.test(p.passwordUnresolved ?? '')));
  t.match(bad.warnings.join('\n'), /nodeMeshPassword: password secret mesh\/pw unavailable: no Secret mesh in the datastore; mesh sessions are not started/);
  const none = deriveNodeConfig(snapshot(abc), 'a');
  t.ok(none.peers.every((p) => p.password === undefined && p.passwordUnresolved === undefined));
});

t.test('bad BGPPeers are skipped with a warning, the rest still apply', async (t) => {
  const snap = snapshot([...abc, meshOff,
    bgpPeer('bad-sel', { nodeSelector: "rack = 'r1'", peerIP: '192.168.1.9', asNumber: 65100 }),
    bgpPeer('no-as', { peerIP: '192.168.1.8' }),
    bgpPeer('both', { peerIP: '192.168.1.7', peerSelector: 'all()', asNumber: 1 }),
    bgpPeer('good', { peerIP: '192.168.1.1', asNumber: 65100 })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(names(a.peers), ['Global_192_168_1_1']);
  t.equal(a.warnings.length, 3);
  t.match(a.warnings[0], /BGPPeer bad-sel: spec\.nodeSelector: invalid selector "rack = 'r1'": expected '==' at position 5; skipped/);
  t.match(a.warnings.join('\n'), /BGPPeer both: spec\.peerSelector: cannot be set together with spec\.peerIP; skipped/);
  t.match(a.warnings.join('\n'), /BGPPeer no-as: peerIP 192.168.1.8 is not a Calico node and has no asNumber; skipped/);
});

t.test('IPv6 explicit peer with port', async (t) => {
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24', ipv6Address: 'fd00::11/64' }), meshOff,
    bgpPeer('v6', { peerIP: '[fd00:0:0::99]:1179', asNumber: 65100 })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.peers.map((p) => [p.name, p.key, p.sourceAddress, p.family]), [
    ['Global_fd00__99_port_1179', 'fd00::99|1179', 'fd00::11', 'ipv6'],
  ]);
});

t.test('peerIP of an RR with the same cluster id: plain iBGP (Calico would make it an rr client)', async (t) => {
  const snap = snapshot([
    node('rr1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }),
    node('rr2', { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '244.0.0.1' }),
    bgpPeer('rr1-rr2', { node: 'rr1', peerIP: '10.0.0.2', asNumber: 64512 }),
  ]);
  t.same(deriveNodeConfig(snap, 'rr1').peers.map((p) => [p.name, p.routeReflectorClient, p.calicoNode]), [['Node_10_0_0_2', false, 'rr2']]);
  t.same(deriveNodeConfig(snap, 'rr2').peers.map((p) => [p.name, p.routeReflectorClient]), [['Node_10_0_0_1', false]], 'reverse');
});

t.test('result does not depend on resource order', async (t) => {
  const resources = [...abc, meshOff,
    bgpPeer('z', { node: 'a', peerIP: '192.168.1.1', asNumber: 65001 }),
    bgpPeer('y', { node: 'a', peerIP: '192.168.1.1', asNumber: 65002 }),
    bgpPeer('x', { nodeSelector: 'all()', peerSelector: "rack == 'r2'" })];
  const one = deriveNodeConfig(snapshot(resources), 'a');
  const two = deriveNodeConfig(snapshot([...resources].reverse()), 'a');
  t.same(two, one);
  t.equal(one.peers.find((p) => p.address === '192.168.1.1')?.peerAs, 65002, 'first BGPPeer by name (y) wins');
});
