// Issue 5 acceptance, route reflector mode (RFC 4456, Calico §3), on real etcd in network
// namespaces. One lab, subtests in order:
//
//   fabric bridge 10.77.0.0/24
//     etcd     10.77.0.2
//     rr-1     10.77.0.21  routeReflectorClusterID 244.0.0.1, route-reflector=true, --no-fib
//     rr-2     10.77.0.22  same cluster id (plain iBGP peer of rr-1), --no-fib
//     node-1…4 10.77.0.11…14  clients, block 10.244.N.0/26, one pod 10.244.N.2 each
//     bird     10.77.0.30  BIRD 2, external iBGP peer of rr-1 only (a client of rr-1),
//                          originates 10.244.100.0/26 and the anycast 10.244.200.0/26 (with the
//                          LOCAL_PREF node-4 gives its copy, 2147483647)
//   node-4 also holds a `blackhole 10.244.200.0/26 proto bird` (learned, advertised): the
//   anycast prefix has two equal paths at rr-1, which only ADD-PATH carries to the clients.
//
// Mesh disabled; one BGPPeer (all() × route-reflector == 'true') makes every session, both
// ends, RR-to-RR included; a node-specific BGPPeer on rr-1 adds BIRD.
// Then: rr-1 stopped (no client route lost at any sample), rr-1 restarted, and rr-2 restarted
// without a cluster id and promoted to reflector at run time (its loop check must follow);
// last, serviceExternalIPs set at run time: rr-1 passes on BIRD's /32 inside it.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml, clusterDocs, RR_LABELS, rrPeer } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startLabEtcd } from '../helpers/lab-etcd.js';
import { startTern, TERN_BIN, type TernHandle } from '../helpers/tern.js';
import { startBird, type BirdHandle } from '../helpers/peers.js';
import type { RouteJson, StatusReply } from '../../src/api/types.js';

const AS = 64512;
const CLUSTER = '244.0.0.1';
const RRS = [{ name: 'rr-1', ip: '10.77.0.21' }, { name: 'rr-2', ip: '10.77.0.22' }] as const;
const CLIENTS = [1, 2, 3, 4].map((i) => ({
  name: `node-${i}`, ip: `10.77.0.1${i}`, block: `10.244.${i}.0/26`, pod: `pod-${i}`, podIp: `10.244.${i}.2`,
}));
const BIRD = { ip: '10.77.0.30', route: '10.244.100.0/26' };
const ANYCAST = '10.244.200.0/26';
const NODE4 = CLIENTS[3]!;

function resources(): string {
  const nodes = [
    ...RRS.map((r) => ({ name: r.name, ip: `${r.ip}/24`, rrClusterId: CLUSTER })),
    ...CLIENTS.map((c) => ({ name: c.name, ip: `${c.ip}/24`, block: c.block })),
  ];
  return calicoYaml(clusterDocs({ asNumber: AS, mesh: false, nodes }), rrPeer(),
    calico.bgpPeer('rr-1-bird', { node: 'rr-1', peerIP: BIRD.ip, asNumber: AS }));
}

const lab = createLab(t, { area: 'rr' });
const rr: TernHandle[] = [];
const clients: TernHandle[] = [];
let bird: BirdHandle;

/** `ip -j route show table all proto bird` (v4 and v6) in a host. */
async function birdProtoRoutes(host: string): Promise<unknown[]> {
  const v4 = await lab.ipJson(host, '-4', 'route', 'show', 'table', 'all', 'proto', 'bird');
  const v6 = await lab.ipJson(host, '-6', 'route', 'show', 'table', 'all', 'proto', 'bird');
  return [...v4, ...v6];
}

/** Gateways of the kernel route for `prefix` in `host` (one, or the ECMP set), sorted. */
async function kernelHops(host: string, prefix: string): Promise<string[]> {
  const rs = await lab.ipJson<Array<{ gateway?: string; protocol?: string; nexthops?: Array<{ gateway?: string }> }>>(host, 'route', 'show', prefix);
  const r = rs.find((x) => x.protocol === 'bird');
  if (!r) return [];
  return (r.nexthops ? r.nexthops.map((h) => h.gateway ?? '') : [r.gateway ?? '']).sort();
}

