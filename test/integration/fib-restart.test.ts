// Issue 3 (kernel FIB sync: exit, restart adoption, --stale-time) and issue 2 (RFC 4724, tern
// as the restarting speaker) with BIRD 2 peers that run graceful restart, as calico-node's
// BIRD does. One lab, the subtests run in order:
//   first start (no restart flags) · SIGTERM: routes stay in tern's kernel · restart:
//   adoption, R+F flags, sweep after End-of-RIB, re-advertised routes never deleted · crash
//   (SIGKILL): BIRD keeps tern's block in its table and kernel until tern is back · a peer
//   that stays away: sweep by --stale-time.
// Fabric: bridge `seg` 10.99.0.0/24 + fd99::/64 with node (tern, .10), birdA (.21, AS 65001,
// IPv4 and IPv6 sessions, kernel protocol exporting to its FIB), birdB (.22, AS 65001).
import t from 'tap';
import { createLab, type ProcHandle } from '../../lab/netns.js';
import { segment } from '../../lab/fixture.js';
import { startBird, type BirdHandle } from '../helpers/peers.js';
import { startTern, type TernHandle, type TernOptions } from '../helpers/tern.js';
import {
  birdHas, birdRoutes, datastoreYaml, deletions, deletionTimes, kernelShapes, monitorRoutes, TERN_AS, waitBest, waitNoKernelRoute, waitShape,
} from './fib-lab.js';

const NODE = '10.99.0.10';
const NODE6 = 'fd99::10';
const A = { v4: '10.99.0.21', v6: 'fd99::21', asn: 65001 };
const B = { v4: '10.99.0.22', asn: 65001 }; // equal to birdA: RE is ECMP
const BLOCK = '10.244.1.0/26';
const RA = '10.244.100.0/26';
const RB = '10.244.101.0/26';
const STALE1 = '10.244.77.0/26';
const STALE2 = '10.244.78.0/26';
const RE = '10.244.50.0/26'; // from both peers
const R6 = 'fd00:244::64:0/122'; // from birdA over IPv6

const lab = createLab(t, { area: 'fibrst' });
const ds = datastoreYaml({
  ipv4: `${NODE}/24`, ipv6: `${NODE6}/64`,
  pools: [{ name: 'never', cidr: '10.244.0.0/16', ipipMode: 'Never' }, { name: 'v6', cidr: 'fd00:244::/48' }],
  affinities: [{ cidr: BLOCK, state: 'confirmed' }],
  peers: [{ name: 'a', ip: A.v4, asn: A.asn }, { name: 'a6', ip: A.v6, asn: A.asn }, { name: 'b', ip: B.v4, asn: B.asn }],
});
const ternOpts = (extraArgs: string[] = []): TernOptions =>
  ({ datastoreYaml: ds, node: 'node-a', extraArgs, env: { TERN_LOG_FORMAT: 'json' } });
let tern: TernHandle;
let birdA: BirdHandle;
let birdB: BirdHandle;

const viaA = { type: 'unicast', protocol: 'bird', via: A.v4, dev: 'eth0' };
const viaB = { type: 'unicast', protocol: 'bird', via: B.v4, dev: 'eth0' };
const viaA6 = { type: 'unicast', protocol: 'bird', via: A.v6, dev: 'eth0' };
const viaNode = { type: 'unicast', protocol: 'bird', via: NODE, dev: 'eth0' };
const blackhole = { type: 'blackhole', protocol: 'bird' };
const viaAB = { type: 'unicast', protocol: 'bird', nexthops: [{ via: A.v4, dev: 'eth0' }, { via: B.v4, dev: 'eth0' }] };
/** Monitor lines (from byte `from`) that show RE installed with a single next hop. */
const narrowed = (from: number) => monNode.log().slice(from).split('\n').filter((l) => l.startsWith(`${RE} via `));

/** tern's JSON log events (from byte `from` of its log file) with this event name. */
function events(name: string, from = 0): Array<Record<string, unknown>> {
  return tern.proc.log().slice(from).split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === name);
}

