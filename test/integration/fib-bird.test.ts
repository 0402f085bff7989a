// Issue 3 "Kernel FIB sync" acceptance with BIRD 2 peers on a namespace fabric. One lab, the
// subtests run in order on it:
//   own blocks (confirmed → blackhole, pending → nothing) · device by pool encapsulation
//   (Never / Always / CrossSubnet, tunl0 missing then appearing) · two equal peers (ECMP) ·
//   IPv6 · a kernel proto-bird blackhole advertised and withdrawn · proto static learned, untouched ·
//   a route the kernel refuses · the pending affinity confirmed later.
// Fabric: bridge `seg` 10.99.0.0/24 + fd99::/64 with node (tern, .10), birdA (.21, v4+v6,
// AS 65001), birdB (.22, AS 65001), bad (.29, AS 65009: sends next hop 10.99.0.255);
// far (AS 65003) on a veth 10.98.0.0/24 off the node's subnet.
// Restart, adoption and graceful restart: fib-restart.test.ts.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { pair, segment } from '../../lab/fixture.js';
import { startBird, type BirdHandle } from '../helpers/peers.js';
import { startTern, type TernHandle } from '../helpers/tern.js';
import {
  bestRoute, birdHas, datastoreYaml, kernelRoutes, kernelShapes, TERN_AS, waitBest, waitNoKernelRoute, waitShape,
  type AffinityDef,
} from './fib-lab.js';

const NODE = { v4: '10.99.0.10', v6: 'fd99::10', far: '10.98.0.1' };
const A = { v4: '10.99.0.21', v6: 'fd99::21', asn: 65001 };
const B = { v4: '10.99.0.22', asn: 65001 };
const BAD = { v4: '10.99.0.29', asn: 65009 };
const FAR = { v4: '10.98.0.2', asn: 65003 };

const BLOCK = '10.244.1.0/26';
const PENDING = '10.244.2.0/26';
const BLOCK6 = 'fd00:244::1:0/122';
const R = {
  never: '10.244.100.0/26', always: '10.245.100.0/26', crossNear: '10.246.100.0/26', crossFar: '10.246.31.0/26',
  ecmp: '10.244.50.0/26', v6: 'fd00:244::64:0/122', alien: '10.244.60.0/26', staticOnly: '10.244.61.0/26',
  learned: '10.244.9.0/26', refused: '10.244.121.0/26',
};

const affinities = (pending: 'pending' | 'confirmed'): AffinityDef[] =>
  [{ cidr: BLOCK, state: 'confirmed' }, { cidr: PENDING, state: pending }, { cidr: BLOCK6, state: 'confirmed' }];
const yaml = (pending: 'pending' | 'confirmed') => datastoreYaml({
  ipv4: `${NODE.v4}/24`, ipv6: `${NODE.v6}/64`,
  pools: [
    { name: 'never', cidr: '10.244.0.0/16', ipipMode: 'Never' },
    { name: 'always', cidr: '10.245.0.0/16', ipipMode: 'Always' },
    { name: 'cross', cidr: '10.246.0.0/16', ipipMode: 'CrossSubnet' },
    { name: 'v6', cidr: 'fd00:244::/48' },
  ],
  affinities: affinities(pending),
  peers: [
    { name: 'a-v4', ip: A.v4, asn: A.asn }, { name: 'a-v6', ip: A.v6, asn: A.asn }, { name: 'b', ip: B.v4, asn: B.asn },
    { name: 'bad', ip: BAD.v4, asn: BAD.asn }, { name: 'far', ip: FAR.v4, asn: FAR.asn },
  ],
});

const lab = createLab(t, { area: 'fibbird' });
let tern: TernHandle;
let birdA: BirdHandle;
let birdB: BirdHandle;
const bOpts = (routes: string[]) => ({
  routerId: B.v4, asn: B.asn, neighbors: [{ address: NODE.v4, asn: TERN_AS, name: 'tern_v4' }],
  staticRoutes: routes.map((prefix) => ({ prefix, blackhole: true })),
});

const aOpts = (routes: string[]) => ({
  routerId: A.v4, asn: A.asn,
  neighbors: [{ address: NODE.v4, asn: TERN_AS, name: 'tern_v4' }, { address: NODE.v6, asn: TERN_AS, name: 'tern_v6' }],
  staticRoutes: routes.map((prefix) => ({ prefix, blackhole: true })),
});

