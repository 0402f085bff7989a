// RFC 4724 §4.2 receiving speaker: stale keep, sweep after End-of-RIB, timer expiry.
import t from 'tap';
import { FakeClock } from '../../src/util/clock.js';
import { GracefulRestartHelper } from '../../src/rib/graceful-restart.js';
import type { BestChange } from '../../src/rib/loc-rib.js';
import { makeRib, addPeer, attrs, announce } from './fixtures/helpers.js';

const K = '10.0.0.2|179';

function setup() {
  const rib = makeRib();
  const clock = new FakeClock();
  const gr = new GracefulRestartHelper(rib, clock);
  addPeer(rib, 2);
  for (let i = 0; i < 3; i++) announce(rib, K, `10.244.${i}.0/26`, attrs());
  rib.flush();
  const changes: BestChange[] = [];
  rib.onBestChange((c) => changes.push(...c));
  return { rib, clock, gr, changes };
}

const down = { gracefulRestartApplies: true, restartTime: 120, families: ['ipv4'] as const };

t.test('session down with GR: paths stay, stale, still best; no change notified', async (t) => {
  const { rib, gr, changes } = setup();
  t.equal(gr.peerDown(K, { ...down, families: ['ipv4'] }), 'stale');
  rib.flush();
  t.equal(changes.length, 0);
  const r = rib.lookup('10.244.0.0/26')!;
  t.equal(r.best!.stale, true);
  t.equal(rib.staleCount(K, 'ipv4'), 3);
  t.equal(gr.state(K), 'restarting');
});

t.test('re-established: stale kept until End-of-RIB, then the ones not re-advertised are swept', async (t) => {
  const { rib, clock, gr, changes } = setup();
  gr.peerDown(K, { ...down, families: ['ipv4'] });
  clock.advance(60_000);
  addPeer(rib, 2);
  gr.peerUp(K, { preservedFamilies: ['ipv4'] });
  t.equal(gr.state(K), 'awaitingEndOfRib');
  announce(rib, K, '10.244.0.0/26', attrs()); // same attributes: just un-staled
  announce(rib, K, '10.244.1.0/26', attrs({ med: 9 })); // changed
  rib.flush();
  t.equal(rib.staleCount(K, 'ipv4'), 1, '10.244.2.0/26 still stale, still there');
  t.ok(rib.lookup('10.244.2.0/26'));
  t.equal(gr.endOfRib(K, 'ipv4'), 1);
  rib.flush();
  t.equal(rib.lookup('10.244.2.0/26'), undefined);
  t.ok(rib.lookup('10.244.0.0/26'));
  t.same(changes.map((c) => c.prefix), ['10.244.1.0/26', '10.244.2.0/26']);
  t.equal(gr.state(K), 'none');
  t.equal(clock.pendingTimers(), 0);
});

t.test('restart timer expiry removes everything of the peer', async (t) => {
  const { rib, clock, gr } = setup();
  gr.peerDown(K, { ...down, families: ['ipv4'] });
  clock.advance(119_999);
  rib.flush();
  t.equal(rib.size('ipv4'), 3);
  clock.advance(1);
  rib.flush();
  t.equal(rib.size('ipv4'), 0);
  t.equal(gr.state(K), 'none');
});

t.test('stale timer bounds the wait for End-of-RIB after re-establishment', async (t) => {
  const { rib, clock, gr } = setup();
  gr.peerDown(K, { ...down, families: ['ipv4'] });
  gr.peerUp(K, { preservedFamilies: ['ipv4'] });
  announce(rib, K, '10.244.0.0/26', attrs());
  clock.advance(360_000);
  rib.flush();
  t.same([...rib.routes('ipv4')].map((r) => r.prefix), ['10.244.0.0/26'], 'fresh path kept, stale ones swept');
});

t.test('session down without GR, or GR capability gone on re-establishment: removed at once', async (t) => {
  const a = setup();
  t.equal(a.gr.peerDown(K, { ...down, families: ['ipv4'], gracefulRestartApplies: false }), 'removed');
  a.rib.flush();
  t.equal(a.rib.size('ipv4'), 0);
  const b = setup();
  b.gr.peerDown(K, { ...down, families: ['ipv4'] });
  b.gr.peerUp(K, { preservedFamilies: null });
  b.rib.flush();
  t.equal(b.rib.size('ipv4'), 0, 'no forwarding state preserved: stale routes deleted (RFC 4724 §4.2)');
  t.equal(b.clock.pendingTimers(), 0);
});

t.test('down again before End-of-RIB: everything stale again, restart timer starts over', async (t) => {
  const { rib, clock, gr } = setup();
  gr.peerDown(K, { ...down, families: ['ipv4'] });
  gr.peerUp(K, { preservedFamilies: ['ipv4'] });
  announce(rib, K, '10.244.0.0/26', attrs());
  gr.peerDown(K, { ...down, families: ['ipv4'] });
  t.equal(rib.staleCount(K, 'ipv4'), 3);
  clock.advance(119_000);
  rib.flush();
  t.equal(rib.size('ipv4'), 3);
  clock.advance(1_000);
  rib.flush();
  t.equal(rib.size('ipv4'), 0);
});

t.test('families outside the GR capability are removed on session down', async (t) => {
  const { rib, gr } = setup();
  addPeer(rib, 2);
  announce(rib, K, 'fd00:1::/122', { origin: 0, asPath: [], nextHop: 'fd00::2' });
  rib.flush();
  gr.peerDown(K, { ...down, families: ['ipv6'] });
  rib.flush();
  t.equal(rib.size('ipv4'), 0);
  t.equal(rib.size('ipv6'), 1);
  t.same(gr.staleFamilies(K), ['ipv6']);
});

t.test('paths are shared between prefixes; stale marking swaps in a twin per prefix', async (t) => {
  const { rib, changes } = setup();
  addPeer(rib, 3);
  const K3 = '10.0.0.3|179';
  announce(rib, K3, '10.244.1.0/26', attrs()); // a second path: multipath of two
  rib.flush();
  changes.length = 0;
  const a = rib.lookup('10.244.0.0/26')!.best!;
  t.equal(rib.lookup('10.244.2.0/26')!.best, a, 'same source, path id and attributes: one Path');
  t.equal(rib.markStale(K, 'ipv4'), 3);
  const b = rib.lookup('10.244.0.0/26')!.best!;
  t.not(b, a);
  t.same([b.stale, a.stale, b.attrs === a.attrs, b.source === a.source], [true, false, true, true]);
  const m = rib.lookup('10.244.1.0/26')!;
  t.equal(m.multipath.filter((p) => p.stale).length, 1, 'stale twin in the multipath set too');
  t.ok(m.multipath.every((p) => m.paths.includes(p)));
  announce(rib, K, '10.244.0.0/26', attrs()); // re-advertised unchanged: fresh again, this prefix only
  t.equal(rib.lookup('10.244.0.0/26')!.best, a);
  t.equal(rib.lookup('10.244.2.0/26')!.best!.stale, true);
  t.equal(rib.staleCount(K, 'ipv4'), 2);
  rib.flush();
  t.equal(changes.length, 0, 'stale marking and un-marking notify nothing');
});
