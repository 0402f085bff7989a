// calico-node v3.32's route priority on export and import, from confd's filters
// (bgp_processor.go buildExportFilter / buildImportFilter, template_funcs.go, bird_aggr):
// export: a route learned over BGP keeps its LOCAL_PREF (100 without one), any other gets
// krt_metric = its kernel metric, else N, and LOCAL_PREF = 2147483647 − krt_metric, before the
// peer's BGPFilters; calico_aggr lets a route inside an own block out when krt_metric < N;
// `priority` p matches LOCAL_PREF 2147483647 − p; `setPriority` v sets it, on import too.
// The expected values are written from those rules, not from src/policy/priority.ts.
import t from 'tap';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer, PathMetric } from '../../src/rib/update-group.js';
import type { PathAttributes, UpdateMessage } from '../../src/bgp/wire/types.js';
import type { LocRib } from '../../src/rib/loc-rib.js';
import { compileChain, type FilterChainSpec, type FilterRuleSpec } from '../../src/policy/bgp-filter.js';
import { importFilterOf, pathMetricOf } from '../../src/daemon/route-interfaces.js';
import { exportContextOf } from '../../src/daemon/export-context.js';
import { deriveNodeConfig } from '../../src/peering/index.js';
import { makeRib, addPeer, attrs, announce } from '../rib/fixtures/helpers.js';
import { CTX } from '../rib/fixtures/export-ctx.js';
import { FakeSink, announced, withdrawn } from '../rib/fixtures/sink.js';
import { bgpConfig, node, snapshot } from '../peering/fixtures/snapshot.js';

const MAX = 2147483647;

function peer(kind: 'ibgp' | 'ebgp' | 'client', n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return {
    key: `10.0.0.${n}|179`, family: 'ipv4', ebgp: kind === 'ebgp', peerAs: kind === 'ebgp' ? 65100 : 64512,
    routeReflectorClient: kind === 'client', nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra,
  };
}

function v6(p: OutPeer): OutPeer {
  return { ...p, key: p.key.replace('10.0.0.', 'fd00::'), family: 'ipv6', localAddress: 'fd00::1' };
}

/** LOCAL_PREF of each announced prefix (undefined: not sent). */
function prefs(msgs: UpdateMessage[]): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const m of msgs) for (const n of [...m.nlri, ...(m.attributes.mpReach?.nlri ?? [])]) out[n.prefix] = m.attributes.localPref;
  return out;
}

function chain(...rules: FilterRuleSpec[]): FilterChainSpec {
  return [{ name: 'f', rules }];
}

/** A node with an own block (IPv4 and IPv6), a service CIDR, kernel routes at the given metrics and a route from an iBGP peer. */
function world(metrics: Record<string, number | undefined> = {}) {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal('10.244.1.0/26', attrs({ nextHop: '10.0.0.1' }), 'local:block');
  rib.setLocal('fd00:1::40/122', attrs({ nextHop: 'fd00::1' }), 'local:block');
  rib.setLocal('10.96.0.0/12', attrs({ nextHop: '10.0.0.1' }), 'local:static');
  for (const p of Object.keys(metrics)) rib.setLocal(p, attrs({ nextHop: '10.0.0.1' }), 'local:kernel');
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2', localPref: 2147483135 }));
  rib.flush();
  const metricOf: PathMetric = pathMetricOf({ learnedMetric: (p) => metrics[p] }, new Set(['local:kernel']));
  return { rib, metricOf };
}

t.test('export: LOCAL_PREF per source kind and family; none to eBGP; a learned route keeps its own', async (t) => {
  const { rib, metricOf } = world({ '10.244.9.0/26': 512, '10.244.10.0/26': undefined });
  const out = new AdjRibOutManager(rib, { ...CTX, staticRoutes: ['10.96.0.0/12'] }, { metricOf });
  const ibgp = new FakeSink();
  out.addPeer(peer('ibgp', 3), ibgp);
  t.same(prefs(ibgp.take()), {
    '10.244.1.0/26': MAX - 1024, // own block: no krt_metric, N
    '10.96.0.0/12': MAX - 1024, // service CIDR: the same
    '10.244.9.0/26': MAX - 512, // kernel route at metric 512
    '10.244.10.0/26': MAX - 1024, // a kernel route without a metric (none known): N
  }, 'iBGP: the iBGP-learned route is not sent (split horizon)');
  const six = new FakeSink();
  out.addPeer(v6(peer('ibgp', 3)), six);
  t.same(prefs(six.take()), { 'fd00:1::40/122': MAX - 1024 }, 'IPv6: the same rule');
  const ebgp = new FakeSink();
  out.addPeer(peer('ebgp', 4), ebgp);
  const e = prefs(ebgp.take());
  t.same(Object.keys(e).sort(), ['10.244.1.0/26', '10.244.10.0/26', '10.244.7.0/26', '10.244.9.0/26', '10.96.0.0/12']);
  t.ok(Object.values(e).every((v) => v === undefined), 'no LOCAL_PREF toward eBGP (RFC 4271 §5.1.5)');
});

