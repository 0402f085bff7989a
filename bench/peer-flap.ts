// A peer holding 10 routes flaps while the table holds N routes (default 1 000 000) from
// another peer: what one flap costs, and the longest the event loop is held. In process,
// no kernel, seconds to run. Before the Loc-RIB kept a per-source prefix index, session down
// and graceful-restart stale marking walked every destination of the table.
//
//   node --import tsx bench/peer-flap.ts [routes=1000000] [--flaps 50]
//
// Each flap: session down without GR (removeSource), flush, 10 routes back, flush; then the
// same with GR (markStale, End-of-RIB sweep). An eBGP Adj-RIB-Out is attached, as on a node.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LocRib } from '../src/rib/loc-rib.js';
import { AdjRibOutManager } from '../src/rib/adj-rib-out-manager.js';
import { GracefulRestartHelper } from '../src/rib/graceful-restart.js';
import { FakeClock } from '../src/util/clock.js';
import { numberToIpv4 } from '../src/net/prefix.js';

const argv = process.argv.slice(2);
const routes = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--flaps') ?? 1_000_000);
const flaps = argv.includes('--flaps') ? Number(argv[argv.indexOf('--flaps') + 1]) : 50;

const rib = new LocRib({ localAs: 64512, routerId: '10.0.0.1', schedule: 'manual' });
const BIG = '10.0.0.2|179';
const SMALL = '10.0.0.3|179';
rib.registerPeer({ key: BIG, address: '10.0.0.2', asn: 64512, routerId: '10.0.0.2', ebgp: false, routeReflectorClient: false });
rib.registerPeer({ key: SMALL, address: '10.0.0.3', asn: 64512, routerId: '10.0.0.3', ebgp: false, routeReflectorClient: false });
const t0 = process.hrtime.bigint();
for (let i = 0, set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 }); i < routes; i++) {
  if (i % 800 === 0) set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100, med: i / 800 });
  rib.update(BIG, `${numberToIpv4(((16 << 24) >>> 0) + i * 64)}/26`, 0, set);
}
rib.flush();
const out = new AdjRibOutManager(rib, { localAs: 64512, routerId: '10.0.0.1', pools: [{ cidr: '16.0.0.0/4', disableBGPExport: false, disabled: false }], ownBlocks: [], localAddresses: { ipv4: '10.0.0.1' } });
out.addPeer({ key: '192.0.2.9|179', family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false }, { write: () => true, onDrain: () => {} });
const gr = new GracefulRestartHelper(rib, new FakeClock());
console.log(`table: ${rib.size('ipv4')} routes loaded in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);

const small = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.3', localPref: 100 });
const up = () => { for (let i = 0; i < 10; i++) rib.update(SMALL, `10.200.${i}.0/24`, 0, small); rib.flush(); };
up();

const h = monitorEventLoopDelay({ resolution: 1 });
const down: number[] = [];
const stale: number[] = [];
const ms = (a: bigint) => Number(process.hrtime.bigint() - a) / 1e6;
async function main(): Promise<void> {
  h.enable();
  for (let i = 0; i < flaps; i++) {
    let t = process.hrtime.bigint();
    gr.peerDown(SMALL, { gracefulRestartApplies: false, restartTime: 0, families: [] });
    rib.flush();
    down.push(ms(t));
    await new Promise((r) => setImmediate(r));
    up();
    await new Promise((r) => setImmediate(r));
    t = process.hrtime.bigint();
    gr.peerDown(SMALL, { gracefulRestartApplies: true, restartTime: 120, families: ['ipv4'] });
    gr.peerUp(SMALL, { preservedFamilies: ['ipv4'] });
    up();
    gr.endOfRib(SMALL, 'ipv4');
    rib.flush();
    stale.push(ms(t));
    await new Promise((r) => setImmediate(r));
  }
  h.disable();
  const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!.toFixed(2);
  console.log(`${flaps} flaps of a 10-route peer next to ${routes} routes`);
  console.log(`  session down (routes removed): p50 ${q(down, 0.5)} ms, max ${q(down, 1)} ms`);
  console.log(`  graceful restart (stale, End-of-RIB sweep): p50 ${q(stale, 0.5)} ms, max ${q(stale, 1)} ms`);
  console.log(`  event loop delay during the flaps: max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
  console.log(`  routes held from the big peer: ${rib.source(BIG)?.pathCount}, from the small one: ${rib.source(SMALL)?.pathCount}`);
}
void main();
