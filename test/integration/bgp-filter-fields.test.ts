// BGPFilter's v3.32 fields (peerType, communities, asPathPrefix, export operations
// addCommunity and prependASPath) against real BIRD 2 peers, in namespaces, and the same
// filters as confd renders them run by BIRD 2 in tern's place. One tern node (AS 64512):
//   seg1 10.97.1.0/24: node-a .10, bird1 .21 (AS 65001, eBGP)
//   seg2 10.97.2.0/24: node-a .10 on a second device, bird2 .22 (AS 64512, iBGP)
// bird1 sends R1 (community 65000:42, path 65001), R2 (path 65001 65010) and R4 (large
// community 65000:99:1); bird2 sends R3 (community 65000:42, empty path) and R5 (large
// community 65000:99:1). Own block 10.244.1.0/26.
// Filters:
//   in-path (import, both peers):
//     Reject asPathPrefix [65001, 65010]            → R2 stays out
//     eBGP, large community 65000:99:1 → Reject     → R4 stays out, R5 (iBGP) comes in
//   out (export, both peers, is_same_as by peer):
//     eBGP, community 65000:42 → Accept, add 65000:300:400, prepend [64999, 64998]
//     iBGP, asPathPrefix [65001] → Reject
//     cidr In 10.244.0.0/16 → Accept, add 65000:7 and NO_EXPORT (65535:65281)
// So bird1 gets R3 with path 64512 64999 64998, large community 65000:300:400 and its own
// 65000:42, and the block and R5 with path 64512, 65000:7 and NO_EXPORT (BIRD judges
// well-known communities before the export filter, so one it adds does not stop the route);
// bird2 gets the block (the same communities, empty path) and not R1. The differential
// compares each route's AS path, communities and large communities at both peers with what
// BIRD 2 with confd's rendering sends, and what that BIRD imports with what tern imported.
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { parseBirdRoutes, startBird, type BirdHandle, type BirdRoute } from '../helpers/peers.js';
import { spawnBird } from '../../lab/bird.js';
import { startTern, type TernHandle } from '../helpers/tern.js';
import { TERN_AS } from './fib-lab.js';

const A1 = '10.97.1.10';
const A2 = '10.97.2.10';
const BIRD1 = { v4: '10.97.1.21', asn: 65001 };
const BIRD2 = { v4: '10.97.2.22', asn: TERN_AS };
const R1 = '10.244.51.0/26';
const R2 = '10.244.52.0/26';
const R3 = '10.244.71.0/26';
const R4 = '10.244.53.0/26';
const R5 = '10.244.72.0/26';
const BLOCK = '10.244.1.0/26';

const YAML = calicoYaml(
  calico.bgpConfiguration({ asNumber: TERN_AS, nodeToNodeMeshEnabled: false }),
  calico.node('node-a', { ipv4Address: `${A1}/24` }),
  calico.ipPool('pool', '10.244.0.0/16'),
  calico.blockAffinity('node-a', BLOCK, 'confirmed', 'a-1'),
  calico.bgpPeer('bird1', { peerIP: BIRD1.v4, asNumber: BIRD1.asn, filters: ['in-path', 'out'] }),
  calico.bgpPeer('bird2', { peerIP: BIRD2.v4, asNumber: BIRD2.asn, sourceAddress: 'None', filters: ['in-path', 'out'] }),
  calico.bgpFilter('in-path', { importV4: [
    { action: 'Reject', asPathPrefix: [65001, 65010] },
    { action: 'Reject', peerType: 'eBGP', communities: { values: ['65000:99:1'] } },
  ] }),
  calico.bgpFilter('out', { exportV4: [
    { action: 'Accept', peerType: 'eBGP', communities: { values: ['65000:42'] },
      operations: [{ addCommunity: { value: '65000:300:400' } }, { prependASPath: { prefix: [64999, 64998] } }] },
    { action: 'Reject', peerType: 'iBGP', asPathPrefix: [65001] },
    { action: 'Accept', cidr: '10.244.0.0/16', matchOperator: 'In', operations: [{ addCommunity: { value: '65000:7' } }, { addCommunity: { value: '65535:65281' } }] },
  ] }),
);

