// FibSync over a fake kernel: errors and retries, drift and resync, echoes, bursts, UPDATE → kernel timing, extra learning.
import t from 'tap';
import { FakeClock } from '../../src/util/clock.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { FibSync, MAX_INFLIGHT } from '../../src/fib/fib-sync.js';
import { BURST_OPS, collectAfterBurst } from '../../src/fib/writer.js';
import { Writable } from 'node:stream';
import { collectGarbage } from '../../src/runtime/gc.js';
import type { KernelRoute } from '../../src/fib/kernel.js';
import { numberToIpv4, parseIpv4Prefix } from '../../src/net/prefix.js';
import { FakeKernel, WritingFakeKernel, connected } from './fixtures/fake-kernel.js';
import { always, never, settle, setup } from './fixtures/fib-sync-setup.js';

t.test('kernel errors: status error, counted, retried with backoff, never fatal', async (t) => {
  const { kernel, fib, clock } = await setup();
  kernel.refuse.set('10.244.2.0/26', 'ENETUNREACH');
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  await settle(fib);
  t.same(fib.status('10.244.2.0/26'), { state: 'error', code: 'ERR_FIB_NETLINK_ENETUNREACH', error: 'netlink 10.244.2.0/26 refused: ENETUNREACH' });
  t.equal(fib.errorCounters().get('ERR_FIB_NETLINK_ENETUNREACH'), 1);
  t.match(fib.errors(), [/^ERR_FIB_NETLINK_ENETUNREACH: .*1 route error; e.g. 10.244.2.0\/26/]);
  clock.advance(1000);
  await settle(fib);
  t.equal(fib.errorCounters().get('ERR_FIB_NETLINK_ENETUNREACH'), 2, 'retried after 1 s');
  clock.advance(1999);
  await settle(fib);
  t.equal(fib.errorCounters().get('ERR_FIB_NETLINK_ENETUNREACH'), 2, 'next retry after 2 s, not before');
  kernel.refuse.clear();
  clock.advance(1);
  await settle(fib);
  t.same(fib.status('10.244.2.0/26'), { state: 'installed' });
  t.same(fib.errors(), []);
});

t.test('unreachable next hop: error until a connected route covers it', async (t) => {
  const { kernel, fib } = await setup();
  fib.setRoute('10.244.2.0/26', ['10.9.9.9']);
  await settle(fib);
  t.equal(fib.status('10.244.2.0/26')?.state, 'error');
  t.equal(fib.status('10.244.2.0/26')?.code, 'ERR_FIB_NEXTHOP_UNREACHABLE');
  t.equal(kernel.get('10.244.2.0/26'), undefined);
  kernel.add(connected('10.9.9.0/24', 2));
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26')?.nextHops[0]?.gateway, '10.9.9.9');
  t.same(fib.status('10.244.2.0/26'), { state: 'installed' });
});

t.test('tunl0 missing: pending with a clear error, installed when the link appears', async (t) => {
  const { kernel, fib } = await setup({ pools: [always] });
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  await settle(fib);
  t.same(fib.status('10.244.2.0/26'), { state: 'pending', code: 'ERR_FIB_TUNNEL_MISSING', error: 'tunl0 missing' });
  t.same(fib.errors(), ['tunl0 missing (1 route pending)']);
  kernel.setLink({ ifindex: 7, name: 'tunl0', up: true });
  await settle(fib);
  t.same(kernel.get('10.244.2.0/26')?.nextHops, [{ gateway: '10.0.0.12', ifindex: 7, dev: 'tunl0', onlink: true }]);
  // link goes down: the kernel flushes silently; we go pending and reinstall when up
  kernel.setLink({ ifindex: 7, name: 'tunl0', up: false });
  await settle(fib);
  t.equal(fib.status('10.244.2.0/26')?.code, 'ERR_FIB_TUNNEL_DOWN');
  kernel.setLink({ ifindex: 7, name: 'tunl0', up: true });
  await settle(fib);
  t.ok(kernel.get('10.244.2.0/26'));
  t.same(fib.status('10.244.2.0/26'), { state: 'installed' });
});

