// Export matrix: Calico's calico_export_to_bgp_peers prefix rules and the BGP attribute rules.
import t from 'tap';
import { exportDecision, explainExport, exportPath, SOURCE_KERNEL_TUNNEL } from '../../src/policy/export.js';
import { WellKnownCommunity } from '../../src/bgp/wire/constants.js';
import type { PathAttributes } from '../../src/bgp/wire/types.js';
import type { Path } from '../../src/rib/path.js';
import { makeRib, addPeer, attrs, seq, announce } from '../rib/fixtures/helpers.js';
import { CTX, ibgpPeer, ebgpPeer } from '../rib/fixtures/export-ctx.js';

t.test('prefix verdicts follow calico_export_to_bgp_peers, first match wins', async (t) => {
  const cases: [string, string][] = [
    ['10.244.1.0/26', 'ownBlock'],
    ['10.99.5.0/26', 'ownBlock'], // own block exported although its pool is disabled
    ['10.244.1.5/32', 'moreSpecificOfOwnBlock'],
    ['10.244.1.0/27', 'moreSpecificOfOwnBlock'],
    ['10.244.7.0/26', 'pool'], // another node's block, re-exported
    ['10.244.8.9/32', 'pool'], // borrowed IP
    ['10.250.1.0/26', 'disableBGPExport'],
    ['10.250.3.0/26', 'disableBGPExport'], // own block in a disableBGPExport pool: step 1 first
    ['10.99.7.0/26', 'pool'], // disabled pool (no new allocations): still exported, as Calico does
    ['172.16.0.0/24', 'outsidePools'],
    ['0.0.0.0/0', 'outsidePools'], // default route
    ['10.0.0.0/24', 'outsidePools'], // host subnet
    ['10.244.0.0/15', 'outsidePools'], // covers the pool, not inside it
    ['fd00:1::40/122', 'ownBlock'],
    ['fd00:1::80/122', 'pool'],
    ['fd00:2::/64', 'outsidePools'],
    ['::/0', 'outsidePools'],
  ];
  for (const [prefix, verdict] of cases) t.equal(exportDecision(CTX, prefix), verdict, prefix);
});

function paths() {
  const rib = makeRib();
  addPeer(rib, 2); // iBGP mesh peer
  addPeer(rib, 1, { address: '192.0.2.1', asn: 65100 }); // eBGP
  rib.setLocal('10.244.1.0/26', {});
  const get = (key: string, a: PathAttributes): Path => {
    announce(rib, key, '10.244.7.0/26', a);
    rib.flush();
    return rib.lookup('10.244.7.0/26')!.paths.find((p) => p.source.key === key && p.attrs.attrs === rib.attrSets.intern(a).attrs)!;
  };
  return { rib, get, local: () => { rib.flush(); return rib.lookup('10.244.1.0/26')!.best!; } };
}

/** confd v3.32: a route without krt_metric gets N (1024 by default), LOCAL_PREF 2147483647 − N. */
const NORMAL_LOCAL_PREF = 2147483647 - 1024;

t.test('own block toward iBGP: next hop self, LOCAL_PREF of the normal route priority', async (t) => {
  const { local } = paths();
  t.same(exportPath(CTX, '10.244.1.0/26', local(), ibgpPeer(3)), { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: NORMAL_LOCAL_PREF });
});

t.test('own block toward eBGP: local AS prepended, next hop self, no LOCAL_PREF', async (t) => {
  const { local } = paths();
  t.same(exportPath(CTX, '10.244.1.0/26', local(), ebgpPeer(9)), { origin: 0, asPath: seq(64512), nextHop: '10.0.0.1' });
});

t.test('rejected prefixes are not exported whatever the path', async (t) => {
  const { local } = paths();
  for (const prefix of ['10.250.1.0/26', '172.16.0.0/24', '0.0.0.0/0', '10.0.0.0/24', '10.244.1.5/32']) {
    t.equal(exportPath(CTX, prefix, local(), ibgpPeer(3)), null, prefix);
  }
  t.same(explainExport(CTX, '0.0.0.0/0', local(), ebgpPeer(9)), { rejected: 'outsidePools' });
});

t.test('reject_tunnel_routes: a route learned on a *.cali / *.calico device goes to eBGP peers only', async (t) => {
  const rib = makeRib();
  rib.setLocal('10.244.8.9/32', {}, SOURCE_KERNEL_TUNNEL);
  rib.setLocal('10.244.8.10/32', {}, 'local:kernel');
  rib.flush();
  const tunnel = rib.lookup('10.244.8.9/32')!.best!;
  const plain = rib.lookup('10.244.8.10/32')!.best!;
  t.same(explainExport(CTX, '10.244.8.9/32', tunnel, ibgpPeer(3)), { rejected: 'tunnelRoute' }, 'not to an internal peer');
  t.same(exportPath(CTX, '10.244.8.9/32', tunnel, ebgpPeer(9)), { origin: 0, asPath: seq(64512), nextHop: '10.0.0.1' }, 'to an external peer');
  t.same(exportPath(CTX, '10.244.8.10/32', plain, ibgpPeer(3)), { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: NORMAL_LOCAL_PREF }, 'another learned route goes to internal peers');
});