t.test('export: a reflector passes on a learned route with its LOCAL_PREF, one without it with 100', async (t) => {
  const { rib } = world();
  addPeer(rib, 5, { rrClient: true });
  announce(rib, '10.0.0.5|179', '10.244.20.0/26', attrs({ nextHop: '10.0.0.5' }));
  rib.flush();
  const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' });
  const client = new FakeSink();
  out.addPeer(peer('client', 6), client);
  const p = prefs(client.take());
  t.equal(p['10.244.7.0/26'], 2147483135, 'reflected: the LOCAL_PREF it came with');
  t.equal(p['10.244.20.0/26'], 100, 'came without one: BIRD\'s 100');
  t.equal(p['10.244.1.0/26'], MAX - 1024, 'own block');
});

t.test('export: N from the context, changed live', async (t) => {
  const { rib, metricOf } = world({ '10.244.9.0/26': 512 });
  const ctx = { ...CTX, normalRoutePriority: { ipv4: 2048 } };
  const out = new AdjRibOutManager(rib, ctx, { metricOf });
  const s4 = new FakeSink();
  const s6 = new FakeSink();
  out.addPeer(peer('ibgp', 3), s4);
  out.addPeer(v6(peer('ibgp', 3)), s6);
  t.same(prefs(s4.take()), { '10.244.1.0/26': MAX - 2048, '10.244.9.0/26': MAX - 512 }, 'ipv4NormalRoutePriority 2048');
  t.same(prefs(s6.take()), { 'fd00:1::40/122': MAX - 1024 }, 'IPv6 keeps its default');
  out.setContext({ ...CTX, normalRoutePriority: { ipv6: 300 } });
  t.same(prefs(s4.take()), { '10.244.1.0/26': MAX - 1024 }, 'ipv4 unset again: back to 1024, re-sent; the kernel route is unchanged');
  t.same(prefs(s6.take()), { 'fd00:1::40/122': MAX - 300 });
});

t.test('export: calico_aggr lets a route inside an own block out only below N', async (t) => {
  const { rib, metricOf } = world({ '10.244.1.5/32': 512, '10.244.1.6/32': 1024, '10.244.1.7/32': 0, '10.244.1.8/32': undefined });
  const out = new AdjRibOutManager(rib, CTX, { metricOf });
  const s = new FakeSink();
  out.addPeer(peer('ebgp', 4), s);
  t.same(announced(s.take()).sort(), ['10.244.1.0/26', '10.244.1.5/32', '10.244.1.7/32', '10.244.7.0/26'],
    'metric 512 and 0 are below 1024; 1024 and none (N) are not');
  out.setContext({ ...CTX, normalRoutePriority: { ipv4: 1025 } });
  t.same(announced(s.take()), ['10.244.1.6/32'], 'N 1025, live: metric 1024 is below it');
  out.setContext({ ...CTX, normalRoutePriority: { ipv4: 512 } });
  t.same(withdrawn(s.take()).sort(), ['10.244.1.5/32', '10.244.1.6/32'], 'N 512: only metric 0 stays out');
});

t.test('export: BGPFilter priority matches LOCAL_PREF 2147483647 − priority; setPriority sets it', async (t) => {
  const { rib, metricOf } = world({ '10.244.9.0/26': 512 });
  const out = new AdjRibOutManager(rib, CTX, { metricOf });
  const onlyNormal = compileChain(chain({ action: 'reject', priority: 512 }, { action: 'accept', priority: 1024, operations: [{ setPriority: 100 }] }));
  const s = new FakeSink();
  out.addPeer(peer('ibgp', 3, { exportFilter: onlyNormal }), s);
  t.same(prefs(s.take()), { '10.244.1.0/26': MAX - 100, '10.96.0.0/12': MAX - 100 },
    'the 512 route rejected; the own block and the service CIDR (N) accepted and set to priority 100');
  const e = new FakeSink();
  out.addPeer(peer('ebgp', 4, { exportFilter: compileChain(chain({ action: 'accept', priority: 2147483647 - 2147483135 })) }), e);
  t.ok(announced(e.take()).includes('10.244.7.0/26'), 'a learned route matched on the LOCAL_PREF it came with');
});

/** An UPDATE received from a peer, through its import policy and filter. */
function receive(rib: LocRib, key: string, prefix: string, a: PathAttributes): void {
  rib.applyUpdate(key, { type: 'update', withdrawn: [], attributes: a, nlri: [{ prefix }] });
}

/** Two iBGP peers announce 10.244.7.0/26, the second (through `filter`) 10.244.8.0/26 too. */
function importWorld(filter: FilterChainSpec | undefined) {
  const rib = makeRib();
  addPeer(rib, 2);
  addPeer(rib, 3);
  rib.setImportFilter('10.0.0.3|179', importFilterOf(filter, null));
  receive(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2', localPref: 200 }));
  receive(rib, '10.0.0.3|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.3' }));
  receive(rib, '10.0.0.3|179', '10.244.8.0/26', attrs({ nextHop: '10.0.0.3', localPref: MAX - 512 }));
  rib.flush();
  return rib;
}

