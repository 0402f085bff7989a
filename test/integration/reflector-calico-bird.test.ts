// Route reflector topologies mixing tern and a calico-node stand-in (BIRD 2 running the
// bird.cfg confd renders, lab/calico-bird.ts), mesh off, peerings made by the
// BGPPeer Calico's docs give (`nodeSelector: all()`, `peerSelector: route-reflector == 'true'`),
// at addresses whose text and numeric orders disagree (.9 < .10 < .100 as numbers,
// "…​.10" < "…​.100" < "…​.9" as text). One lab per topology:
//
//   (a) tern reflector rr-9 (routeReflectorClusterID) with two clients: the calico-node BIRD
//       calico-10 (confd renders it `Node_<rr ip>`) and tern node-100;
//   (b) the calico-node BIRD calico-9 as the reflector (`rr client; rr cluster id` on its
//       reverse peerings, as confd renders them) with tern clients node-10 and node-100;
//   (c) mesh on plus a global BGPPeer to an external BIRD router in another AS: tern node-9
//       and calico-node BIRD calico-10 (`Global_<ip>`) both peer with it, routes flow both ways.
//
// Every session Established, every node gets every other node's block, reflected routes carry
// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456) as `birdc show route all` and `tern routes` show.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab, type Lab } from '../../lab/netns.js';
import { calico, calicoYaml, clusterDocs, rrPeer } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { retry } from '../helpers/peers-common.js';
import { renderCalicoBirdCfg, type CalicoBirdNode } from '../../lab/calico-bird.js';
import { parseBirdProtocols, parseBirdRoutes, startBird, type BirdRoute } from '../helpers/peers-bird.js';
import { startTern, writeDatastore, type TernHandle } from '../helpers/tern.js';
import type { RouteJson } from '../../src/api/types.js';

const AS = 64512;
const EXT_AS = 65001;
const CLUSTER = '244.0.0.9';
const POOL = '10.244.0.0/16';
const FABRIC = 'fabric';

interface Host { name: string; ip: string; block: string }

/** The cluster's resources: every node (reflector labelled and with its cluster id), blocks, pool. */
function clusterYaml(hosts: Host[], opts: { mesh: boolean; reflector?: string; extra?: string[] }): string {
  const nodes = hosts.map((h) => ({ ...h, ip: `${h.ip}/24`, ...(h.name === opts.reflector ? { rrClusterId: CLUSTER } : {}) }));
  return calicoYaml(clusterDocs({ asNumber: AS, mesh: opts.mesh, pool: POOL, nodes }), opts.extra ?? []);
}

interface CalicoBird { birdc(...a: string[]): Promise<string>; routes(): Promise<BirdRoute[]> }

/** A calico-node stand-in: BIRD on the rendered bird.cfg, started in recovery (`bird -R`) as calico-node does. */
async function startCalicoBird(lab: Lab, h: Host, cfg: Omit<CalicoBirdNode, 'ip' | 'asNumber' | 'blocks' | 'pools'>): Promise<CalicoBird> {
  const file = lab.path(`${h.name}-bird.cfg`);
  writeFileSync(file, renderCalicoBirdCfg({ ip: h.ip, asNumber: AS, blocks: [h.block], pools: [POOL], ...cfg }));
  await lab.exec(h.name, 'bird', ['-p', '-c', file]);
  const socket = lab.path(`${h.name}-bird.ctl`);
  lab.spawn(h.name, 'bird', ['-f', '-R', '-c', file, '-s', socket, '-P', lab.path(`${h.name}-bird.pid`)], { logFile: lab.path(`${h.name}-bird.log`) });
  const birdc = async (...a: string[]) => (await lab.exec(h.name, 'birdc', ['-s', socket, ...a])).stdout;
  await retry(lab, `BIRD control socket on ${h.name}`, () => birdc('show', 'status'));
  return { birdc, routes: async () => parseBirdRoutes(await birdc('show', 'route', 'all')) };
}

async function fabric(lab: Lab, hosts: Array<{ name: string; ip: string }>): Promise<void> {
  // Permanent neighbour entries: immune to other labs filling the shared ARP table.
  await segment(lab, FABRIC, Object.fromEntries(hosts.map((h) => [h.name, { v4: `${h.ip}/24`, ifName: 'eth0' }])), { staticNeighbours: true });
}

