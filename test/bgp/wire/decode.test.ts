// Every hex vector decodes to its expected message, re-encodes to the same octets (where the
// encoder's canonical form is the one on the wire), and survives the Framer split anywhere.
import t from 'tap';
import { Buffer } from 'node:buffer';
import {
  CeaseSubcode, decodeMessage, describeNotification, encodeMessage, FsmSubcode, HeaderSubcode, NotifCode, OpenSubcode,
  RouteRefreshSubcode, UpdateSubcode,
} from '../../../src/bgp/wire/index.js';
import { frameIn, splits } from './helpers.js';
import { allVectors } from './vectors/index.js';

for (const v of allVectors) {
  t.test(v.name, async (t) => {
    t.equal(v.bytes.readUInt16BE(16), v.bytes.length, 'header length matches the vector');
    t.same(decodeMessage(v.bytes, v.opts), v.expect, 'decodes to the expected message');
    if (v.reencode !== false) t.equal(encodeMessage(v.expect, v.opts).toString('hex'), v.bytes.toString('hex'), 're-encodes byte for byte');
    else t.same(decodeMessage(encodeMessage(v.expect, v.opts), v.opts), v.expect, 'canonical re-encoding decodes the same');
  });
}

t.test('every vector through the Framer, split at every offset', async (t) => {
  for (const v of allVectors) {
    const want = [v.bytes.toString('hex')];
    let bad = 0;
    for (const pieces of splits(v.bytes)) if (JSON.stringify(frameIn(pieces)) !== JSON.stringify(want)) bad++;
    t.equal(bad, 0, `${v.name}: ${v.bytes.length + 1} splits`);
    t.same(frameIn([...v.bytes].map((b) => Buffer.from([b]))), want, `${v.name}: one octet at a time`);
  }
});

t.test('three vectors in one buffer, split at every offset, decode identically', async (t) => {
  const n = allVectors.length;
  for (let i = 0; i < n; i++) {
    const trio = [allVectors[i], allVectors[(i + 7) % n], allVectors[(i + 13) % n]].map((v) => v!);
    const data = Buffer.concat(trio.map((v) => v.bytes));
    const want = trio.map((v) => v.bytes.toString('hex'));
    let bad = 0;
    for (const pieces of splits(data)) {
      const got = frameIn(pieces);
      if (!Array.isArray(got) || JSON.stringify(got) !== JSON.stringify(want)) { bad++; continue; }
      const decoded = got.map((h, k) => decodeMessage(Buffer.from(h, 'hex'), trio[k]!.opts));
      if (JSON.stringify(decoded) !== JSON.stringify(trio.map((v) => decodeMessage(v.bytes, v.opts)))) bad++;
    }
    t.equal(bad, 0, `${trio.map((v) => v.name.split(' ')[0]).join(' + ')} (${data.length + 1} splits)`);
  }
});

t.test('describeNotification covers every code and subcode', async (t) => {
  t.equal(describeNotification(4, 0), 'Hold timer expired');
  t.equal(describeNotification(6, 2), 'Cease: Administrative shutdown');
  t.equal(describeNotification(2, 2), 'OPEN Message Error: Bad Peer AS');
  t.equal(describeNotification(1, 1), 'Message Header Error: Connection Not Synchronized');
  t.equal(describeNotification(3, 11), 'UPDATE Message Error: Malformed AS_PATH');
  t.equal(describeNotification(5, 3), 'Finite State Machine Error: Receive Unexpected Message in Established State');
  t.equal(describeNotification(7, 1), 'ROUTE-REFRESH Message Error: Invalid Message Length');
  t.equal(describeNotification(6, 10), 'Cease: BFD down');
  t.equal(describeNotification(6, 99), 'Cease: subcode 99');
  const tables: [number, Record<string, number>][] = [
    [NotifCode.MessageHeaderError, HeaderSubcode], [NotifCode.OpenMessageError, OpenSubcode], [NotifCode.UpdateMessageError, UpdateSubcode],
    [NotifCode.FsmError, FsmSubcode], [NotifCode.Cease, CeaseSubcode], [NotifCode.RouteRefreshMessageError, RouteRefreshSubcode],
  ];
  for (const code of Object.values(NotifCode)) t.notMatch(describeNotification(code, 0), /code|subcode/, `code ${code} has text`);
  for (const [code, subs] of tables) {
    for (const sub of Object.values(subs)) if (sub !== 0) t.notMatch(describeNotification(code, sub), /subcode/, `${code}/${sub} has text`);
  }
  t.equal(describeNotification(42, 1), 'Unknown error code 42 (subcode 1)');
});
