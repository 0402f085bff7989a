import t from 'tap';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { FibSync, MAX_INFLIGHT } from '../../src/fib/fib-sync.js';
import { BURST_OPS } from '../../src/fib/writer.js';
import { collectGarbage } from '../../src/runtime/gc.js';
import type { KernelRoute } from '../../src/fib/kernel.js';
import { numberToIpv4 } from '../../src/net/prefix.js';
import type { Pool } from '../../src/fib/route-shape.js';
import { FakeKernel, connected } from './fixtures/fake-kernel.js';

const never: Pool = { cidr: '10.244.0.0/16', ipipMode: 'never', vxlanMode: 'never' };
const always: Pool = { cidr: '10.244.0.0/16', ipipMode: 'always', vxlanMode: 'never' };

async function setup(o: { kernel?: FakeKernel; pools?: Pool[]; staleTimeMs?: number; afterBurst?: (ops: number) => void } = {}) {
  const kernel = o.kernel ?? new FakeKernel();
  if (!kernel.get('10.0.0.0/24')) kernel.add(connected('10.0.0.0/24', 2));
  const clock = new FakeClock();
  // the tick is deferred through the FakeClock: it runs on clock.advance() or fib.flush()
  const fib = new FibSync({ kernel, clock, logger: silentLogger(), staleTimeMs: o.staleTimeMs ?? 120_000, defer: (fn) => clock.setTimer(0, fn), afterBurst: o.afterBurst ?? null });
  const learned: [string, boolean][] = [];
  fib.on('learned', (p, present) => learned.push([p, present]));
  fib.setPools(o.pools ?? [never], '10.0.0.0/24');
  await fib.start();
  await settle(fib);
  return { kernel, clock, fib, learned };
}

/** Lets notifications arrive, then applies and waits. */
async function settle(fib: FibSync): Promise<void> {
  for (let i = 0; i < 3; i++) { await new Promise((r) => setImmediate(r)); await fib.flush(); }
}

t.test('own blocks become blackholes; unset removes them; /32 blocks get none', async (t) => {
  const { kernel, fib, learned } = await setup();
  fib.setOwnBlocks(['10.244.1.0/26', '10.244.7.7/32']);
  await settle(fib);
  t.same(kernel.get('10.244.1.0/26'), { prefix: '10.244.1.0/26', family: 'ipv4', table: 254, protocol: 12, type: 'blackhole', nextHops: [], metric: 0 });
  t.equal(kernel.get('10.244.7.7/32'), undefined);
  t.same(fib.status('10.244.1.0/26'), { state: 'installed' });
  fib.setOwnBlocks([]);
  await settle(fib);
  t.equal(kernel.get('10.244.1.0/26'), undefined);
  t.equal(fib.status('10.244.1.0/26'), undefined);
  t.same(learned, [], 'own blackholes are never reported as learned');
});

t.test('peer route: shaped, replaced on change, removed on withdraw, changes coalesce', async (t) => {
  const { kernel, fib } = await setup();
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  fib.setRoute('10.244.2.0/26', ['10.0.0.13']);
  await settle(fib);
  t.same(kernel.get('10.244.2.0/26')?.nextHops, [{ gateway: '10.0.0.13', ifindex: 2, dev: 'eth0', onlink: false }]);
  t.equal(kernel.writes.filter((w) => w.route.prefix === '10.244.2.0/26').length, 1, 'two changes in one tick: one write');
  fib.setRoute('10.244.2.0/26', ['10.0.0.13', '10.0.0.12']);
  await settle(fib);
  t.same(kernel.get('10.244.2.0/26')?.nextHops.map((n) => n.gateway), ['10.0.0.12', '10.0.0.13']);
  fib.setRoute('10.244.2.0/26', null);
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26'), undefined);
});