/** The fabric with these hosts, mesh off, `rr` labelled as the reflector with the cluster id,
 *  the route reflector BGPPeer of Calico's docs: the file datastore's spec. */
async function reflectorCluster(lab: Lab, hosts: Host[], rr: Host): Promise<string> {
  await fabric(lab, hosts);
  return writeDatastore(lab, clusterYaml(hosts, { mesh: false, reflector: rr.name, extra: [rrPeer()] }));
}

async function waitBirdProtocols(lab: Lab, b: CalicoBird, names: string[], what: string): Promise<void> {
  await lab.waitFor(async () => {
    const ps = parseBirdProtocols(await b.birdc('show', 'protocols'));
    return names.every((n) => ps.some((p) => p.name === n && p.state === 'up' && /^Established/.test(p.info))) ? true : null;
  }, { what, timeoutMs: 60_000, intervalMs: 500 });
}

/** Waits for BIRD's best route for `prefix` with BGP next hop `nextHop`. */
async function waitBirdRoute(lab: Lab, b: CalicoBird, prefix: string, nextHop: string, what: string): Promise<BirdRoute> {
  return lab.waitFor(async () => (await b.routes()).find((r) => r.prefix === prefix && r.primary && (r.bgpNextHop ?? []).includes(nextHop)) ?? null,
    { what, timeoutMs: 30_000, intervalMs: 500 });
}

/** Waits for tern's best path for `prefix` with next hop `nextHop`. */
async function waitTernRoute(lab: Lab, h: TernHandle, prefix: string, nextHop: string): Promise<RouteJson> {
  return lab.waitFor(async () => (await h.routes()).find((r) => r.prefix === prefix && r.best && r.nextHop === nextHop) ?? null,
    { what: `tern on ${h.host}: best path ${prefix} via ${nextHop}`, timeoutMs: 30_000, intervalMs: 300 });
}