/** This kernel has no ipip module: a veth named tunl0 stands in. */
async function addTunl0(): Promise<void> {
  await lab.ip('node', 'link', 'add', 'name', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunl0p');
  await lab.ip('node', 'link', 'set', 'tunl0p', 'up');
  await lab.ip('node', 'link', 'set', 'tunl0', 'up');
}

t.before(async () => {
  await segment(lab, 'seg', {
    node: { v4: `${NODE.v4}/24`, v6: `${NODE.v6}/64` }, // eth0
    birda: { v4: `${A.v4}/24`, v6: `${A.v6}/64` }, birdb: `${B.v4}/24`, bad: `${BAD.v4}/24`,
  });
  await pair(lab, 'node', 'far', { v4: [`${NODE.far}/24`, `${FAR.v4}/24`] });
  await lab.ip('far', 'route', 'add', '10.99.0.0/24', 'via', NODE.far);
  // Routes of another owner, present before tern starts: never to be touched.
  await lab.ip('node', 'route', 'add', R.alien, 'via', B.v4, 'dev', 'eth0', 'proto', 'static');
  await lab.ip('node', 'route', 'add', 'blackhole', R.staticOnly, 'proto', 'static');

  tern = await startTern(lab, 'node', { datastoreYaml: yaml('pending'), node: 'node-a' });
  birdA = await startBird(lab, 'birda', aOpts([R.never, R.always, R.crossNear, R.ecmp, R.alien, R.v6]));
  birdB = await startBird(lab, 'birdb', bOpts([R.ecmp]));
  await startBird(lab, 'far', {
    routerId: FAR.v4, asn: FAR.asn,
    neighbors: [{ address: NODE.v4, asn: TERN_AS, name: 'tern_v4', multihop: true, sourceAddress: FAR.v4 }],
    staticRoutes: [{ prefix: R.crossFar, blackhole: true }],
  });
  // A peer whose next hop for R.refused is the segment's broadcast address: the kernel refuses it.
  await startBird(lab, 'bad', {
    routerId: BAD.v4, asn: BAD.asn, neighbors: [],
    staticRoutes: [{ prefix: R.refused, blackhole: true }],
    extraConfig: `protocol bgp tern_v4 {
  local ${BAD.v4} as ${BAD.asn}; neighbor ${NODE.v4} as ${TERN_AS};
  connect delay time 2; connect retry time 5; error wait time 5,30;
  ipv4 { import none; export filter { if net = ${R.refused} then { bgp_next_hop = 10.99.0.255; accept; } reject; }; };
}`,
  });
  await tern.waitPeers([A.v4, A.v6, B.v4, BAD.v4, FAR.v4], 'Established', 90_000);
});

t.test('own blocks: confirmed affinity → blackhole proto bird; pending affinity → neither blackhole nor advertisement', async (t) => {
  t.same(await waitShape(lab, 'node', BLOCK, { type: 'blackhole', protocol: 'bird' }), [{ type: 'blackhole', protocol: 'bird' }], `blackhole ${BLOCK} proto bird`);
  t.same(await waitShape(lab, 'node', BLOCK6, { type: 'blackhole', protocol: 'bird' }), [{ type: 'blackhole', protocol: 'bird' }], `blackhole ${BLOCK6} proto bird`);
  await lab.waitFor(() => birdHas(birdA, BLOCK), { what: 'birdA has the confirmed block' });
  t.ok(await birdHas(birdA, BLOCK), 'confirmed block advertised to birdA');
  t.same(await kernelRoutes(lab, 'node', PENDING), [], 'no kernel route for the pending affinity');
  t.notOk(await birdHas(birdA, PENDING), 'pending affinity not advertised');
  t.notOk((await tern.routes()).some((r) => r.prefix === PENDING), 'pending affinity not in tern\'s RIB');
});

t.test('peer routes take the device of their pool\'s encapsulation; tunl0 missing, then present', async (t) => {
  await waitBest(tern, R.never);
  t.same(await waitShape(lab, 'node', R.never, { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' }),
    [{ type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' }], 'Never pool: via NH dev eth0 proto bird');
  t.same(await waitShape(lab, 'node', R.crossNear, { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' }),
    [{ type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' }], 'CrossSubnet pool, next hop on the node subnet: direct via eth0, no tunl0 needed');
  // No tunl0 yet: the IPIP routes wait, and `tern status` says why.
  for (const p of [R.always, R.crossFar]) {
    const r = await waitBest(tern, p, (x) => x.fib === 'pending');
    t.equal(r.fib, 'pending', `${p}: fib pending while tunl0 is missing`);
    t.match(r.fibError, /tunl0 missing/, `${p}: fibError names tunl0`);
    t.same(await kernelRoutes(lab, 'node', p), [], `${p}: not in the kernel yet`);
  }
  const errors = (await tern.status()).daemon.errors;
  t.ok(errors.some((e) => /tunl0 missing/.test(e)), `daemon.errors reports the missing tunl0: ${JSON.stringify(errors)}`);
  const t0 = Date.now();
  await addTunl0();
  t.same(await waitShape(lab, 'node', R.always, { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'tunl0', onlink: true }),
    [{ type: 'unicast', protocol: 'bird', via: A.v4, dev: 'tunl0', onlink: true }], 'Always pool: via NH dev tunl0 proto bird onlink');
  t.same(await waitShape(lab, 'node', R.crossFar, { type: 'unicast', protocol: 'bird', via: FAR.v4, dev: 'tunl0', onlink: true }),
    [{ type: 'unicast', protocol: 'bird', via: FAR.v4, dev: 'tunl0', onlink: true }], 'CrossSubnet pool, next hop off the node subnet: via NH dev tunl0 onlink');
  t.comment(`IPIP routes installed ${Date.now() - t0} ms after tunl0 appeared`);
  const after = await lab.waitFor(async () => {
    const s = await tern.status();
    return s.daemon.errors.some((e) => /tunl0/.test(e)) ? null : s;
  }, { what: 'tunl0 error cleared' });
  t.notOk(after.daemon.errors.some((e) => /tunl0/.test(e)), 'the tunl0 error is gone from daemon.errors');
  t.equal((await bestRoute(tern, R.always))?.fib, 'installed', `${R.always}: fib installed`);
  // tunl0 goes (the kernel drops its routes without notifications) and comes back with a new ifindex.
  await lab.ip('node', 'link', 'del', 'tunl0');
  const gone = await waitBest(tern, R.always, (x) => x.fib === 'pending');
  t.match(gone.fibError, /tunl0 missing/, 'tunl0 deleted: pending again');
  t.same(await kernelRoutes(lab, 'node', R.always), [], 'tunl0 deleted: no route left');
  await addTunl0();
  t.same(await waitShape(lab, 'node', R.always, { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'tunl0', onlink: true }),
    [{ type: 'unicast', protocol: 'bird', via: A.v4, dev: 'tunl0', onlink: true }], 'tunl0 re-created: the route is back on it');
  t.same(await waitShape(lab, 'node', R.crossFar, { type: 'unicast', protocol: 'bird', via: FAR.v4, dev: 'tunl0', onlink: true }),
    [{ type: 'unicast', protocol: 'bird', via: FAR.v4, dev: 'tunl0', onlink: true }], 'tunl0 re-created: the CrossSubnet route too');
});

t.test('two equal peers: one route with two next hops; one withdraws', async (t) => {
  const two = { type: 'unicast', protocol: 'bird', nexthops: [{ via: A.v4, dev: 'eth0' }, { via: B.v4, dev: 'eth0' }] };
  t.same(await waitShape(lab, 'node', R.ecmp, two), [two], 'one route, nexthop via birdA and nexthop via birdB');
  t.equal((await tern.routes()).filter((r) => r.prefix === R.ecmp && r.multipath).length, 2, 'tern routes: two multipath paths');
  await birdB.reconfigure(bOpts([]));
  const one = { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' };
  t.same(await waitShape(lab, 'node', R.ecmp, one), [one], 'after birdB withdraws: a single via birdA');
});

t.test('IPv6 routes install', async (t) => {
  const want = { type: 'unicast', protocol: 'bird', via: A.v6, dev: 'eth0' };
  t.same(await waitShape(lab, 'node', R.v6, want), [want], `${R.v6} via ${A.v6} dev eth0 proto bird`);
  t.equal((await bestRoute(tern, R.v6))?.fib, 'installed', 'tern routes: fib installed');
});

t.test('a kernel `blackhole … proto bird` is advertised, and withdrawn when deleted', async (t) => {
  t.notOk(await birdHas(birdA, R.learned), 'birdA does not have it before');
  const t0 = Date.now();
  await lab.ip('node', 'route', 'add', 'blackhole', R.learned, 'proto', 'bird');
  await lab.waitFor(() => birdHas(birdA, R.learned), { what: `birdA learns ${R.learned}`, intervalMs: 20 });
  t.comment(`${R.learned} reached birdA ${Date.now() - t0} ms after \`ip route add\` (issue: within a second)`);
  const at = (await birdA.routes()).find((r) => r.prefix === R.learned);
  t.same(at?.asPath, [TERN_AS], 'advertised by tern (AS path 64512)');
  t.ok(await lab.waitFor(() => birdHas(birdB, R.learned), { what: `birdB learns ${R.learned}` }), 'advertised to birdB too');
  t.equal((await bestRoute(tern, R.learned))?.sourceType, 'kernel', 'tern routes: source kernel');
  t.same(await kernelShapes(lab, 'node', R.learned), [{ type: 'blackhole', protocol: 'bird' }], 'tern left the blackhole as it was');
  const t1 = Date.now();
  await lab.ip('node', 'route', 'del', 'blackhole', R.learned, 'proto', 'bird');
  await lab.waitFor(async () => !(await birdHas(birdA, R.learned)), { what: `birdA drops ${R.learned}`, intervalMs: 20 });
  t.comment(`withdrawn at birdA ${Date.now() - t1} ms after \`ip route del\``);
  t.notOk(await birdHas(birdA, R.learned), 'withdrawn from birdA');
  await lab.waitFor(async () => !(await birdHas(birdB, R.learned)), { what: `birdB drops ${R.learned}` });
  t.notOk(await birdHas(birdB, R.learned), 'withdrawn from birdB');
});

t.test('a proto static route inside a pool is learned as BIRD\'s `learn` does, and never touched', async (t) => {
  // calico-node's BIRD imports alien kernel routes (any protocol but kernel, redirect and its
  // own) and exports those inside a pool: tern's best for the prefix is the learned route.
  const r = await waitBest(tern, R.alien, (x) => x.sourceType === 'kernel');
  t.equal(r.sourceType, 'kernel', `tern's best for ${R.alien} is the learned kernel route, not birdA's`);
  t.same(await kernelShapes(lab, 'node', R.alien), [{ type: 'unicast', protocol: 'static', via: B.v4, dev: 'eth0' }], 'the static route is unchanged and alone');
  t.same(await kernelShapes(lab, 'node', R.staticOnly), [{ type: 'blackhole', protocol: 'static' }], 'static blackhole in a pool unchanged');
  t.ok(await lab.waitFor(() => birdHas(birdA, R.staticOnly), { what: `birdA learns ${R.staticOnly}` }), 'a static blackhole inside a pool is advertised (learn + the pool export rule)');
  t.equal((await bestRoute(tern, R.staticOnly))?.sourceType, 'kernel', 'tern routes: source kernel');
  await birdA.reconfigure(aOpts([R.never, R.always, R.crossNear, R.ecmp, R.v6])); // birdA withdraws R.alien
  await lab.waitFor(async () => !(await tern.routes()).some((x) => x.prefix === R.alien && x.sourceType === 'peer'), { what: `tern drops birdA's ${R.alien}` });
  t.equal((await bestRoute(tern, R.alien))?.sourceType, 'kernel', 'the learned route stays best after the BGP withdrawal');
  t.same(await kernelShapes(lab, 'node', R.alien), [{ type: 'unicast', protocol: 'static', via: B.v4, dev: 'eth0' }], 'after the BGP withdrawal the static route is still there');
  t.notOk((await tern.status()).daemon.errors.some((e) => /ALIEN/.test(e)), 'no ALIEN error in daemon.errors');
});

t.test('a route the kernel refuses: fib error with the kernel\'s text', async (t) => {
  const r = await waitBest(tern, R.refused, (x) => x.fib === 'error');
  t.equal(r.nextHop, '10.99.0.255', 'next hop as sent by the peer');
  t.equal(r.fib, 'error', 'fib: error');
  // The kernel's errno; its extended-ack text ("Nexthop has invalid gateway") is not requested.
  t.match(r.fibError, /\bEINVAL\b/, `fibError carries the kernel's answer: ${r.fibError}`);
  t.same(await kernelRoutes(lab, 'node', R.refused), [], 'nothing installed');
  t.equal((await bestRoute(tern, R.never))?.fib, 'installed', 'other routes stay installed');
});

t.test('the pending affinity, once confirmed, gets its blackhole and is advertised', async (t) => {
  writeFileSync(tern.datastore.replace(/^file:/, ''), yaml('confirmed'));
  t.same(await waitShape(lab, 'node', PENDING, { type: 'blackhole', protocol: 'bird' }), [{ type: 'blackhole', protocol: 'bird' }], `blackhole ${PENDING} proto bird`);
  t.ok(await lab.waitFor(() => birdHas(birdA, PENDING), { what: 'birdA has the newly confirmed block' }), 'advertised to birdA');
  writeFileSync(tern.datastore.replace(/^file:/, ''), yaml('pending'));
  await waitNoKernelRoute(lab, 'node', PENDING);
  await lab.waitFor(async () => !(await birdHas(birdA, PENDING)), { what: 'birdA drops the block' });
  t.same(await kernelRoutes(lab, 'node', PENDING), [], 'back to pending: blackhole removed');
  t.notOk(await birdHas(birdA, PENDING), 'back to pending: withdrawn from birdA');
  t.same(await kernelShapes(lab, 'node', R.alien), [{ type: 'unicast', protocol: 'static', via: B.v4, dev: 'eth0' }], 'static route still untouched at the end');
});
