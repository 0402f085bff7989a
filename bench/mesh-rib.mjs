// The RIB side of one K-node mesh node's start, in process: `node bench/mesh-rib.mjs [ROOT] [K] [REPS]`
// with ROOT a built tree (its dist/). A LocRib and an AdjRibOutManager as the daemon makes
// them, the node's 3 own blocks, then the K-1 sessions one after another, as they come up:
// the peer registered, its Adj-RIB-Out added (the table walk, the UPDATE + End-of-RIB
// written to a counting sink), its UPDATE of 3 blocks applied and the Loc-RIB flushed (the
// change fan-out to the members). User + system CPU of that sequence (process.cpuUsage), in
// a fresh process the first time (as cold as a daemon's start), then REPS-1 more times in
// the same process (warm). For A/B runs of trees; not a test.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const k = Number(process.argv[3] ?? 50);
const reps = Number(process.argv[4] ?? 1);
const { LocRib } = await import(pathToFileURL(`${root}/dist/rib/loc-rib.js`).href);
const { AdjRibOutManager } = await import(pathToFileURL(`${root}/dist/rib/adj-rib-out-manager.js`).href);

const ip = (i) => `10.230.${(11 + i) >> 8}.${(11 + i) & 255}`;
const blocks = (i) => [0, 1, 2].map((b) => `10.244.${i}.${b * 64}/26`);

function once() {
  const me = ip(0);
  const rib = new LocRib({ localAs: 64512, routerId: me, schedule: 'manual' });
  const ctx = {
    localAs: 64512, routerId: me,
    pools: [{ cidr: '10.244.0.0/16', disableBGPExport: false, disabled: false }],
    ownBlocks: blocks(0), localAddresses: { ipv4: me },
  };
  const out = new AdjRibOutManager(rib, ctx);
  const own = { nextHop: me };
  for (const b of blocks(0)) rib.setLocal(b, own);
  rib.flush();
  let bytes = 0;
  const sink = { write: (buf) => { bytes += buf.length; return true; }, onDrain: () => {} };
  const c0 = process.cpuUsage();
  for (let i = 1; i < k; i++) {
    const address = ip(i);
    const key = `${address}|179`;
    rib.registerPeer({ key, address, asn: 64512, routerId: address, ebgp: false, routeReflectorClient: false, family: 'ipv4' });
    out.addPeer({ key, family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: me, fourOctetAs: true, addPath: false, extendedMessage: false }, sink);
    const set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: address, localPref: 100 });
    for (const b of blocks(i)) rib.update(key, b, 0, set);
    rib.flush();
  }
  const c = process.cpuUsage(c0);
  return { us: c.user + c.system, bytes };
}

const runs = [];
for (let r = 0; r < reps; r++) runs.push(once());
console.log(JSON.stringify({ root, k, coldUs: runs[0].us, warmUs: runs.slice(1).map((x) => x.us), bytes: runs[0].bytes }));