t.test('drift: our route deleted by someone is put back; stop leaves routes', async (t) => {
  const { kernel, fib } = await setup();
  fib.setOwnBlocks(['10.244.1.0/26']);
  await settle(fib);
  kernel.del('10.244.1.0/26');
  await settle(fib);
  t.ok(kernel.get('10.244.1.0/26'), 'reinstalled');
  fib.stop();
  t.ok(kernel.get('10.244.1.0/26'));
  t.equal(kernel.closed, true);
});

t.test('periodic resync (safety net) repairs a change the notifications missed', async (t) => {
  const { kernel, fib, clock } = await setup();
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  await settle(fib);
  kernel.routes.delete('254|10.244.2.0/26|0'); // gone without a notification
  clock.advance(299_999);
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26'), undefined, 'not before the resync period');
  clock.advance(1);
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26')?.nextHops[0]?.gateway, '10.0.0.12', 'reinstalled after the re-dump');
});

t.test('without echoes: a write answered while a re-dump runs is applied again after it', async (t) => {
  const kernel = new FakeKernel();
  kernel.echoOwn = false; // as NetlinkKernel's filter: the state of our writes comes from their answers
  const { fib, clock } = await setup({ kernel });
  // the re-dump reads the table before the write lands, and completes after its answer
  const before = await kernel.dump();
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  kernel.dump = async () => { await gate; return before; };
  fib.setRoute('10.244.3.0/26', ['10.0.0.12']);
  clock.advance(0); // the tick: the write is sent; its answer comes on a later microtask
  kernel.lose(); // notifications lost: the re-dump starts
  await new Promise((r) => setImmediate(r)); // the answer arrives during the dump
  release();
  await settle(fib);
  t.equal(kernel.writes.filter((w) => w.route.prefix === '10.244.3.0/26').length, 1, 'written once, not again with EEXIST');
  t.same(fib.status('10.244.3.0/26'), { state: 'installed' });
  t.match(fib.stats(), { failed: 0 });
});

t.test('notifications of our own writes cause no second write', async (t) => {
  const { kernel, fib } = await setup();
  fib.setOwnBlocks(['10.244.1.0/26', '10.244.1.64/26']);
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  await settle(fib);
  await settle(fib);
  t.equal(kernel.writes.length, 3);
  t.match(fib.stats(), { replaced: 3, removed: 0, failed: 0, installed: 3 });
});

t.test('an alien route our view has not caught up with is not overwritten (exclusive create)', async (t) => {
  const { kernel, fib, clock } = await setup();
  // in the kernel, but its notification has not arrived yet
  kernel.routes.set('254|10.244.5.0/26|0', { prefix: '10.244.5.0/26', family: 'ipv4', table: 254, protocol: 4, type: 'unicast', metric: 0, nextHops: [{ gateway: '10.0.0.99', ifindex: 2, onlink: false }] });
  fib.setRoute('10.244.5.0/26', ['10.0.0.12']);
  await settle(fib);
  t.equal(kernel.get('10.244.5.0/26')?.protocol, 4, 'alien kept');
  t.equal(fib.status('10.244.5.0/26')?.code, 'ERR_FIB_NETLINK_EEXIST');
  clock.advance(300_000); // the re-dump shows the alien
  await settle(fib);
  t.equal(fib.status('10.244.5.0/26')?.code, 'ERR_FIB_ALIEN_ROUTE');
  t.equal(kernel.get('10.244.5.0/26')?.protocol, 4);
});

t.test('the tick is deferred with setImmediate by default: no timer, no flush needed', async (t) => {
  const kernel = new FakeKernel();
  kernel.add(connected('10.0.0.0/24', 2));
  const clock = new FakeClock(); // never advanced
  const fib = new FibSync({ kernel, clock, logger: silentLogger() });
  fib.setPools([never], '10.0.0.0/24');
  await fib.start();
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  for (let i = 0; i < 5 && !kernel.get('10.244.2.0/26'); i++) await new Promise((r) => setImmediate(r));
  t.equal(kernel.get('10.244.2.0/26')?.nextHops[0]?.gateway, '10.0.0.12');
  t.equal(clock.pendingTimers(), 2, 'only the stale and resync timers');
  fib.stop();
});

/** Answers writes only when released, to see how many are outstanding at once. */
class GatedKernel extends FakeKernel {
  outstanding = 0;
  maxOutstanding = 0;
  private gates: (() => void)[] = [];
  override async replace(r: KernelRoute, exclusive = false): Promise<void> {
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.outstanding--;
    return super.replace(r, exclusive);
  }
  release(): number {
    const g = this.gates;
    this.gates = [];
    for (const open of g) open();
    return g.length;
  }
}

