// Header, OPEN, NOTIFICATION and ROUTE-REFRESH errors: exact code / subcode / data / action,
// the same whether the octets arrive whole, split anywhere, or are decoded directly.
import t from 'tap';
import { Buffer } from 'node:buffer';
import { BgpWireError, decodeMessage, Framer, forEachMessage, messageType, notificationCodes } from '../../../src/bgp/wire/index.js';
import { frameIn, hex, splits } from './helpers.js';

const FOUR = { fourOctetAs: true };
const M = 'ffffffffffffffffffffffffffffffff';

interface Bad { name: string; bytes: Buffer; code: number; subcode: number; data?: string; framer: boolean; max?: number }

const header: Bad[] = [
  { name: 'marker not all ones → 1/1', bytes: hex`ffffffffffffffffffffffffffff fffe 0013 04  # one marker bit clear`, code: 1, subcode: 1, framer: true },
  { name: 'length 18 → 1/2, data = length field', bytes: hex`${M} 0012 04 00`, code: 1, subcode: 2, data: '0012', framer: true },
  { name: 'length 4097 → 1/2', bytes: hex`${M} 1001 02`, code: 1, subcode: 2, data: '1001', framer: true },
  { name: 'type 0 → 1/3, data = type', bytes: hex`${M} 0013 00`, code: 1, subcode: 3, data: '00', framer: true },
  { name: 'type 6 → 1/3, data = type', bytes: hex`${M} 0013 06`, code: 1, subcode: 3, data: '06', framer: true },
  { name: 'OPEN of 28 octets → 1/2', bytes: hex`${M} 001c 01 04fde9005a0a000001`, code: 1, subcode: 2, data: '001c', framer: true },
  { name: 'OPEN over 4096 even with Extended Message → 1/2 (RFC 8654 §4)', bytes: hex`${M} 1001 01`, code: 1, subcode: 2, data: '1001', framer: true, max: 65535 },
  { name: 'KEEPALIVE of 20 octets → 1/2', bytes: hex`${M} 0014 04 00`, code: 1, subcode: 2, data: '0014', framer: true },
  { name: 'NOTIFICATION of 20 octets → 1/2', bytes: hex`${M} 0014 03 06`, code: 1, subcode: 2, data: '0014', framer: true },
  { name: 'UPDATE of 22 octets → 1/2', bytes: hex`${M} 0016 02 000000`, code: 1, subcode: 2, data: '0016', framer: true },
  { name: 'ROUTE-REFRESH of 22 octets → 1/2', bytes: hex`${M} 0016 05 000100`, code: 1, subcode: 2, data: '0016', framer: true },
  { name: 'ROUTE-REFRESH BoRR of 24 octets → 7/1, data = the message (RFC 7313 §5)', bytes: hex`${M} 0018 05 0001 01 01 00`, code: 7, subcode: 1, data: `${M}00180500010101 00`.replace(/ /g, ''), framer: false },
  { name: 'ROUTE-REFRESH subtype 0 of 24 octets → 1/2', bytes: hex`${M} 0018 05 0001 00 01 00`, code: 1, subcode: 2, data: '0018', framer: false },
];

const open: Bad[] = [
  { name: 'OPEN version 3 → 2/1, data = 0004', bytes: hex`${M} 001d 01 03 fde9 005a 0a000001 00`, code: 2, subcode: 1, data: '0004', framer: false },
  { name: 'OPEN hold time 1 → 2/6', bytes: hex`${M} 001d 01 04 fde9 0001 0a000001 00`, code: 2, subcode: 6, framer: false },
  { name: 'OPEN hold time 2 → 2/6', bytes: hex`${M} 001d 01 04 fde9 0002 0a000001 00`, code: 2, subcode: 6, framer: false },
  { name: 'OPEN BGP identifier 0.0.0.0 → 2/3', bytes: hex`${M} 001d 01 04 fde9 005a 00000000 00`, code: 2, subcode: 3, data: '00000000', framer: false },
  { name: 'OPEN BGP identifier 224.0.0.5 (multicast) → 2/3', bytes: hex`${M} 001d 01 04 fde9 005a e0000005 00`, code: 2, subcode: 3, data: 'e0000005', framer: false },
  { name: 'OPEN optional parameter type 1 (authentication) → 2/4', bytes: hex`${M} 0021 01 04 fde9 005a 0a000001 04 01 02 abcd`, code: 2, subcode: 4, data: '01', framer: false },
  { name: 'OPEN optional parameters length past the message → 2/0', bytes: hex`${M} 0021 01 04 fde9 005a 0a000001 08 02 02 0200`, code: 2, subcode: 0, framer: false },
  { name: 'OPEN capability overrunning its parameter → 2/0', bytes: hex`${M} 0021 01 04 fde9 005a 0a000001 04 02 02 4104`, code: 2, subcode: 0, framer: false },
  { name: 'OPEN multiprotocol capability of length 3 → 2/0', bytes: hex`${M} 0024 01 04 fde9 005a 0a000001 07 02 05 0103 000101`, code: 2, subcode: 0, framer: false },
  // An ADD-PATH Send/Receive value other than 1..3 is no error: RFC 7911 §4 ignores the
  // capability (test/bgp/session/rfc-points.test.ts).
];

