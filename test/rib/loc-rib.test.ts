import t from 'tap';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import type { BestChange } from '../../src/rib/loc-rib.js';
import { makeRib, addPeer, attrs, seq, announce } from './fixtures/helpers.js';

const K2 = '10.0.0.2|179';
const K3 = '10.0.0.3|179';

function upd(u: Partial<UpdateMessage>): UpdateMessage {
  return { type: 'update', withdrawn: [], attributes: {}, nlri: [], ...u };
}

t.test('applyUpdate: classic IPv4 NLRI and withdrawals share one AttrSet', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  const r = rib.applyUpdate(K2, upd({ attributes: attrs({ localPref: 100 }), nlri: [{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }] }));
  t.same(r, { announced: 2, withdrawn: 0 });
  rib.flush();
  const a = rib.lookup('10.244.1.0/26')!.best!;
  const b = rib.lookup('10.244.2.0/26')!.best!;
  t.equal(a.attrs, b.attrs, 'one interned set');
  t.equal(a.attrs.refs, 2);
  t.same(rib.applyUpdate(K2, upd({ withdrawn: [{ prefix: '10.244.1.0/26' }, { prefix: '10.9.9.0/24' }] })), { announced: 0, withdrawn: 1 });
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26'), undefined);
  t.equal(rib.size('ipv4'), 1, 'empty destination removed at flush');
  t.equal(a.attrs.refs, 1);
});

t.test('applyUpdate: MP_REACH / MP_UNREACH for IPv6 with two next hops', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { address: 'fd00::2' });
  const key = 'fd00::2|179';
  rib.applyUpdate(key, upd({ attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['fd00::2', 'fe80::2'], nlri: [{ prefix: 'fd00:1::/122' }] } } }));
  rib.flush();
  const p = rib.lookup('fd00:1::/122')!.best!;
  t.equal(p.attrs.attrs.nextHop, 'fd00::2');
  t.same(p.attrs.nextHops, ['fd00::2', 'fe80::2']);
  t.equal(p.attrs.attrs.mpReach, undefined, 'MP attributes are not part of the set');
  rib.applyUpdate(key, upd({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: 'fd00:1::/122' }] } } }));
  rib.flush();
  t.equal(rib.size('ipv6'), 0);
});

t.test('applyUpdate: treatAsWithdraw withdraws every NLRI of the UPDATE (RFC 7606)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.applyUpdate(K2, upd({ attributes: attrs(), nlri: [{ prefix: '10.244.1.0/26' }] }));
  const r = rib.applyUpdate(K2, upd({ attributes: attrs({ med: 1 }), nlri: [{ prefix: '10.244.1.0/26' }], treatAsWithdraw: true }));
  t.same(r, { announced: 0, withdrawn: 1, rejected: 'treatAsWithdraw' });
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26'), undefined);
});

t.test('import: reflection loops and AS loops are dropped, replacing an earlier path', async (t) => {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 2); addPeer(rib, 3, { asn: 65003 });
  rib.applyUpdate(K2, upd({ attributes: attrs(), nlri: [{ prefix: '10.244.1.0/26' }] }));
  t.equal(rib.applyUpdate(K2, upd({ attributes: attrs({ clusterList: ['244.0.0.9', '244.0.0.1'] }), nlri: [{ prefix: '10.244.1.0/26' }] })).rejected, 'clusterList');
  t.equal(rib.applyUpdate(K2, upd({ attributes: attrs({ originatorId: '10.0.0.1' }), nlri: [{ prefix: '10.244.2.0/26' }] })).rejected, 'originatorId');
  t.equal(rib.applyUpdate(K3, upd({ attributes: attrs({ asPath: seq(65003, 64512) }), nlri: [{ prefix: '10.244.3.0/26' }] })).rejected, 'asLoop');
  rib.flush();
  t.equal(rib.size('ipv4'), 0, 'the earlier path of 10.244.1.0/26 was withdrawn by the looped update');
  rib.applyUpdate(K3, upd({ attributes: attrs({ asPath: seq(65003), localPref: 500 }), nlri: [{ prefix: '10.244.3.0/26' }] }));
  rib.flush();
  t.equal(rib.lookup('10.244.3.0/26')!.best!.attrs.attrs.localPref, undefined, 'LOCAL_PREF from eBGP ignored');
});

t.test('changes are batched: one BestChange per prefix per flush, with previousBest', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3);
  const seen: BestChange[][] = [];
  rib.onBestChange((c) => seen.push([...c]));
  announce(rib, K2, '10.244.1.0/26', attrs({ med: 1 }));
  announce(rib, K2, '10.244.1.0/26', attrs({ med: 2 }));
  announce(rib, K2, '10.244.1.0/26', attrs({ med: 3 }));
  announce(rib, K3, '10.244.2.0/26', attrs());
  t.equal(seen.length, 0, 'nothing before flush');
  rib.flush();
  t.equal(seen.length, 1);
  t.same(seen[0]!.map((c) => [c.prefix, c.best?.attrs.attrs.med ?? null, c.previousBest]), [['10.244.1.0/26', 3, null], ['10.244.2.0/26', null, null]]);
  const first = rib.lookup('10.244.1.0/26')!.best;
  announce(rib, K3, '10.244.1.0/26', attrs({ localPref: 50 })); // worse: best unchanged, multipath unchanged
  rib.flush();
  t.equal(seen.length, 1, 'no notification when neither best nor multipath changed');
  rib.withdraw(K2, '10.244.1.0/26');
  rib.flush();
  const c = seen[1]![0]!;
  t.equal(c.previousBest, first);
  t.equal(c.best!.source.key, K3);
});

