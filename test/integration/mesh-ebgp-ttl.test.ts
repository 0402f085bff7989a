// eBGP single-hop mesh sessions in namespaces, as confd configures BIRD: a mesh session
// between nodes of different ASes gets no `multihop` line, so it is sent with TTL 1; an iBGP
// mesh session is multihop. Three tern nodes, a router between two segments:
//   seg1 10.99.1.0/24: node-a .10 (AS 64512), node-b .11 (AS 64513), router .1
//   seg2 10.99.2.0/24: node-c .10 (AS 64512), router .1
// Expected: a–b (eBGP, same segment) Established; a–c (iBGP, across the router: multihop)
// Established; b–c (eBGP across the router) never, its TTL-1 packets die at the router, and
// both ends keep trying (the daemons keep running).
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startTern, type TernHandle } from '../helpers/tern.js';

const A = '10.99.1.10';
const B = '10.99.1.11';
const C = '10.99.2.10';

const yaml = [
  calico.bgpConfiguration({ asNumber: 64512 }),
  calico.node('node-a', { ipv4Address: `${A}/24` }),
  calico.node('node-b', { ipv4Address: `${B}/24`, asNumber: 64513 }),
  calico.node('node-c', { ipv4Address: `${C}/24` }),
  calico.ipPool('pool', '10.244.0.0/16'),
];

const lab = createLab(t, { area: 'ebgpttl' });
const nodes: Record<string, TernHandle> = {};

t.before(async () => {
  await segment(lab, 'seg1', { r: '10.99.1.1/24', a: `${A}/24`, b: `${B}/24` });
  await segment(lab, 'seg2', { r: '10.99.2.1/24', c: `${C}/24` });
  await lab.exec('r', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  for (const [h, gw] of [['a', '10.99.1.1'], ['b', '10.99.1.1'], ['c', '10.99.2.1']] as const) await lab.ip(h, 'route', 'add', 'default', 'via', gw);
  const { spec } = fileDatastore(lab, yaml);
  nodes.a = await startTern(lab, 'a', { datastore: spec, node: 'node-a' });
  nodes.b = await startTern(lab, 'b', { datastore: spec, node: 'node-b' });
  nodes.c = await startTern(lab, 'c', { datastore: spec, node: 'node-c' });
});

t.test('the router forwards: c reaches a and b with a plain (TTL 64) ping', async (t) => {
  // a fresh veth may still be settling (carrier, neighbour resolution): retry for a while
  for (const to of [A, B]) {
    await lab.waitFor(() => lab.exec('c', 'ping', ['-c', '1', '-W', '1', to]).then(() => true, () => false), { what: `c pings ${to}`, timeoutMs: 15_000, intervalMs: 500 });
  }
  t.pass('routed path works');
});

t.test('eBGP on one segment and iBGP across the router come up; eBGP across the router never does', async (t) => {
  await nodes.a!.waitPeer(B, 'Established', 60_000);
  await nodes.a!.waitPeer(C, 'Established', 60_000);
  t.pass('a–b (eBGP, direct) and a–c (iBGP, multihop) Established');
  // b–c had the same time as a–c; give both ends more connect attempts (retry time 5 s).
  await new Promise((r) => setTimeout(r, 12_000));
  const fromB = (await nodes.b!.status()).peers.find((p) => p.address === C);
  const fromC = (await nodes.c!.status()).peers.find((p) => p.address === B);
  t.not(fromB?.bgpState, 'Established', 'b–c: TTL 1 does not cross the router');
  t.not(fromC?.bgpState, 'Established');
  t.equal((await nodes.c!.status()).peers.find((p) => p.address === A)?.bgpState, 'Established', 'c keeps its iBGP session');
});