for (const c of [...header, ...open]) {
  t.test(c.name, async (t) => {
    const viaDecode = (() => { try { decodeMessage(c.bytes, FOUR); return null; } catch (e) { return e; } })();
    t.type(viaDecode, BgpWireError, 'decodeMessage throws BgpWireError');
    const e = viaDecode as BgpWireError;
    t.same({ code: e.code, subcode: e.subcode, action: e.action }, { code: c.code, subcode: c.subcode, action: 'reset' });
    if (c.data !== undefined) t.equal(e.data.toString('hex'), c.data, 'NOTIFICATION data');
    // The Framer either rejects the header itself (same error, at any split) or passes the frame on.
    let mismatched = 0;
    for (const pieces of splits(c.bytes)) {
      const got = frameIn(pieces, c.max);
      if (c.framer) {
        if (!(got instanceof BgpWireError) || got.code !== c.code || got.subcode !== c.subcode) mismatched++;
      } else if (!Array.isArray(got) || got.length !== 1 || got[0] !== c.bytes.toString('hex')) mismatched++;
    }
    t.equal(mismatched, 0, c.framer ? 'Framer throws the same error at every split' : 'Framer passes the frame whole at every split');
  });
}

t.test('Framer checks the header before the body arrives', async (t) => {
  const f = new Framer();
  t.throws(() => f.push(hex`${M} 2000 02`), { code: 1, subcode: 2 }, 'bad length rejected with only 19 octets');
  const g = new Framer();
  t.same(g.push(hex`${M} 0fff 02 0000`), [], 'a good header waits for its body');
  t.equal(g.pending, 21);
});

t.test('Framer maximum length: 4096 by default, 65535 after setMaxMessageLength', async (t) => {
  const big = Buffer.alloc(5000);
  big.fill(0xff, 0, 16);
  big.writeUInt16BE(5000, 16);
  big[18] = 2;
  big.writeUInt16BE(0, 19);
  big.writeUInt16BE(0, 21);
  t.throws(() => new Framer().push(big), { code: 1, subcode: 2 });
  const f = new Framer();
  f.setMaxMessageLength(65535);
  t.equal(f.push(big).length, 1);
  t.equal(new Framer({ maxMessageLength: 65535 }).push(big).length, 1);
});

t.test('Framer: many tiny chunks are linear and frames are independent copies', async (t) => {
  const ka = hex`${M} 0013 04`;
  const data = Buffer.concat(Array.from({ length: 2000 }, () => ka));
  const f = new Framer();
  let frames: Buffer[] = [];
  for (let i = 0; i < data.length; i += 3) frames = frames.concat(f.push(data.subarray(i, i + 3)));
  t.equal(frames.length, 2000);
  t.ok(frames.every((fr) => fr.equals(ka)));
  t.equal(f.pending, 0);
});

t.test('Framer: frames assembled across chunks stay intact after later pushes', async (t) => {
  const a = hex`${M} 0017 05 0001 00 01`; // ROUTE-REFRESH
  const b = hex`${M} 0015 03 06 02`; // NOTIFICATION Cease/2
  const f = new Framer();
  t.same(f.push(a.subarray(0, 10)), []);
  const first = f.push(Buffer.concat([a.subarray(10), b.subarray(0, 5)]));
  t.equal(first.length, 1);
  const second = f.push(b.subarray(5));
  t.equal(first[0]!.toString('hex'), a.toString('hex'), 'first frame unchanged by the second push');
  t.equal(second[0]!.toString('hex'), b.toString('hex'));
  t.equal(f.pending, 0);
});

t.test('header helpers: walk encoded messages, read a NOTIFICATION\'s codes without decoding it', async (t) => {
  const keepalive = Buffer.from('ffffffffffffffffffffffffffffffff001304', 'hex');
  const notification = Buffer.from('ffffffffffffffffffffffffffffffff0015030602', 'hex');
  const types: (number | undefined)[] = [];
  t.equal(forEachMessage(Buffer.concat([keepalive, notification, keepalive]), (type) => types.push(type)), 3);
  t.same(types, [4, 3, 4]);
  t.equal(messageType(notification, 0), 3);
  t.same(notificationCodes(notification), { code: 6, subcode: 2 });
  t.same(notificationCodes(notification.subarray(0, 19)), { code: 0, subcode: 0 }, 'a cut frame reads as 0/0');
});
