// A rolling migration: tern nodes and one calico-node stand-in (BIRD 2 running the bird.cfg
// confd renders, lab/calico-bird.ts) in one node-to-node mesh on etcd, at
// addresses whose text and numeric orders disagree: "10.200.0.9" > "10.200.0.10" as text,
// 9 < 10 as numbers, and "10.200.0.100" < "10.200.0.9". Every session must come up (confd's
// BIRD is `passive on` toward a greater address STRING, so tern has to pick its passive side
// the same way, or a pair waits for ever), routes go both ways, pods reach pods.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { retry } from '../helpers/peers-common.js';
import { goGt, renderCalicoBirdCfg } from '../../lab/calico-bird.js';
import { parseBirdProtocols, parseBirdRoutes } from '../helpers/peers-bird.js';
import { AS, affinityYaml, buildMeshLab, meshPeers, waitMesh, waitRoute, type MeshLab, type NodeDef } from './mesh-lab.js';

const lab = createLab(t, { area: 'calicobird' });
const TERN: NodeDef[] = [
  { name: 'node-9', ip: '10.200.0.9', block: '10.244.9.0/26' },
  { name: 'node-11', ip: '10.200.0.11', block: '10.244.11.0/26' },
  { name: 'node-100', ip: '10.200.0.100', block: '10.244.100.0/26' },
];
const BIRD = { name: 'calico-10', ip: '10.200.0.10', block: '10.244.10.0/26' };
const POOL = '10.244.0.0/16';
let m: MeshLab;
let birdc: (...a: string[]) => Promise<string>;

t.before(async () => {
  m = await buildMeshLab(lab, TERN);
  // The calico-node: its Node resource and affinity as calico-node and Calico IPAM write them.
  await m.apply(calicoYaml(calico.node(BIRD.name, { ipv4Address: `${BIRD.ip}/24` }), affinityYaml(BIRD.name, BIRD.block)), 'calico-node');
  await m.plug(BIRD);
  const cfg = lab.path('calico-bird.cfg');
  writeFileSync(cfg, renderCalicoBirdCfg({ ip: BIRD.ip, asNumber: AS, blocks: [BIRD.block], pools: [POOL], meshPeers: TERN.map((n) => n.ip) }));
  await lab.exec(BIRD.name, 'bird', ['-p', '-c', cfg]);
  const socket = lab.path('calico-bird.ctl');
  // calico-node starts BIRD in graceful-restart recovery (`bird -R`).
  lab.spawn(BIRD.name, 'bird', ['-f', '-R', '-c', cfg, '-s', socket, '-P', lab.path('calico-bird.pid')], { logFile: lab.path('calico-bird.log') });
  birdc = async (...a: string[]) => (await lab.exec(BIRD.name, 'birdc', ['-s', socket, ...a])).stdout;
  await retry(lab, 'BIRD control socket', () => birdc('show', 'status'));
});

t.test('the rendered bird.cfg orders as Go does: BIRD waits for .9, dials .11 and .100', async (t) => {
  t.equal(goGt('10.200.0.9', '10.200.0.10'), true);
  t.equal(goGt('10.200.0.100', '10.200.0.10'), true);
  t.equal(goGt('10.200.0.11', '10.200.0.10'), true);
  t.equal(goGt('10.200.0.100', '10.200.0.9'), false);
});

t.test('every session Established: tern ↔ tern and tern ↔ calico-node BIRD', async (t) => {
  const all = [...TERN.map((n) => n.ip), BIRD.ip];
  for (const n of TERN) {
    const peers = await waitMesh(m, n.name, all.filter((a) => a !== n.ip), 60_000);
    t.equal(peers.length, 3, `${n.name}: 3 Established mesh sessions`);
    const toBird = peers.find((p) => p.address === BIRD.ip);
    t.equal(toBird?.name, 'Mesh_10_200_0_10', `${n.name}: the session to the calico-node is named as confd names it`);
  }
  const protos = await lab.waitFor(async () => {
    const ps = parseBirdProtocols(await birdc('show', 'protocols')).filter((p) => p.name.startsWith('Mesh_'));
    return ps.length === 3 && ps.every((p) => /Established/.test(p.info)) ? ps : null;
  }, { what: 'calico-node BIRD: 3 Mesh_ sessions Established', timeoutMs: 60_000, intervalMs: 500 });
  t.same(protos.map((p) => p.name).sort(), ['Mesh_10_200_0_100', 'Mesh_10_200_0_11', 'Mesh_10_200_0_9']);
  // Exactly one TCP connection per pair, opened by the side whose peer is the lesser STRING.
  for (const n of TERN) {
    const conns = (await lab.exec(n.name, 'ss', ['-tnH', 'state', 'established', `( sport = :179 or dport = :179 )`])).stdout;
    const withBird = conns.split('\n').filter((l) => l.includes(`${BIRD.ip}:`));
    t.equal(withBird.length, 1, `${n.name}: one connection with the calico-node`);
    const ternDials = !goGt(BIRD.ip, n.ip); // tern is passive iff BIRD's address is greater as text
    t.match(withBird[0] ?? '', ternDials ? new RegExp(`${BIRD.ip.replace(/\./g, '\\.')}:179\\s*$`) : new RegExp(`${n.ip.replace(/\./g, '\\.')}:179\\s`),
      `${n.name} ${ternDials ? 'dialled' : 'was dialled by'} the calico-node`);
  }
});

