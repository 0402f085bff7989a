// Adj-RIB-Out packers: as many NLRI per UPDATE as fit, split correctly, End-of-RIB.
import t from 'tap';
import { Buffer } from 'node:buffer';
import {
  BgpWireError, decodeMessage, encodePathAttributes, endOfRib, isEndOfRib, packUpdates, packWithdrawals,
  type DecodeOptions, type Nlri, type UpdateMessage,
} from '../../../src/bgp/wire/index.js';
import { canonicalPrefix } from '../../../src/net/prefix.js';

const FOUR = { fourOctetAs: true };
const v4Attrs = encodePathAttributes({ origin: 0, asPath: [{ type: 2, asns: [64512] }], nextHop: '10.0.0.11', localPref: 100 }, FOUR);
const v6Attrs = encodePathAttributes({ origin: 0, asPath: [{ type: 2, asns: [64512] }], localPref: 100 }, FOUR);

function v4Blocks(n: number): Nlri[] {
  return Array.from({ length: n }, (_, i) => ({ prefix: `10.${(i >> 10) & 0xff}.${(i >> 2) & 0xff}.${(i & 3) * 64}/26` }));
}
function v6Blocks(n: number): Nlri[] {
  return Array.from({ length: n }, (_, i) => ({ prefix: canonicalPrefix(`fd00:${(i >> 10).toString(16)}::${((i & 1023) * 64).toString(16)}/122`) }));
}
function decodeAll(msgs: Buffer[], opts: DecodeOptions = FOUR): UpdateMessage[] {
  return msgs.map((m) => decodeMessage(m, opts) as UpdateMessage);
}

t.test('≥300 IPv4 /26 fit in one 4096-octet UPDATE', async (t) => {
  const msgs = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: v4Blocks(300), opts: FOUR });
  t.equal(msgs.length, 1);
  const [u] = decodeAll(msgs);
  t.equal(u!.nlri.length, 300);
  t.same(u!.attributes, { origin: 0, asPath: [{ type: 2, asns: [64512] }], nextHop: '10.0.0.11', localPref: 100 });
  t.ok(msgs[0]!.length <= 4096);
});

t.test('one IPv4 NLRI (the direct path): the octets of the general path, with and without ADD-PATH', async (t) => {
  for (const addPath of [false, true]) {
    const opts = addPath ? { fourOctetAs: true, addPath: new Set(['ipv4' as const]) } : FOUR;
    for (const n of [{ prefix: '10.244.100.64/26', pathId: 7 }, { prefix: '0.0.0.0/0', pathId: 1 }, { prefix: '192.0.2.255/32', pathId: 0x80000001 }]) {
      const one = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: [n], opts });
      t.equal(one.length, 1);
      // the general path: two NLRI in one message, less the second NLRI and its length
      const [two] = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: [n, { prefix: '10.0.0.0/8', pathId: 1 }], opts });
      const second = (addPath ? 4 : 0) + 2;
      const expected = Buffer.from(two!.subarray(0, two!.length - second));
      expected.writeUInt16BE(expected.length, 16);
      t.same(one[0], expected, `${n.prefix} addPath=${addPath}`);
      t.same((decodeMessage(one[0]!, addPath ? { fourOctetAs: true, addPath: new Set(['ipv4' as const]) } : FOUR) as UpdateMessage).nlri, [addPath ? n : { prefix: n.prefix }]);
    }
  }
});

t.test('IPv4 packing splits at 4096 and keeps every NLRI in order', async (t) => {
  const nlri = v4Blocks(2000);
  const msgs = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri, opts: FOUR });
  const perMsg = Math.floor((4096 - 23 - v4Attrs.length) / 5);
  t.equal(msgs.length, Math.ceil(2000 / perMsg), `${perMsg} per message`);
  t.ok(msgs.every((m) => m.length <= 4096));
  t.ok(msgs.slice(0, -1).every((m) => m.length + 5 > 4096), 'every message but the last is full');
  t.same(decodeAll(msgs).flatMap((u) => u.nlri), nlri);
  t.same(packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: [], opts: FOUR }), [], 'nothing to send, no message');
});

t.test('Extended Message (RFC 8654): up to 65535 octets', async (t) => {
  const nlri = v4Blocks(10000);
  const msgs = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri, opts: { fourOctetAs: true, extendedMessage: true } });
  t.equal(msgs.length, 1);
  t.ok(msgs[0]!.length > 4096 && msgs[0]!.length <= 65535);
  t.same(decodeAll(msgs, { fourOctetAs: true, extendedMessage: true })[0]!.nlri, nlri);
});

t.test('IPv6 packing: MP_REACH_NLRI per message with both next hops', async (t) => {
  const nlri = v6Blocks(1000);
  const msgs = packUpdates({ family: 'ipv6', attributes: v6Attrs, nextHops: ['fd00::11', 'fe80::1'], nlri, opts: FOUR });
  t.ok(msgs.length > 1);
  t.ok(msgs.every((m) => m.length <= 4096));
  t.ok(msgs.slice(0, -1).every((m) => m.length + 17 > 4096), 'every message but the last is full');
  const us = decodeAll(msgs);
  t.ok(us.every((u) => u.errors === undefined && u.nlri.length === 0));
  t.ok(us.every((u) => JSON.stringify(u.attributes.mpReach?.nextHops) === '["fd00::11","fe80::1"]'));
  t.same(us.flatMap((u) => u.attributes.mpReach!.nlri), nlri);
  t.same({ ...us[0]!.attributes, mpReach: undefined }, { origin: 0, asPath: [{ type: 2, asns: [64512] }], localPref: 100, mpReach: undefined });
});

