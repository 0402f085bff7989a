// BGPFilter, prefixAdvertisements communities and service CIDRs against a real BIRD 2 peer,
// in namespaces, with two tern nodes sharing one file datastore (edited live):
//   · a BGPFilter rejecting one CIDR on import keeps it out of tern's RIB and the kernel;
//   · one rejecting a CIDR on export withdraws it from the peer;
//   · both applied live, the sessions never dropping (same `since`);
//   · communities from prefixAdvertisements seen by the peer (birdc show route all);
//   · a serviceClusterIPs CIDR advertised by every node, and no kernel route written for it;
//   · kinds tern does not act on (FelixConfiguration, ClusterInformation) load with the rest;
//   · reachableBy writes the kernel route to the peer; localWorkloadSelector peers with a
//     workload once Felix's endpoint-status file names it.
// Fabric: bridge `seg` 10.97.0.0/24: node-a (tern, .10), node-b (tern, .11), bird (.21, AS 65001),
// wl (a workload running BIRD, .30, AS 65030).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoDoc, calicoYaml } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startBird, type BirdHandle } from '../helpers/peers.js';
import { startTern, type TernHandle } from '../helpers/tern.js';
import { kernelRoutes, TERN_AS } from './fib-lab.js';

const A = '10.97.0.10';
const B = '10.97.0.11';
const BIRD = { v4: '10.97.0.21', asn: 65001 };
const BLOCK_A = '10.244.1.0/26';
const BLOCK_B = '10.244.2.0/26';
const POOL_ROUTE = '10.244.50.0/26'; // from BIRD, inside the pool
const FOREIGN = '192.168.77.0/24'; // from BIRD, to be rejected on import
const SERVICES = '10.96.0.0/12';
const WL = { v4: '10.97.0.30', asn: 65030, route: '10.200.1.0/24' };

interface Knobs { importFilter: boolean; exportFilter: boolean; services?: string }

function yaml(k: Knobs): string {
  return calicoYaml(
    calico.bgpConfiguration({
      asNumber: TERN_AS, logSeverityScreen: 'Info',
      serviceClusterIPs: [{ cidr: k.services ?? SERVICES }],
      communities: [{ name: 'gold', value: '65000:100' }],
      prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['gold', '65000:1:2'] }],
    }),
    calico.node('node-a', { ipv4Address: `${A}/24` }),
    calico.node('node-b', { ipv4Address: `${B}/24` }),
    calico.ipPool('pool', '10.244.0.0/16'),
    calico.blockAffinity('node-a', BLOCK_A, 'confirmed', 'a-1'),
    calico.blockAffinity('node-b', BLOCK_B, 'confirmed', 'b-1'),
    calico.bgpPeer('tor', { peerIP: BIRD.v4, asNumber: BIRD.asn, reachableBy: BIRD.v4, filters: ['no-foreign', 'no-block-a'] }),
    calico.bgpFilter('no-foreign', { importV4: k.importFilter ? [{ action: 'Reject', matchOperator: 'In', cidr: '192.168.0.0/16' }] : [] }),
    calico.bgpFilter('no-block-a', { exportV4: k.exportFilter ? [{ action: 'Reject', matchOperator: 'Equal', cidr: BLOCK_A }] : [] }),
    calico.bgpPeer('workloads', { node: 'node-a', localWorkloadSelector: "app == 'bgp'", asNumber: WL.asn }),
    calicoDoc('FelixConfiguration', 'default', { logSeverityScreen: 'Info', bpfEnabled: false }),
    calicoDoc('ClusterInformation', 'default', { calicoVersion: 'v3.30.7', datastoreReady: true }),
  );
}

const lab = createLab(t, { area: 'calpol' });
let a: TernHandle;
let b: TernHandle;
let bird: BirdHandle;
let file: string;
const since: Record<string, string> = {};

async function birdRoute(prefix: string, from?: string) {
  return (await bird.routes()).filter((r) => r.prefix === prefix && (from === undefined || r.from === from || r.bgpNextHop?.includes(from)));
}

async function sinceOf(h: TernHandle): Promise<string> {
  return (await h.status()).peers.find((p) => p.address === BIRD.v4)?.since ?? '';
}

