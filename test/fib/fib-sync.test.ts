// FibSync over a fake kernel: shaping, ownership, learning, restart adoption, interfaces.
import t from 'tap';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { FibSync, MAX_INFLIGHT } from '../../src/fib/fib-sync.js';
import type { Pool } from '../../src/fib/route-shape.js';
import { FakeKernel, connected } from './fixtures/fake-kernel.js';
import { never, settle, setup } from './fixtures/fib-sync-setup.js';

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

t.test('a burst past MAX_INFLIGHT: each prefix queued once however often marked, each written once', async (t) => {
  const { kernel, fib } = await setup();
  const n = MAX_INFLIGHT * 2 + 100;
  const prefix = (i: number): string => `10.244.${i >> 8}.${i & 0xff}/32`;
  for (let i = 0; i < n; i++) fib.setRoute(prefix(i), ['10.0.0.12']);
  for (let i = 0; i < n; i += 3) fib.setRoute(prefix(i), ['10.0.0.13']); // marked again while queued
  t.equal(fib.backlog, n, 'one entry per prefix');
  await settle(fib);
  t.equal(fib.backlog, 0);
  t.equal(kernel.writes.filter((w) => w.route.prefix.startsWith('10.244.')).length, n, 'one write per prefix');
  t.same(kernel.get(prefix(3))?.nextHops.map((h) => h.gateway), ['10.0.0.13'], 'the last change of a prefix marked twice');
  t.same(kernel.get(prefix(4))?.nextHops.map((h) => h.gateway), ['10.0.0.12']);
  t.equal(fib.stats().installed, n);
  fib.setRoute(prefix(4), ['10.0.0.13']); // taken off the queue: marked again, written again
  t.equal(fib.backlog, 1);
  await settle(fib);
  t.same(kernel.get(prefix(4))?.nextHops.map((h) => h.gateway), ['10.0.0.13']);
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

t.test('metric (BIRD krt_metric) and interface of a learned route: those of its lowest-metric route, 0 for IPv4 without one; a change is reported', async (t) => {
  const kernel = new FakeKernel([{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }, { ifindex: 3, name: 'cali1', up: true }]);
  const { fib, learned } = await setup({ kernel });
  kernel.add({ prefix: '10.244.8.9/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }], metric: 1024 });
  kernel.add({ prefix: '10.244.8.9/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 3, onlink: false }], metric: 512 });
  kernel.add({ prefix: '10.244.8.10/32', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }] });
  await settle(fib);
  t.equal(fib.learnedMetric('10.244.8.9/32'), 512, 'two routes: BIRD learns the lower metric');
  t.equal(fib.learnedInterface('10.244.8.9/32'), 'cali1', 'and its interface');
  t.equal(fib.learnedMetric('10.244.8.10/32'), 0, 'IPv4 metric 0 (no RTA_PRIORITY): BIRD reads 0');
  t.equal(fib.learnedMetric('10.244.7.0/26'), undefined, 'not learned');
  learned.length = 0;
  kernel.del('10.244.8.9/32', 512);
  await settle(fib);
  t.same(learned, [['10.244.8.9/32', true]], 'the metric changed: reported as a change of the same prefix');
  t.equal(fib.learnedMetric('10.244.8.9/32'), 1024);
  t.equal(fib.learnedInterface('10.244.8.9/32'), 'eth0');
});

t.test('routes learned for BGPFilter export (learnExtra): a connected subnet wins over kernel routes; else the lowest metric', async (t) => {
  const kernel = new FakeKernel([{ ifindex: 1, name: 'lo', up: true }, { ifindex: 2, name: 'eth0', up: true }, { ifindex: 3, name: 'eth1', up: true }]);
  kernel.add({ prefix: '192.168.50.0/24', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }], metric: 50 });
  kernel.add(connected('192.168.50.0/24', 3));
  kernel.add({ prefix: '192.168.60.0/24', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }], metric: 200 });
  kernel.add({ prefix: '192.168.60.0/24', protocol: 3, type: 'unicast', nextHops: [{ ifindex: 3, onlink: false }], metric: 100 });
  const { fib } = await setup({ kernel });
  fib.setLearnExtra(true);
  await settle(fib);
  t.equal(fib.learnedInterface('192.168.50.0/24'), 'eth1', 'the connected subnet (BIRD protocol direct, preference 240)');
  t.equal(fib.learnedMetric('192.168.50.0/24'), undefined, 'which has no krt_metric');
  t.equal(fib.learnedInterface('192.168.60.0/24'), 'eth1', 'two kernel routes: the lower metric\'s device');
  t.equal(fib.learnedMetric('192.168.60.0/24'), 100, 'and its metric');
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

t.test('no route set to none where there was none marks nothing; a withdrawal, an own block and a route written still do', async (t) => {
  const { kernel, fib } = await setup();
  kernel.add({ prefix: '10.244.9.0/26', protocol: 12, type: 'blackhole' }); // learned: its local path comes back as "no BGP route"
  await settle(fib);
  fib.setRoute('10.244.9.0/26', null);
  fib.setRoute('10.244.10.0/26', null);
  t.equal(fib.backlog, 0, 'nothing dirty, no tick due');
  fib.setRoute('10.244.2.0/26', ['10.0.0.12']);
  await settle(fib);
  t.ok(kernel.get('10.244.2.0/26'));
  fib.setRoute('10.244.2.0/26', null);
  t.equal(fib.backlog, 1, 'a withdrawal is applied');
  await settle(fib);
  t.equal(kernel.get('10.244.2.0/26'), undefined);
  fib.setOwnBlocks(['10.244.1.0/26']);
  await settle(fib);
  fib.setRoute('10.244.1.0/26', null);
  t.equal(fib.backlog, 1, 'an own block is reconciled again');
  await settle(fib);
  t.equal(kernel.get('10.244.1.0/26')?.type, 'blackhole');
});