t.test('import: setPriority changes best-path selection; operations apply to the route as received on every filter change', async (t) => {
  const plain = importWorld(undefined);
  t.equal(plain.lookup('10.244.7.0/26')?.best?.source.key, '10.0.0.2|179', 'no filter: LOCAL_PREF 200 over 100');
  const ops = chain({ action: 'accept', cidr: '10.244.7.0/26', operator: 'equal', operations: [
    { setPriority: 1024 }, { addCommunity: '65000:7' }, { prependAsPath: [65001] },
  ] });
  const rib = importWorld(ops);
  const best = rib.lookup('10.244.7.0/26')?.best;
  t.equal(best?.source.key, '10.0.0.3|179', 'setPriority 1024: LOCAL_PREF 2147482623 wins');
  t.same(best?.attrs.attrs.localPref, MAX - 1024);
  t.same(best?.attrs.attrs.communities, [65000 * 65536 + 7]);
  t.same(best?.attrs.attrs.asPath, [{ type: 2, asns: [65001] }]);
  // the same filter again (a live change that keeps it): nothing is applied twice
  t.equal(rib.setImportFilter('10.0.0.3|179', importFilterOf(chain(...ops[0]!.rules), null)), 0, 'same result: nothing moved');
  t.same(rib.lookup('10.244.7.0/26')?.best?.attrs.attrs.asPath, [{ type: 2, asns: [65001] }], 'prepended once');
  t.equal(rib.setImportFilter('10.0.0.3|179', importFilterOf(chain({ action: 'accept', operations: [{ prependAsPath: [65002] }] }), null)), 2,
    'another filter: both routes changed from what was received');
  rib.flush();
  t.same(rib.lookup('10.244.7.0/26')?.best?.source.key, '10.0.0.2|179', 'back to the received LOCAL_PREF');
  t.same(rib.lookup('10.244.7.0/26')?.paths.find((p) => p.source.key === '10.0.0.3|179')?.attrs.attrs.asPath, [{ type: 2, asns: [65002] }]);
  t.equal(rib.setImportFilter('10.0.0.3|179', null), 2, 'filter removed: the routes as received');
  rib.flush();
  t.same(rib.lookup('10.244.8.0/26')?.best?.attrs.attrs.asPath ?? [], []);
  t.same(rib.lookup('10.244.8.0/26')?.best?.attrs.attrs.localPref, MAX - 512);
});

t.test('import: priority matches the received LOCAL_PREF (100 without one); a withdrawn changed route is forgotten', async (t) => {
  const rib = importWorld(chain({ action: 'reject', priority: 512 }, { action: 'accept', priority: MAX - 100, operations: [{ setPriority: 1 }] }));
  t.notOk(rib.lookup('10.244.8.0/26'), 'LOCAL_PREF 2147483135 is priority 512: rejected');
  t.equal(rib.lookup('10.244.7.0/26')?.best?.attrs.attrs.localPref, MAX - 1, 'no LOCAL_PREF is 100, priority 2147483547: set to priority 1');
  rib.applyUpdate('10.0.0.3|179', { type: 'update', withdrawn: [{ prefix: '10.244.7.0/26' }], attributes: {}, nlri: [] });
  rib.flush();
  t.equal(rib.setImportFilter('10.0.0.3|179', null), 1, 'only the held 10.244.8.0/26 comes back');
  rib.flush();
  t.equal(rib.lookup('10.244.7.0/26')?.paths.length, 1);
  t.equal(rib.removeSource('10.0.0.3|179'), 1);
});

t.test('import: the route as received beside a changed path is released when the path goes (graceful restart sweep)', async (t) => {
  const rib = importWorld(chain({ action: 'accept', cidr: '10.244.7.0/26', operator: 'equal', operations: [{ setPriority: 1024 }] }));
  const received = rib.attrSets.intern(attrs({ nextHop: '10.0.0.3' }));
  t.ok(received.refs > 0, 'kept beside the changed path');
  rib.markStale('10.0.0.3|179', 'ipv4');
  t.equal(rib.sweepStale('10.0.0.3|179', 'ipv4'), 2, 'not re-sent after the restart: swept');
  rib.flush();
  t.notOk(rib.attrSets.holds(received), 'released with the path');
});

t.test('BGPConfiguration default ipv4/ipv6NormalRoutePriority reach the export context', async (t) => {
  const nodes = [node('a', { ipv4Address: '10.0.0.11/24' })];
  const cfg = deriveNodeConfig(snapshot([...nodes, bgpConfig('default', { ipv4NormalRoutePriority: 2048, ipv6NormalRoutePriority: 4096 })]), 'a');
  t.same(exportContextOf(cfg).normalRoutePriority, { ipv4: 2048, ipv6: 4096 });
  t.equal(exportContextOf(deriveNodeConfig(snapshot(nodes), 'a')).normalRoutePriority, undefined);
});