/** A BIRD peer's own routes, tagged in its static protocol's import filter. */
function tagged(routes: string[], filter: string): string {
  return `protocol static tagged { ipv4 { import filter { ${filter} accept; }; }; ${routes.map((r) => `route ${r} blackhole;`).join(' ')} }`;
}

const lab = createLab(t, { area: 'bgpff' });
let a: TernHandle;
let bird1: BirdHandle;
let bird2: BirdHandle;

interface Seen { prefix: string; asPath: number[]; communities: string[]; large: string[] }

/** The routes a peer holds from node-a, with the attributes compared. */
async function fromNode(bird: BirdHandle): Promise<Seen[]> {
  return (await bird.routes()).filter((r: BirdRoute) => r.protocol === 'tern')
    .map((r) => ({ prefix: r.prefix, asPath: r.asPath, communities: [...(r.communities ?? [])].sort(), large: [...(r.largeCommunities ?? [])].sort() }))
    .sort((x, y) => x.prefix.localeCompare(y.prefix));
}

const WANT = {
  bird1: [
    { prefix: BLOCK, asPath: [TERN_AS], communities: ['65000:7', '65535:65281'], large: [] },
    { prefix: R3, asPath: [TERN_AS, 64999, 64998], communities: ['65000:42'], large: ['65000:300:400'] },
    { prefix: R5, asPath: [TERN_AS], communities: ['65000:7', '65535:65281'], large: ['65000:99:1'] },
  ],
  bird2: [
    { prefix: BLOCK, asPath: [], communities: ['65000:7', '65535:65281'], large: [] },
  ],
};

t.before(async () => {
  await segment(lab, 'seg1', { a: { v4: `${A1}/24`, ifName: 'uplink1' }, bird1: `${BIRD1.v4}/24` });
  await segment(lab, 'seg2', { a: { v4: `${A2}/24`, ifName: 'uplink2' }, bird2: `${BIRD2.v4}/24` });
  const ds = fileDatastore(lab, [YAML]);
  a = await startTern(lab, 'a', { datastore: ds.spec, node: 'node-a' });
  bird1 = await startBird(lab, 'bird1', {
    routerId: BIRD1.v4, asn: BIRD1.asn, neighbors: [{ address: A1, asn: TERN_AS, name: 'tern' }],
    extraConfig: tagged([R1, R2, R4], `if net = ${R1} then bgp_community.add((65000, 42)); if net = ${R2} then bgp_path.prepend(65010);
      if net = ${R4} then bgp_large_community.add((65000, 99, 1));`),
  });
  bird2 = await startBird(lab, 'bird2', {
    routerId: BIRD2.v4, asn: BIRD2.asn, neighbors: [{ address: A2, asn: TERN_AS, name: 'tern' }],
    extraConfig: tagged([R3, R5], `if net = ${R3} then bgp_community.add((65000, 42)); if net = ${R5} then bgp_large_community.add((65000, 99, 1));`),
  });
  await a.waitPeers([BIRD1.v4, BIRD2.v4], 'Established', 90_000);
});

async function settled(bird: BirdHandle, want: Seen[], what: string): Promise<Seen[]> {
  await lab.waitFor(async () => (await fromNode(bird)).length >= want.length, { what, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 3000)); // the window for routes that must not come
  return fromNode(bird);
}