/** Waits for the kernel route tern wrote (`proto bird`) for `prefix` via `gateway`. */
async function waitKernel(lab: Lab, host: string, prefix: string, gateway: string): Promise<void> {
  await lab.waitFor(async () => {
    const rs = await lab.ipJson<Array<{ dst: string; gateway?: string }>>(host, 'route', 'show', 'proto', 'bird');
    return rs.some((r) => r.dst === prefix && r.gateway === gateway) ? true : null;
  }, { what: `${host}: kernel ${prefix} via ${gateway} proto bird`, timeoutMs: 30_000, intervalMs: 300 }).catch(async (e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${host} ip route:\n${(await lab.exec(host, 'ip', ['route'])).stdout}`);
  });
}

async function ping(t: Test, lab: Lab, from: { pod: string; host: string }, to: { ip: string; host: string }): Promise<void> {
  const r = await lab.exec(from.pod, 'ping', ['-c', '3', '-i', '0.3', '-W', '2', to.ip], { allowFail: true });
  t.match(r.stdout, / [1-3] received/, `${from.pod} (${from.host}) → ${to.ip} (${to.host})`);
}

const podIp = (h: Host) => h.block.replace(/0\/26$/, '2');

/** A pod `pod-<host>` on each host at its block's .2. */
async function addPods(lab: Lab, hosts: Host[]): Promise<Array<{ pod: string; host: string; ip: string }>> {
  const pods = hosts.map((h) => ({ pod: `pod-${h.name}`, host: h.name, ip: podIp(h) }));
  for (const p of pods) await lab.addPod(p.host, p.pod, p.ip);
  return pods;
}

/** Every pod pings every other one. */
async function pingAll(t: Test, lab: Lab, hosts: Host[]): Promise<void> {
  const pods = await addPods(lab, hosts);
  for (const a of pods) for (const b of pods) if (a !== b) await ping(t, lab, a, b);
}

t.test('(a) tern reflector; a calico-node BIRD and a tern node are its clients', async (t) => {
  const lab = createLab(t, { area: 'rrcba' });
  const RR: Host = { name: 'rr-9', ip: '10.201.0.9', block: '10.244.9.0/26' };
  const BIRD: Host = { name: 'calico-10', ip: '10.201.0.10', block: '10.244.10.0/26' };
  const NODE: Host = { name: 'node-100', ip: '10.201.0.100', block: '10.244.100.0/26' };
  const ds = await reflectorCluster(lab, [RR, BIRD, NODE], RR);
  const rr = await startTern(lab, RR.name, { datastore: ds, node: RR.name, ip: `${RR.ip}/24` });
  const node = await startTern(lab, NODE.name, { datastore: ds, node: NODE.name, ip: `${NODE.ip}/24` });
  // What confd renders on calico-10: the BGPPeer selects it (all()) and, by peerSelector, rr-9:
  // one Node_ block toward the reflector; calico-10 has no cluster id, so no rr lines.
  const bird = await startCalicoBird(lab, BIRD, { meshPeers: [], peers: [{ scope: 'Node', ip: RR.ip, asNumber: AS, rrClusterId: CLUSTER }] });
  t.comment((await lab.exec(BIRD.name, 'grep', ['-A8', `Node_${RR.ip.replace(/\./g, '_')}`, lab.path(`${BIRD.name}-bird.cfg`)])).stdout);

  await waitBirdProtocols(lab, bird, ['Node_10_201_0_9'], 'calico-10: Node_10_201_0_9 Established');
  t.pass('calico-10 BIRD: Node_10_201_0_9 (toward the reflector) Established');
  for (const ip of [BIRD.ip, NODE.ip]) t.equal((await rr.waitPeer(ip)).bgpState, 'Established', `rr-9 ↔ ${ip} Established`);
  t.equal((await node.waitPeer(RR.ip)).bgpState, 'Established', 'node-100 ↔ rr-9 Established');
  const rrPeers = (await rr.status()).peers;
  t.same(rrPeers.map((p) => p.address).sort(), [BIRD.ip, NODE.ip].sort(), 'rr-9 peers with its two clients and nobody else');
  t.ok(rrPeers.every((p) => p.type === 'node specific'), 'rr-9: both are node-specific peerings (the BGPPeer, reversed)');
  t.comment(`rr-9 sessions: ${rrPeers.map((p) => `${p.name} ${p.address} ${p.type}`).join('; ')}`);
  t.same((await node.status()).peers.map((p) => p.address), [RR.ip], 'node-100 peers with the reflector only (no mesh)');

  // calico-10 (BIRD) learns both blocks; node-100's is reflected by rr-9.
  const fromRr = await waitBirdRoute(lab, bird, RR.block, RR.ip, 'calico-10 has rr-9\'s block');
  t.equal(fromRr.originatorId, undefined, 'rr-9\'s own block carries no ORIGINATOR_ID');
  const reflected = await waitBirdRoute(lab, bird, NODE.block, NODE.ip, 'calico-10 has node-100\'s block reflected by rr-9, next hop node-100');
  t.comment(`calico-10 show route all ${NODE.block}: ${JSON.stringify(reflected.attrs)}`);
  t.equal(reflected.from, RR.ip, 'learned from the reflector');
  t.equal(reflected.originatorId, NODE.ip, 'ORIGINATOR_ID = node-100 (its router id)');
  t.same(reflected.clusterList, [CLUSTER], 'CLUSTER_LIST = [rr-9\'s cluster id]');
  t.same(reflected.asPath, [], 'iBGP: empty AS path');

  // node-100 (tern) learns calico-10's block reflected, and rr-9's.
  const r = await waitTernRoute(lab, node, BIRD.block, BIRD.ip);
  t.equal(r.source, RR.ip, 'node-100: calico-10\'s block came from the reflector');
  t.equal(r.originatorId, BIRD.ip, 'ORIGINATOR_ID = calico-10');
  t.same(r.clusterList, [CLUSTER], 'CLUSTER_LIST = [rr-9\'s cluster id]');
  await waitTernRoute(lab, node, RR.block, RR.ip);
  await waitKernel(lab, NODE.name, BIRD.block, BIRD.ip);
  await waitKernel(lab, NODE.name, RR.block, RR.ip);
  // rr-9 has both clients' blocks in its kernel.
  await waitKernel(lab, RR.name, BIRD.block, BIRD.ip);
  await waitKernel(lab, RR.name, NODE.block, NODE.ip);
  t.pass('node-100 and rr-9 route every other block to its node');

  await pingAll(t, lab, [RR, BIRD, NODE]);
});

t.test('(b) calico-node BIRD reflector (rr client; rr cluster id) with tern clients', async (t) => {
  const lab = createLab(t, { area: 'rrcbb' });
  const RR: Host = { name: 'calico-9', ip: '10.202.0.9', block: '10.244.9.0/26' };
  const N10: Host = { name: 'node-10', ip: '10.202.0.10', block: '10.244.10.0/26' };
  const N100: Host = { name: 'node-100', ip: '10.202.0.100', block: '10.244.100.0/26' };
  const ds = await reflectorCluster(lab, [RR, N10, N100], RR);
  // What confd renders on calico-9: the BGPPeer's peerSelector picks only calico-9 itself
  // (skipped); node-10 and node-100 peer with it, so it gets their reverse peerings as Node_
  // blocks, and as its cluster id differs from theirs (none): `rr client; rr cluster id`.
  const bird = await startCalicoBird(lab, RR, {
    meshPeers: [], rrClusterId: CLUSTER,
    peers: [N10, N100].map((n) => ({ scope: 'Node' as const, ip: n.ip, asNumber: AS })),
  });
  t.comment((await lab.exec(RR.name, 'grep', ['-A9', 'Node_10_202_0_10', lab.path(`${RR.name}-bird.cfg`)])).stdout);
  const terns = new Map<string, TernHandle>();
  for (const n of [N10, N100]) terns.set(n.name, await startTern(lab, n.name, { datastore: ds, node: n.name, ip: `${n.ip}/24` }));

  await waitBirdProtocols(lab, bird, ['Node_10_202_0_10', 'Node_10_202_0_100'], 'calico-9: Node_10_202_0_10 and Node_10_202_0_100 Established');
  t.pass('calico-9 BIRD: both client sessions Established');
  for (const n of [N10, N100]) {
    const h = terns.get(n.name)!;
    t.equal((await h.waitPeer(RR.ip)).bgpState, 'Established', `${n.name} ↔ calico-9 Established`);
    t.same((await h.status()).peers.map((p) => p.address), [RR.ip], `${n.name} peers with the reflector only`);
  }
  const show = await bird.birdc('show', 'protocols', 'all', 'Node_10_202_0_10');
  t.comment(show.split('\n').filter((l) => /Neighbor|reflector|client|Cluster/i.test(l)).join('\n'));
  t.match(show, /Session:\s+internal multihop route-reflector/, 'calico-9 BIRD treats node-10 as its route reflector client');

  for (const [me, other] of [[N10, N100], [N100, N10]] as const) {
    const h = terns.get(me.name)!;
    const r = await waitTernRoute(lab, h, other.block, other.ip);
    t.equal(r.source, RR.ip, `${me.name}: ${other.name}'s block came from calico-9`);
    t.equal(r.originatorId, other.ip, `${me.name}: ORIGINATOR_ID = ${other.name}`);
    t.same(r.clusterList, [CLUSTER], `${me.name}: CLUSTER_LIST = [calico-9's cluster id]`);
    const own = await waitTernRoute(lab, h, RR.block, RR.ip);
    t.equal(own.originatorId, undefined, `${me.name}: calico-9's own block has no ORIGINATOR_ID`);
    await waitKernel(lab, me.name, other.block, other.ip);
    await waitKernel(lab, me.name, RR.block, RR.ip);
  }
  for (const n of [N10, N100]) {
    const r = await waitBirdRoute(lab, bird, n.block, n.ip, `calico-9 has ${n.name}'s block`);
    t.equal(r.from ?? n.ip, n.ip, `calico-9 learned ${n.block} straight from ${n.name}`);
  }
  await pingAll(t, lab, [RR, N10, N100]);
});