async function pingAll(t: Test): Promise<void> {
  for (const src of CLIENTS) {
    for (const dst of CLIENTS) {
      if (src === dst) continue;
      // Three probes, one answer is enough: a missing or wrong route loses all of them.
      const r = await lab.exec(src.pod, 'ping', ['-c', '3', '-i', '0.3', '-W', '2', dst.podIp], { allowFail: true });
      t.match(r.stdout, / [1-3] received/, `${src.pod} (${src.name}) → ${dst.pod} ${dst.podIp} (${dst.name})`);
    }
  }
}

const pathsFor = (routes: RouteJson[], prefix: string) => routes.filter((r) => r.prefix === prefix);

let datastore = '';
/** Starts tern on a lab host and waits until its control socket answers. A daemon that exits
 *  or does not answer within 60 s is started again, up to 3 times (a slow etcd alone does not
 *  need it: the daemon retries its first snapshot itself, src/daemon/registration.ts). */
async function startNode(host: string, ip: string, extraArgs: string[] = []): Promise<TernHandle> {
  for (let attempt = 1; ; attempt++) {
    const h = await startTern(lab, host, { datastore, node: host, ip: `${ip}/24`, extraArgs, waitReady: false, socket: lab.path(`${host}-${attempt}.sock`) });
    const r = await lab.waitFor(async () => (!h.proc.running() ? 'exited' : (await h.status()) && 'ready'),
      { what: `tern on ${host} ready`, timeoutMs: 60_000, intervalMs: 300 }).catch(() => 'timeout');
    if (r === 'ready') return h;
    await h.stop();
    if (attempt === 3) throw new Error(`tern on ${host}: ${r} three times; log:\n${h.proc.log().slice(-2000)}`);
    t.comment(`tern on ${host}: ${r} at start (attempt ${attempt}), starting it again`);
  }
}

t.before(async () => {
  // A plain L2 segment (lab.bridge switches br_netfilter's hooks off: with them, bridged IPv4
  // went through netfilter here and pings across it were lost).
  const hosts = [...RRS, ...CLIENTS, { name: 'bird', ip: BIRD.ip }];
  await segment(lab, 'fabric', { etcd: '10.77.0.2/24', ...Object.fromEntries(hosts.map((h) => [h.name, { v4: `${h.ip}/24`, ifName: 'eth0' }])) });
  const etcd = await startLabEtcd(lab, 'etcd', '10.77.0.2');
  datastore = `etcd:${etcd.endpoint}`;
  // Under load a fresh bridge port can take seconds to pass traffic, and the daemon gives
  // up at start when etcd does not answer within 5 s: wait until every host reaches etcd.
  for (const h of [...RRS, ...CLIENTS]) {
    await lab.waitFor(async () => (await lab.exec(h.name, 'ping', ['-c', '1', '-W', '1', '10.77.0.2'], { allowFail: true })).stdout.includes(' 0% packet loss'),
      { what: `${h.name} reaches etcd`, timeoutMs: 30_000, intervalMs: 200 });
  }
  const file = lab.path('cluster.yaml');
  writeFileSync(file, resources());
  await lab.exec('etcd', process.execPath, [TERN_BIN, 'apply', '-f', file, '--datastore', datastore]);
  for (const r of RRS) rr.push(await startNode(r.name, r.ip, ['--no-fib']));
  for (const c of CLIENTS) {
    clients.push(await startNode(c.name, c.ip));
    await lab.addPod(c.name, c.pod, c.podIp);
  }
  // An IPAM-style proto-bird blackhole on node-4: learned from the kernel and advertised.
  await lab.ip(NODE4.name, 'route', 'add', 'blackhole', ANYCAST, 'proto', 'bird');
  bird = await startBird(lab, 'bird', {
    routerId: BIRD.ip, asn: AS,
    neighbors: [{ address: RRS[0].ip, asn: AS, name: 'rr1', sourceAddress: BIRD.ip }],
    // node-4's learned blackhole (IPv4, metric 0: BIRD's krt_metric 0) goes out with LOCAL_PREF
    // 2147483647 − 0 (calico-node v3.32's route priority); BIRD sends the anycast with the same,
    // so the two paths stay equal at rr-1.
    staticRoutes: [{ prefix: BIRD.route }, { prefix: ANYCAST, localPref: 2147483647 }],
  });
});

