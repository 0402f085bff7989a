// BGPFilter `interface` rules against real BIRD 2 peers, in namespaces. One tern node with two
// uplinks, a BIRD peer on each:
//   seg1 10.98.1.0/24: node-a `uplink1` .10, bird1 .21 (AS 65001)
//   seg2 10.98.2.0/24: node-a `uplink2` .10, bird2 .22 (AS 65002)
// Kernel routes on node-a (learned, inside the pool): 10.244.60.0/26 dev uplink2,
// 10.244.61.0/26 dev uplink1. Own block 10.244.1.0/26 (a blackhole: no interface).
// As confd renders them (`defined(ifname) && ifname ~ "<pattern>"`), BIRD's ifname being:
//   · for a kernel route, its device;
//   · for a BGP route, the interface its next hop is reached through;
// so:
//   · import `Reject interface uplink2` on both peers keeps bird2's routes (next hop via
//     uplink2) out of the RIB and the kernel, bird1's stay;
//   · export `Reject interface uplink2` toward bird1 keeps 10.244.60.0/26 (and, once
//     imported, bird2's route) from bird1; `Reject interface up*1` toward bird2 keeps
//     10.244.61.0/26 and bird1's route from bird2; the blackhole reaches both;
//   · changed live (patterns that match nothing, import filter removed), the routes flow and
//     the sessions stay up;
//   · beyond the pool (what calico-node's BIRD holds through `direct` and `learn`): the
//     connected subnet of uplink1 (10.98.1.0/24), an out-of-pool kernel route on uplink1
//     (198.18.5.0/24 proto static) and an out-of-pool blackhole (198.19.7.0/24 proto static)
//     reach bird1 through `Accept interface uplink1` / `Accept cidr In 198.19.0.0/16`, are
//     withdrawn when the kernel route goes; bird2's chain accepts none of them: it gets none;
//   · differential: BIRD 2 in tern's place, with the filters as confd renders them (and a
//     pool-only stand-in for calico_export_to_bgp_peers), gives the peers the same routes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { parseBirdRoutes, startBird, type BirdHandle } from '../helpers/peers.js';
import { spawnBird } from '../../lab/bird.js';
import { startTern, type TernHandle } from '../helpers/tern.js';
import { kernelRoutes, TERN_AS } from './fib-lab.js';

const A1 = '10.98.1.10';
const A2 = '10.98.2.10';
const BIRD1 = { v4: '10.98.1.21', asn: 65001, route: '10.244.51.0/26' };
const BIRD2 = { v4: '10.98.2.22', asn: 65002, route: '10.244.71.0/26' };
const BLOCK = '10.244.1.0/26';
const ON_UPLINK2 = '10.244.60.0/26';
const ON_UPLINK1 = '10.244.61.0/26';
const SUBNET1 = '10.98.1.0/24'; // connected on uplink1
const SUBNET2 = '10.98.2.0/24'; // connected on uplink2
const OUT_UPLINK1 = '198.18.5.0/24'; // out-of-pool kernel route on uplink1
const OUT_BLACKHOLE = '198.19.7.0/24'; // out-of-pool blackhole: no interface

interface Knobs { importIf: boolean; exportIf: boolean; accept?: boolean }

function yaml(k: Knobs): string {
  const out2 = k.exportIf ? 'uplink2' : 'nomatch*';
  const out1 = k.exportIf ? 'up*1' : 'nomatch*';
  const accepts = k.accept === false ? [] : [{ action: 'Accept', interface: 'uplink1' }, { action: 'Accept', cidr: '198.19.0.0/16', matchOperator: 'In' }];
  return calicoYaml(
    calico.bgpConfiguration({ asNumber: TERN_AS, nodeToNodeMeshEnabled: false }),
    calico.node('node-a', { ipv4Address: `${A1}/24` }),
    calico.ipPool('pool', '10.244.0.0/16'),
    calico.blockAffinity('node-a', BLOCK, 'confirmed', 'a-1'),
    calico.bgpPeer('bird1', { peerIP: BIRD1.v4, asNumber: BIRD1.asn, filters: ['in-if', 'out-1'] }),
    calico.bgpPeer('bird2', { peerIP: BIRD2.v4, asNumber: BIRD2.asn, sourceAddress: 'None', filters: ['in-if', 'out-2'] }),
    calico.bgpFilter('in-if', { importV4: k.importIf ? [{ action: 'Reject', interface: 'uplink2' }] : [] }),
    calico.bgpFilter('out-1', { exportV4: [{ action: 'Reject', interface: out2 }, ...accepts] }),
    calico.bgpFilter('out-2', { exportV4: [{ action: 'Reject', interface: out1 }] }),
  );
}