/** BIRD's view of the capabilities tern sent in its OPEN (`show protocols all`). */
async function ternCapsAtBird(b: BirdHandle): Promise<string> {
  const out = await b.birdc('show', 'protocols', 'all', 'tern_v4');
  const i = out.indexOf('Neighbor capabilities');
  if (i < 0) throw new Error(`no neighbor capabilities in:\n${out}`);
  const rest = out.slice(i);
  const end = rest.search(/\n\s{4}Session:|\n\s{2}Channel/);
  return end > 0 ? rest.slice(0, end) : rest;
}

async function birdUp(b: BirdHandle): Promise<boolean> {
  return (await b.protocols()).some((p) => p.name === 'tern_v4' && p.state === 'up' && p.info.startsWith('Established'));
}

t.before(async () => {
  await segment(lab, 'seg', { node: { v4: `${NODE}/24`, v6: `${NODE6}/64` }, birda: { v4: `${A.v4}/24`, v6: `${A.v6}/64` }, birdb: `${B.v4}/24` });
  tern = await startTern(lab, 'node', ternOpts());
  birdA = await startBird(lab, 'birda', {
    routerId: A.v4, asn: A.asn, kernelExport: true,
    neighbors: [{ address: NODE, asn: TERN_AS, name: 'tern_v4', gracefulRestart: true }, { address: NODE6, asn: TERN_AS, name: 'tern_v6', gracefulRestart: true }],
    staticRoutes: [RA, RE, R6].map((prefix) => ({ prefix, blackhole: true })),
  });
  birdB = await startBird(lab, 'birdb', {
    routerId: B.v4, asn: B.asn,
    neighbors: [{ address: NODE, asn: TERN_AS, name: 'tern_v4', gracefulRestart: true }],
    staticRoutes: [RB, RE].map((prefix) => ({ prefix, blackhole: true })),
  });
  await tern.waitPeers([A.v4, A.v6, B.v4], 'Established', 90_000);
});

t.test('first start: routes installed; tern offers graceful restart without the restart flags', async (t) => {
  t.same(await waitShape(lab, 'node', BLOCK, blackhole), [blackhole], `blackhole ${BLOCK} proto bird`);
  t.same(await waitShape(lab, 'node', RA, viaA), [viaA], `${RA} via birdA`);
  t.same(await waitShape(lab, 'node', RB, viaB), [viaB], `${RB} via birdB`);
  t.same(await waitShape(lab, 'node', RE, viaAB), [viaAB], `${RE} via both`);
  t.same(await waitShape(lab, 'node', R6, viaA6), [viaA6], `${R6} via birdA (IPv6)`);
  t.same(await waitShape(lab, 'birda', BLOCK, viaNode), [viaNode], `birdA's kernel: ${BLOCK} via tern`);
  const caps = await ternCapsAtBird(birdA);
  t.comment(caps);
  t.match(caps, /Graceful restart/, 'tern advertises the graceful restart capability');
  t.notMatch(caps, /Restart recovery/, 'no restart (R) flag on a first start');
  t.notMatch(caps, /AF preserved:[ \t]*ipv4/, 'no forwarding-preserved (F) flag on a first start');
  t.equal(events('fibStarted')[0]?.adopted, 0, 'nothing adopted on a first start');
});

let monNode: ProcHandle;
let monA: ProcHandle;

t.test('SIGTERM: tern exits and every installed route stays in the kernel', async (t) => {
  monNode = await monitorRoutes(lab, 'node');
  monA = await monitorRoutes(lab, 'birda');
  const before = await birdRoutes(lab, 'node');
  t.same(Object.keys(before).sort(), [BLOCK, RA, RB, RE, R6].sort(), 'before: the block and the peer routes');
  await tern.stop('SIGTERM');
  t.equal((await tern.proc.exited).code, 0, 'tern exited with status 0');
  t.same(await birdRoutes(lab, 'node'), before, 'every proto bird route is still in the kernel, unchanged');
  await lab.waitFor(async () => !(await birdUp(birdA)), { what: 'birdA notices tern is gone' });
  const p = (await birdA.protocols()).find((x) => x.name === 'tern_v4');
  // Documented (operations.md): SIGTERM sends Cease 6/4; without RFC 8538 a Cease ends GR, so
  // BIRD flushes tern's routes here. The GR window is tested with a crash (SIGKILL) below.
  t.comment(`birdA tern_v4 while tern is down: ${p?.state} ${p?.info}; block in birdA's table: ${await birdHas(birdA, BLOCK)}`);
  t.match(p?.info, /Administrative reset/, 'BIRD received Cease 6/4 (Administrative Reset)');
});