t.test('a burst is fed to the kernel at most MAX_INFLIGHT at a time, and all of it lands', async (t) => {
  const kernel = new GatedKernel();
  const { fib } = await setup({ kernel });
  const n = MAX_INFLIGHT * 2 + 100;
  const prefixes = Array.from({ length: n }, (_, i) => `${numberToIpv4((0x0af40000 + i * 64) >>> 0)}/26`); // 10.244.0.0/16 on
  for (const p of prefixes) fib.setCanonicalRoute(p, ['10.0.0.12']);
  const flushed = fib.flush();
  let rounds = 0;
  while (kernel.routes.size < n + 1 && rounds++ < 100) {
    await new Promise((r) => setImmediate(r));
    kernel.release();
  }
  await flushed;
  t.equal(kernel.maxOutstanding, MAX_INFLIGHT, 'never more than MAX_INFLIGHT outstanding');
  t.equal(kernel.routes.size, n + 1, 'every route installed (and the connected route)');
  t.match(fib.stats(), { replaced: n, installed: n, failed: 0 });
  t.same(fib.status(prefixes[n - 1]!), { state: 'installed' });
  t.same(fib.errors(), []);
});

t.test('setCanonicalRoute and setRoute agree; many prefixes share one next-hop list', async (t) => {
  const { kernel, fib } = await setup();
  fib.setRoute('10.244.2.1/26', ['10.0.0.12']); // not canonical: host bits cleared
  fib.setCanonicalRoute('10.244.3.0/26', ['10.0.0.12']);
  await settle(fib);
  t.ok(kernel.get('10.244.2.0/26'));
  t.ok(kernel.get('10.244.3.0/26'));
  t.same(fib.status('10.244.2.5/26'), { state: 'installed' });
  fib.setCanonicalRoute('10.244.3.0/26', null);
  await settle(fib);
  t.equal(kernel.get('10.244.3.0/26'), undefined);
  t.equal(fib.status('10.244.3.0/26'), undefined);
  t.match(fib.stats(), { installed: 1 });
});

t.test('the end of a burst is reported once (by default: a full GC), small changes are not', async (t) => {
  const bursts: number[] = [];
  const { kernel, fib } = await setup({ afterBurst: (ops) => bursts.push(ops) });
  const n = BURST_OPS + 10;
  for (let i = 0; i < n; i++) fib.setCanonicalRoute(`${numberToIpv4((0x0af40000 + i * 64) >>> 0)}/26`, ['10.0.0.12']);
  await fib.flush();
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  t.equal(kernel.routes.size, n + 1);
  t.same(bursts, [n], 'one report with the number of kernel operations');
  fib.setRoute('10.244.0.0/26', null);
  await settle(fib);
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  t.same(bursts, [n], 'a single change is no burst');
  t.equal(collectGarbage(), true, 'this runtime offers a full GC');
});

t.test('after a burst, the default report runs a full GC and malloc_trim and logs both', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  collectAfterBurst(createLogger({ level: 'info', json: true, stream }), BURST_OPS);
  await new Promise((r) => setImmediate(r));
  const ev = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'fibBurstGc');
  t.ok(ev, 'one fibBurstGc line');
  t.equal(ev?.ops, BURST_OPS);
  t.equal(ev?.trimmed, true, 'malloc_trim ran (glibc through koffi)');
  t.equal((ev?.rssMiB as number[] | undefined)?.length, 2, 'RSS before and after');
});

t.test('UPDATE → kernel timing: one sample per tick that writes, none for an input that writes nothing', async (t) => {
  const { fib } = await setup();
  const before = fib.timings().updateToKernel.count;
  const t0 = performance.now();
  fib.noteInput(t0);
  fib.setRoute('10.244.3.0/26', ['10.0.0.12']);
  await settle(fib);
  const v = fib.timings().updateToKernel;
  t.equal(v.count, before + 1, 'one sample for the tick that wrote');
  t.ok(v.lastMs.at(-1)! >= 0 && v.lastMs.at(-1)! <= performance.now() - t0, 'from the input to the write, never longer than the elapsed time');
  fib.noteInput(performance.now()); // an UPDATE that changes nothing in the FIB
  await settle(fib);
  await new Promise((r) => setImmediate(r));
  fib.setOwnBlocks(['10.244.9.0/26']); // a later write without a BGP input
  await settle(fib);
  t.equal(fib.timings().updateToKernel.count, before + 1, 'no sample for the idle input, none for a write no UPDATE caused');
});

