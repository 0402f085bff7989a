// Memory per route of the Loc-RIB (and optionally one Adj-RIB-Out) at N routes from one peer.
//
// Routes go the real way: packUpdates → decodeUpdate → LocRib.applyUpdate, so the prefix
// strings are the decoder's. Heap is measured after forced GC, before and after loading.
//
//   node --expose-gc --import tsx bench/rib-memory.ts [routes=1000000] [--adj-rib-out]
import { packUpdates, decodeUpdate } from '../src/bgp/wire/index.js';
import { LocRib } from '../src/rib/loc-rib.js';
import { AdjRibOutManager } from '../src/rib/adj-rib-out-manager.js';
import type { PeerSink } from '../src/rib/adj-rib-out.js';
import { AttrSetTable } from '../src/rib/attr-set.js';
import { numberToIpv4 } from '../src/net/prefix.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const routes = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const withOut = process.argv.includes('--adj-rib-out');

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const rib = new LocRib({ localAs: 64512, routerId: '10.0.0.1', schedule: 'manual' });
rib.registerPeer({ key: '10.0.0.2|179', address: '10.0.0.2', asn: 64512, routerId: '10.0.0.2', ebgp: false, routeReflectorClient: false });
const enc = new AttrSetTable();
const before = heap();
const rss0 = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();

const PER_MSG = 800; // /26 NLRI are 5 octets: ~800 fill a 4096-octet UPDATE
let msgs = 0;
for (let start = 0; start < routes; start += PER_MSG) {
  const nlri = [];
  for (let i = start; i < Math.min(routes, start + PER_MSG); i++) nlri.push({ prefix: `${numberToIpv4(((16 << 24) >>> 0) + i * 64)}/26` });
  // one attribute set per message (a different MED each): ~routes/800 distinct sets
  const set = enc.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100, med: msgs });
  for (const frame of packUpdates({ family: 'ipv4', attributes: set.encoded({ fourOctetAs: true }), nlri, opts: { fourOctetAs: true } })) {
    rib.applyUpdate('10.0.0.2|179', decodeUpdate(frame, { fourOctetAs: true }));
  }
  if (++msgs % 50 === 0) rib.flush();
}
rib.flush();
const t1 = process.hrtime.bigint();
const loaded = heap();
const line = (what: string, bytes: number) => `${what}: ${(bytes / routes).toFixed(1)} B/route (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
console.log(`routes ${routes}, destinations ${rib.size('ipv4')}, attribute sets ${rib.attrSets.size}, load ${(Number(t1 - t0) / 1e9).toFixed(1)} s`);
console.log(line('Loc-RIB heap', loaded - before));
console.log(`RSS growth: ${((process.memoryUsage().rss - rss0) / routes).toFixed(1)} B/route`);

if (withOut) {
  const sink: PeerSink = { write: () => true, onDrain: () => {} };
  const out = new AdjRibOutManager(rib, {
    localAs: 64512, routerId: '10.0.0.1', pools: [{ cidr: '16.0.0.0/4', disableBGPExport: false, disabled: false }], ownBlocks: [], localAddresses: { ipv4: '10.0.0.1' },
  });
  const t2 = process.hrtime.bigint();
  out.addPeer({ key: '192.0.2.9|179', family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false }, sink);
  const t3 = process.hrtime.bigint();
  const withAdj = heap();
  console.log(`Adj-RIB-Out full table to one eBGP peer: ${(Number(t3 - t2) / 1e9).toFixed(1)} s, advertised ${out.get('192.0.2.9|179')!.size}`);
  console.log(line('Adj-RIB-Out heap (one peer)', withAdj - loaded));
}