/** Polls `tern status` (one CLI call per try: ~1-2 s each) until `ok` holds. */
const waitStatus = (h: TernHandle, what: string, ok: (st: StatusReply) => boolean) =>
  lab.waitFor(async () => { const st = await h.status(); return ok(st) ? st : null; }, { what: `${h.node}: ${what}`, timeoutMs: 60_000, intervalMs: 300 });
const waitRoutes = (h: TernHandle, what: string, ok: (rs: RouteJson[]) => boolean) =>
  lab.waitFor(async () => { const rs = await h.routes(); return ok(rs) ? rs : null; }, { what: `${h.node}: ${what}`, timeoutMs: 60_000, intervalMs: 300 });
const allUp = (st: StatusReply, n: number) => st.peers.length === n && st.peers.every((p) => p.bgpState === 'Established');

t.test('topology: clients peer with both RRs only; RRs peer with each other and reflect to clients and BIRD', async (t) => {
  const sts = await Promise.all(clients.map((c) => waitStatus(c, 'both RR sessions up', (st) => allUp(st, 2))));
  for (const [i, st] of sts.entries()) {
    const peers = st.peers;
    t.same(peers.map((p) => p.address).sort(), RRS.map((r) => r.ip), `${CLIENTS[i]!.name}: sessions to the two RRs only (mesh off)`);
    t.ok(peers.every((p) => p.type === 'node specific' && p.routeReflectorClient === false), `${CLIENTS[i]!.name}: Node_ sessions, not reflecting`);
  }
  await bird.waitEstablished('rr1');
  const rrSts = await Promise.all(rr.map((h, i) => waitStatus(h, 'every session up', (st) => allUp(st, i === 0 ? 6 : 5))));
  for (const [i, st] of rrSts.entries()) {
    t.equal(st.daemon.fib, 'disabled', `${RRS[i]!.name}: --no-fib`);
    const byAddr = new Map(st.peers.map((p) => [p.address, p]));
    const other = RRS[1 - i]!;
    const want = [...CLIENTS.map((c) => c.ip), other.ip, ...(i === 0 ? [BIRD.ip] : [])].sort();
    t.same([...byAddr.keys()].sort(), want, `${RRS[i]!.name}: sessions to every client${i === 0 ? ', BIRD' : ''} and ${other.name}`);
    for (const c of CLIENTS) {
      t.match(byAddr.get(c.ip), { type: 'node specific', routeReflectorClient: true }, `${RRS[i]!.name}: ${c.name} is a client (reverse peering)`);
    }
    t.match(byAddr.get(other.ip), { routeReflectorClient: false }, `${RRS[i]!.name}: ${other.name} shares the cluster id, plain iBGP`);
    if (i === 0) t.match(byAddr.get(BIRD.ip), { type: 'node specific', routeReflectorClient: true }, 'rr-1: BIRD (no cluster id) is a client');
  }
});

t.test('clients: every other block via its originating node, one path per RR, reflected attributes', async (t) => {
  for (const c of CLIENTS) {
    for (const o of CLIENTS) {
      if (o === c) continue;
      const hops = await lab.waitFor(async () => {
        const h = await kernelHops(c.name, o.block);
        return h.length ? h : null;
      }, { what: `${c.name}: ${o.block} in the kernel`, timeoutMs: 60_000, intervalMs: 250 });
      t.same(hops, [o.ip], `${c.name}: ${o.block} via ${o.ip} (next hop not rewritten by the RR)`);
    }
  }
  const others = (c: typeof CLIENTS[number]) => CLIENTS.filter((o) => o !== c);
  const all = await Promise.all(clients.map((h, i) => waitRoutes(h, 'two paths for every other block',
    (rs) => others(CLIENTS[i]!).every((o) => pathsFor(rs, o.block).length === 2))));
  for (const [i, routes] of all.entries()) {
    const c = CLIENTS[i]!;
    for (const o of others(c)) {
      const paths = pathsFor(routes, o.block);
      t.same(paths.map((p) => p.source).sort(), RRS.map((r) => r.ip), `${c.name}: ${o.block} from both RRs`);
      for (const p of paths) {
        t.match(p, { nextHop: o.ip, originatorId: o.ip, clusterList: [CLUSTER] }, `${c.name}: ${o.block} via ${p.source}: ORIGINATOR_ID, CLUSTER_LIST`);
      }
    }
  }
  for (const h of rr) {
    const routes = await h.routes();
    t.ok(routes.filter((r) => r.best).every((r) => r.fib === 'none'), `${h.node}: nothing installed`);
  }
});