const lab = createLab(t, { area: 'bgpfif' });
let a: TernHandle;
let bird1: BirdHandle;
let bird2: BirdHandle;
let file: string;
const since: Record<string, string> = {};

async function has(bird: BirdHandle, prefix: string): Promise<boolean> {
  return (await bird.routes()).some((r) => r.prefix === prefix && r.protocol.startsWith('tern'));
}

async function sinceOf(peer: string): Promise<string> {
  return (await a.status()).peers.find((p) => p.address === peer)?.since ?? '';
}

t.before(async () => {
  await segment(lab, 'seg1', { a: { v4: `${A1}/24`, ifName: 'uplink1' }, bird1: `${BIRD1.v4}/24` });
  await segment(lab, 'seg2', { a: { v4: `${A2}/24`, ifName: 'uplink2' }, bird2: `${BIRD2.v4}/24` });
  await lab.ip('a', 'route', 'add', ON_UPLINK2, 'dev', 'uplink2', 'proto', 'static');
  await lab.ip('a', 'route', 'add', ON_UPLINK1, 'dev', 'uplink1', 'proto', 'static');
  await lab.ip('a', 'route', 'add', OUT_UPLINK1, 'dev', 'uplink1', 'proto', 'static');
  await lab.ip('a', 'route', 'add', 'blackhole', OUT_BLACKHOLE, 'proto', 'static');
  const ds = fileDatastore(lab, [yaml({ importIf: true, exportIf: true })]);
  const spec = ds.spec;
  file = ds.path;
  a = await startTern(lab, 'a', { datastore: spec, node: 'node-a' });
  bird1 = await startBird(lab, 'bird1', {
    routerId: BIRD1.v4, asn: BIRD1.asn, neighbors: [{ address: A1, asn: TERN_AS, name: 'tern' }],
    staticRoutes: [{ prefix: BIRD1.route, blackhole: true }],
  });
  bird2 = await startBird(lab, 'bird2', {
    routerId: BIRD2.v4, asn: BIRD2.asn, neighbors: [{ address: A2, asn: TERN_AS, name: 'tern' }],
    staticRoutes: [{ prefix: BIRD2.route, blackhole: true }],
  });
  await a.waitPeers([BIRD1.v4, BIRD2.v4], 'Established', 90_000);
  since.b1 = await sinceOf(BIRD1.v4);
  since.b2 = await sinceOf(BIRD2.v4);
});

t.test('import: a route whose next hop is reached through uplink2 is rejected, one through uplink1 is not', async (t) => {
  await lab.waitFor(async () => (await a.routes()).some((r) => r.prefix === BIRD1.route), { what: `tern has ${BIRD1.route}`, timeoutMs: 30_000 });
  await lab.waitFor(async () => (await kernelRoutes(lab, 'a', BIRD1.route)).length === 1, { what: `${BIRD1.route} in the kernel` });
  // bird2 sent its route in the same initial table: give the session the time bird1's took.
  await lab.waitFor(async () => (await bird2.routes()).some((r) => r.prefix === BIRD2.route), { what: 'bird2 has its own route' });
  await new Promise((r) => setTimeout(r, 2000));
  t.notOk((await a.routes()).some((r) => r.prefix === BIRD2.route), `${BIRD2.route} (via uplink2) not in the RIB`);
  t.same(await kernelRoutes(lab, 'a', BIRD2.route), [], 'nor in the kernel');
});

t.test('export: kernel routes by device, BGP routes by next-hop interface; a blackhole has none', async (t) => {
  await lab.waitFor(async () => (await has(bird1, BLOCK)) && (await has(bird1, ON_UPLINK1)), { what: `bird1 has ${BLOCK} and ${ON_UPLINK1}`, timeoutMs: 30_000 });
  await lab.waitFor(async () => (await has(bird2, BLOCK)) && (await has(bird2, ON_UPLINK2)), { what: `bird2 has ${BLOCK} and ${ON_UPLINK2}`, timeoutMs: 30_000 });
  t.notOk(await has(bird1, ON_UPLINK2), `bird1 lacks ${ON_UPLINK2} (dev uplink2)`);
  t.notOk(await has(bird2, ON_UPLINK1), `bird2 lacks ${ON_UPLINK1} (dev uplink1, rule up*1)`);
  t.notOk(await has(bird2, BIRD1.route), `bird2 lacks bird1's ${BIRD1.route} (next hop via uplink1)`);
});