t.test('UPDATE → kernel timing: nothing armed per input; an idle input restarts the clock, a pending one keeps it', async (t) => {
  const { fib } = await setup();
  await settle(fib);
  const before = fib.timings().updateToKernel.count;
  const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
  const armed = immediates();
  fib.noteInput(performance.now() - 10_000); // an input that changed nothing, long ago
  t.equal(immediates(), armed, 'no Immediate per input');
  const t1 = performance.now();
  fib.noteInput(t1); // FIB and Loc-RIB idle: the earlier input is over, the clock restarts
  fib.noteInput(performance.now(), true); // a later input while the Loc-RIB flush is pending: kept at t1
  fib.setRoute('10.244.3.0/26', ['10.0.0.12']);
  await settle(fib);
  const v = fib.timings().updateToKernel;
  t.equal(v.count, before + 1, 'one sample');
  t.ok(v.lastMs.at(-1)! <= performance.now() - t1 + 0.001, 'from the input that restarted the clock, not the stale one');
  const t2 = performance.now() - 5_000;
  fib.noteInput(t2);
  fib.setRoute('10.244.4.0/26', ['10.0.0.12']);
  fib.noteInput(performance.now()); // a tick is due: the earlier input is still on its way
  await settle(fib);
  t.ok(fib.timings().updateToKernel.lastMs.at(-1)! >= 5_000, 'an input read while the FIB is busy keeps the earliest');
});

t.test('extra learning (BGPFilter export): out-of-pool alien routes and connected subnets, only while on', async (t) => {
  const kernel = new FakeKernel([{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }, { ifindex: 3, name: 'cali1234', up: true }, { ifindex: 4, name: 'kube-ipvs0', up: true }]);
  kernel.add({ prefix: '10.99.0.0/24', protocol: 4, nextHops: [{ gateway: '10.0.0.1', ifindex: 2, onlink: false }] }); // static, outside pools
  kernel.add(connected('10.1.3.0/24', 3)); // a cali* device: never
  kernel.add(connected('10.1.4.0/24', 4)); // kube-ipvs*: never
  kernel.add({ prefix: 'fd00:5::/64', family: 'ipv6', protocol: 2, scope: 0, nextHops: [{ ifindex: 2, onlink: false }] });
  kernel.add({ prefix: 'fe80::/64', family: 'ipv6', protocol: 2, scope: 0, nextHops: [{ ifindex: 2, onlink: false }] }); // link-local: never
  kernel.add({ prefix: '10.98.0.0/24', protocol: 12, nextHops: [{ gateway: '10.0.0.1', ifindex: 2, onlink: false }] }); // a route like ours: never
  const { fib, learned } = await setup({ kernel });
  t.same(learned, [], 'off by default: nothing beyond pools is learned');
  fib.setLearnExtra(true);
  await settle(fib);
  t.same(learned.map(([p]) => p).sort(), ['10.0.0.0/24', '10.99.0.0/24', 'fd00:5::/64']);
  t.ok(fib.learnedIsExtra('10.0.0.0/24'));
  t.equal(fib.learnedInterface('10.0.0.0/24'), 'eth0', 'a connected subnet carries its interface');
  t.equal(fib.learnedInterface('10.99.0.0/24'), 'eth0');
  // a route written by tern is never learned, even outside pools
  fib.setRoute('10.97.0.0/24', ['10.0.0.12']);
  await settle(fib);
  t.notOk(learned.some(([p]) => p === '10.97.0.0/24'), 'own route not re-learned');
  kernel.del('10.99.0.0/24');
  await settle(fib);
  t.same(learned.at(-1), ['10.99.0.0/24', false], 'the kernel route went: unlearned');
  // an in-pool route stays a pool route (not extra)
  kernel.add({ prefix: '10.244.7.9/32', protocol: 3, scope: 253, nextHops: [{ ifindex: 2, onlink: false }] });
  await settle(fib);
  t.equal(fib.learnedIsExtra('10.244.7.9/32'), false);
  const n = learned.length;
  fib.setLearnExtra(false);
  await settle(fib);
  t.same(learned.slice(n).sort(), [['10.0.0.0/24', false], ['fd00:5::/64', false]], 'turned off: the extras go, pool routes stay');
});