t.test('pods reach each other through the reflected routes', async (t) => {
  await pingAll(t);
});

t.test('RRs sharing a cluster id drop each other\'s reflections (#2735); counts in status', async (t) => {
  // rr-1 → clients: the 3 other blocks, BIRD's route, the anycast; rr-2 has no BIRD route.
  const exp1 = (c: typeof CLIENTS[number]) => ({ received: c === NODE4 ? 2 : 1, advertised: 5 });
  const exp2 = (c: typeof CLIENTS[number]) => ({ received: c === NODE4 ? 2 : 1, advertised: c === NODE4 ? 3 : 4 });
  const counted = (exp: typeof exp1) => (st: StatusReply) => CLIENTS.every((c) => {
    const p = st.peers.find((x) => x.address === c.ip);
    return p?.received === exp(c).received && p.advertised === exp(c).advertised;
  });
  const [st1, st2] = await Promise.all([waitStatus(rr[0]!, 'client counts', counted(exp1)), waitStatus(rr[1]!, 'client counts', counted(exp2))]);
  const peer = (st: StatusReply, addr: string) => st.peers.find((p) => p.address === addr)!;
  for (const c of CLIENTS) {
    t.match(peer(st1, c.ip), exp1(c), `rr-1 ↔ ${c.name}: received, advertised`);
    t.match(peer(st2, c.ip), exp2(c), `rr-2 ↔ ${c.name}: received, advertised`);
  }
  t.match(peer(st1, BIRD.ip), { received: 2, advertised: 5 }, 'rr-1 ↔ BIRD');
  const r12 = peer(st1, RRS[1].ip);
  const r21 = peer(st2, RRS[0].ip);
  t.ok(r12.advertised > 0 && r21.advertised > 0, 'each RR reflects its clients\' routes to the other');
  t.equal(r12.received, 0, 'rr-1 drops every route from rr-2: its CLUSTER_LIST holds 244.0.0.1');
  t.equal(r21.received, 0, 'rr-2 drops every route from rr-1, BIRD\'s included');
  t.notOk((await rr[1]!.routes()).some((r) => r.prefix === BIRD.route), 'BIRD\'s route never reaches rr-2');
});

t.test('BIRD, an external iBGP peer of rr-1, gets reflected routes and its route reaches the clients', async (t) => {
  const routes = await lab.waitFor(async () => {
    const rs = await bird.routes();
    return CLIENTS.every((o) => rs.some((x) => x.prefix === o.block && x.protocol === 'rr1')) ? rs : null;
  }, { what: 'BIRD has every client block', timeoutMs: 30_000, intervalMs: 500 });
  for (const o of CLIENTS) {
    const r = routes.find((x) => x.prefix === o.block && x.protocol === 'rr1');
    t.match(r, { bgpNextHop: [o.ip], originatorId: o.ip, clusterList: [CLUSTER] }, `BIRD: ${o.block} next hop ${o.ip}, ORIGINATOR_ID, CLUSTER_LIST`);
  }
  for (const c of CLIENTS) {
    const hops = await lab.waitFor(async () => {
      const h = await kernelHops(c.name, BIRD.route);
      return h.length ? h : null;
    }, { what: `${c.name}: ${BIRD.route}`, timeoutMs: 30_000 });
    t.same(hops, [BIRD.ip], `${c.name}: ${BIRD.route} via BIRD`);
  }
  const all = await Promise.all(clients.map((h) => h.routes()));
  for (const [i, rs] of all.entries()) {
    t.match(pathsFor(rs, BIRD.route), [{ source: RRS[0].ip, nextHop: BIRD.ip, originatorId: BIRD.ip, clusterList: [CLUSTER] }],
      `${CLIENTS[i]!.name}: ${BIRD.route} reflected by rr-1 only, ORIGINATOR_ID set by rr-1`);
  }
});

