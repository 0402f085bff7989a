// Selection deferral after a restart (RFC 4724 §4.1): with forwarding state kept, nothing is
// advertised, End-of-RIB included, until every GR-capable peer that is not itself restarting
// has sent End-of-RIB, or the deferral timer ends recovery. A restarting reflector never
// tells a client its table is complete before the other clients' routes are in.
import t from 'tap';
import { EOR, FakePeer, grCap, makeCore, route, summary } from './fixtures/core.js';

t.test('deferred until every peer sent End-of-RIB; then the whole table and End-of-RIB', async (t) => {
  const { core, cfg, spec } = makeCore([2, 3]);
  t.teardown(() => core.close());
  core.deferAdvertisement();
  core.expectEndOfRib(cfg.peers);
  const p2 = new FakePeer(spec(2)), p3 = new FakePeer(spec(3));
  core.onEstablished(p2.handle);
  core.onEstablished(p3.handle);
  core.onUpdate(p2.handle, route('10.244.2.0/26', '10.77.0.2'));
  core.onUpdate(p2.handle, EOR);
  core.rib.flush();
  t.same(summary(p2.take()), [], 'nothing to the peer that sent End-of-RIB');
  t.same(summary(p3.take()), [], 'nothing to the peer still sending');
  t.ok(core.recovering && core.deferringAdvertisement);
  core.onUpdate(p3.handle, route('10.244.3.0/26', '10.77.0.3'));
  core.rib.flush();
  t.same(summary(p3.take()), [], 'still deferred');
  core.onUpdate(p3.handle, EOR);
  t.notOk(core.deferringAdvertisement, 'deferral over');
  // iBGP non-clients: our own routes only (none here); End-of-RIB after the walk.
  t.same(summary(p2.take()), ['EoR']);
  t.same(summary(p3.take()), ['EoR']);
});

t.test('the deferral timer (endRecovery) ends it while a peer has not sent End-of-RIB', async (t) => {
  const { core, cfg, spec } = makeCore([2, 3]);
  t.teardown(() => core.close());
  core.deferAdvertisement();
  core.expectEndOfRib(cfg.peers);
  const p2 = new FakePeer(spec(2));
  core.onEstablished(p2.handle);
  core.onUpdate(p2.handle, EOR);
  t.same(summary(p2.take()), []);
  core.endRecovery();
  t.same(summary(p2.take()), ['EoR']);
});

t.test('peers without GR, or restarting themselves, are not waited for (RFC 4724 §4.1 (a))', async (t) => {
  for (const [name, gr] of [['no GR capability', null], ['Restart State set', grCap({ restarting: true })]] as const) {
    const { core, cfg, spec } = makeCore([2, 3]);
    core.deferAdvertisement();
    core.expectEndOfRib(cfg.peers);
    const p2 = new FakePeer(spec(2)), p3 = new FakePeer(spec(3), { gr });
    core.onEstablished(p3.handle);
    core.onEstablished(p2.handle);
    t.ok(core.deferringAdvertisement, `${name}: still waiting for the GR-capable peer`);
    core.onUpdate(p2.handle, EOR);
    t.notOk(core.deferringAdvertisement, `${name}: over with the GR-capable peer's End-of-RIB`);
    t.same(summary(p3.take()), ['EoR']);
    core.close();
  }
});

t.test('restarting reflector: a client gets End-of-RIB only after the other clients\' routes', async (t) => {
  const { core, cfg, spec } = makeCore([11, 12, 13], { reflector: true });
  t.teardown(() => core.close());
  t.ok(cfg.peers.every((p) => p.routeReflectorClient), 'clients');
  core.deferAdvertisement();
  core.expectEndOfRib(cfg.peers);
  const c = [11, 12, 13].map((n) => new FakePeer(spec(n)));
  for (const p of c) core.onEstablished(p.handle);
  core.onUpdate(c[0]!.handle, EOR); // client 11 has nothing and is done at once
  for (const [i, n] of [[1, 12], [2, 13]] as const) {
    core.onUpdate(c[i]!.handle, route(`10.244.${n}.0/26`, `10.77.0.${n}`));
    core.rib.flush();
    t.same(summary(c[0]!.take()), [], `nothing to client 11 while client ${n} is sending`);
    core.onUpdate(c[i]!.handle, EOR);
  }
  core.rib.flush();
  const got = summary(c[0]!.take());
  t.equal(got.at(-1), 'EoR', 'End-of-RIB last');
  t.same(got.slice(0, -1).join(',').replace(/^U:/, '').split(/,U:|,/).sort(), ['10.244.12.0/26', '10.244.13.0/26'], 'the other clients\' routes before it');
});

t.test('without deferral (first start) End-of-RIB goes out at once', async (t) => {
  const { core, cfg, spec } = makeCore([2, 3]);
  t.teardown(() => core.close());
  core.expectEndOfRib(cfg.peers);
  const p2 = new FakePeer(spec(2));
  core.onEstablished(p2.handle);
  t.same(summary(p2.take()), ['EoR']);
});

t.test('who defers at start: adopted kernel routes, or a reflector without a FIB', async (t) => {
  const { restartPolicy } = await import('../../src/daemon/routing.js');
  t.same(restartPolicy({ adopted: 0, fib: true }), { defer: false, forwardingPreserved: false }, 'first start of a node');
  t.same(restartPolicy({ adopted: 3, fib: true }), { defer: true, forwardingPreserved: true }, 'restart with forwarding state');
  t.same(restartPolicy({ adopted: 0, fib: false, clusterId: '244.0.0.1' }), { defer: true, forwardingPreserved: true }, 'reflector, --no-fib');
  t.same(restartPolicy({ adopted: 0, fib: false }), { defer: false, forwardingPreserved: false }, '--no-fib, not a reflector');
  t.same(restartPolicy({ adopted: 0, fib: true, clusterId: '244.0.0.1' }), { defer: false, forwardingPreserved: false }, 'reflector with a FIB and nothing adopted');
});
