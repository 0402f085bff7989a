// Self-test of the integration harness (test/helpers): namespaces and links carry traffic,
// the BIRD / GoBGP / FRR launchers reach Established and exchange routes, a pod wired like
// Calico's CNI answers pings from its host, and nothing is left behind afterwards.
import t from 'tap';
import { createLab, listNamespaces, type Lab } from '../../lab/netns.js';
import { calico, calicoDoc, calicoYaml } from '../../lab/calico-resources.js';
import { pair } from '../../lab/fixture.js';
import { existsSync } from 'node:fs';
import { startBird, startFrr, startGobgp } from '../helpers/peers.js';
import { REPO_ROOT, startTern } from '../helpers/tern.js';
import { buildOpenHex, isEndOfRib, KEEPALIVE_HEX, startRecorder } from '../helpers/tcp-recorder.js';

const names: string[] = [];
function lab(tt: Parameters<typeof createLab>[0], area: string): Lab {
  const l = createLab(tt, { area });
  tt?.teardown(() => { names.push(...l.namespaceNames()); });
  return l;
}

t.test('two linked hosts ping each other', async (t) => {
  const l = lab(t, 'harn');
  const { a, b } = await pair(l, 'a', 'b', { v4: '10.200.1.0/24', v6: 'fd00:200:1::/64' });
  t.equal(a.v4, '10.200.1.1');
  t.equal(b.v4, '10.200.1.2');
  await l.exec('a', 'ping', ['-c', '1', '-W', '2', '10.200.1.2']);
  await l.exec('b', 'ping', ['-6', '-c', '1', '-W', '2', 'fd00:200:1::1']);
  const routes = await l.ipJson('a', 'route', 'show');
  t.ok(routes.some((r) => r.dst === '10.200.1.0/24' && r.dev === a.ifName), 'connected route on a');
  await t.rejects(l.exec('a', 'ping', ['-c', '1', '-W', '1', '10.200.9.9']), /failed/, 'exec throws on failure');
});

t.test('hosts on a bridge reach each other', async (t) => {
  const l = lab(t, 'harn');
  await l.bridge('sw');
  for (const [h, ip] of [['n1', '10.201.0.11/24'], ['n2', '10.201.0.12/24'], ['n3', '10.201.0.13/24']] as const) {
    await l.addHost(h);
    const end = await l.attach(h, 'sw', ip);
    t.equal(end.ifName, 'eth0');
  }
  await l.exec('n1', 'ping', ['-c', '1', '-W', '2', '10.201.0.13']);
  await l.exec('n3', 'ping', ['-c', '1', '-W', '2', '10.201.0.12']);
});

t.test('BIRD 2 and GoBGP peer and exchange routes', async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'bird', 'gobgp', { v4: '10.202.0.0/24' });
  const bird = await startBird(l, 'bird', {
    routerId: '10.202.0.1', asn: 65001, kernelExport: true,
    neighbors: [{ address: '10.202.0.2', asn: 65002, name: 'Global_10_202_0_2' }],
    staticRoutes: [{ prefix: '10.244.1.0/26', blackhole: true }],
  });
  const gobgp = await startGobgp(l, 'gobgp', {
    routerId: '10.202.0.2', asn: 65002,
    neighbors: [{ address: '10.202.0.1', asn: 65001, addPaths: true, gracefulRestart: true }],
    routes: [{ prefix: '10.244.2.0/26', nextHop: '10.202.0.2' }],
  });
  await bird.waitEstablished('Global_10_202_0_2');
  await gobgp.waitEstablished('10.202.0.1');
  const fromBird = await l.waitFor(async () => (await gobgp.rib()).find((p) => p.prefix === '10.244.1.0/26'),
    { what: 'BIRD blackhole 10.244.1.0/26 in GoBGP RIB' });
  t.same(fromBird.asPath, [65001]);
  t.equal(fromBird.nextHop, '10.202.0.1');
  const fromGobgp = await l.waitFor(async () => (await bird.routes()).find((r) => r.prefix === '10.244.2.0/26'),
    { what: '10.244.2.0/26 in BIRD' });
  t.same(fromGobgp.asPath, [65002]);
  t.same(fromGobgp.bgpNextHop, ['10.202.0.2']);
  t.equal(fromGobgp.protocol, 'Global_10_202_0_2');
  t.same(fromGobgp.nextHops, [{ via: '10.202.0.2', dev: (await l.ipJson('bird', 'link', 'show')).map((x) => String(x.ifname)).find((n) => n.startsWith('tv')) }]);
  // kernelExport: BIRD wrote the learned route into its namespace's FIB.
  const k = await l.waitFor(async () => (await l.ipJson('bird', 'route', 'show', '10.244.2.0/26'))[0],
    { what: 'kernel route 10.244.2.0/26 in the BIRD namespace' });
  t.equal(k.gateway, '10.202.0.2');
  t.equal(k.protocol, 'bird');
  const protos = await bird.protocols();
  t.ok(protos.some((p) => p.name === 'static_ipv4' && p.state === 'up'), 'static protocol up');
});