t.before(async () => {
  await segment(lab, 'seg', { wl: `${WL.v4}/24`, a: `${A}/24`, b: `${B}/24`, bird: `${BIRD.v4}/24` });
  const ds = fileDatastore(lab, [yaml({ importFilter: false, exportFilter: false })]);
  const spec = ds.spec;
  file = ds.path;
  const env = (host: string) => ({ CALICO_ENDPOINT_STATUS_PATH_PREFIX: lab.path(`${host}-status`), TERN_ENDPOINT_STATUS_POLL_MS: '300' });
  a = await startTern(lab, 'a', { datastore: spec, node: 'node-a', env: env('a') });
  b = await startTern(lab, 'b', { datastore: spec, node: 'node-b', env: env('b') });
  bird = await startBird(lab, 'bird', {
    routerId: BIRD.v4, asn: BIRD.asn,
    neighbors: [{ address: A, asn: TERN_AS, name: 'tern_a' }, { address: B, asn: TERN_AS, name: 'tern_b' }],
    staticRoutes: [{ prefix: POOL_ROUTE, blackhole: true }, { prefix: FOREIGN, blackhole: true }],
  });
  for (const h of [a, b]) await h.waitPeer(BIRD.v4, 'Established', 90_000);
  await a.waitPeer(B, 'Established', 60_000);
  since.a = await sinceOf(a);
  since.b = await sinceOf(b);
});

t.test('a Calico file with FelixConfiguration and ClusterInformation loads; one warning per kind', async (t) => {
  const log = a.proc.log();
  t.match(log, /FelixConfiguration: not used by tern; 1 resource\(s\) accepted and ignored/);
  t.match(log, /ClusterInformation: not used by tern/);
  t.equal((log.match(/FelixConfiguration: not used by tern/g) ?? []).length, 1, 'once');
  const got = JSON.parse(await a.cli('get', 'felixconfiguration', 'default', '-o', 'json', '--datastore', a.datastore)) as { spec: unknown };
  t.same(got.spec, { logSeverityScreen: 'Info', bpfEnabled: false }, '`tern get` shows it back');
});

t.test('prefixAdvertisements: the peer sees the communities on the exported block', async (t) => {
  const r = await lab.waitFor(async () => (await birdRoute(BLOCK_A))[0], { what: `bird has ${BLOCK_A}`, timeoutMs: 30_000 });
  t.same(r.communities, ['65000:100'], 'standard community, by name');
  t.same(r.largeCommunities, ['65000:1:2'], 'large community, by value');
  const svc = await lab.waitFor(async () => (await birdRoute(SERVICES))[0], { what: `bird has ${SERVICES}` });
  t.same(svc.communities ?? [], [], 'outside the prefixAdvertisement cidr: none');
});

t.test('serviceClusterIPs: advertised by every node; no kernel route written for it', async (t) => {
  const paths = await lab.waitFor(async () => {
    const rs = await birdRoute(SERVICES);
    const hops = new Set(rs.flatMap((r) => r.bgpNextHop ?? []));
    return hops.has(A) && hops.has(B) ? rs : null;
  }, { what: `bird has ${SERVICES} from both nodes`, timeoutMs: 30_000 });
  t.equal(paths.length, 2, 'one path per node');
  t.same(await kernelRoutes(lab, 'a', SERVICES), [], 'Calico rejects service CIDRs from kernel programming');
  t.same(await kernelRoutes(lab, 'b', SERVICES), []);
});

t.test('serviceClusterIPs changed live: the new CIDR is advertised, the old one withdrawn, sessions kept', async (t) => {
  const NEW = '10.112.0.0/16';
  writeFileSync(file, yaml({ importFilter: false, exportFilter: false, services: NEW }));
  await lab.waitFor(async () => {
    const hops = new Set((await birdRoute(NEW)).flatMap((r) => r.bgpNextHop ?? []));
    return hops.has(A) && hops.has(B) && (await birdRoute(SERVICES)).length === 0;
  }, { what: `bird has ${NEW} from both nodes and no longer ${SERVICES}`, timeoutMs: 20_000 });
  t.pass(`${NEW} from both nodes, ${SERVICES} withdrawn`);
  t.equal(await sinceOf(a), since.a, 'session not reset');
  writeFileSync(file, yaml({ importFilter: false, exportFilter: false }));
  await lab.waitFor(async () => (await birdRoute(SERVICES)).length === 2 && (await birdRoute(NEW)).length === 0, { what: 'back to the first CIDR', timeoutMs: 20_000 });
});