t.test('ADD-PATH: both equal anycast paths reach the clients, ECMP survives reflection', async (t) => {
  for (const c of CLIENTS.slice(0, 3)) {
    const hops = await lab.waitFor(async () => {
      const h = await kernelHops(c.name, ANYCAST);
      return h.length === 2 ? h : null;
    }, { what: `${c.name}: ECMP ${ANYCAST}`, timeoutMs: 30_000 });
    t.same(hops, [NODE4.ip, BIRD.ip], `${c.name}: ${ANYCAST} via node-4 and BIRD`);
  }
  const all = await Promise.all(clients.slice(0, 3).map((h) => h.routes()));
  for (const [i, rs] of all.entries()) {
    const fromRr1 = pathsFor(rs, ANYCAST).filter((p) => p.source === RRS[0].ip);
    t.same(fromRr1.map((p) => p.nextHop).sort(), [NODE4.ip, BIRD.ip], `${CLIENTS[i]!.name}: rr-1 sent two paths for one prefix`);
    t.ok(fromRr1.every((p) => p.pathId !== undefined && p.multipath), 'distinct path ids, both in the multipath set');
  }
});

t.test('--no-fib: the reflector hosts have no proto bird route at all', async (t) => {
  for (const r of RRS) t.same(await birdProtoRoutes(r.name), [], `${r.name}: ip route show table all proto bird is empty`);
  t.ok((await birdProtoRoutes(CLIENTS[0]!.name)).length >= 5, 'a client host, for contrast, has its routes');
});

t.test('one reflector stopped: no client route lost (its paths kept stale, RFC 8538), pods still reach each other', async (t) => {
  // Sample every client's kernel while rr-1 goes: a block missing even once is a lost route.
  const gaps = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const c of CLIENTS) {
        const have = (await lab.ipJson<Array<{ dst: string }>>(c.name, 'route', 'show', 'proto', 'bird')).map((r) => r.dst);
        for (const o of CLIENTS) if (o !== c && !have.includes(o.block)) gaps.add(`${c.name}: ${o.block}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await rr[0]!.stop();
  // rr-1 sends Cease 6/4 and both sides set the RFC 8538 N bit: graceful restart covers it,
  // so every client keeps rr-1's paths, marked stale, until rr-1 is back or its restart
  // time ends; rr-2's paths carry the same blocks meanwhile.
  await Promise.all(clients.map((h) => waitRoutes(h, 'rr-1 paths kept as stale', (rs) => {
    const fromRr1 = rs.filter((r) => r.source === RRS[0].ip);
    return fromRr1.length > 0 && fromRr1.every((r) => r.stale === true);
  })));
  const st = await clients[0]!.status();
  t.equal(st.peers.find((p) => p.address === RRS[0].ip)?.bgpState !== 'Established', true, 'the session to rr-1 is down');
  await new Promise((r) => setTimeout(r, 1000)); // FIB reconciliation after the last change
  sampling = false;
  await sampler;
  t.same([...gaps], [], 'no client block left any client kernel at any sample while rr-1 stopped');
  for (const c of CLIENTS) {
    for (const o of CLIENTS) {
      if (o === c) continue;
      t.same(await kernelHops(c.name, o.block), [o.ip], `${c.name}: ${o.block} still via ${o.ip}`);
    }
    if (c === NODE4) continue;
    // BIRD's anycast path came only through rr-1: it stays (stale, still forwarding) beside node-4's.
    t.ok((await kernelHops(c.name, ANYCAST)).includes(NODE4.ip), `${c.name}: anycast keeps node-4's path via rr-2`);
  }
  await pingAll(t);
});

t.test('rr-1 restarted (--no-fib): sessions and both paths per block come back (Calico #5262)', async (t) => {
  rr[0] = await startNode(RRS[0].name, RRS[0].ip, ['--no-fib']);
  const all = await Promise.all(clients.map((h, i) => waitRoutes(h, 'two paths per other block again',
    (rs) => CLIENTS.filter((o) => o !== CLIENTS[i]).every((o) => pathsFor(rs, o.block).length === 2))));
  for (const [i, rs] of all.entries()) {
    const fromRr1 = rs.filter((r) => r.source === RRS[0].ip && r.prefix.endsWith('/26') && r.prefix !== ANYCAST && r.prefix !== BIRD.route);
    t.equal(fromRr1.length, 3, `${CLIENTS[i]!.name}: the three other blocks from rr-1 again`);
  }
  t.same(await birdProtoRoutes(RRS[0].name), [], 'rr-1 host still has no proto bird route');
});