t.test('routes go both ways and pods reach pods', async (t) => {
  for (const n of TERN) {
    const r = await waitRoute(m, n.name, BIRD.block, BIRD.ip);
    t.equal(r.gateway, BIRD.ip, `${n.name} routes the calico-node's block via it`);
  }
  const birdRoutes = await lab.waitFor(async () => {
    const rs = parseBirdRoutes(await birdc('show', 'route', 'all'));
    return TERN.every((n) => rs.some((r) => r.prefix === n.block && r.primary)) ? rs : null;
  }, { what: 'calico-node BIRD learned every tern block', timeoutMs: 30_000, intervalMs: 500 });
  for (const n of TERN) t.ok(birdRoutes.some((r) => r.prefix === n.block && r.bgpNextHop?.includes(n.ip)), `BIRD has ${n.block} from ${n.name}`);
  const pods = [...TERN, BIRD].map((n, i) => ({ name: `pod-${i}`, host: n.name, ip: n.block.replace(/0\/26$/, '2') }));
  for (const p of pods) await lab.addPod(p.host, p.name, p.ip);
  for (const src of pods) {
    for (const dst of pods) {
      if (src === dst) continue;
      const r = await lab.exec(src.name, 'ping', ['-c', '1', '-W', '3', dst.ip], { allowFail: true });
      t.match(r.stdout, / 0% packet loss/, `${src.name} (${src.host}) → ${dst.ip} (${dst.host})`);
    }
  }
  for (const n of TERN) t.equal(meshPeers((await m.terns.get(n.name)!.status()).peers).length, 3);
});

t.test('a borrowed address: Felix\'s /32 proto boot on node-9 inside node-11\'s block is advertised and reachable', async (t) => {
  const borrowed = '10.244.11.7';
  // lab.addPod writes the host route as Felix does: `/32 dev caliX scope link` with the
  // default protocol, boot (3).
  await lab.addPod('node-9', 'pod-borrow', borrowed);
  t.comment((await lab.exec('node-9', 'ip', ['route', 'show', `${borrowed}/32`])).stdout.trim());
  const local = await lab.waitFor(async () => (await m.terns.get('node-9')!.routes()).find((r) => r.prefix === `${borrowed}/32`) ?? null,
    { what: 'node-9 learned the borrowed /32 from the kernel', timeoutMs: 20_000 }).catch(async (e: unknown) => {
    t.comment(JSON.stringify((await m.terns.get('node-9')!.routes()).map((r) => r.prefix)));
    throw e;
  });
  t.ok(local, 'node-9 has the /32 in its RIB (learned)');
  for (const n of ['node-100', 'node-11']) {
    // `ip -j route` prints a host route without its /32.
    const r = await waitRoute(m, n, borrowed, '10.200.0.9').catch(async (e: unknown) => {
      t.comment(`${n} RIB: ${JSON.stringify((await m.terns.get(n)!.routes()).filter((x) => x.prefix.startsWith('10.244.11.')))}`);
      t.comment(`${n} kernel: ${(await lab.exec(n, 'ip', ['route'])).stdout}`);
      throw e;
    });
    t.equal(r.gateway, '10.200.0.9', `${n} routes ${borrowed}/32 via node-9 (node-11 owns the block)`);
  }
  const learnedByBird = await lab.waitFor(async () => parseBirdRoutes(await birdc('show', 'route', 'all'))
    .find((r) => r.prefix === `${borrowed}/32` && r.primary && r.bgpNextHop?.includes('10.200.0.9')) ?? null,
  { what: 'calico-node BIRD has the borrowed /32 via node-9', timeoutMs: 30_000, intervalMs: 500 });
  t.ok(learnedByBird, 'the calico-node learned it too');
  for (const src of ['pod-1', 'pod-2', 'pod-3']) {
    const r = await lab.exec(src, 'ping', ['-c', '1', '-W', '3', borrowed], { allowFail: true });
    t.match(r.stdout, / 0% packet loss/, `${src} → borrowed ${borrowed} on node-9`);
  }
});

t.test('a pool with disabled: true is still exported (only disableBGPExport stops it)', async (t) => {
  await m.apply(calico.ipPool('default-ipv4-ippool', POOL, { ipipMode: 'Never', natOutgoing: true, disabled: true }), 'pool-disabled');
  // A block confirmed after the pool was disabled (an allocation made before): still routed.
  await m.apply(affinityYaml('node-100', '10.244.101.0/26'), 'late-block');
  for (const n of ['node-9', 'node-11']) {
    const r = await waitRoute(m, n, '10.244.101.0/26', '10.200.0.100');
    t.equal(r.gateway, '10.200.0.100', `${n} routes node-100's block of the disabled pool`);
  }
  t.equal((await waitRoute(m, 'node-9', BIRD.block, BIRD.ip)).gateway, BIRD.ip, 'existing routes stay');
});
