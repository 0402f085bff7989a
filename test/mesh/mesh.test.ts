// Node-to-node mesh: sessions, names, passive side, AS and port overrides, RRs skipped.
import t from 'tap';
import { deriveNodeConfig } from '../../src/config/index.js';
import { bgpConfig, names, node, passiveByName, snapshot } from './fixtures/snapshot.js';

const three = [
  node('a', { ipv4Address: '10.0.0.11/24' }),
  node('b', { ipv4Address: '10.0.0.12/24' }),
  node('c', { ipv4Address: '10.0.0.13/24' }),
];

t.test('mesh of 3 nodes: 2 sessions each, exactly one active side per pair', async (t) => {
  const snap = snapshot(three);
  const cfg = { a: deriveNodeConfig(snap, 'a'), b: deriveNodeConfig(snap, 'b'), c: deriveNodeConfig(snap, 'c') };
  t.same(names(cfg.a.peers), ['Mesh_10_0_0_12', 'Mesh_10_0_0_13']);
  t.same(names(cfg.b.peers), ['Mesh_10_0_0_11', 'Mesh_10_0_0_13']);
  t.same(names(cfg.c.peers), ['Mesh_10_0_0_11', 'Mesh_10_0_0_12']);
  // the side whose peer is greater waits; the lower address connects
  t.same(passiveByName(cfg.a.peers), { Mesh_10_0_0_12: true, Mesh_10_0_0_13: true });
  t.same(passiveByName(cfg.b.peers), { Mesh_10_0_0_11: false, Mesh_10_0_0_13: true });
  t.same(passiveByName(cfg.c.peers), { Mesh_10_0_0_11: false, Mesh_10_0_0_12: false });
  const nodeIp = { a: '10.0.0.11', b: '10.0.0.12', c: '10.0.0.13' } as const;
  for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'c']] as const) {
    const xy = cfg[x].peers.find((p) => p.address === nodeIp[y]);
    const yx = cfg[y].peers.find((p) => p.address === nodeIp[x]);
    t.ok(xy && yx, `${x}<->${y} both ends exist`);
    t.equal(Number(xy?.passive) + Number(yx?.passive), 1, `${x}<->${y} exactly one passive`);
  }
  t.same(cfg.a.peers[0], {
    key: '10.0.0.12|179', name: 'Mesh_10_0_0_12', type: 'node-to-node mesh', address: '10.0.0.12', port: 179,
    family: 'ipv4', localAs: 64512, peerAs: 64512, sourceAddress: '10.0.0.11', passive: true, holdTime: 240,
    connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'auto', routeReflectorClient: false, addPath: true,
    calicoNode: 'b',
  });
  t.equal(cfg.a.meshEnabled, true);
  t.same(cfg.a.warnings, []);
});