t.test('FRR (4-octet AS) establishes with BIRD', async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'bird', 'frr', { v4: '10.203.0.0/24' });
  const bird = await startBird(l, 'bird', {
    routerId: '10.203.0.1', asn: 65001,
    neighbors: [{ address: '10.203.0.2', asn: 4200000001 }],
    staticRoutes: [{ prefix: '10.244.3.0/26', blackhole: true }],
  });
  const frr = await startFrr(l, 'frr', {
    routerId: '10.203.0.2', asn: 4200000001,
    neighbors: [{ address: '10.203.0.1', asn: 65001 }],
    networks: ['10.244.4.0/26'],
  });
  await frr.waitEstablished('10.203.0.1');
  await bird.waitEstablished();
  // bgpd without zebra treats next hops as reachable, so the path becomes valid and best.
  const inFrr = await l.waitFor(async () => (await frr.routes())['10.244.3.0/26']?.find((p) => p.valid && p.best),
    { what: '10.244.3.0/26 valid and best in FRR' });
  t.equal(inFrr.asPath, '65001');
  t.equal(inFrr.nextHop, '10.203.0.1');
  const inBird = await l.waitFor(async () => (await bird.routes()).find((r) => r.prefix === '10.244.4.0/26'),
    { what: '10.244.4.0/26 in BIRD' });
  t.same(inBird.asPath, [4200000001]);
});

t.test('FRR with zebra installs learned routes into its namespace kernel', async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'gobgp', 'frr', { v4: '10.207.0.0/24' });
  const gobgp = await startGobgp(l, 'gobgp', {
    routerId: '10.207.0.1', asn: 65001, neighbors: [{ address: '10.207.0.2', asn: 4200000001 }],
    routes: [{ prefix: '10.244.12.0/26', nextHop: '10.207.0.1' }],
  });
  const frr = await startFrr(l, 'frr', {
    routerId: '10.207.0.2', asn: 4200000001, zebra: true, neighbors: [{ address: '10.207.0.1', asn: 65001 }],
  });
  await frr.waitEstablished();
  await gobgp.waitEstablished();
  const k = await l.waitFor(async () => (await l.ipJson('frr', 'route', 'show', '10.244.12.0/26'))[0],
    { what: 'zebra route 10.244.12.0/26 in the FRR namespace' });
  t.equal(k.gateway, '10.207.0.1');
  t.equal(k.protocol, 'bgp');
});

t.test('a pod wired by addPod is reachable from its host and beyond', async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'node', 'peer', { v4: '10.204.0.0/24' });
  const pod = await l.addPod('node', 'pod1', '10.244.5.7', { ip6: 'fd00:244:5::7' });
  t.match(pod.hostIf, /^cali[0-9a-f]{11}$/);
  const r = await l.ipJson('node', 'route', 'show', '10.244.5.7/32');
  t.equal(r[0]?.dev, pod.hostIf);
  t.equal(r[0]?.scope, 'link');
  const podRoutes = await l.ipJson('pod1', 'route', 'show', 'default');
  t.equal(podRoutes[0]?.gateway, '169.254.1.1');
  await l.exec('node', 'ping', ['-c', '1', '-W', '2', '10.244.5.7']);
  await l.exec('node', 'ping', ['-6', '-c', '1', '-W', '2', 'fd00:244:5::7']);
  // Routed through the node: the peer has a route to the pod via the node.
  await l.ip('peer', 'route', 'add', '10.244.5.7/32', 'via', '10.204.0.1');
  await l.exec('peer', 'ping', ['-c', '1', '-W', '2', '10.244.5.7']);
  await l.exec('pod1', 'ping', ['-c', '1', '-W', '2', '10.204.0.2']);
});

t.test('BIRD as route reflector: originator id and cluster list are parsed', async (t) => {
  const l = lab(t, 'harn');
  await l.bridge('sw');
  for (const [h, ip] of [['rr', '10.206.0.1/24'], ['c1', '10.206.0.11/24'], ['c2', '10.206.0.12/24']] as const) {
    await l.addHost(h);
    await l.attach(h, 'sw', ip);
  }
  const rr = await startBird(l, 'rr', {
    routerId: '10.206.0.1', asn: 64512, rrClusterId: '1.2.3.4',
    neighbors: [
      { address: '10.206.0.11', asn: 64512, rrClient: true, name: 'Node_10_206_0_11' },
      { address: '10.206.0.12', asn: 64512, rrClient: true, name: 'Node_10_206_0_12' },
    ],
  });
  const c1 = await startGobgp(l, 'c1', {
    routerId: '10.206.0.11', asn: 64512, neighbors: [{ address: '10.206.0.1', asn: 64512 }],
    routes: [{ prefix: '10.244.11.0/26', nextHop: '10.206.0.11', communities: ['64512:11'], med: 7 }],
  });
  const c2 = await startBird(l, 'c2', { routerId: '10.206.0.12', asn: 64512, neighbors: [{ address: '10.206.0.1', asn: 64512, name: 'Node_rr' }] });
  await rr.waitEstablished();
  await c1.waitEstablished();
  await c2.waitEstablished();
  const r = await l.waitFor(async () => (await c2.routes()).find((x) => x.prefix === '10.244.11.0/26'),
    { what: 'reflected 10.244.11.0/26 on c2' });
  t.equal(r.originatorId, '10.206.0.11');
  t.same(r.clusterList, ['1.2.3.4']);
  t.same(r.bgpNextHop, ['10.206.0.11'], 'iBGP reflection keeps the next hop');
  t.same(r.asPath, []);
  t.equal(r.localPref, 100);
  t.equal(r.med, 7);
  t.same(r.communities, ['64512:11']);
  t.same(r.nextHops, [{ via: '10.206.0.11', dev: 'eth0' }]);
});