t.test('restart: proto bird routes adopted, R+F flags, kept until End-of-RIB, then the unadvertised one removed', async (t) => {
  await lab.ip('node', 'route', 'add', STALE1, 'via', A.v4, 'dev', 'eth0', 'proto', 'bird'); // a previous run's, now advertised by nobody
  const from = tern.proc.log().length;
  tern = await startTern(lab, 'node', ternOpts());
  const started = events('fibStarted', from)[0];
  t.equal(started?.adopted, 5, `adopted the 5 proto bird unicast routes found at start (${RA}, ${RB}, ${RE}, ${R6}, ${STALE1})`);
  await tern.waitPeers([A.v4, A.v6, B.v4], 'Established', 60_000);
  await lab.waitFor(() => birdUp(birdA), { what: 'birdA Established again' });
  const caps = await ternCapsAtBird(birdA);
  t.comment(caps);
  t.match(caps, /Restart recovery/, 'tern\'s OPEN carries the restart (R) flag');
  t.match(caps, /AF preserved:[ \t]*ipv4/, 'tern\'s OPEN carries the forwarding-preserved (F) flag for ipv4');
  await waitNoKernelRoute(lab, 'node', STALE1);
  const sweeps = await lab.waitFor(() => { const e = events('fibSweep', from); return e.length ? e : null; }, { what: 'fibSweep logged' });
  t.equal(sweeps[0]?.reason, 'end-of-rib', 'adoption ended by End-of-RIB from every peer (not the stale timer)');
  t.same(await waitShape(lab, 'node', RA, viaA), [viaA], `${RA} kept`);
  t.same(await waitShape(lab, 'node', RB, viaB), [viaB], `${RB} kept`);
  t.same(await kernelShapes(lab, 'node', BLOCK), [blackhole], `${BLOCK} blackhole kept`);
  t.same(await waitShape(lab, 'node', RE, viaAB), [viaAB], `${RE} kept, via both`);
  t.same(await waitShape(lab, 'node', R6, viaA6), [viaA6], `${R6} kept`);
  for (const p of [RA, RB, RE, R6, BLOCK]) t.same(deletions(monNode, p), [], `node: ${p} never deleted across stop and restart`);
  t.comment(`${RE} narrowed to one next hop during recovery: ${JSON.stringify(narrowed(0))}`);
  t.ok(deletions(monNode, STALE1).length > 0, 'the monitor does see deletions (of the swept route)');
  t.same(await waitShape(lab, 'birda', BLOCK, viaNode), [viaNode], `birdA's kernel routes ${BLOCK} via tern again`);
});

t.test('crash (SIGKILL): BIRD keeps tern\'s block in its table and its kernel until tern is back', async (t) => {
  const fromNode = monNode.log().length;
  const fromA = monA.log().length;
  await tern.stop('SIGKILL');
  await lab.waitFor(async () => !(await birdUp(birdA)), { what: 'birdA notices tern is gone' });
  const p = (await birdA.protocols()).find((x) => x.name === 'tern_v4');
  t.comment(`birdA tern_v4 while tern is down: ${p?.state} ${p?.info}`);
  t.ok(await birdHas(birdA, BLOCK), `birdA still has ${BLOCK} in its table during the restart window`);
  t.same(await kernelShapes(lab, 'birda', BLOCK), [viaNode], `birdA's kernel still routes ${BLOCK} via tern`);
  const from = tern.proc.log().length;
  tern = await startTern(lab, 'node', ternOpts());
  t.equal(events('fibStarted', from)[0]?.adopted, 4, `adopted ${RA}, ${RB}, ${RE} and ${R6}`);
  await lab.waitFor(() => birdUp(birdA), { what: 'birdA Established again' });
  t.match(await ternCapsAtBird(birdA), /AF preserved:[ \t]*ipv4/, 'F flag after the crash restart');
  await lab.waitFor(() => events('fibSweep', from).length > 0, { what: 'fibSweep logged' });
  t.same(await waitShape(lab, 'birda', BLOCK, viaNode), [viaNode], `birdA's kernel: ${BLOCK} via tern`);
  t.same(deletions(monA, BLOCK, fromA), [], `birdA's kernel: ${BLOCK} never deleted across the crash and restart`);
  for (const x of [RA, RB, RE, R6, BLOCK]) t.same(deletions(monNode, x, fromNode), [], `node: ${x} never deleted across the crash and restart`);
  t.comment(`${RE} narrowed to one next hop during recovery: ${JSON.stringify(narrowed(fromNode))}`);
});

