import t from 'tap';
import { AttrSetTable } from '../../src/rib/attr-set.js';
import { decodeUpdate, packUpdates } from '../../src/bgp/wire/index.js';
import { attrs, seq } from './fixtures/helpers.js';

t.test('equal attributes intern to one shared, frozen set', async (t) => {
  const table = new AttrSetTable();
  const a = table.intern(attrs({ asPath: seq(65001, 65002), communities: [1, 2], med: 5 }));
  const b = table.intern(attrs({ asPath: seq(65001, 65002), communities: [1, 2], med: 5 }));
  t.equal(a, b);
  t.equal(table.size, 1);
  t.ok(Object.isFrozen(a.attrs));
  t.ok(Object.isFrozen(a.attrs.asPath));
  t.same(a.nextHops, ['10.0.0.254']);
});

t.test('any differing field gives another set', async (t) => {
  const table = new AttrSetTable();
  const base = table.intern(attrs());
  const variants = [
    attrs({ med: 0 }), attrs({ localPref: 100 }), attrs({ origin: 1 }), attrs({ asPath: seq(1) }),
    attrs({ asPath: [{ type: 1, asns: [1] }] }), attrs({ nextHop: '10.0.0.253' }), attrs({ communities: [1] }),
    attrs({ originatorId: '1.1.1.1' }), attrs({ clusterList: ['1.1.1.1'] }), attrs({ atomicAggregate: true }),
    attrs({ largeCommunities: [[1, 2, 3]] }), attrs({ extendedCommunities: [Buffer.alloc(8, 1)] }),
  ];
  const sets = new Set(variants.map((v) => table.intern(v)));
  t.equal(sets.size, variants.length);
  t.notOk(sets.has(base));
});

t.test('MP next hops override and include the link-local', async (t) => {
  const table = new AttrSetTable();
  const s = table.intern({ origin: 0, asPath: [] }, ['fd00::1', 'fe80::1']);
  t.equal(s.attrs.nextHop, 'fd00::1');
  t.same(s.nextHops, ['fd00::1', 'fe80::1']);
  t.not(table.intern({ origin: 0, asPath: [] }, ['fd00::1']), s);
});

t.test('release of the last holder frees the set; a later equal set is new', async (t) => {
  const table = new AttrSetTable();
  const a = table.intern(attrs()).retain().retain();
  a.release();
  t.equal(table.size, 1);
  a.release();
  t.equal(table.size, 0);
  const b = table.intern(attrs());
  t.not(a, b);
  t.equal(table.prune(), 1, 'an interned but never retained set is pruned');
  t.equal(table.size, 0);
});

t.test('encoded bytes are cached per AS width and decode back', async (t) => {
  const table = new AttrSetTable();
  const s = table.intern(attrs({ asPath: seq(4200000001), localPref: 100 }));
  const e4 = s.encoded({ fourOctetAs: true });
  t.equal(s.encoded({ fourOctetAs: true }), e4, 'same Buffer object on the second call');
  const e2 = s.encoded({ fourOctetAs: false });
  t.not(e2, e4);
  const [msg] = packUpdates({ family: 'ipv4', attributes: e2, nextHops: s.nextHops, nlri: [{ prefix: '10.244.1.0/26' }], opts: { fourOctetAs: false } });
  const back = decodeUpdate(msg!, { fourOctetAs: false });
  t.same(back.attributes.asPath, seq(4200000001), 'AS4_PATH restores the 4-octet AS toward a 2-octet speaker');
  t.equal(back.attributes.nextHop, '10.0.0.254');
  t.same(back.nlri, [{ prefix: '10.244.1.0/26' }]);
});
