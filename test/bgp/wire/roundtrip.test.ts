// encode → decode round trips for every message type, and the NLRI fast path checked
// against src/net/prefix.ts (ip-address based) on random prefixes.
import t from 'tap';
import { Buffer } from 'node:buffer';
import {
  decodeMessage, encodeMessage, type BgpMessage, type Capability, type DecodeOptions, type PathAttributes, type UpdateMessage,
} from '../../../src/bgp/wire/index.js';
import { decodeNlri, writeNlri } from '../../../src/bgp/wire/nlri.js';
import { formatPrefix, maskBytes, type Family } from '../../../src/net/prefix.js';
import { prng } from './helpers.js';

const FOUR = { fourOctetAs: true };
const TWO = { fourOctetAs: false };

const allCaps: Capability[] = [
  { kind: 'multiprotocol', afi: 1, safi: 1 },
  { kind: 'multiprotocol', afi: 2, safi: 1 },
  { kind: 'routeRefresh' },
  { kind: 'enhancedRouteRefresh' },
  { kind: 'extendedMessage' },
  { kind: 'fourOctetAs', asn: 4200000000 },
  { kind: 'gracefulRestart', restarting: false, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
  { kind: 'addPath', families: [{ afi: 1, safi: 1, mode: 3 }, { afi: 2, safi: 1, mode: 2 }] },
  { kind: 'unknown', code: 73, data: Buffer.from('0474657374', 'hex') },
];

const fullAttrs: PathAttributes = {
  origin: 1,
  asPath: [{ type: 2, asns: [65001, 4200000000, 100] }, { type: 1, asns: [4200000001, 200] }],
  nextHop: '192.0.2.1',
  med: 0,
  localPref: 4294967295,
  atomicAggregate: true,
  aggregator: { asn: 4200000000, address: '192.0.2.9' },
  communities: [0xffffff01, 0xffff029a],
  originatorId: '192.0.2.2',
  clusterList: ['192.0.2.3'],
  extendedCommunities: [Buffer.from('0002fde900000064', 'hex')],
  largeCommunities: [[4200000000, 0, 4294967295]],
  unknown: [{ flags: 0xe0, type: 200, value: Buffer.from('01', 'hex') }],
};

const messages: [string, BgpMessage, DecodeOptions][] = [
  ['OPEN with every capability', { type: 'open', version: 4, myAs: 23456, holdTime: 240, bgpId: '10.255.0.1', capabilities: allCaps }, FOUR],
  ['OPEN needing RFC 9072 extended parameters (> 255 octets of capabilities)', { type: 'open', version: 4, myAs: 65001, holdTime: 0, bgpId: '10.0.0.1', capabilities: Array.from({ length: 50 }, (_, i) => ({ kind: 'multiprotocol' as const, afi: 1, safi: i + 1 })) }, FOUR],
  ['UPDATE every attribute, 4-octet session', { type: 'update', withdrawn: [{ prefix: '0.0.0.0/0' }], nlri: [{ prefix: '10.0.0.0/8' }, { prefix: '10.1.2.3/32' }], attributes: fullAttrs }, FOUR],
  ['UPDATE every attribute, 2-octet session (AS_TRANS + AS4_PATH + AS4_AGGREGATOR)', { type: 'update', withdrawn: [], nlri: [{ prefix: '10.0.0.0/8' }], attributes: fullAttrs }, TWO],
  ['UPDATE with confederation segments on a 2-octet session', { type: 'update', withdrawn: [], nlri: [{ prefix: '10.0.0.0/8' }], attributes: { origin: 0, nextHop: '10.0.0.1', asPath: [{ type: 3, asns: [65000] }, { type: 2, asns: [4200000000, 65001] }] } }, TWO],
  ['UPDATE IPv6 MP_REACH + MP_UNREACH', { type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] }, mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '::/0' }] } } }, FOUR],
  ['UPDATE IPv4 in MP_REACH_NLRI', { type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['10.0.0.1'], nlri: [{ prefix: '10.9.0.0/16' }] } } }, FOUR],
  ['NOTIFICATION with data', { type: 'notification', code: 6, subcode: 4, data: Buffer.from('0568656c6c6f', 'hex') }, FOUR],
  ['KEEPALIVE', { type: 'keepalive' }, FOUR],
  ['ROUTE-REFRESH', { type: 'routeRefresh', afi: 2, safi: 1, subtype: 2 }, FOUR],
];

for (const [name, m, opts] of messages) {
  t.test(name, async (t) => {
    const bytes = encodeMessage(m, opts);
    t.equal(bytes.readUInt16BE(16), bytes.length);
    const back = decodeMessage(bytes, opts);
    t.same(back, m);
    if (m.type === 'update') t.equal((back as UpdateMessage).errors, undefined, 'no decode errors');
    t.equal(encodeMessage(back, opts).toString('hex'), bytes.toString('hex'), 'stable');
  });
}

t.test('2-octet session: encoded AS_PATH carries AS_TRANS, AS4_PATH the real ASes', async (t) => {
  const bytes = encodeMessage({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, nextHop: '10.0.0.1', asPath: [{ type: 2, asns: [65001, 4200000000] }] } }, TWO);
  const h = bytes.toString('hex');
  t.match(h, /40020602 02fde95ba0/.source.replace(' ', ''), 'AS_PATH: SEQ 65001 AS_TRANS');
  t.match(h, 'c0110a02020000fde9fa56ea00', 'AS4_PATH: SEQ 65001 4200000000');
  const only2 = encodeMessage({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, nextHop: '10.0.0.1', asPath: [{ type: 2, asns: [65001] }] } }, TWO);
  t.notMatch(only2.toString('hex'), 'c011', 'no AS4_PATH when every AS fits in 2 octets');
});

t.test('AS_SEQUENCE of 300 ASes is split into 255 + 45 segments', async (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
  const m: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [{ type: 2, asns }] } };
  const back = decodeMessage(encodeMessage(m, FOUR), FOUR) as UpdateMessage;
  t.same(back.attributes.asPath, [{ type: 2, asns: asns.slice(0, 255) }, { type: 2, asns: asns.slice(255) }]);
});

t.test('NLRI fast path agrees with src/net/prefix.ts on 20000 random prefixes', async (t) => {
  const rnd = prng(4271);
  let bad = 0;
  const buf = Buffer.alloc(64);
  for (let i = 0; i < 20000; i++) {
    const family: Family = rnd() < 0.5 ? 'ipv4' : 'ipv6';
    const size = family === 'ipv4' ? 4 : 16;
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = rnd() < 0.3 ? 0 : Math.floor(rnd() * 256);
    const length = Math.floor(rnd() * (size * 8 + 1));
    const prefix = formatPrefix(family, maskBytes(bytes, length), length);
    const pathId = Math.floor(rnd() * 2 ** 32);
    const end = writeNlri(buf, 0, { prefix, pathId }, family, true);
    const back = decodeNlri(buf, 0, end, family, true);
    if (back.length !== 1 || back[0]!.prefix !== prefix || back[0]!.pathId !== pathId) bad++;
  }
  t.equal(bad, 0);
});