t.test('beyond the pool: a connected subnet and out-of-pool kernel routes go only where an Accept sends them', async (t) => {
  const extras = [SUBNET1, OUT_UPLINK1, OUT_BLACKHOLE];
  await lab.waitFor(async () => { for (const p of extras) if (!(await has(bird1, p))) return false; return true; }, { what: `bird1 has ${extras.join(' ')}`, timeoutMs: 30_000 });
  t.pass('Accept interface uplink1 / Accept cidr In: exported to bird1');
  const fromTern = async (bird: BirdHandle) => (await bird.routes()).filter((r) => r.protocol.startsWith('tern')).map((r) => r.prefix).sort();
  t.same(await fromTern(bird1), [BLOCK, ON_UPLINK1, ...extras].sort(), 'bird1: exactly these (the differential below has BIRD send the same)');
  t.same(await fromTern(bird2), [BLOCK, ON_UPLINK2].sort(), 'bird2: the pool routes only');
  t.ok((await a.routes()).some((r) => r.prefix === SUBNET1), `tern holds ${SUBNET1} while a chain accepts it`);
  t.notOk(await has(bird1, SUBNET2), `bird1 lacks ${SUBNET2} (uplink2: rejected first)`);
  for (const p of [...extras, SUBNET2]) t.notOk(await has(bird2, p), `bird2 lacks ${p}: no Accept in its chain`);
  t.same((await kernelRoutes(lab, 'a', OUT_UPLINK1)).map((r) => r.protocol), ['static'], 'nothing written to the kernel for it');
  await lab.ip('a', 'route', 'del', OUT_UPLINK1, 'dev', 'uplink1', 'proto', 'static');
  await lab.waitFor(async () => !(await has(bird1, OUT_UPLINK1)), { what: `bird1 loses ${OUT_UPLINK1} once the kernel route goes`, timeoutMs: 20_000 });
  await lab.ip('a', 'route', 'add', OUT_UPLINK1, 'dev', 'uplink1', 'proto', 'static');
  await lab.waitFor(async () => has(bird1, OUT_UPLINK1), { what: `bird1 gets ${OUT_UPLINK1} back`, timeoutMs: 20_000 });
  t.equal(await sinceOf(BIRD1.v4), since.b1, 'bird1 session not reset');
});

t.test('live: import filter removed, export patterns matching nothing: routes flow, sessions stay', async (t) => {
  writeFileSync(file, yaml({ importIf: false, exportIf: true }));
  await lab.waitFor(async () => (await kernelRoutes(lab, 'a', BIRD2.route)).length === 1, { what: `${BIRD2.route} imported into the kernel`, timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 2000));
  t.notOk(await has(bird1, BIRD2.route), `bird1 still lacks ${BIRD2.route}: its next hop is reached through uplink2`);
  writeFileSync(file, yaml({ importIf: false, exportIf: false }));
  await lab.waitFor(async () => (await has(bird1, ON_UPLINK2)) && (await has(bird1, BIRD2.route)), { what: `bird1 gets ${ON_UPLINK2} and ${BIRD2.route}`, timeoutMs: 20_000 });
  await lab.waitFor(async () => (await has(bird2, ON_UPLINK1)) && (await has(bird2, BIRD1.route)), { what: `bird2 gets ${ON_UPLINK1} and ${BIRD1.route}`, timeoutMs: 20_000 });
  t.pass('every route reaches both peers once the rules match nothing');
  t.equal(await sinceOf(BIRD1.v4), since.b1, 'bird1 session not reset');
  t.equal(await sinceOf(BIRD2.v4), since.b2, 'bird2 session not reset');
  // No chain has an Accept any more: the extras are withdrawn and no longer held at all.
  writeFileSync(file, yaml({ importIf: false, exportIf: false, accept: false }));
  await lab.waitFor(async () => !(await has(bird1, SUBNET1)) && !(await has(bird1, OUT_UPLINK1)) && !(await has(bird1, OUT_BLACKHOLE)), { what: 'bird1 loses the extras', timeoutMs: 20_000 });
  await lab.waitFor(async () => !(await a.routes()).some((r) => [SUBNET1, SUBNET2, OUT_UPLINK1, OUT_BLACKHOLE].includes(r.prefix)), { what: 'tern holds no extra route', timeoutMs: 20_000 });
  t.ok(await has(bird1, ON_UPLINK2), 'pool routes unaffected');
  t.equal(await sinceOf(BIRD1.v4), since.b1, 'bird1 session not reset');
});

