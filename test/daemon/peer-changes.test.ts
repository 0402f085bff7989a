// Configuration changes applied to established sessions (src/daemon/peer-changes.ts) through
// the routing core with stand-in peer handles: a changed or cleared route reflector cluster
// id makes every established iBGP peer send its routes again (RFC 4456 §8): ROUTE-REFRESH
// toward a peer that negotiated it (RFC 2918), a restarted session (Cease 6/6) toward one
// that did not. The session restart itself (the NOTIFICATION on the wire, the session coming
// back on the same handle) is tested in test/bgp/session/handle.test.ts.
import t, { type Test } from 'tap';
import { RoutingCore } from '../../src/daemon/routing.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import { EOR, FakePeer, coreConfig, route } from '../rib/fixtures/core.js';

const OLD = '244.0.0.1';
const NEW = '244.0.0.2';
const PREFIX = '10.244.9.0/26';

/** A route peer 3 reflects from another cluster that has passed through cluster OLD. */
function looped(): UpdateMessage {
  const u = route(PREFIX, '10.77.0.9');
  return { ...u, attributes: { ...u.attributes, originatorId: '10.77.0.9', clusterList: ['244.0.0.7', OLD] } } as UpdateMessage;
}

function setup(t: Test) {
  const cfg = coreConfig([2, 3], OLD);
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  core.expectEndOfRib([]);
  const spec = (n: number) => cfg.peers.find((p) => p.address === `10.77.0.${n}`)!;
  const withRefresh = new FakePeer(spec(2));
  const withoutRefresh = new FakePeer(spec(3), { routeRefresh: false });
  core.onEstablished(withRefresh.handle);
  core.onEstablished(withoutRefresh.handle);
  return { core, withRefresh, withoutRefresh };
}

t.test('a changed cluster id: ROUTE-REFRESH to a peer that negotiated it, a restarted session to one that did not', async (t) => {
  const { core, withRefresh, withoutRefresh } = setup(t);
  core.onUpdate(withoutRefresh.handle, looped());
  core.onUpdate(withoutRefresh.handle, EOR);
  core.rib.flush();
  t.notOk(core.rib.lookup(PREFIX)?.paths.length, 'a route with our cluster id in CLUSTER_LIST is dropped (RFC 4456 §8)');

  core.setConfig(coreConfig([2, 3], NEW));
  t.same(withRefresh.sent.map((m) => m.type === 'routeRefresh' && [m.afi, m.safi, m.subtype]), [[1, 1, 0]], 'route refresh: one request for IPv4 unicast');
  t.equal(withRefresh.restarts, 0, 'route refresh: the session stays');
  t.same(withoutRefresh.sent, [], 'no route refresh: no request it could not answer');
  t.equal(withoutRefresh.restarts, 1, 'no route refresh: its session is restarted (Cease 6/6)');

  // The session comes back (graceful restart kept its routes) and the peer sends its table again.
  core.onDown(withoutRefresh.handle, 'configChanged', true);
  core.onEstablished(withoutRefresh.handle);
  core.onUpdate(withoutRefresh.handle, looped());
  core.onUpdate(withoutRefresh.handle, EOR);
  core.rib.flush();
  t.equal(core.rib.lookup(PREFIX)?.paths.length, 1, 'the route dropped under the old id is held under the new one');
});

t.test('a cleared cluster id restarts the session of a peer without route refresh; the same configuration again does nothing', async (t) => {
  const { core, withRefresh, withoutRefresh } = setup(t);
  core.setConfig(coreConfig([2, 3], OLD));
  t.equal(withoutRefresh.restarts + withRefresh.restarts + withRefresh.sent.length, 0, 'the cluster id unchanged: nothing');
  core.setConfig(coreConfig([2, 3]));
  t.equal(withoutRefresh.restarts, 1, 'cleared: restarted');
  t.equal(withRefresh.sent.length, 1, 'cleared: asked for a refresh');
  core.setConfig(coreConfig([2, 3]));
  t.equal(withoutRefresh.restarts, 1, 'still none: nothing more');
  t.equal(withRefresh.sent.length, 1);
});