t.test('rr-2 made a reflector at run time (tern apply) drops rr-1\'s reflections at once', async (t) => {
  const r2 = RRS[1];
  const apply = async (withCluster: boolean) => {
    const f = lab.path(`rr-2-${withCluster ? 'rr' : 'plain'}.yaml`);
    writeFileSync(f, calico.node(r2.name, { ipv4Address: `${r2.ip}/24`, ...(withCluster ? { routeReflectorClusterID: CLUSTER } : {}) }, RR_LABELS));
    await lab.exec('etcd', process.execPath, [TERN_BIN, 'apply', '-f', f, '--datastore', datastore]);
  };
  // rr-2 starts as a plain node (no cluster id), then is promoted while running.
  await apply(false);
  await rr[1]!.stop();
  rr[1] = await startNode(r2.name, r2.ip, ['--no-fib']);
  await waitStatus(rr[1], 'up as a plain node', (st) => allUp(st, 5) && st.peers.every((p) => !p.routeReflectorClient));
  await apply(true);
  const peerOf = (st: StatusReply, ip: string) => st.peers.find((p) => p.address === ip);
  await waitStatus(rr[1], 'reflecting to every client', (st) => allUp(st, 5) &&
    CLIENTS.every((c) => peerOf(st, c.ip)?.routeReflectorClient === true && (peerOf(st, c.ip)?.advertised ?? 0) > 0));
  await waitStatus(rr[0]!, 'advertising to rr-2', (st) => (peerOf(st, r2.ip)?.advertised ?? 0) > 0);
  t.pass('rr-1 reflects its clients\' routes to rr-2 (non-client, same cluster id)');
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(peerOf(await rr[1]!.status(), RRS[0].ip)?.received, 0, 'rr-2 drops them: 244.0.0.1 is in their CLUSTER_LIST');
  const all = await Promise.all(clients.map((h) => h.routes()));
  t.ok(all.every((rs) => rs.every((r) => (r.clusterList?.length ?? 0) <= 1)), 'no client holds a path reflected twice');
});

t.test('serviceExternalIPs: rr-1 passes on a client\'s /32 inside a single-address range, not one outside (Calico #13341)', async (t) => {
  // BIRD (a client of rr-1) announces two host routes outside every pool, as a node with a
  // local endpoint of an externalTrafficPolicy: Local service does; only the one listed in
  // serviceExternalIPs is a service route a reflector passes on.
  const ext = '198.51.100.77/32';
  const other = '198.51.100.78/32';
  const f = lab.path('external-ips.yaml');
  writeFileSync(f, calicoYaml([calico.bgpConfiguration({ asNumber: AS, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info', serviceExternalIPs: [{ cidr: ext }] })]));
  await lab.exec('etcd', process.execPath, [TERN_BIN, 'apply', '-f', f, '--datastore', datastore]);
  await bird.reconfigure({ ...bird.opts, staticRoutes: [...(bird.opts.staticRoutes ?? []), { prefix: ext }, { prefix: other }] });
  await waitRoutes(rr[0]!, 'both host routes from BIRD', (rs) => [ext, other].every((p) => pathsFor(rs, p).some((r) => r.source === BIRD.ip)));
  const all = await Promise.all(clients.map((h) => waitRoutes(h, `${ext} from rr-1`, (rs) => pathsFor(rs, ext).some((r) => r.source === RRS[0].ip))));
  for (const [i, rs] of all.entries()) {
    t.match(pathsFor(rs, ext), [{ source: RRS[0].ip, nextHop: BIRD.ip, originatorId: BIRD.ip, clusterList: [CLUSTER] }], `${CLIENTS[i]!.name}: ${ext} reflected by rr-1`);
    t.same(pathsFor(rs, other), [], `${CLIENTS[i]!.name}: ${other} (no service range) not passed on`);
  }
  const hops = await lab.waitFor(async () => {
    const h = await kernelHops(CLIENTS[0]!.name, ext);
    return h.length ? h : null;
  }, { what: `${CLIENTS[0]!.name}: ${ext} in the kernel`, timeoutMs: 30_000 });
  t.same(hops, [BIRD.ip], `${CLIENTS[0]!.name}: ${ext} via BIRD in the kernel`);
});