t.test('alien routes are never touched, even with the same prefix', async (t) => {
  const kernel = new FakeKernel();
  kernel.add({ prefix: '10.244.5.0/26', protocol: 4, nextHops: [{ gateway: '10.0.0.99', ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '10.244.6.0/26', protocol: 4, metric: 100, nextHops: [{ gateway: '10.0.0.99', ifindex: 2, onlink: false }] });
  const { fib } = await setup({ kernel });
  fib.setRoute('10.244.5.0/26', ['10.0.0.12']);
  fib.setRoute('10.244.6.0/26', ['10.0.0.12']);
  await settle(fib);
  t.equal(kernel.get('10.244.5.0/26')?.protocol, 4, 'same slot: alien kept');
  t.equal(fib.status('10.244.5.0/26')?.state, 'pending');
  t.equal(fib.status('10.244.5.0/26')?.code, 'ERR_FIB_ALIEN_ROUTE');
  t.equal(kernel.get('10.244.6.0/26', 100)?.protocol, 4, 'other metric: alien kept');
  t.equal(kernel.get('10.244.6.0/26', 0)?.protocol, 12, 'and ours added alongside');
  fib.setRoute('10.244.5.0/26', null);
  fib.setRoute('10.244.6.0/26', null);
  await settle(fib);
  t.equal(kernel.get('10.244.5.0/26')?.protocol, 4);
  t.equal(kernel.get('10.244.6.0/26', 100)?.protocol, 4);
  t.ok(kernel.writes.every((w) => w.route.protocol === 12), 'every write carries protocol bird');
  // the alien goes away: ours is installed
  fib.setRoute('10.244.5.0/26', ['10.0.0.12']);
  await settle(fib);
  kernel.del('10.244.5.0/26');
  await settle(fib);
  t.equal(kernel.get('10.244.5.0/26')?.protocol, 12);
  t.same(fib.status('10.244.5.0/26'), { state: 'installed' });
});

t.test('learned: proto-bird blackholes/device routes inside an enabled pool, not ours', async (t) => {
  const { kernel, fib, learned } = await setup();
  kernel.add({ prefix: '10.244.9.0/26', protocol: 12, type: 'blackhole' });
  kernel.add({ prefix: '10.244.3.5/32', protocol: 12, scope: 253, nextHops: [{ ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '192.168.9.0/26', protocol: 12, type: 'blackhole' });
  kernel.add({ prefix: '10.244.8.0/26', protocol: 4, type: 'blackhole' });
  await settle(fib);
  t.same(learned, [['10.244.9.0/26', true], ['10.244.3.5/32', true], ['10.244.8.0/26', true]], 'an alien (proto static) blackhole in a pool too');
  kernel.del('10.244.9.0/26');
  await settle(fib);
  t.same(learned.at(-1), ['10.244.9.0/26', false]);
  // a pool removed: its learned routes go
  fib.setPools([]);
  await settle(fib);
  t.same(learned.slice(-2).sort(), [['10.244.3.5/32', false], ['10.244.8.0/26', false]]);
  // a learned route is not overwritten by a BGP route for the same prefix
  fib.setPools([never]);
  await settle(fib);
  fib.setRoute('10.244.3.5/32', ['10.0.0.12']);
  await settle(fib);
  t.equal(kernel.get('10.244.3.5/32', 0)?.nextHops[0]?.gateway, undefined);
  t.equal(fib.status('10.244.3.5/32')?.code, 'ERR_FIB_LEARNED_ROUTE');
});

t.test('learned as BIRD `learn` imports: alien routes of any shape in a pool, never kernel/redirect ones', async (t) => {
  const disabled: Pool = { cidr: '10.245.0.0/16', ipipMode: 'never', vxlanMode: 'never', disabled: true };
  const { kernel, fib, learned } = await setup({ pools: [never, disabled] });
  // Felix's route for a pod whose address was borrowed from another node's block: proto boot (3)
  kernel.add({ prefix: '10.244.7.9/32', protocol: 3, scope: 253, nextHops: [{ ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '10.244.6.0/26', protocol: 16, nextHops: [{ gateway: '10.0.0.99', ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '10.245.1.0/26', protocol: 4, type: 'blackhole' }); // a disabled pool still learns
  kernel.add({ prefix: '10.244.5.0/26', protocol: 2, scope: 253, nextHops: [{ ifindex: 2, onlink: false }] }); // kernel: never
  kernel.add({ prefix: '10.244.4.0/26', protocol: 1, type: 'blackhole' }); // redirect: never
  kernel.add({ prefix: '10.99.0.0/26', protocol: 3, type: 'blackhole' }); // outside every pool
  kernel.add({ prefix: '10.244.2.0/26', protocol: 12, nextHops: [{ gateway: '10.0.0.98', ifindex: 2, onlink: false }] }); // proto bird via a gateway: a route like ours
  await settle(fib);
  t.same(learned, [['10.244.7.9/32', true], ['10.244.6.0/26', true], ['10.245.1.0/26', true]]);
  kernel.del('10.244.7.9/32');
  await settle(fib);
  t.same(learned.at(-1), ['10.244.7.9/32', false], 'the pod went: unlearned');
});

t.test('restart adoption: kept until End-of-RIB, then undesired ones removed', async (t) => {
  const kernel = new FakeKernel();
  const via = (gw: string) => ({ protocol: 12, nextHops: [{ gateway: gw, ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '10.244.20.0/26', ...via('10.0.0.20') });
  kernel.add({ prefix: '10.244.21.0/26', ...via('10.0.0.21') });
  kernel.add({ prefix: '10.244.22.0/26', ...via('10.0.0.99') });
  kernel.add({ prefix: '10.244.30.0/26', protocol: 12, type: 'blackhole' });
  const { fib, learned } = await setup({ kernel });
  t.equal(kernel.routes.size, 5, 'nothing removed at start');
  fib.setRoute('10.244.20.0/26', ['10.0.0.20']);
  fib.setRoute('10.244.22.0/26', ['10.0.0.22']);
  await settle(fib);
  t.equal(kernel.get('10.244.22.0/26')?.nextHops[0]?.gateway, '10.0.0.22', 'desired routes written at once');
  t.ok(kernel.get('10.244.21.0/26'), 'stale route kept during the window');
  fib.endOfRibAll();
  await settle(fib);
  t.equal(kernel.get('10.244.21.0/26'), undefined, 'swept');
  t.ok(kernel.get('10.244.20.0/26'));
  t.ok(kernel.get('10.244.30.0/26'), 'a proto-bird blackhole is never swept');
  t.same(learned, [['10.244.30.0/26', true]]);
});

t.test('restart adoption: the stale timer sweeps without End-of-RIB', async (t) => {
  const kernel = new FakeKernel();
  kernel.add({ prefix: '10.244.21.0/26', protocol: 12, nextHops: [{ gateway: '10.0.0.21', ifindex: 2, onlink: false }] });
  const { fib, clock } = await setup({ kernel, staleTimeMs: 5000 });
  clock.advance(4999);
  await settle(fib);
  t.ok(kernel.get('10.244.21.0/26'));
  clock.advance(1);
  await settle(fib);
  t.equal(kernel.get('10.244.21.0/26'), undefined);
});

t.test('own block found at start is adopted as ours, not learned', async (t) => {
  const kernel = new FakeKernel();
  kernel.add({ prefix: '10.244.1.0/26', protocol: 12, type: 'blackhole' });
  kernel.add(connected('10.0.0.0/24', 2));
  const clock = new FakeClock();
  const fib = new FibSync({ kernel, clock, logger: silentLogger(), defer: (fn) => clock.setTimer(0, fn) });
  const learned: unknown[] = [];
  fib.on('learned', (...a) => learned.push(a));
  fib.setPools([never]);
  fib.setOwnBlocks(['10.244.1.0/26']);
  await fib.start();
  await settle(fib);
  t.same(learned, []);
  t.equal(kernel.writes.length, 0, 'already right: nothing written');
  t.same(fib.status('10.244.1.0/26'), { state: 'installed' });
});

t.test('a learned route on a *.cali / *.calico device is marked as a tunnel route', async (t) => {
  const kernel = new FakeKernel([{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }, { ifindex: 7, name: 'vxlan.calico', up: true }]);
  const { fib, learned } = await setup({ kernel });
  kernel.add({ prefix: '10.244.9.0/26', protocol: 80, type: 'unicast', nextHops: [{ gateway: '10.244.9.0', ifindex: 7, onlink: true }] });
  kernel.add({ prefix: '10.244.8.9/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }] });
  await settle(fib);
  t.same(learned.filter(([p]) => p !== '10.0.0.0/24'), [['10.244.9.0/26', true], ['10.244.8.9/32', true]], 'both learned');
  t.equal(fib.learnedOnTunnel('10.244.9.0/26'), true, 'vxlan.calico: tunnel');
  t.equal(fib.learnedOnTunnel('10.244.8.9/32'), false, 'eth0: not a tunnel');
});

t.test('interfaces (BIRD ifname): a learned route\'s device; the device a next hop is reached through', async (t) => {
  const kernel = new FakeKernel([{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }, { ifindex: 3, name: 'eth1', up: true }]);
  kernel.add(connected('192.168.50.0/24', 3));
  kernel.add({ prefix: '0.0.0.0/0', protocol: 3, type: 'unicast', nextHops: [{ gateway: '192.168.50.1', ifindex: 3, onlink: false }] });
  const { fib, learned, clock } = await setup({ kernel });
  let changed = 0;
  fib.on('interfaces', () => changed++);
  kernel.add({ prefix: '10.244.8.9/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }] });
  kernel.add({ prefix: '10.244.9.0/26', protocol: 4, type: 'blackhole', nextHops: [] });
  await settle(fib);
  t.equal(fib.learnedInterface('10.244.8.9/32'), 'eth0');
  t.equal(fib.learnedInterface('10.244.9.0/26'), '', 'a blackhole has no interface');
  t.equal(fib.learnedInterface('10.244.7.0/26'), '', 'not learned');
  t.equal(fib.interfaceToward('10.0.0.7'), 'eth0', 'on a connected network');
  t.equal(fib.interfaceToward('192.168.50.9'), 'eth1');
  t.equal(fib.interfaceToward('198.51.100.1'), 'eth1', 'through the default route');
  t.equal(fib.interfaceToward('fd00::1'), '', 'unreachable');
  kernel.add({ prefix: 'fd00:1::/64', family: 'ipv6', protocol: 2, type: 'unicast', nextHops: [{ ifindex: 3, onlink: false }] });
  await settle(fib);
  t.equal(fib.interfaceToward('fd00:1::5'), 'eth1', 'IPv6: longest match too');

  // The learned route moves to another device: reported as a change of the same prefix.
  kernel.del('10.244.8.9/32');
  kernel.add({ prefix: '10.244.8.9/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 3, onlink: false }] });
  learned.length = 0;
  await settle(fib);
  t.same(learned.at(-1), ['10.244.8.9/32', true]);
  t.equal(fib.learnedInterface('10.244.8.9/32'), 'eth1');

  // A more specific kernel route toward a cached next hop: the answer changes, 'interfaces' fires.
  kernel.add(connected('198.51.100.0/24', 2));
  await settle(fib);
  clock.advance(1);
  t.ok(changed >= 1, 'interfaces reported');
  t.equal(fib.interfaceToward('198.51.100.1'), 'eth0');
  const before = changed;
  kernel.setLink({ ifindex: 2, name: 'eth0-renamed', up: true });
  await settle(fib);
  clock.advance(1);
  t.ok(changed > before, 'a link change voids the answers');
  t.equal(fib.interfaceToward('198.51.100.1'), 'eth0-renamed');
});

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