/** calico-node's BIRD on node-a, the same BGPFilters rendered as confd renders them. */
const CALICO_BIRD = `router id ${A1};
log stderr all;
protocol device { scan time 2; }
protocol direct { ipv4; interface -"cali*", -"kube-ipvs*", "*"; }
protocol kernel { ipv4 { import all; export none; }; learn; scan time 2; }
protocol static { ipv4; route ${BLOCK} blackhole; }
function bgp_in_if_importFilterV4() { if ((defined(ifname) && ifname ~ "uplink2")) then { reject; } }
function bgp_out_1_exportFilterV4() { if ((defined(ifname) && ifname ~ "uplink2")) then { reject; } if ((defined(ifname) && ifname ~ "uplink1")) then { accept; } if ((net ~ 198.19.0.0/16)) then { accept; } }
function bgp_out_2_exportFilterV4() { if ((defined(ifname) && ifname ~ "up*1")) then { reject; } }
function pools_only() { if (net ~ 10.244.0.0/16) then accept; }
template bgp bgp_template { local as ${TERN_AS}; connect delay time 2; connect retry time 5; error wait time 5,30; }
protocol bgp Global_10_98_1_21 from bgp_template {
  ttl security off; multihop; neighbor ${BIRD1.v4} as ${BIRD1.asn}; source address ${A1};
  ipv4 { gateway recursive; add paths on; import filter { bgp_in_if_importFilterV4(); accept; }; export filter { bgp_out_1_exportFilterV4(); pools_only(); reject; }; };
}
protocol bgp Global_10_98_2_22 from bgp_template {
  ttl security off; multihop; neighbor ${BIRD2.v4} as ${BIRD2.asn};
  ipv4 { gateway recursive; add paths on; import filter { bgp_in_if_importFilterV4(); accept; }; export filter { bgp_out_2_exportFilterV4(); pools_only(); reject; }; };
}
`;

t.test('differential: BIRD 2 with confd\'s rendering of the same filters sends the peers the same routes', async (t) => {
  await a.stop();
  await lab.ip('a', 'route', 'flush', 'proto', 'bird');
  const calico = await spawnBird(lab, 'a', CALICO_BIRD);
  t.teardown(() => calico.proc.kill());
  const want = {
    bird1: [BIRD1.route, BLOCK, ON_UPLINK1, SUBNET1, OUT_UPLINK1, OUT_BLACKHOLE].sort(),
    bird2: [BIRD2.route, BLOCK, ON_UPLINK2].sort(),
  };
  const from = async (bird: BirdHandle) => (await bird.routes()).filter((r) => r.protocol.startsWith('tern') || r.protocol.startsWith('static')).map((r) => r.prefix).sort();
  const got1 = await lab.waitFor(async () => { const r = await from(bird1); return r.length >= want.bird1.length ? r : null; }, { what: 'bird1 has the routes', timeoutMs: 60_000 });
  const got2 = await lab.waitFor(async () => { const r = await from(bird2); return r.length >= want.bird2.length ? r : null; }, { what: 'bird2 has the routes', timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 3000));
  t.same(await from(bird1), want.bird1, `bird1 from calico BIRD: ${got1.join(' ')}`);
  t.same(await from(bird2), want.bird2, `bird2 from calico BIRD: ${got2.join(' ')}`);
  const table = parseBirdRoutes(await calico.birdc('show', 'route', 'all'));
  t.notOk(table.some((r) => r.prefix === BIRD2.route), `${BIRD2.route} rejected on import by calico BIRD too (ifname uplink2)`);
  t.ok(table.some((r) => r.prefix === BIRD1.route), `${BIRD1.route} accepted`);
});
