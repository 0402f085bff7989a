// One test per decision step, each asserting the exact reason (RFC 4271 §9.1.2.2, RFC 4456 §9).
import t from 'tap';
import type { PathAttributes } from '../../src/bgp/wire/types.js';
import { makeRib, addPeer, attrs, seq, announce } from './fixtures/helpers.js';
import type { LocRib } from '../../src/rib/loc-rib.js';

const P = '10.244.1.0/26';

/** Announces P from each [sourceKey, attrs, pathId?] and returns the route view after flush. */
function run(rib: LocRib, entries: [string, PathAttributes, number?][]) {
  for (const [k, a, id] of entries) announce(rib, k, P, a, id ?? 0);
  rib.flush();
  const r = rib.lookup(P)!;
  return { best: r.best!.source.key, reason: r.reason, multipath: r.multipath.map((p) => `${p.source.key}#${p.pathId}`) };
}

t.test('onlyPath', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  t.same(run(rib, [['10.0.0.2|179', attrs()]]), { best: '10.0.0.2|179', reason: 'onlyPath', multipath: ['10.0.0.2|179#0'] });
});

t.test('localOrigin: a local route beats BGP whatever its LOCAL_PREF (BIRD preference 200 > 100)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal(P, { origin: 2 });
  const r = run(rib, [['10.0.0.2|179', attrs({ localPref: 1000 })]]);
  t.equal(r.best, 'local');
  t.equal(r.reason, 'localOrigin');
  t.same(r.multipath, ['local#0'], 'local routes are not merged into ECMP');
});

t.test('localPref: highest wins, absent counts as 100', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3); addPeer(rib, 4);
  const r = run(rib, [['10.0.0.2|179', attrs({ localPref: 99 })], ['10.0.0.3|179', attrs()], ['10.0.0.4|179', attrs({ localPref: 100, asPath: seq(1, 2, 3) })]]);
  t.equal(r.best, '10.0.0.3|179');
  t.equal(r.reason, 'asPathLength', 'absent LOCAL_PREF ties with 100, decided later');
  const rib2 = makeRib();
  addPeer(rib2, 2); addPeer(rib2, 3);
  const r2 = run(rib2, [['10.0.0.2|179', attrs({ localPref: 200, asPath: seq(1, 2, 3) })], ['10.0.0.3|179', attrs()]]);
  t.same([r2.best, r2.reason], ['10.0.0.2|179', 'localPref']);
});

t.test('asPathLength: AS_SET counts 1, confederation segments 0', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { asn: 65001 }); addPeer(rib, 3, { asn: 65001 }); addPeer(rib, 4, { asn: 65001 });
  const r = run(rib, [
    ['10.0.0.2|179', attrs({ asPath: seq(65001, 2, 3) })], // 3
    ['10.0.0.3|179', attrs({ asPath: [{ type: 2, asns: [65001] }, { type: 1, asns: [7, 8, 9, 10] }] })], // 2
    ['10.0.0.4|179', attrs({ asPath: [{ type: 3, asns: [64600, 64601] }, { type: 4, asns: [1, 2] }, { type: 2, asns: [65001] }] })], // 1
  ]);
  t.same([r.best, r.reason], ['10.0.0.4|179', 'asPathLength']);
});

t.test('origin: IGP < EGP < INCOMPLETE', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3); addPeer(rib, 4);
  const r = run(rib, [['10.0.0.2|179', attrs({ origin: 2 })], ['10.0.0.3|179', attrs({ origin: 1 })], ['10.0.0.4|179', attrs({ origin: 0, med: 50 })]]);
  t.same([r.best, r.reason], ['10.0.0.4|179', 'origin']);
});

t.test('med: lowest within the same neighbour AS, missing MED is 0', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { asn: 65001 }); addPeer(rib, 3, { asn: 65001 });
  const r = run(rib, [['10.0.0.2|179', attrs({ asPath: seq(65001), med: 5 })], ['10.0.0.3|179', attrs({ asPath: seq(65001) })]]);
  t.same([r.best, r.reason], ['10.0.0.3|179', 'med']);
});

t.test('med is not compared across neighbour ASes, independent of order', async (t) => {
  // A and B from AS 65001 (B has the lower MED); C from AS 65002 with MED 0.
  // B beats A on MED; C is not compared by MED, and wins later on router id.
  const paths: [string, PathAttributes][] = [
    ['10.0.0.2|179', attrs({ asPath: seq(65001), med: 50 })],
    ['10.0.0.9|179', attrs({ asPath: seq(65001), med: 10 })],
    ['10.0.0.5|179', attrs({ asPath: seq(65002), med: 0 })],
  ];
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
    const rib = makeRib();
    addPeer(rib, 2, { asn: 65001 }); addPeer(rib, 9, { asn: 65001 }); addPeer(rib, 5, { asn: 65002 });
    const r = run(rib, order.map((i) => paths[i]!));
    t.same([r.best, r.reason], ['10.0.0.5|179', 'originatorId'], `order ${order.join(',')}`);
  }
  const rib = makeRib();
  addPeer(rib, 2, { asn: 65001 }); addPeer(rib, 5, { asn: 65002 });
  const r = run(rib, [['10.0.0.2|179', attrs({ asPath: seq(65001), med: 0 })], ['10.0.0.5|179', attrs({ asPath: seq(65002), med: 100 })]]);
  t.same([r.best, r.reason], ['10.0.0.2|179', 'originatorId'], 'a lower MED from another AS decides nothing');
});

