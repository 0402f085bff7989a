// The 100 k ingest's JavaScript path in one process, for CPU and allocation A/B of builds:
// UPDATE bytes → decodeUpdate → LocRib → best-path changes to FibSync (as RoutingCore.toFib
// hands them over) → FibSync → NetlinkKernel (request encoding, sendmsg, the answers), with
// the real kernel. No BGP session, no daemon start-up, no injector or route counter on the
// cores: each phase's user CPU is the path's own (system CPU is mostly the kernel inserting).
//
// Runs inside a network namespace with a /24 on an up link, 10.0.0.1/24 (the routes go
// via 10.0.0.2); ROOT is a built tree (its dist/ is imported), so two builds alternate:
//   ip netns add NS; ip -n NS link set lo up; ip -n NS link add d0 type veth peer name d1
//   ip -n NS link set d0 up; ip -n NS link set d1 up; ip -n NS addr add 10.0.0.1/24 dev d0
//   ip netns exec NS node bench/ingest-path.mjs ROOT [routes=100000] [rounds=3]
// prints {"root","N","out":[{addU,addS,delU,delS}]} (ms of CPU per phase: the routes added,
// then withdrawn). HP=FILE: a sampling heap profile (every allocation, also those a minor GC
// collects) of the last round's add phase.
const root = process.argv[2];
const N = Number(process.argv[3] ?? 100000);
const rounds = Number(process.argv[4] ?? 3);
const d = (m) => import(`${root}/dist/${m}`);
const { FibSync } = await d('fib/fib-sync.js');
const { NetlinkKernel } = await d('fib/netlink-kernel.js');
const { numberToIpv4 } = await d('net/prefix.js');
const { decodeUpdate } = await d('bgp/wire/index.js');
const { packUpdates, packWithdrawals } = await d('bgp/wire/pack.js');
const { AttrSetTable } = await d('rib/attr-set.js');
const { LocRib } = await d('rib/loc-rib.js');
const { systemClock } = await d('util/clock.js');
const { silentLogger } = await d('util/log.js');
const kernel = new NetlinkKernel();
const fib = new FibSync({ kernel, clock: systemClock, logger: silentLogger() });
fib.setPools([{ cidr: '16.0.0.0/4', ipipMode: 'never', vxlanMode: 'never' }], '10.0.0.0/24');
await fib.start();
fib.endOfRibAll();
await fib.flush();
const rib = new LocRib({ localAs: 64512, routerId: '10.0.0.1' });
const PEER = '10.0.0.2|179';
rib.registerPeer({ key: PEER, address: '10.0.0.2', asn: 64512, routerId: '10.0.0.2', ebgp: false, routeReflectorClient: false, family: 'ipv4' });
rib.onBestChange((changes) => {
  const hops = [];
  for (const c of changes) {
    if (!c.best || c.best.source.kind === 'local') { fib.setCanonicalRoute(c.prefix, null); continue; }
    hops.length = 0;
    const paths = c.multipath; // as RoutingCore.toFib: indexed (for-of over a frozen list allocates)
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      if (p.source.kind !== 'peer') continue;
      const nh = p.attrs.nextHops[0];
      if (nh && !hops.includes(nh)) hops.push(nh);
    }
    fib.setCanonicalRoute(c.prefix, hops.length ? hops : null);
  }
});
const enc = new AttrSetTable();
const set = enc.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 });
const CHUNK = 800;
const adds = [], dels = [];
for (let i = 0; i < N; i += CHUNK) {
  const nlri = [];
  for (let j = i; j < Math.min(N, i + CHUNK); j++) nlri.push({ prefix: `${numberToIpv4(((16 << 24) >>> 0) + j * 64)}/26` });
  adds.push(...packUpdates({ family: 'ipv4', attributes: set.encoded({ fourOctetAs: true }), nlri, opts: { fourOctetAs: true } }).map((b) => Buffer.from(b)));
  dels.push(...packWithdrawals({ family: 'ipv4', nlri, opts: { fourOctetAs: true } }).map((b) => Buffer.from(b)));
}
const PER_READ = 16; // UPDATEs per loop pass (the daemon reads 64 KiB chunks of ~4 KiB UPDATEs)
async function phase(frames, want) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < frames.length; i += PER_READ) {
    for (let j = i; j < Math.min(frames.length, i + PER_READ); j++) rib.applyUpdate(PEER, decodeUpdate(frames[j], { fourOctetAs: true }));
    await new Promise((r) => setImmediate(r));
  }
  await fib.flush();
  while (fib.stats().installed !== want) await fib.flush();
  const c = process.cpuUsage(c0);
  return { user: Math.round(c.user / 1000), sys: Math.round(c.system / 1000) };
}
const out = [];
let hp = null;
if (process.env.HP) {
  const { Session } = await import('node:inspector');
  hp = new Session(); hp.connect();
  const post = (m, a) => new Promise((res, rej) => hp.post(m, a, (e, r) => e ? rej(e) : res(r)));
  hp.postP = post;
  await post('HeapProfiler.enable');
}
for (let r = 0; r < rounds; r++) {
  if (hp && r === rounds - 1) await hp.postP('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const a = await phase(adds, N);
  if (hp && r === rounds - 1) { const { profile } = await hp.postP('HeapProfiler.stopSampling'); (await import('node:fs')).writeFileSync(process.env.HP, JSON.stringify(profile)); }
  const w = await phase(dels, 0);
  out.push({ addU: a.user, addS: a.sys, delU: w.user, delS: w.sys });
}
fib.stop();
console.log(JSON.stringify({ root, N, out }));
process.exit(0);