t.test('iBGP split horizon: iBGP-learned not sent to iBGP peers (no RR)', async (t) => {
  const { get } = paths();
  const p = get('10.0.0.2|179', attrs({ nextHop: '10.0.0.2' }));
  t.same(explainExport(CTX, '10.244.7.0/26', p, ibgpPeer(3)), { rejected: 'splitHorizon' });
  t.same(explainExport(CTX, '10.244.7.0/26', p, ibgpPeer(2)), { rejected: 'sourcePeer' });
});

t.test('iBGP-learned toward eBGP: prepend, next hop self, MED kept (set inside our AS)', async (t) => {
  const { get } = paths();
  const p = get('10.0.0.2|179', attrs({ nextHop: '10.0.0.2', localPref: 100, med: 5, originatorId: '10.0.0.40', clusterList: ['244.0.0.1'] }));
  t.same(exportPath(CTX, '10.244.7.0/26', p, ebgpPeer(9)), { origin: 0, asPath: seq(64512), nextHop: '10.0.0.1', med: 5 });
});

t.test('eBGP-learned: to eBGP prepend + no MED; to iBGP next hop kept + LOCAL_PREF 100; never back', async (t) => {
  const { get } = paths();
  const p = get('192.0.2.1|179', attrs({ asPath: seq(65100, 65200), nextHop: '192.0.2.1', med: 7 }));
  t.same(exportPath(CTX, '10.244.7.0/26', p, ebgpPeer(9, 65300)), { origin: 0, asPath: seq(64512, 65100, 65200), nextHop: '10.0.0.1' });
  t.same(exportPath(CTX, '10.244.7.0/26', p, ibgpPeer(3)), { origin: 0, asPath: seq(65100, 65200), nextHop: '192.0.2.1', med: 7, localPref: 100 });
  t.same(explainExport(CTX, '10.244.7.0/26', p, ebgpPeer(1)), { rejected: 'sourcePeer' });
});

t.test('NO_EXPORT: not to eBGP, fine to iBGP; NO_ADVERTISE: to nobody', async (t) => {
  const { get } = paths();
  const ne = get('192.0.2.1|179', attrs({ asPath: seq(65100), nextHop: '192.0.2.1', communities: [WellKnownCommunity.NoExport] }));
  t.same(explainExport(CTX, '10.244.7.0/26', ne, ebgpPeer(9, 65300)), { rejected: 'noExport' });
  t.ok(exportPath(CTX, '10.244.7.0/26', ne, ibgpPeer(3)));
  const na = get('192.0.2.1|179', attrs({ asPath: seq(65100), nextHop: '192.0.2.1', communities: [WellKnownCommunity.NoAdvertise] }));
  t.same(explainExport(CTX, '10.244.7.0/26', na, ibgpPeer(3)), { rejected: 'noAdvertise' });
  t.same(explainExport(CTX, '10.244.7.0/26', na, ebgpPeer(9, 65300)), { rejected: 'noAdvertise' });
});

t.test('nextHopMode overrides: self toward iBGP, keep toward eBGP', async (t) => {
  const { get } = paths();
  const p = get('192.0.2.1|179', attrs({ asPath: seq(65100), nextHop: '192.0.2.1' }));
  t.equal(exportPath(CTX, '10.244.7.0/26', p, ibgpPeer(3, { nextHopMode: 'self' }))?.nextHop, '10.0.0.1');
  t.equal(exportPath(CTX, '10.244.7.0/26', p, ebgpPeer(9, 65300, { nextHopMode: 'keep' }))?.nextHop, '192.0.2.1');
  const { local } = paths();
  t.equal(exportPath(CTX, '10.244.1.0/26', local(), ibgpPeer(3, { nextHopMode: 'keep' }))?.nextHop, '10.0.0.1', 'keep on a local route has nothing to keep: self');
});

t.test('no local address for next hop self: not exported', async (t) => {
  const { local } = paths();
  const ctx = { ...CTX, localAddresses: {} };
  const { localAddress: _l, ...peer } = ebgpPeer(9);
  t.same(explainExport(ctx, '10.244.1.0/26', local(), peer), { rejected: 'noNextHop' });
  t.equal(exportPath(CTX, '10.244.1.0/26', local(), peer)?.nextHop, '10.0.0.1', 'falls back to the context address');
});

t.test('AS prepend starts a new segment before an AS_SET or a full segment', async (t) => {
  const { get } = paths();
  const p = get('192.0.2.1|179', attrs({ asPath: [{ type: 1, asns: [65100, 65101] }], nextHop: '192.0.2.1' }));
  t.same(exportPath(CTX, '10.244.7.0/26', p, ebgpPeer(9, 65300))?.asPath, [{ type: 2, asns: [64512] }, { type: 1, asns: [65100, 65101] }]);
  const full = Array.from({ length: 255 }, (_, i) => 65000 + i);
  const q = get('192.0.2.1|179', attrs({ asPath: seq(...full), nextHop: '192.0.2.1' }));
  t.same(exportPath(CTX, '10.244.7.0/26', q, ebgpPeer(9, 65300))?.asPath?.map((s) => s.asns.length), [1, 255]);
});