t.test('multipath set up and down is notified', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 3);
  const seen: BestChange[] = [];
  rib.onBestChange((c) => seen.push(...c));
  announce(rib, K2, '10.244.1.0/26', attrs({ nextHop: '10.0.0.2' }));
  rib.flush();
  announce(rib, K3, '10.244.1.0/26', attrs({ nextHop: '10.0.0.3' }));
  rib.flush();
  t.same(seen.map((c) => c.multipath.length), [1, 2]);
  t.equal(seen[1]!.best, seen[1]!.previousBest, 'best unchanged, multipath grew');
  rib.removeSource(K3);
  rib.flush();
  t.same(seen.map((c) => c.multipath.length), [1, 2, 1]);
});

t.test('local routes: setLocal, separate local sources, removal', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal('10.244.1.0/26', {});
  announce(rib, K2, '10.244.1.0/26', attrs());
  rib.flush();
  const best = rib.lookup('10.244.1.0/26')!.best!;
  t.equal(best.source.kind, 'local');
  t.same(best.attrs.attrs, { origin: 0, asPath: [] });
  rib.setLocal('10.244.1.0/26', null);
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26')!.best!.source.key, K2);
  rib.setLocal('10.244.9.9/32', { origin: 2 }, 'kernel');
  rib.flush();
  t.equal(rib.lookup('10.244.9.9/32')!.best!.source.key, 'kernel');
  t.same([...rib.routes('ipv4')].map((r) => r.prefix).sort(), ['10.244.1.0/26', '10.244.9.9/32']);
});

t.test('removeSource drops every path and releases the attribute sets', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  for (let i = 0; i < 100; i++) announce(rib, K2, `10.244.${i}.0/26`, attrs());
  rib.flush();
  t.equal(rib.attrSets.size, 1);
  t.equal(rib.removeSource(K2), 100);
  rib.flush();
  t.equal(rib.size('ipv4'), 0);
  t.equal(rib.attrSets.size, 0);
});

t.test('unknown source is a typed error; default schedule flushes on its own', async (t) => {
  const rib = makeRib();
  t.throws(() => announce(rib, 'nope', '10.0.0.0/8', attrs()), { code: 'ERR_RIB_UNKNOWN_SOURCE' });
  const auto = makeRib({ schedule: 'immediate' });
  addPeer(auto, 2);
  const got = new Promise<readonly BestChange[]>((resolve) => auto.onBestChange(resolve));
  announce(auto, K2, '10.244.1.0/26', attrs());
  const changes = await got;
  t.equal(changes.length, 1);
});

t.test('re-registering a peer with a new router id re-runs selection', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { routerId: '9.0.0.2' }); addPeer(rib, 3, { routerId: '9.0.0.3' });
  announce(rib, K2, '10.244.1.0/26', attrs());
  announce(rib, K3, '10.244.1.0/26', attrs());
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26')!.best!.source.key, K2);
  addPeer(rib, 2, { routerId: '9.0.0.9' });
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26')!.best!.source.key, K3);
});

t.test('applyUpdate with received ADD-PATH ids keeps one path per id (RFC 7911)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.applyUpdate(K2, upd({ attributes: attrs({ nextHop: '10.0.0.7' }), nlri: [{ prefix: '10.244.1.0/26', pathId: 7 }] }));
  rib.applyUpdate(K2, upd({ attributes: attrs({ nextHop: '10.0.0.8' }), nlri: [{ prefix: '10.244.1.0/26', pathId: 8 }] }));
  rib.flush();
  t.same(rib.lookup('10.244.1.0/26')!.paths.map((p) => [p.pathId, p.attrs.attrs.nextHop]), [[7, '10.0.0.7'], [8, '10.0.0.8']]);
  t.same(rib.applyUpdate(K2, upd({ withdrawn: [{ prefix: '10.244.1.0/26', pathId: 7 }] })), { announced: 0, withdrawn: 1 });
  rib.flush();
  t.same(rib.lookup('10.244.1.0/26')!.paths.map((p) => p.pathId), [8]);
});

t.test('setLocal: one attributes object gives one shared set, and a new one once the old set left the table', async (t) => {
  const rib = makeRib();
  const a = Object.freeze({ nextHop: '10.0.0.1' });
  rib.setLocal('10.244.1.0/26', a, 'local:kernel');
  rib.setLocal('10.244.2.0/26', a, 'local:kernel');
  rib.flush();
  const s1 = rib.selection('10.244.1.0/26')!.best!.attrs;
  t.equal(rib.selection('10.244.2.0/26')!.best!.attrs, s1, 'the same interned set');
  t.same(s1.attrs, { origin: 0, asPath: [], nextHop: '10.0.0.1' });
  rib.setLocal('10.244.1.0/26', null, 'local:kernel');
  rib.setLocal('10.244.2.0/26', null, 'local:kernel');
  rib.flush();
  t.notOk(rib.attrSets.holds(s1), 'no holder left: the set left the table');
  rib.setLocal('10.244.3.0/26', a, 'local:kernel');
  rib.flush();
  const s2 = rib.selection('10.244.3.0/26')!.best!.attrs;
  t.not(s2, s1, 'interned again, not the dropped set');
  t.ok(rib.attrSets.holds(s2));
  t.same(s2.attrs, s1.attrs);
  t.equal(rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.1' }), s2, 'the table\'s set for those attributes');
});