t.test('ebgpOverIbgp', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3, { asn: 65003 });
  const r = run(rib, [['10.0.0.2|179', attrs({ asPath: seq(65003) })], ['10.0.0.3|179', attrs({ asPath: seq(65003) })]]);
  t.same([r.best, r.reason], ['10.0.0.3|179', 'ebgpOverIbgp']);
});

t.test('originatorId: ORIGINATOR_ID replaces the router id (RFC 4456 §9)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 5); addPeer(rib, 3);
  // 10.0.0.5 carries ORIGINATOR_ID 9.9.9.9 < 10.0.0.3, although its own router id is higher.
  const r = run(rib, [['10.0.0.5|179', attrs({ originatorId: '9.9.9.9' })], ['10.0.0.3|179', attrs()]]);
  t.same([r.best, r.reason], ['10.0.0.5|179', 'originatorId']);
});

t.test('clusterListLength: shorter CLUSTER_LIST wins (RFC 4456 §9)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3);
  const r = run(rib, [
    ['10.0.0.2|179', attrs({ originatorId: '10.0.0.40', clusterList: ['244.0.0.1', '244.0.0.2'] })],
    ['10.0.0.3|179', attrs({ originatorId: '10.0.0.40', clusterList: ['244.0.0.3'] })],
  ]);
  t.same([r.best, r.reason], ['10.0.0.3|179', 'clusterListLength']);
});

t.test('peerAddress: lowest address when router ids tie', async (t) => {
  const rib = makeRib();
  addPeer(rib, 20, { routerId: '1.1.1.1' }); addPeer(rib, 3, { routerId: '1.1.1.1' });
  const r = run(rib, [['10.0.0.20|179', attrs()], ['10.0.0.3|179', attrs()]]);
  t.same([r.best, r.reason], ['10.0.0.3|179', 'peerAddress'], 'numeric, not string, order (3 < 20)');
});

t.test('tieBreak: lowest path id among ADD-PATH paths of one peer', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  const r = run(rib, [['10.0.0.2|179', attrs({ nextHop: '10.0.0.7' }), 7], ['10.0.0.2|179', attrs({ nextHop: '10.0.0.3' }), 3]]);
  t.same([r.best, r.reason], ['10.0.0.2|179', 'tieBreak']);
  t.same(r.multipath, ['10.0.0.2|179#3', '10.0.0.2|179#7']);
});

t.test('multipath: paths equal through the eBGP/iBGP step, same neighbour AS for eBGP, max 16', async (t) => {
  const rib = makeRib();
  for (let n = 2; n <= 5; n++) addPeer(rib, n);
  const r = run(rib, [
    ['10.0.0.2|179', attrs({ nextHop: '10.0.0.2' })],
    ['10.0.0.3|179', attrs({ nextHop: '10.0.0.3', originatorId: '1.1.1.1' })], // best (lowest originator)
    ['10.0.0.4|179', attrs({ nextHop: '10.0.0.4', clusterList: ['1.2.3.4'] })], // later step: still ECMP
    ['10.0.0.5|179', attrs({ nextHop: '10.0.0.5', localPref: 50 })], // loses at localPref: not ECMP
  ]);
  t.equal(r.best, '10.0.0.3|179');
  t.same(r.multipath, ['10.0.0.3|179#0', '10.0.0.2|179#0', '10.0.0.4|179#0']);

  const e = makeRib();
  addPeer(e, 2, { asn: 65001 }); addPeer(e, 3, { asn: 65001 }); addPeer(e, 4, { asn: 65009 });
  const r2 = run(e, [['10.0.0.2|179', attrs({ asPath: seq(65001) })], ['10.0.0.3|179', attrs({ asPath: seq(65001) })], ['10.0.0.4|179', attrs({ asPath: seq(65009) })]]);
  t.same(r2.multipath, ['10.0.0.2|179#0', '10.0.0.3|179#0'], 'eBGP ECMP only within the best path\'s neighbour AS');

  const big = makeRib();
  const entries: [string, PathAttributes][] = [];
  for (let n = 2; n < 22; n++) { addPeer(big, n); entries.push([`10.0.0.${n}|179`, attrs({ nextHop: `10.0.0.${n}` })]); }
  t.equal(run(big, entries).multipath.length, 16);
});

t.test('address sort keys order IPv4 and IPv6 numerically', async (t) => {
  const { addressSortKey } = await import('../../src/rib/path.js');
  const sorted = ['::', '::1', '::ffff:1.2.3.4', 'fd00::2', 'fd00::10', 'fd00:0:0:1::', 'fe80::1'];
  t.same([...sorted].reverse().sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1)), sorted);
  t.equal(addressSortKey('fd00::10'), 'fd000000000000000000000000000010');
  t.equal(addressSortKey('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
  t.ok(addressSortKey('10.0.0.3') < addressSortKey('10.0.0.20'));
});