t.test('--stale-time: with a peer that stays away, adopted routes go when the stale timer fires', async (t) => {
  await tern.stop('SIGTERM');
  await birdB.birdc('disable', 'tern_v4');
  const fromMon = monNode.log().length;
  await lab.ip('node', 'route', 'add', STALE2, 'via', A.v4, 'dev', 'eth0', 'proto', 'bird');
  const from = tern.proc.log().length;
  const t0 = Date.now();
  // Selection deferral (R bit, no advertisement) ends by its own timer: the same 20 s here.
  tern = await startTern(lab, 'node', ternOpts(['--stale-time', '20', '--selection-deferral-time', '20']));
  const started = events('fibStarted', from)[0];
  t.equal(started?.staleTimeMs, 20_000, 'stale time 20 s');
  await tern.waitPeer(A.v4, 'Established', 60_000);
  await waitBest(tern, RA, (r) => r.source === A.v4 && r.fib === 'installed');
  t.comment(`birdA's route installed ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart`);
  await waitNoKernelRoute(lab, 'node', STALE2, 60_000);
  await waitNoKernelRoute(lab, 'node', RB, 10_000);
  t.comment(`swept ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart`);
  // Kept until the stale timer, by the times of the events themselves (tern's log, the
  // monitor), not by when this test got to look: birdA's session comes back after BIRD's own
  // error wait (5 s, doubling), which with a slow start can reach past the 20 s. The timer
  // is set just after fibStarted is logged; 1 s of slack for libuv's loop-time clock.
  const startedAt = Date.parse(String(started?.timestamp));
  const sinceStart = (at: number) => ((at - startedAt) / 1000).toFixed(1);
  const sweep = events('fibSweep', from)[0];
  t.equal(sweep?.reason, 'stale timer', 'adoption ended by the stale timer');
  const sweptAt = Date.parse(String(sweep?.timestamp));
  t.ok(sweptAt - startedAt >= 19_000, `no sweep while birdB has not sent End-of-RIB: swept ${sinceStart(sweptAt)} s after the FIB started`);
  for (const [p, why] of [[STALE2, 'advertised by nobody'], [RB, 'birdB is away']] as const) {
    const gone = deletionTimes(monNode, p, fromMon);
    t.ok(gone.length > 0 && gone.every((at) => at - startedAt >= 19_000), `${p} (${why}) kept until the stale timer: deleted ${gone.map(sinceStart).join(', ')} s after the FIB started`);
  }
  t.comment(`${RE} with birdB away (written at once, not deferred to the end of recovery): ${JSON.stringify(narrowed(fromMon))}`);
  t.same(await kernelShapes(lab, 'node', RA), [viaA], `${RA} (re-advertised) kept`);
  await birdB.birdc('enable', 'tern_v4');
  t.same(await waitShape(lab, 'node', RB, viaB, 60_000), [viaB], `${RB} installed again when birdB comes back`);
  // Recovery ended with the selection deferral timer: a session that comes up afterwards is not told "restarting".
  const caps = await ternCapsAtBird(birdB);
  t.notMatch(caps, /Restart recovery/, `no R flag toward birdB after recovery ended: ${caps.replace(/\s+/g, ' ')}`);
  t.match(caps, /AF preserved:[ \t]*ipv4/, 'F flag: forwarding state was preserved');
  const st = (await tern.status()).peers.find((p) => p.address === B.v4);
  t.equal(st?.state, 'up', `birdB's session is 'up', not 'wait' (${st?.state} ${st?.info})`);
});
