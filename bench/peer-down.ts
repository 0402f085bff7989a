// A peer holding N routes (default 1 000 000) goes down: what removing its paths from the
// Loc-RIB costs (a top-of-rack router or a route reflector with a full table that flaps). In
// process, no kernel. CPU time, not wall time (the machine is shared).
//
//   node --expose-gc --import tsx bench/peer-down.ts [routes=1000000] [--shared] [--others M] [--adj-rib-out] [--stale] [--shuffled]
//
// --shared: a second peer holds the same prefixes, so each destination keeps a path and its
// best is chosen again (a redundant pair of routers) instead of the prefix going away.
// --others M: a second peer holds M other prefixes, which stay (with M above 3 × routes the
// peer that goes down holds less than a quarter of the table: its prefixes are looked up one
// by one instead of the table walked).
// --adj-rib-out: an eBGP Adj-RIB-Out is attached, as on a node (the flush feeds it).
// --stale: graceful restart first (markStale; staleCount, which only tests and this use, timed
// apart), then the End-of-RIB sweep (sweepStale) removes them all.
// Printed: CPU (user + system) of removeSource (or sweepStale) and of the flush after it, and
// the peak RSS during both (VmHWM reset through /proc/self/clear_refs after loading) against
// the RSS before.
import { readFileSync, writeFileSync } from 'node:fs';
import { LocRib } from '../src/rib/loc-rib.js';
import { AdjRibOutManager } from '../src/rib/adj-rib-out-manager.js';
import { numberToIpv4 } from '../src/net/prefix.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const argv = process.argv.slice(2);
const routes = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--others') ?? 1_000_000);
const others = argv.includes('--others') ? Number(argv[argv.indexOf('--others') + 1]) : 0;
const shared = argv.includes('--shared');
const withOut = argv.includes('--adj-rib-out');
const stale = argv.includes('--stale');

const rib = new LocRib({ localAs: 64512, routerId: '10.0.0.1', schedule: 'manual' });
const BIG = '10.0.0.2|179';
const TWIN = '10.0.0.3|179';
rib.registerPeer({ key: BIG, address: '10.0.0.2', asn: 64512, routerId: '10.0.0.2', ebgp: false, routeReflectorClient: false });
rib.registerPeer({ key: TWIN, address: '10.0.0.3', asn: 64512, routerId: '10.0.0.3', ebgp: false, routeReflectorClient: false });
const ordered = !argv.includes('--shuffled'); // the order the routes arrived in (default: address order)
const order = Array.from({ length: routes }, (_, i) => i);
if (!ordered) for (let i = routes - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
const prefixes = order.map((i) => `${numberToIpv4(((16 << 24) >>> 0) + i * 64)}/26`);
for (let i = 0, set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 }); i < routes; i++) {
  if (i % 800 === 0) set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100, med: i / 800 });
  rib.update(BIG, prefixes[i]!, 0, set);
  if (i % 40_000 === 0) rib.flush();
}
if (shared) {
  const set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.3', localPref: 90 });
  for (let i = 0; i < routes; i++) { rib.update(TWIN, prefixes[i]!, 0, set); if (i % 40_000 === 0) rib.flush(); }
}
if (others > 0) {
  const set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.3', localPref: 100 });
  for (let i = 0; i < others; i++) { rib.update(TWIN, `${numberToIpv4(((96 << 24) >>> 0) + i * 64)}/26`, 0, set); if (i % 40_000 === 0) rib.flush(); }
}
prefixes.length = 0;
rib.flush();
let changed = 0;
rib.onBestChange((c) => { changed += c.length; });
if (withOut) {
  const out = new AdjRibOutManager(rib, { localAs: 64512, routerId: '10.0.0.1', pools: [{ cidr: '16.0.0.0/4', disableBGPExport: false, disabled: false }], ownBlocks: [], localAddresses: { ipv4: '10.0.0.1' } });
  out.addPeer({ key: '192.0.2.9|179', family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false }, { write: () => true, onDrain: () => {} });
}
let staleMs = 0;
let countMs = 0;
let staleN = 0;
if (stale) {
  let c0 = process.cpuUsage();
  staleN = rib.markStale(BIG, 'ipv4');
  staleMs = cpuMs(c0);
  c0 = process.cpuUsage();
  if (rib.staleCount(BIG, 'ipv4') !== staleN) throw new Error('staleCount disagrees with markStale');
  countMs = cpuMs(c0);
}
gc();
gc();
const kib = (field: string): number => Number(/(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field))!)![1]) / 1024;
const rssBefore = kib('VmRSS:');
writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the RSS now

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}
const c0 = process.cpuUsage();
const removed = stale ? rib.sweepStale(BIG, 'ipv4') : rib.removeSource(BIG);
const removeMs = cpuMs(c0);
const c1 = process.cpuUsage();
rib.flush();
const flushMs = cpuMs(c1);
const peak = kib('VmHWM:');
console.log(JSON.stringify({
  routes, shared, others, adjRibOut: withOut, ordered, stale, removed, changed, left: rib.size('ipv4'),
  ...(stale ? { markStaleMs: +staleMs.toFixed(1), staleCountMs: +countMs.toFixed(1), staleN } : {}),
  removeMs: +removeMs.toFixed(1), flushMs: +flushMs.toFixed(1), rssBeforeMiB: +rssBefore.toFixed(1), peakMiB: +peak.toFixed(1), peakOverMiB: +(peak - rssBefore).toFixed(1),
}));