t.test('the shape context kept between ticks: a pool or node-subnet change reshapes routes at once', async (t) => {
  const { kernel, fib } = await setup({ pools: [never] });
  kernel.setLink({ ifindex: 7, name: 'tunl0', up: true });
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  fib.setRoute('10.244.3.0/26', ['10.0.0.12']); // same next hops: one shaping, shared
  await settle(fib);
  t.same(kernel.get('10.244.2.0/26')?.nextHops, [{ gateway: '10.0.0.12', ifindex: 2, dev: 'eth0', onlink: false }]);
  // ticks with nothing else changed (the kept context) give the same answer
  fib.setRoute('10.244.4.0/26', ['10.0.0.12']);
  await settle(fib);
  t.same(kernel.get('10.244.4.0/26')?.nextHops, [{ gateway: '10.0.0.12', ifindex: 2, dev: 'eth0', onlink: false }]);
  fib.setPools([{ ...always, ipipMode: 'crossSubnet' }], '10.0.0.0/24');
  await settle(fib);
  t.same(kernel.get('10.244.2.0/26')?.nextHops, [{ gateway: '10.0.0.12', ifindex: 2, dev: 'eth0', onlink: false }], 'crossSubnet, same subnet: direct');
  // the node's subnet changes (same pools): 10.0.0.12 is now off-subnet, so through tunl0
  fib.setPools([{ ...always, ipipMode: 'crossSubnet' }], '10.0.1.0/24');
  await settle(fib);
  for (const p of ['10.244.2.0/26', '10.244.3.0/26', '10.244.4.0/26']) {
    t.same(kernel.get(p)?.nextHops, [{ gateway: '10.0.0.12', ifindex: 7, dev: 'tunl0', onlink: true }], `${p} through tunl0`);
  }
  fib.setPools([never], '10.0.1.0/24');
  await settle(fib);
  t.same(kernel.get('10.244.3.0/26')?.nextHops, [{ gateway: '10.0.0.12', ifindex: 2, dev: 'eth0', onlink: false }], 'pool back to never: direct');
});

t.test('a kernel with write() is handed each prefix parsed once: its IPv4 number, -1 for IPv6', async (t) => {
  const kernel = new WritingFakeKernel();
  kernel.add(connected('fd00::/64', 2));
  const { fib } = await setup({ kernel });
  fib.setOwnBlocks(['10.244.9.0/26']);
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  fib.setRoute('10.244.3.7/32', ['10.0.0.12']);
  fib.setRoute('192.168.0.0/16', ['10.0.0.13']); // outside the pool
  fib.setRoute('2001:db8:1::/48', ['fd00::12']);
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26')?.nextHops[0]?.gateway, '10.0.0.12');
  t.equal(kernel.get('10.244.9.0/26')?.type, 'blackhole');
  t.equal(kernel.get('2001:db8:1::/48', 1024)?.nextHops[0]?.gateway, 'fd00::12');
  fib.setRoute('10.244.2.0/26', null);
  fib.setOwnBlocks([]);
  fib.setRoute('2001:db8:1::/48', null);
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26'), undefined);
  t.equal(kernel.get('10.244.9.0/26'), undefined);
  t.equal(kernel.get('2001:db8:1::/48', 1024), undefined);
  t.same(kernel.calls.map((c) => `${c.op} ${c.prefix}`).sort(), [
    'create 10.244.2.0/26', 'create 10.244.3.7/32', 'create 10.244.9.0/26', 'create 192.168.0.0/16', 'create 2001:db8:1::/48',
    'remove 10.244.2.0/26', 'remove 10.244.9.0/26', 'remove 2001:db8:1::/48',
  ]);
  for (const c of kernel.calls) t.equal(c.v4, c.prefix.includes(':') ? -1 : parseIpv4Prefix(c.prefix), `${c.op} ${c.prefix}: v4 ${c.v4}`);
  t.equal(parseIpv4Prefix('10.244.3.7/32'), ((10 << 24) + (244 << 16) + (3 << 8) + 7) * 64 + 32);
  t.same(kernel.writes.length, kernel.calls.length, 'every write through write()');
});