t.test('tcp recorder: BIRD opens a session to it and sends its UPDATEs', async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'bird', 'rec', { v4: '10.208.0.0/24' });
  const rec = await startRecorder(l, 'rec', {
    address: '10.208.0.2', reply: Buffer.from(buildOpenHex({ asn: 65000, holdTime: 90 }) + KEEPALIVE_HEX, 'hex'),
    repeat: Buffer.from(KEEPALIVE_HEX, 'hex'), repeatEveryMs: 10_000,
  });
  const bird = await startBird(l, 'bird', {
    routerId: '10.208.0.1', asn: 65001, neighbors: [{ address: '10.208.0.2', asn: 65000 }],
    staticRoutes: [{ prefix: '10.244.13.0/26', blackhole: true }],
  });
  const msgs = await rec.waitFor((m) => m.some(isEndOfRib), { what: 'End-of-RIB from BIRD' });
  await bird.waitEstablished();
  t.same(msgs.map((m) => m.typeName).slice(0, 2), ['OPEN', 'KEEPALIVE']);
  const open = msgs[0]!.bytes;
  t.equal(open.readUInt16BE(20), 65001, 'AS field of BIRD\'s OPEN');
  t.equal(open.readUInt16BE(22), 240, 'BIRD\'s default hold time');
  const update = msgs.find((m) => m.typeName === 'UPDATE' && !isEndOfRib(m));
  t.equal(update?.bytes.subarray(-5).toString('hex'), '1a0af40d00', 'NLRI 10.244.13.0/26 (length 26, 4 prefix octets)');
});

const BUILT = existsSync(`${REPO_ROOT}/dist/cli/main.js`);
t.test('tern launcher: the daemon meshes with a Calico-style BIRD node', { skip: BUILT ? false : 'tern is not built (npm run build)' }, async (t) => {
  const l = lab(t, 'harn');
  await pair(l, 'node1', 'node2', { v4: '10.205.0.0/24' });
  const yaml = calicoYaml(
    calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' }),
    calicoDoc('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true }),
    calico.node('node1', { ipv4Address: '10.205.0.1/24' }),
    calico.node('node2', { ipv4Address: '10.205.0.2/24' }),
  );
  // node2 is BIRD as calico-node would configure it: mesh session to the lower IP, not passive.
  const bird = await startBird(l, 'node2', {
    routerId: '10.205.0.2', asn: 64512, kernelExport: true,
    neighbors: [{ address: '10.205.0.1', asn: 64512, name: 'Mesh_10_205_0_1', sourceAddress: '10.205.0.2', multihop: true }],
    staticRoutes: [{ prefix: '10.244.9.0/26', blackhole: true }],
  });
  const tern = await startTern(l, 'node1', { datastoreYaml: yaml, node: 'node1', ip: '10.205.0.1/24' });
  const peer = await tern.waitPeer('10.205.0.2');
  t.equal(peer.type, 'node-to-node mesh');
  t.equal(peer.asn, 64512);
  await bird.waitEstablished('Mesh_10_205_0_1');
  const r = await l.waitFor(async () => (await tern.routes()).find((x) => x.prefix === '10.244.9.0/26'),
    { what: 'BIRD block 10.244.9.0/26 in tern routes' });
  t.equal(r.nextHop, '10.205.0.2');
  t.equal(r.source, '10.205.0.2');
});

t.test('spawned processes and namespaces are gone after teardown', async (t) => {
  const l = createLab(undefined, { area: 'harn' });
  await l.addHost('x');
  const p = l.spawn('x', 'sleep', ['300']);
  t.ok(p.running());
  const mine = l.namespaceNames();
  await l.destroy();
  t.notOk(p.running(), 'process killed');
  const left = await listNamespaces();
  t.same(left.filter((n) => mine.includes(n)), []);
});

t.test('no namespace of any subtest is left', async (t) => {
  // Subtests run in order and each one's teardown runs when it ends.
  t.ok(names.length >= 17, `recorded ${names.length} lab namespaces`);
  const left = await listNamespaces();
  t.same(left.filter((n) => names.includes(n)), []);
});