t.test('IPv4 and IPv6 sessions, BIRD names with ":" as "_"', async (t) => {
  const snap = snapshot([
    node('a', { ipv4Address: '10.0.0.11/24', ipv6Address: 'fd00::11/64' }),
    node('b', { ipv4Address: '10.0.0.12/24', ipv6Address: 'FD00:0::12/64' }),
    node('c', { ipv4Address: '10.0.0.13/24' }), // no IPv6: IPv4 session only
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(names(a.peers), ['Mesh_10_0_0_12', 'Mesh_10_0_0_13', 'Mesh_fd00__12']);
  const v6 = a.peers.find((p) => p.family === 'ipv6');
  t.equal(v6?.address, 'fd00::12');
  t.equal(v6?.key, 'fd00::12|179');
  t.equal(v6?.sourceAddress, 'fd00::11');
  t.equal(v6?.passive, true);
  const c = deriveNodeConfig(snap, 'c');
  t.same(names(c.peers), ['Mesh_10_0_0_11', 'Mesh_10_0_0_12'], 'a node without IPv6 has no IPv6 sessions');
  t.same(a.ipv6, { address: 'fd00::11', prefixLength: 64, network: 'fd00::/64' });
});

t.test('route reflectors are skipped by the mesh and do not mesh themselves', async (t) => {
  const snap = snapshot([...three, node('rr', { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '244.0.0.1' })]);
  t.same(names(deriveNodeConfig(snap, 'a').peers), ['Mesh_10_0_0_12', 'Mesh_10_0_0_13']);
  const rr = deriveNodeConfig(snap, 'rr');
  t.same(rr.peers, []);
  t.equal(rr.meshEnabled, false);
  t.equal(rr.clusterId, '244.0.0.1');
});

t.test('mesh disabled: no sessions', async (t) => {
  const snap = snapshot([...three, bgpConfig('default', { nodeToNodeMeshEnabled: false })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.peers, []);
  t.equal(a.meshEnabled, false);
});

t.test('AS: per-node override, global default, 64512', async (t) => {
  const snap = snapshot([
    node('a', { ipv4Address: '10.0.0.11/24' }),
    node('b', { ipv4Address: '10.0.0.12/24', asNumber: 65001 }),
    bgpConfig('default', { asNumber: 65000 }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(a.asNumber, 65000);
  t.equal(a.peers[0]?.localAs, 65000);
  t.equal(a.peers[0]?.peerAs, 65001);
  const b = deriveNodeConfig(snap, 'b');
  t.equal(b.asNumber, 65001);
  t.equal(b.peers[0]?.localAs, 65001);
  t.equal(b.peers[0]?.peerAs, 65000);
  t.equal(deriveNodeConfig(snapshot(three), 'a').asNumber, 64512);
});

t.test('listen port: node.<name> over default over 179, used toward that node', async (t) => {
  const snap = snapshot([
    ...three,
    bgpConfig('default', { listenPort: 1179 }),
    bgpConfig('node.b', { listenPort: 1790, logSeverityScreen: 'Debug' }),
  ]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(a.listenPort, 1179);
  t.same(a.peers.map((p) => [p.name, p.port, p.key]), [
    ['Mesh_10_0_0_12', 1790, '10.0.0.12|1790'],
    ['Mesh_10_0_0_13', 1179, '10.0.0.13|1179'],
  ]);
  const b = deriveNodeConfig(snap, 'b');
  t.equal(b.listenPort, 1790);
  t.equal(b.logSeverity, 'Debug');
  t.equal(a.logSeverity, 'Info');
  t.equal(deriveNodeConfig(snapshot(three), 'a').listenPort, 179);
});

t.test('nodeMeshMaxRestartTime sets the mesh GR time', async (t) => {
  const snap = snapshot([...three, bgpConfig('default', { nodeMeshMaxRestartTime: '5m' })]);
  t.same(deriveNodeConfig(snap, 'a').peers.map((p) => p.gracefulRestartTime), [300, 300]);
});

// Calico's template compares the address TEXT (Go `gt` on strings): "10.0.0.9" > "10.0.0.10".
// tern does the same by default, so a tern node and a calico-node next to each other agree.
t.test('passive side: string order as confd renders it (10.0.0.9 vs 10.0.0.10)', async (t) => {
  const snap = snapshot([node('n9', { ipv4Address: '10.0.0.9/24' }), node('n10', { ipv4Address: '10.0.0.10/24' })]);
  const n9 = deriveNodeConfig(snap, 'n9');
  const n10 = deriveNodeConfig(snap, 'n10');
  t.same(passiveByName(n9.peers), { Mesh_10_0_0_10: false }, 'Calico order: .9 connects');
  t.same(passiveByName(n10.peers), { Mesh_10_0_0_9: true }, 'Calico order: .10 waits');
  // The numeric order stays available (deriveNodeConfig option), but is not the default.
  const m9 = deriveNodeConfig(snap, 'n9', { passiveOrder: 'numeric' });
  t.same(passiveByName(m9.peers), { Mesh_10_0_0_10: true }, 'numeric: .9 would wait');
});

t.test('IPv6 passive order is the text order too (fd00::a > fd00::10 as text)', async (t) => {
  const snap = snapshot([
    node('x', { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::a/64' }),
    node('y', { ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::10/64' }),
  ]);
  t.equal(deriveNodeConfig(snap, 'x').peers.find((p) => p.family === 'ipv6')?.passive, false);
  t.equal(deriveNodeConfig(snap, 'y').peers.find((p) => p.family === 'ipv6')?.passive, true);
});