t.test('reachableBy: the route to the peer through its gateway, written as confd writes it', async (t) => {
  const rs = await lab.waitFor(async () => {
    const r = await kernelRoutes(lab, 'a', BIRD.v4); // `ip route` names a /32 by its address
    return r.length === 1 ? r : null;
  }, { what: `kernel a has ${BIRD.v4}/32`, timeoutMs: 20_000 }).catch(async () => kernelRoutes(lab, 'a', BIRD.v4));
  t.same(rs.map((r) => [r.dst, r.gateway, r.dev, r.protocol]), [[BIRD.v4, BIRD.v4, 'eth0', 'bird']]);
  t.notOk((await birdRoute(`${BIRD.v4}/32`)).length, 'not advertised');
});

t.test('import BGPFilter applied live: the CIDR leaves the RIB and the kernel, the session stays', async (t) => {
  await lab.waitFor(async () => (await a.routes()).some((r) => r.prefix === FOREIGN), { what: `tern a has ${FOREIGN}` });
  await lab.waitFor(async () => (await kernelRoutes(lab, 'a', FOREIGN)).length === 1, { what: `kernel a has ${FOREIGN}` });
  writeFileSync(file, yaml({ importFilter: true, exportFilter: false }));
  await lab.waitFor(async () => !(await a.routes()).some((r) => r.prefix === FOREIGN), { what: `${FOREIGN} gone from tern a`, timeoutMs: 20_000 });
  await lab.waitFor(async () => (await kernelRoutes(lab, 'a', FOREIGN)).length === 0, { what: `${FOREIGN} gone from kernel a`, timeoutMs: 20_000 });
  t.ok((await a.routes()).some((r) => r.prefix === POOL_ROUTE), 'the other route stays');
  t.same(await kernelRoutes(lab, 'b', FOREIGN), [], 'node b too');
  t.equal(await sinceOf(a), since.a, 'session not reset');
  t.equal(await sinceOf(b), since.b);
  writeFileSync(file, yaml({ importFilter: false, exportFilter: false }));
  await lab.waitFor(async () => (await a.routes()).some((r) => r.prefix === FOREIGN), { what: `${FOREIGN} back in tern a without a refresh`, timeoutMs: 20_000 });
  t.equal(await sinceOf(a), since.a, 'still the same session');
});

t.test('export BGPFilter applied live: the peer loses the block, keeps the rest, the session stays', async (t) => {
  writeFileSync(file, yaml({ importFilter: false, exportFilter: true }));
  await lab.waitFor(async () => (await birdRoute(BLOCK_A)).length === 0, { what: `bird lost ${BLOCK_A} (from both nodes: the filter is on both)`, timeoutMs: 20_000 });
  t.ok((await birdRoute(BLOCK_B)).some((r) => r.bgpNextHop?.includes(B)), 'node b still advertises its own block');
  t.ok((await birdRoute(SERVICES)).length === 2, 'service CIDR still from both');
  t.equal(await sinceOf(a), since.a, 'session not reset');
  const proto = (await bird.protocols()).find((p) => p.name === 'tern_a');
  t.equal(proto?.state, 'up');
  writeFileSync(file, yaml({ importFilter: false, exportFilter: false }));
  // Both nodes advertise it again (b passes on a's block, learned over the mesh, as Calico does).
  await lab.waitFor(async () => (await birdRoute(BLOCK_A)).some((r) => r.bgpNextHop?.includes(A)), { what: `bird has ${BLOCK_A} from a again`, timeoutMs: 20_000 });
  t.equal(await sinceOf(a), since.a);
});

t.test('localWorkloadSelector: a passive session with the workload Felix marked, once its status file appears', async (t) => {
  await startBird(lab, 'wl', {
    routerId: WL.v4, asn: WL.asn, neighbors: [{ address: A, asn: TERN_AS, name: 'tern_a' }],
    staticRoutes: [{ prefix: WL.route, blackhole: true }],
  });
  t.notOk((await a.status()).peers.some((p) => p.address === WL.v4), 'no endpoint-status file yet: no session');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(lab.path('a-status/endpoint-status'), { recursive: true });
  writeFileSync(lab.path('a-status/endpoint-status/wl1'), JSON.stringify({ ifaceName: 'cali1', ipv4Nets: [`${WL.v4}/32`], bgpPeerName: 'workloads' }));
  const p = await a.waitPeer(WL.v4, 'Established', 60_000);
  t.equal(p.name, 'Local_Workload_10_97_0_30');
  await lab.waitFor(async () => (await a.routes()).some((r) => r.prefix === WL.route), { what: `tern a learned ${WL.route} from the workload` });
  t.notOk((await b.status()).peers.some((x) => x.address === WL.v4), 'node b: not selected, no reverse peering');
});