t.test('tern: peerType, communities, asPathPrefix and the operations as confd renders them', async (t) => {
  const held = async () => (await a.routes()).map((r) => r.prefix);
  await lab.waitFor(async () => { const h = await held(); return [R1, R3, R5].every((p) => h.includes(p)); },
    { what: `tern holds ${R1}, ${R3} and ${R5}`, timeoutMs: 30_000 });
  t.notOk((await held()).includes(R2), `${R2} (path 65001 65010) rejected on import`);
  t.notOk((await held()).includes(R4), `${R4} (65000:99:1 from an eBGP peer) rejected on import`);
  t.same(await settled(bird1, WANT.bird1, 'bird1 has its routes'), WANT.bird1, 'bird1 (eBGP)');
  t.same(await settled(bird2, WANT.bird2, 'bird2 has its routes'), WANT.bird2, `bird2 (iBGP): not ${R1} (path begins 65001)`);
});

/** calico-node's BIRD on node-a: the filters as confd renders them (template_funcs.go). */
const CALICO_BIRD = `router id ${A1};
log stderr all;
protocol device { scan time 2; }
protocol direct { ipv4; interface -"cali*", -"kube-ipvs*", "*"; }
protocol static { ipv4; route ${BLOCK} blackhole; }
function bgp_in_path_importFilterV4(bool is_same_as) {
  if ((bgp_path ~ [= 65001 65010 * =])) then { reject; }
  if (!is_same_as) then { if (((65000, 99, 1) ~ bgp_large_community)) then { reject; } }
}
function bgp_out_exportFilterV4(bool is_same_as) {
  if (!is_same_as) then { if (((65000, 42) ~ bgp_community)) then { bgp_large_community.add((65000, 300, 400)); bgp_path.prepend(64998); bgp_path.prepend(64999); accept; } }
  if (is_same_as) then { if ((bgp_path ~ [= 65001 * =])) then { reject; } }
  if ((net ~ 10.244.0.0/16)) then { bgp_community.add((65000, 7)); bgp_community.add((65535, 65281)); accept; }
}
function pools_only() { if (net ~ 10.244.0.0/16) then accept; }
template bgp bgp_template { local as ${TERN_AS}; connect delay time 2; connect retry time 5; error wait time 5,30; }
protocol bgp Global_10_97_1_21 from bgp_template {
  ttl security off; multihop; neighbor ${BIRD1.v4} as ${BIRD1.asn}; source address ${A1};
  ipv4 { gateway recursive; add paths on; import filter { bgp_in_path_importFilterV4(false); accept; }; export filter { bgp_out_exportFilterV4(false); pools_only(); reject; }; };
}
protocol bgp Global_10_97_2_22 from bgp_template {
  ttl security off; multihop; neighbor ${BIRD2.v4} as ${BIRD2.asn};
  ipv4 { gateway recursive; add paths on; import filter { bgp_in_path_importFilterV4(true); accept; }; export filter { bgp_out_exportFilterV4(true); pools_only(); reject; }; };
}
`;

t.test('differential: BIRD 2 with confd\'s rendering sends the peers the same routes and attributes', async (t) => {
  await a.stop();
  await lab.ip('a', 'route', 'flush', 'proto', 'bird');
  // Nothing left from tern (no stale routes kept for graceful restart), so what follows is BIRD's.
  await lab.waitFor(async () => (await fromNode(bird1)).length === 0 && (await fromNode(bird2)).length === 0,
    { what: 'the peers hold nothing from node-a', timeoutMs: 150_000 });
  const calicoBird = await spawnBird(lab, 'a', CALICO_BIRD);
  t.teardown(() => calicoBird.proc.kill());
  t.same(await settled(bird1, WANT.bird1, 'bird1 has the routes from calico BIRD'), WANT.bird1, 'bird1 (eBGP)');
  t.same(await settled(bird2, WANT.bird2, 'bird2 has the routes from calico BIRD'), WANT.bird2, 'bird2 (iBGP)');
  const table = parseBirdRoutes(await calicoBird.birdc('show', 'route', 'all')).map((r) => r.prefix);
  t.same([R1, R2, R3, R4, R5].filter((p) => table.includes(p)), [R1, R3, R5], 'calico BIRD imports what tern imports');
});