t.test('ADD-PATH packing carries path identifiers', async (t) => {
  const addPath = new Set(['ipv4', 'ipv6'] as const);
  const n4 = v4Blocks(900).map((n, i) => ({ ...n, pathId: i + 1 }));
  const m4 = packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: n4, opts: { fourOctetAs: true, addPath } });
  t.same(decodeAll(m4, { fourOctetAs: true, addPath }).flatMap((u) => u.nlri), n4);
  const n6 = v6Blocks(300).map((n, i) => ({ ...n, pathId: 7 * i }));
  const m6 = packUpdates({ family: 'ipv6', attributes: v6Attrs, nextHops: ['fd00::11'], nlri: n6, opts: { fourOctetAs: true, addPath } });
  t.same(decodeAll(m6, { fourOctetAs: true, addPath }).flatMap((u) => u.attributes.mpReach!.nlri), n6);
  const w6 = packWithdrawals({ family: 'ipv6', nlri: n6, opts: { fourOctetAs: true, addPath } });
  t.same(decodeAll(w6, { fourOctetAs: true, addPath }).flatMap((u) => u.attributes.mpUnreach!.withdrawn), n6);
});

t.test('withdrawal packing, both families', async (t) => {
  const n4 = v4Blocks(2000);
  const w4 = packWithdrawals({ family: 'ipv4', nlri: n4, opts: FOUR });
  t.ok(w4.length > 1 && w4.every((m) => m.length <= 4096));
  t.ok(w4.slice(0, -1).every((m) => m.length + 5 > 4096), 'full messages');
  const u4 = decodeAll(w4);
  t.same(u4.flatMap((u) => u.withdrawn), n4);
  t.ok(u4.every((u) => u.nlri.length === 0 && Object.keys(u.attributes).length === 0 && u.errors === undefined));
  t.ok(packWithdrawals({ family: 'ipv4', nlri: v4Blocks(300), opts: FOUR }).length === 1, '300 /26 withdrawals in one message');
  const n6 = v6Blocks(1000);
  const w6 = packWithdrawals({ family: 'ipv6', nlri: n6, opts: FOUR });
  t.ok(w6.length > 1 && w6.every((m) => m.length <= 4096));
  t.same(decodeAll(w6).flatMap((u) => u.attributes.mpUnreach!.withdrawn), n6);
  t.same(packWithdrawals({ family: 'ipv6', nlri: [], opts: FOUR }), []);
});

t.test('packer input errors are BgpWireError', async (t) => {
  const noNextHop = encodePathAttributes({ origin: 0, asPath: [] }, FOUR);
  t.throws(() => packUpdates({ family: 'ipv4', attributes: noNextHop, nlri: v4Blocks(1), opts: FOUR }), BgpWireError);
  t.throws(() => packUpdates({ family: 'ipv6', attributes: v6Attrs, nlri: v6Blocks(1), opts: FOUR }), BgpWireError, 'IPv6 needs next hops');
  t.throws(() => packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: [{ prefix: 'fd00::/64' }], opts: FOUR }), BgpWireError);
  t.throws(() => packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: [{ prefix: '10.0.0.0/33' }], opts: FOUR }), BgpWireError);
  t.throws(() => packUpdates({ family: 'ipv6', attributes: v6Attrs, nextHops: ['fd00::1'], nlri: [{ prefix: 'fd00:::1/64' }], opts: FOUR }), BgpWireError);
  t.throws(() => packUpdates({ family: 'ipv4', attributes: Buffer.concat([v4Attrs, Buffer.alloc(4080)]), nlri: v4Blocks(1), opts: FOUR }), BgpWireError);
});

t.test('End-of-RIB both families (RFC 4724 §2)', async (t) => {
  t.equal(endOfRib('ipv4').toString('hex'), `${'ff'.repeat(16)}0017020000${'0000'}`);
  t.equal(endOfRib('ipv6').toString('hex'), `${'ff'.repeat(16)}001d0200000006800f03000201`);
  t.equal(isEndOfRib(decodeMessage(endOfRib('ipv4'), FOUR) as UpdateMessage), 'ipv4');
  t.equal(isEndOfRib(decodeMessage(endOfRib('ipv6'), FOUR) as UpdateMessage), 'ipv6');
  const w = decodeMessage(packWithdrawals({ family: 'ipv6', nlri: v6Blocks(1), opts: FOUR })[0]!, FOUR) as UpdateMessage;
  t.equal(isEndOfRib(w), null, 'a real withdrawal is not End-of-RIB');
  const u = decodeMessage(packUpdates({ family: 'ipv4', attributes: v4Attrs, nlri: v4Blocks(1), opts: FOUR })[0]!, FOUR) as UpdateMessage;
  t.equal(isEndOfRib(u), null);
  t.equal(isEndOfRib({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0 } }), null, 'attributes without NLRI: not End-of-RIB');
});
