// Memory and CPU per route of the FIB layer (FibSync) at N routes from one peer, in process,
// with an in-memory kernel (no netlink): the companion of rib-memory.ts.
//
// The prefix strings are made before the measurement and kept alive, as the Loc-RIB keeps
// them, so the figure is what FibSync adds on top of the RIB. The kernel answers every write
// on the next turn and then sends its notification as a decoded netlink route (a fresh
// object and prefix string, scope set, no `dev`), as NetlinkKernel does.
//
// With --rib, the routes come the daemon's way instead: UPDATEs decoded into a LocRib whose
// best-path changes go to FibSync as RoutingCore.toFib hands them over; the figures are then
// those of the RIB and the FIB together.
//
//   node --expose-gc --import tsx bench/fib-memory.ts [routes=100000] [--rib]
import { FibSync } from '../src/fib/fib-sync.js';
import type { KernelRoute, KernelRoutes, Link, RouteBody, WriteAnswer } from '../src/fib/kernel.js';
import { getHeapSpaceStatistics } from 'node:v8';
import { numberToIpv4 } from '../src/net/prefix.js';
import { decodeUpdate, packUpdates } from '../src/bgp/wire/index.js';
import { AttrSetTable } from '../src/rib/attr-set.js';
import { LocRib } from '../src/rib/loc-rib.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const routes = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const viaRib = process.argv.includes('--rib');

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** What decodeRoute gives for a notification: new strings and objects every time. */
function asNotified(r: KernelRoute): KernelRoute {
  const [a, len] = r.prefix.split('/');
  return {
    prefix: `${a}/${len}`, family: r.family, table: r.table, protocol: r.protocol, scope: 0, type: r.type,
    nextHops: r.nextHops.map((nh) => ({ gateway: nh.gateway, ifindex: nh.ifindex, onlink: nh.onlink })),
    metric: r.metric,
  };
}

/** Keeps no route (its memory would count as FibSync's): dumps give the base routes only. */
class MemKernel implements KernelRoutes {
  base: KernelRoute[] = [];
  size = 0;
  private onRoute?: (r: KernelRoute, present: boolean, replaced?: boolean) => void;
  private queued: [KernelRoute, boolean][] = [];
  private scheduled = false;
  async dump(): Promise<KernelRoute[]> { return [...this.base]; }
  async links(): Promise<Link[]> { return [{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }]; }
  async replace(r: KernelRoute): Promise<void> { this.size++; this.notify(r, true); }
  /** As NetlinkKernel: answered on a later turn (the ACK), the notification after it. */
  write(op: 'replace' | 'create' | 'remove', prefix: string, _v4: number, r: RouteBody, done: WriteAnswer): void {
    this.acks.push([done, prefix]);
    if (op === 'remove') this.size--; else this.size++;
    this.notify({ ...r, prefix, nextHops: [...r.nextHops] }, op !== 'remove');
  }
  private acks: [WriteAnswer, string][] = [];
  async remove(r: KernelRoute): Promise<void> { this.size--; this.notify(r, false); }
  watch(onRoute: (r: KernelRoute, present: boolean, replaced?: boolean) => void): void { this.onRoute = onRoute; }
  close(): void {}
  private notify(r: KernelRoute, present: boolean): void {
    this.queued.push([r, present]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const acks = this.acks;
      this.acks = [];
      for (const [done, prefix] of acks) done(undefined, prefix);
      const q = this.queued;
      this.queued = [];
      for (const [x, p] of q) this.onRoute?.(asNotified(x), p);
    });
  }
}

const kernel = new MemKernel();
kernel.base.push({
  prefix: '10.0.0.0/24', family: 'ipv4', table: 254, protocol: 2, scope: 253, type: 'unicast', metric: 0,
  nextHops: [{ ifindex: 2, onlink: false }],
});
const fib = new FibSync({ kernel, clock: systemClock, logger: silentLogger() });
fib.setPools([{ cidr: '16.0.0.0/4', ipipMode: 'never', vxlanMode: 'never' }], '10.0.0.0/24');
await fib.start();
fib.endOfRibAll();
await fib.flush();

// the RIB's strings: kept alive outside the measurement (unless the RIB itself is measured)
let prefixes: string[] | null = viaRib ? null : Array.from({ length: routes }, (_, i) => `${numberToIpv4(((16 << 24) >>> 0) + i * 64)}/26`);
const rib = new LocRib({ localAs: 64512, routerId: '10.0.0.1' });
const PEER = '10.0.0.2|179';
rib.registerPeer({ key: PEER, address: '10.0.0.2', asn: 64512, routerId: '10.0.0.2', ebgp: false, routeReflectorClient: false, family: 'ipv4' });
rib.onBestChange((changes) => {
  for (const c of changes) { // as RoutingCore.toFib
    if (!c.best || c.best.source.kind === 'local') { fib.setCanonicalRoute(c.prefix, null); continue; }
    const hops: string[] = [];
    for (const p of c.multipath) {
      if (p.source.kind !== 'peer') continue;
      const nh = p.attrs.nextHops[0];
      if (nh && !hops.includes(nh)) hops.push(nh);
    }
    fib.setCanonicalRoute(c.prefix, hops.length ? hops : null);
  }
});
const enc = new AttrSetTable();
const before = heap();
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const CHUNK = 800; // one UPDATE's worth per best-path flush, as the RIB delivers them
for (let i = 0; i < routes; i += CHUNK) {
  const end = Math.min(routes, i + CHUNK);
  if (viaRib) {
    const nlri = [];
    for (let j = i; j < end; j++) nlri.push({ prefix: `${numberToIpv4(((16 << 24) >>> 0) + j * 64)}/26` });
    const set = enc.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 });
    for (const frame of packUpdates({ family: 'ipv4', attributes: set.encoded({ fourOctetAs: true }), nlri, opts: { fourOctetAs: true } })) {
      rib.applyUpdate(PEER, decodeUpdate(frame, { fourOctetAs: true }));
    }
  } else {
    for (let j = i; j < end; j++) fib.setCanonicalRoute(prefixes![j]!, ['10.0.0.2']);
  }
  await new Promise((r) => setImmediate(r));
}
while (fib.stats().installed < routes) await new Promise((r) => setImmediate(r));
await fib.flush();
for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(cpu0);
const rssPeak = process.memoryUsage().rss;
const spaces = getHeapSpaceStatistics().map((x) => `${x.space_name.replace('_space', '')} ${(x.space_size / 2 ** 20).toFixed(1)}`).join(', ');
const mu = process.memoryUsage();
const loaded = heap();
const rssAfterGc = process.memoryUsage().rss;
const per = (bytes: number): string => `${(bytes / routes).toFixed(1)} B/route (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
console.log(`routes ${routes}, installed ${fib.stats().installed}, kernel writes ${kernel.size}`);
console.log(`load ${(Number(t1 - t0) / 1e6).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU`);
console.log(`${viaRib ? 'Loc-RIB + FibSync' : 'FibSync'} heap: ${per(loaded - before)}`);
console.log(`at the end of the load: heap total ${(mu.heapTotal / 2 ** 20).toFixed(1)} MiB, external ${(mu.external / 2 ** 20).toFixed(1)} MiB; spaces (MiB): ${spaces}`);
console.log(`RSS growth at the end of the load: ${per(rssPeak - rss0)}; after a full GC: ${per(rssAfterGc - rss0)}`);
fib.stop();
prefixes = null;