t.test('(c) a global BGPPeer to an external router: a tern node and a calico-node BIRD both peer with it', async (t) => {
  const lab = createLab(t, { area: 'rrcbc' });
  const TERN: Host = { name: 'node-9', ip: '10.203.0.9', block: '10.244.9.0/26' };
  const BIRD: Host = { name: 'calico-10', ip: '10.203.0.10', block: '10.244.10.0/26' };
  const EXT = { name: 'tor', ip: '10.203.0.254', route: '10.99.0.0/24' };
  await fabric(lab, [TERN, BIRD, EXT]);
  const global = calico.bgpPeer('tor', { peerIP: EXT.ip, asNumber: EXT_AS });
  const ds = writeDatastore(lab, clusterYaml([TERN, BIRD], { mesh: true, extra: [global] }));
  const tor = await startBird(lab, EXT.name, {
    routerId: EXT.ip, asn: EXT_AS, kernelExport: true,
    neighbors: [TERN, BIRD].map((h) => ({ address: h.ip, asn: AS })),
    staticRoutes: [{ prefix: EXT.route, blackhole: true }],
  });
  const tern = await startTern(lab, TERN.name, { datastore: ds, node: TERN.name, ip: `${TERN.ip}/24` });
  const bird = await startCalicoBird(lab, BIRD, { meshPeers: [TERN.ip], peers: [{ scope: 'Global', ip: EXT.ip, asNumber: EXT_AS }] });

  await tor.waitEstablished();
  t.pass('the external router: both sessions Established');
  const g = await tern.waitPeer(EXT.ip);
  t.equal(g.type, 'global', 'node-9: the external router is a global peer');
  t.equal(g.asn, EXT_AS, 'node-9: the global peer\'s AS');
  t.equal((await tern.waitPeer(BIRD.ip)).type, 'node-to-node mesh', 'node-9 ↔ calico-10 mesh Established');
  await waitBirdProtocols(lab, bird, ['Global_10_203_0_254', 'Mesh_10_203_0_9'], 'calico-10: Global_10_203_0_254 and Mesh_10_203_0_9 Established');
  t.pass('calico-10 BIRD: Global_10_203_0_254 and Mesh_10_203_0_9 Established');

  // Both nodes export every block they know inside the pool (confd's
  // calico_export_to_bgp_peers(false) accepts `net ~ pool`; tern matches it), so the tor may
  // hold a second path via the other node: require the owner's path, with AS path 64512.
  for (const h of [TERN, BIRD]) {
    const r = await lab.waitFor(async () => (await tor.routes()).find((x) => x.prefix === h.block && (x.bgpNextHop ?? []).includes(h.ip)) ?? null,
      { what: `tor has ${h.block} via ${h.ip}`, timeoutMs: 30_000, intervalMs: 500 });
    t.same(r.asPath, [AS], `tor: ${h.block} via ${h.ip}, AS path ${AS}`);
  }
  t.comment(`tor: ${JSON.stringify((await tor.routes()).filter((x) => x.prefix.startsWith('10.244.')).map((x) => ({ prefix: x.prefix, primary: x.primary, nh: x.bgpNextHop, asPath: x.asPath, origin: x.origin })))}`);
  const fromTor = await waitTernRoute(lab, tern, EXT.route, EXT.ip);
  t.equal(fromTor.asPath, String(EXT_AS), 'node-9: the external route with AS path 65001');
  await waitKernel(lab, TERN.name, EXT.route, EXT.ip);
  const birdExt = await waitBirdRoute(lab, bird, EXT.route, EXT.ip, 'calico-10 has the external route');
  t.same(birdExt.asPath, [EXT_AS], 'calico-10: the external route with AS path 65001');
  // Mesh routes still flow beside the global peering.
  await waitKernel(lab, TERN.name, BIRD.block, BIRD.ip);
  await waitBirdRoute(lab, bird, TERN.block, TERN.ip, 'calico-10 has node-9\'s block over the mesh');
  // Outside the pools, so neither node passes the external route on over the mesh
  // (calico_export_to_bgp_peers(true) rejects it; tern must too).
  const extAtBird = (await bird.routes()).filter((x) => x.prefix === EXT.route).map((x) => x.protocol);
  t.same(extAtBird, ['Global_10_203_0_254'], 'calico-10 holds the external route from the tor only, not from node-9');
  const extAtTern = (await tern.routes()).filter((x) => x.prefix === EXT.route).map((x) => x.source);
  t.same(extAtTern, [EXT.ip], 'node-9 holds the external route from the tor only, not from calico-10');
  for (const p of await addPods(lab, [TERN, BIRD])) {
    const r = await lab.exec(EXT.name, 'ping', ['-c', '3', '-i', '0.3', '-W', '2', p.ip], { allowFail: true });
    t.match(r.stdout, / [1-3] received/, `tor → ${p.pod} ${p.ip} (${p.host})`);
  }
});
