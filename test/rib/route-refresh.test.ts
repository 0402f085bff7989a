// Route refresh through the routing core: RFC 2918 requests answered with the advertised
// routes, framed by BoRR/EoRR when enhanced route refresh (RFC 7313) was negotiated; BoRR/EoRR
// from the peer mark and sweep its stale paths; unknown subtypes, and BoRR/EoRR without the
// capability, are ignored.
import t, { type Test } from 'tap';
import type { RouteRefreshMessage } from '../../src/bgp/wire/types.js';
import { EOR, FakePeer, makeCore, route, summary } from './fixtures/core.js';

const rr = (subtype: number, afi = 1): RouteRefreshMessage => ({ type: 'routeRefresh', afi, safi: 1, subtype });
const BLOCK = '10.244.1.0/26';

function setup(t: Test, enhanced: boolean) {
  const { core, spec } = makeCore([2]);
  t.teardown(() => core.close());
  core.expectEndOfRib([]); // not restarting
  core.rib.setLocal(BLOCK, { origin: 0, asPath: [], nextHop: '10.77.0.1' }, 'local:block');
  core.rib.flush();
  const peer = new FakePeer(spec(2), { enhancedRouteRefresh: enhanced });
  core.onEstablished(peer.handle);
  t.same(summary(peer.take()), [`U:${BLOCK}`, 'EoR'], 'initial table');
  return { core, peer };
}

t.test('enhanced route refresh negotiated: BoRR, the routes, EoRR', async (t) => {
  const { core, peer } = setup(t, true);
  core.onRouteRefresh(peer.handle, rr(0));
  t.same(summary(peer.take()), ['BoRR', `U:${BLOCK}`, 'EoRR']);
  core.onRouteRefresh(peer.handle, rr(0, 2));
  t.same(summary(peer.take()), [], 'a family the session does not carry: nothing');
});

t.test('plain route refresh: the routes only', async (t) => {
  const { core, peer } = setup(t, false);
  core.onRouteRefresh(peer.handle, rr(0));
  t.same(summary(peer.take()), [`U:${BLOCK}`]);
});

t.test('unknown subtypes, and BoRR/EoRR without the capability, are ignored (RFC 7313 §5)', async (t) => {
  for (const enhanced of [true, false]) {
    const { core, peer } = setup(t, enhanced);
    for (const st of enhanced ? [3, 128, 255] : [1, 2, 3, 255]) core.onRouteRefresh(peer.handle, rr(st));
    core.rib.flush();
    t.same(summary(peer.take()), [], `enhanced=${enhanced}: nothing sent`);
  }
});

t.test('receiving: BoRR marks the peer\'s paths stale, EoRR removes those not re-advertised (RFC 7313 §4.2)', async (t) => {
  for (const enhanced of [true, false]) {
    const { core, peer } = setup(t, enhanced);
    core.onUpdate(peer.handle, route('10.244.2.0/26', '10.77.0.2'));
    core.onUpdate(peer.handle, route('10.244.3.0/26', '10.77.0.2'));
    core.rib.flush();
    core.onRouteRefresh(peer.handle, rr(1));
    core.onUpdate(peer.handle, route('10.244.2.0/26', '10.77.0.2'));
    core.rib.flush();
    t.ok(core.rib.lookup('10.244.3.0/26'), `enhanced=${enhanced}: a stale path stays usable until EoRR`);
    core.onRouteRefresh(peer.handle, rr(2));
    core.rib.flush();
    t.ok(core.rib.lookup('10.244.2.0/26')?.paths.length, 're-advertised path kept');
    if (enhanced) t.notOk(core.rib.lookup('10.244.3.0/26')?.paths.length, 'not re-advertised: removed at EoRR');
    else t.ok(core.rib.lookup('10.244.3.0/26')?.paths.length, 'without the capability BoRR/EoRR change nothing');
  }
});

t.test('a refresh request during selection deferral: nothing until the release, then the table once', async (t) => {
  const { core, cfg, spec } = makeCore([2]);
  t.teardown(() => core.close());
  core.deferAdvertisement();
  core.expectEndOfRib(cfg.peers);
  core.rib.setLocal(BLOCK, { origin: 0, asPath: [], nextHop: '10.77.0.1' }, 'local:block');
  core.rib.flush();
  const peer = new FakePeer(spec(2), { enhancedRouteRefresh: true });
  core.onEstablished(peer.handle);
  core.onRouteRefresh(peer.handle, rr(0));
  t.same(summary(peer.take()), [], 'held');
  core.onUpdate(peer.handle, EOR);
  t.same(summary(peer.take()), [`U:${BLOCK}`, 'EoR']);
});
