// Inbound screening: NLRI of families the session did not negotiate are ignored and counted;
// announcements with an unusable next hop are treated as withdrawn and counted.
import t from 'tap';
import { nextHopProblem, screenUpdate, type ScreenContext } from '../../src/rib/inbound.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';

const V4: ScreenContext = { families: new Set(['ipv4']), ownAddresses: new Set(['10.0.0.1', 'fd00::1']), linkLocalSession: false };
const V6: ScreenContext = { ...V4, families: new Set(['ipv6']) };
const base = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }] };
const upd = (over: Partial<UpdateMessage>): UpdateMessage => ({ type: 'update', withdrawn: [], nlri: [], attributes: base, ...over });

t.test('IPv4 next hops with no meaning', async (t) => {
  for (const nh of ['0.0.0.0', '0.1.2.3', '127.0.0.1', '224.0.0.5', '239.255.255.255', '240.0.0.1', '255.255.255.255', '10.0.0.1']) {
    t.ok(nextHopProblem(nh, 'ipv4', V4), `${nh} refused`);
  }
  for (const nh of ['10.0.0.2', '192.0.2.1', '223.255.255.254', '1.1.1.1']) t.equal(nextHopProblem(nh, 'ipv4', V4), null, `${nh} accepted`);
});

t.test('IPv6 next hops with no meaning', async (t) => {
  for (const nh of ['::', '::1', 'ff02::1', 'fe80::1', 'febf::1', '::ffff:10.0.0.2', 'fd00::1']) t.ok(nextHopProblem(nh, 'ipv6', V6), `${nh} refused`);
  for (const nh of ['fd00::2', '2001:db8::1', 'fec0::1', 'fe9::1']) t.equal(nextHopProblem(nh, 'ipv6', V6), null, `${nh} accepted`);
  t.equal(nextHopProblem('fe80::1', 'ipv6', { ...V6, linkLocalSession: true }), null, 'link-local next hop on a link-local session');
});

t.test('classic NLRI with NEXT_HOP 0.0.0.0 → withdrawn, counted', async (t) => {
  const r = screenUpdate(upd({ nlri: [{ prefix: '10.244.0.0/24' }], attributes: { ...base, nextHop: '0.0.0.0' } }), V4);
  t.same(r.withdraw, [{ prefix: '10.244.0.0/24' }]);
  t.same(r.msg.nlri, []);
  t.equal(r.badNextHop, 1);
  t.equal(r.badNextHopValue, '0.0.0.0');
});

t.test('MP_REACH IPv6 on an IPv4-only session → ignored, counted, not withdrawn', async (t) => {
  const msg = upd({
    nlri: [{ prefix: '10.244.1.0/24' }],
    attributes: { ...base, nextHop: '10.0.0.2', mpReach: { afi: 2, safi: 1, nextHops: ['fd00::2'], nlri: [{ prefix: 'fd00:1::/64' }, { prefix: 'fd00:2::/64' }] }, mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: 'fd00:3::/64' }] } },
  });
  const r = screenUpdate(msg, V4);
  t.equal(r.familyIgnored, 3);
  t.equal(r.msg.attributes.mpReach, undefined);
  t.equal(r.msg.attributes.mpUnreach, undefined);
  t.same(r.msg.nlri, [{ prefix: '10.244.1.0/24' }], 'the IPv4 route stays');
  t.same(r.withdraw, []);
});

t.test('classic IPv4 NLRI on an IPv6-only session → ignored', async (t) => {
  const r = screenUpdate(upd({ withdrawn: [{ prefix: '10.1.0.0/24' }], nlri: [{ prefix: '10.244.1.0/24' }], attributes: { ...base, nextHop: '10.0.0.2' } }), V6);
  t.equal(r.familyIgnored, 2);
  t.same(r.msg.nlri, []);
  t.same(r.msg.withdrawn, []);
});

t.test('MP_REACH with a link-local-only next hop on a global session → withdrawn', async (t) => {
  const r = screenUpdate(upd({ attributes: { ...base, mpReach: { afi: 2, safi: 1, nextHops: ['fe80::2'], nlri: [{ prefix: 'fd00:1::/64', pathId: 3 }] } } }), V6);
  t.same(r.withdraw, [{ prefix: 'fd00:1::/64', pathId: 3 }]);
  t.equal(r.badNextHop, 1);
  const ok = screenUpdate(upd({ attributes: { ...base, mpReach: { afi: 2, safi: 1, nextHops: ['fd00::2', 'fe80::2'], nlri: [{ prefix: 'fd00:1::/64' }] } } }), V6);
  t.equal(ok.badNextHop, 0, 'global + link-local is fine');
  t.equal(ok.msg.attributes.mpReach?.nlri.length, 1);
});

t.test('a clean UPDATE is passed through untouched', async (t) => {
  const msg = upd({ nlri: [{ prefix: '10.244.1.0/24' }], attributes: { ...base, nextHop: '10.0.0.2' } });
  t.equal(screenUpdate(msg, V4).msg, msg);
});
