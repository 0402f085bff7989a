// RFC 7606 ladder on UPDATE: every malformed case with its exact code, subcode and action,
// what is left of the attributes, and the same result from the Framer split anywhere.
import t from 'tap';
import { Buffer } from 'node:buffer';
import { BgpWireError, decodeMessage, type DecodeOptions, type UpdateMessage } from '../../../src/bgp/wire/index.js';
import { frameIn, hex, splits, update } from './helpers.js';

const FOUR: DecodeOptions = { fourOctetAs: true };
const ORIGIN = '40 01 01 00'; // ORIGIN IGP
const AS_PATH = '40 02 06 02 01 0000fde9'; // AS_PATH SEQ 65001 (4-octet)
const NEXT_HOP = '40 03 04 0a000001'; // NEXT_HOP 10.0.0.1
const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI = '18 0a0000'; // 10.0.0.0/24

interface Case {
  name: string;
  attrs: string;
  nlri?: string;
  withdrawn?: string;
  opts?: DecodeOptions;
  /** Expected reset: [code, subcode]. */
  reset?: [number, number];
  /** The reset flushes the peer's routes (RFC 7606 §5.3). */
  flush?: boolean;
  /** Expected non-fatal errors: [subcode, action] in order. */
  errors?: [number, 'discard' | 'withdraw'][];
  /** Attribute keys expected to be absent / present after decoding. */
  absent?: string[];
  present?: string[];
}

const cases: Case[] = [
  // RFC 4271 §6.3: message field lengths that do not fit → 3/1 reset (the NLRI cannot be located).
  { name: 'Withdrawn Routes Length past the message → 3/1 reset', withdrawn: '', attrs: '', reset: [3, 1] },
  { name: 'Total Path Attribute Length past the message → 3/1 reset', attrs: BASE, reset: [3, 1] },
  // RFC 7606 §4: an attribute that overruns the Total Path Attribute Length, or a header that
  // does not fit in it → treat-as-withdraw; the NLRI is found through the total length.
  // RFC 7606 §5.3: ... but only when every NLRI was located: an MP_REACH / MP_UNREACH could
  // hide after the overrun unless both were found before it; otherwise reset (and flush).
  { name: 'attribute length overruns the attribute list, MP attributes not located → 3/1 reset + flush', attrs: `${ORIGIN} 40 02 20 0201 0000fde9`, nlri: NLRI, reset: [3, 1], flush: true },
  { name: 'truncated attribute header, MP attributes not located → 3/1 reset + flush', attrs: `${BASE} 40`, nlri: NLRI, reset: [3, 1], flush: true },
  { name: 'overrun after MP_UNREACH and MP_REACH were located → 3/1 treat-as-withdraw', attrs: `80 0f 03 0002 01 80 0e 1e 0002 01 10 fd000000000000000000000000000001 00 40 fd00000100000000 ${ORIGIN} 40 02 20 0201 0000fde9`, errors: [[1, 'withdraw'], [3, 'withdraw']], present: ['mpReach', 'mpUnreach'] },
  { name: 'overrun after only MP_REACH was located → 3/1 reset + flush', attrs: `80 0e 1e 0002 01 10 fd000000000000000000000000000001 00 40 fd00000100000000 ${ORIGIN} 40 02 20 0201 0000fde9`, reset: [3, 1], flush: true },
  { name: 'MP_REACH_NLRI overrunning the attribute list → 3/1 reset (its NLRI cannot be withdrawn)', attrs: `${BASE} 80 0e 40 0001 01 04 0a000001 00 18 0a0000`, reset: [3, 1], flush: true },
  // RFC 7606 §7.1
  { name: 'ORIGIN value 3 → 3/6 treat-as-withdraw', attrs: `40 01 01 03 ${AS_PATH} ${NEXT_HOP}`, nlri: NLRI, errors: [[6, 'withdraw']], absent: ['origin'] },
  { name: 'ORIGIN length 2 → 3/5 treat-as-withdraw', attrs: `40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`, nlri: NLRI, errors: [[5, 'withdraw']], absent: ['origin'] },
  { name: 'ORIGIN flagged optional → 3/4 treat-as-withdraw (RFC 7606 §3 c)', attrs: `c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`, nlri: NLRI, errors: [[4, 'withdraw']], absent: ['origin'] },
  // RFC 7606 §7.2
  { name: 'AS_PATH segment type 5 → 3/11 treat-as-withdraw', attrs: `${ORIGIN} 40 02 06 05 01 0000fde9 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']], absent: ['asPath'] },
  { name: 'AS_PATH zero-length segment → 3/11 treat-as-withdraw', attrs: `${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']] },
  { name: 'AS_PATH segment overruns the attribute → 3/11 treat-as-withdraw', attrs: `${ORIGIN} 40 02 06 02 02 0000fde9 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']] },
  { name: 'AS_PATH 2-octet data on a 4-octet session (odd length) → 3/11', attrs: `${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']] },
  { name: 'AS_PATH with a confederation segment from eBGP → 3/11 treat-as-withdraw (RFC 7606 §7.2)', opts: { fourOctetAs: true, ebgp: true }, attrs: `${ORIGIN} 40 02 06 03 01 0000fde9 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']], absent: ['asPath'] },
  { name: 'AS_PATH with a confederation segment from iBGP → accepted', attrs: `${ORIGIN} 40 02 06 03 01 0000fde9 ${NEXT_HOP}`, nlri: NLRI, errors: [], present: ['asPath'] },
  // RFC 7606 §7.3-7.5
  { name: 'NEXT_HOP length 5 → 3/5 treat-as-withdraw', attrs: `${ORIGIN} ${AS_PATH} 40 03 05 0a00000100`, nlri: NLRI, errors: [[5, 'withdraw']], absent: ['nextHop'] },
  { name: 'MULTI_EXIT_DISC length 3 → treat-as-withdraw', attrs: `${BASE} 80 04 03 000064`, nlri: NLRI, errors: [[5, 'withdraw']], absent: ['med'] },
  { name: 'MULTI_EXIT_DISC flagged well-known → 3/4 treat-as-withdraw', attrs: `${BASE} 40 04 04 00000064`, nlri: NLRI, errors: [[4, 'withdraw']] },
  { name: 'LOCAL_PREF length 3 from iBGP → treat-as-withdraw', attrs: `${BASE} 40 05 03 000064`, nlri: NLRI, errors: [[5, 'withdraw']], absent: ['localPref'] },
  { name: 'LOCAL_PREF from eBGP → silently discarded (RFC 7606 §7.5)', attrs: `${BASE} 40 05 04 00000064`, nlri: NLRI, opts: { fourOctetAs: true, ebgp: true }, errors: [], absent: ['localPref'], present: ['origin', 'asPath', 'nextHop'] },
  { name: 'ORIGINATOR_ID and CLUSTER_LIST from eBGP → silently discarded (RFC 7606 §7.9, §7.10)', attrs: `${BASE} 80 09 04 0a000003 80 0a 04 0a000004`, nlri: NLRI, opts: { fourOctetAs: true, ebgp: true }, errors: [], absent: ['originatorId', 'clusterList'] },
  { name: 'malformed LOCAL_PREF from eBGP → silently discarded too', attrs: `${BASE} 40 05 01 00`, nlri: NLRI, opts: { fourOctetAs: true, ebgp: true }, errors: [] },
  // RFC 7606 §7.6, §7.7: attribute discard
  { name: 'ATOMIC_AGGREGATE length 1 → attribute discard', attrs: `${BASE} 40 06 01 00`, nlri: NLRI, errors: [[5, 'discard']], absent: ['atomicAggregate'], present: ['origin', 'asPath', 'nextHop'] },
  { name: 'AGGREGATOR length 6 on a 4-octet session → attribute discard', attrs: `${BASE} c0 07 06 fde9 0a000002`, nlri: NLRI, errors: [[5, 'discard']], absent: ['aggregator'] },
  { name: 'AGGREGATOR flagged non-transitive → 3/4 attribute discard', attrs: `${BASE} 80 07 08 0000fde9 0a000002`, nlri: NLRI, errors: [[4, 'discard']], absent: ['aggregator'] },
  // RFC 7606 §7.8-7.10, §7.14, RFC 8092 §6
  { name: 'COMMUNITIES length 5 → treat-as-withdraw', attrs: `${BASE} c0 08 05 fde9006400`, nlri: NLRI, errors: [[5, 'withdraw']], absent: ['communities'] },
  { name: 'COMMUNITIES length 0 → treat-as-withdraw', attrs: `${BASE} c0 08 00`, nlri: NLRI, errors: [[5, 'withdraw']] },
  { name: 'ORIGINATOR_ID length 5 → treat-as-withdraw', attrs: `${BASE} 80 09 05 0a00000300`, nlri: NLRI, errors: [[5, 'withdraw']] },
  { name: 'CLUSTER_LIST length 6 → treat-as-withdraw', attrs: `${BASE} 80 0a 06 0a0000040a00`, nlri: NLRI, errors: [[5, 'withdraw']] },
  { name: 'EXTENDED_COMMUNITIES length 7 → treat-as-withdraw', attrs: `${BASE} c0 10 07 0002fde9000000`, nlri: NLRI, errors: [[5, 'withdraw']] },
  { name: 'LARGE_COMMUNITY length 11 → treat-as-withdraw', attrs: `${BASE} c0 20 0b fa56ea000000000100000000`.slice(0, -2), nlri: NLRI, errors: [[5, 'withdraw']] },
  // RFC 6793 §6: AS4_PATH / AS4_AGGREGATOR malformed → attribute discard.
  { name: 'AS4_PATH segment type 5 from an OLD speaker → attribute discard (RFC 6793 §6)', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 06 05 01 fa56ea00`, nlri: NLRI, errors: [[11, 'discard']], present: ['asPath'] },
  { name: 'AS4_PATH of length 0 → attribute discard (RFC 6793 §6)', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 00`, nlri: NLRI, errors: [[11, 'discard']] },
  { name: 'AS4_AGGREGATOR length 6 → attribute discard', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP} c0 12 06 fa56ea000a00`, nlri: NLRI, errors: [[5, 'discard']] },
  { name: 'AS4_PATH between NEW speakers → ignored, no error', attrs: `${BASE} c0 11 06 02 01 fa56ea00`, nlri: NLRI, errors: [] },
  // RFC 7607 §2: AS 0
  { name: 'AS 0 in AS_PATH → 3/11 treat-as-withdraw (RFC 7607)', attrs: `${ORIGIN} 40 02 0a 02 02 0000fde9 00000000 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']], absent: ['asPath'] },
  { name: 'AS 0 in a 2-octet AS_PATH → 3/11 treat-as-withdraw (RFC 7607)', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 0000 ${NEXT_HOP}`, nlri: NLRI, errors: [[11, 'withdraw']] },
  { name: 'AS 0 in AS4_PATH → treat-as-withdraw (RFC 7607)', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 06 02 01 00000000`, nlri: NLRI, errors: [[11, 'withdraw']] },
  { name: 'AS 0 in AGGREGATOR → attribute discard (RFC 7607)', attrs: `${BASE} c0 07 08 00000000 0a000002`, nlri: NLRI, errors: [[9, 'discard']], absent: ['aggregator'], present: ['asPath'] },
  { name: 'AS 0 in AS4_AGGREGATOR → attribute discard (RFC 7607)', opts: { fourOctetAs: false }, attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 07 06 5ba0 0a000002 c0 12 08 00000000 0a000002`, nlri: NLRI, errors: [[9, 'discard']], present: ['aggregator'] },
  // RFC 7606 §7.11, §5.3: MP_REACH / MP_UNREACH → reset
  { name: 'MP_REACH_NLRI next hop length 12 → 3/9 reset', attrs: `80 0e 1a 0002 01 0c ${'00'.repeat(12)} 00 40 fd00000100000000`, reset: [3, 9] },
  { name: 'MP_REACH_NLRI prefix length 129 → 3/10 reset', attrs: `80 0e 18 0002 01 10 fd000000000000000000000000000001 00 81 fd00`, reset: [3, 10] },
  { name: 'MP_REACH_NLRI prefix past the attribute → 3/10 reset', attrs: `80 0e 19 0002 01 10 fd000000000000000000000000000001 00 40 fd0000`, reset: [3, 10] },
  { name: 'MP_UNREACH_NLRI trailing octet → 3/10 reset', attrs: `80 0f 0d 0002 01 40 fd00000100000000 40`, reset: [3, 10] },
  { name: 'MP_UNREACH_NLRI of 2 octets → 3/9 reset', attrs: `80 0f 02 0002`, reset: [3, 9] },
  { name: 'MP_REACH_NLRI flagged transitive → 3/4 reset', attrs: `c0 0f 03 0002 01`, reset: [3, 4] },
  // RFC 7606 §3 (g): duplicates
  { name: 'duplicate ORIGIN → later one discarded (3/1 discard), first kept', attrs: `${BASE} 40 01 01 02`, nlri: NLRI, errors: [[1, 'discard']], present: ['origin'] },
  { name: 'duplicate MP_UNREACH_NLRI → 3/1 reset', attrs: `80 0f 03 0002 01 80 0f 03 0002 01`, reset: [3, 1] },
  { name: 'duplicate MP_REACH_NLRI → 3/1 reset', attrs: `80 0e 15 0002 01 10 fd000000000000000000000000000001 00 80 0e 15 0002 01 10 fd000000000000000000000000000001 00`, reset: [3, 1] },
  // RFC 7606 §3 (d), §5.2: missing well-known mandatory attributes
  { name: 'NLRI without ORIGIN → 3/3 treat-as-withdraw', attrs: `${AS_PATH} ${NEXT_HOP}`, nlri: NLRI, errors: [[3, 'withdraw']] },
  { name: 'NLRI without AS_PATH → 3/3 treat-as-withdraw', attrs: `${ORIGIN} ${NEXT_HOP}`, nlri: NLRI, errors: [[3, 'withdraw']] },
  { name: 'NLRI without NEXT_HOP → 3/3 treat-as-withdraw', attrs: `${ORIGIN} ${AS_PATH}`, nlri: NLRI, errors: [[3, 'withdraw']] },
  { name: 'NLRI and no attributes at all → treat-as-withdraw', attrs: '', nlri: NLRI, errors: [[3, 'withdraw'], [3, 'withdraw'], [3, 'withdraw']] },
  { name: 'MP_REACH NLRI without ORIGIN/AS_PATH → treat-as-withdraw (no NEXT_HOP needed)', attrs: `80 0e 1e 0002 01 10 fd000000000000000000000000000001 00 40 fd00000100000000`, errors: [[3, 'withdraw'], [3, 'withdraw']] },
  { name: 'withdrawals only, no attributes → fine', withdrawn: NLRI, attrs: '', errors: [] },
  // RFC 4271 §6.3, §9: unknown attributes
  { name: 'unrecognized well-known attribute → 3/2 reset', attrs: `${BASE} 40 63 01 00`, nlri: NLRI, reset: [3, 2] },
  { name: 'unknown optional non-transitive → dropped, no error', attrs: `${BASE} 80 63 01 00`, nlri: NLRI, errors: [], absent: ['unknown'] },
  { name: 'unknown optional transitive → kept', attrs: `${BASE} c0 63 01 00`, nlri: NLRI, errors: [], present: ['unknown'] },
  // RFC 4271 §6.3, RFC 7606 §5.3: classic NLRI / withdrawn field errors → 3/10 reset
  { name: 'NLRI prefix length 33 → 3/10 reset', attrs: BASE, nlri: '21 0a000000 00', reset: [3, 10] },
  { name: 'NLRI trailing octets → 3/10 reset', attrs: BASE, nlri: '18 0a00', reset: [3, 10] },
  { name: 'withdrawn prefix length 40 → 3/10 reset', withdrawn: '28 0a00000000', attrs: '', reset: [3, 10] },
  // RFC 7606 §3 (h): the strongest action wins
  { name: 'discard + withdraw in one UPDATE → treat-as-withdraw, both reported', attrs: `${BASE} 40 06 01 00 c0 08 05 0000000000`, nlri: NLRI, errors: [[5, 'discard'], [5, 'withdraw']] },
  { name: 'withdraw then reset → reset', attrs: `40 01 01 07 ${AS_PATH} ${NEXT_HOP} 80 0f 02 0002`, nlri: NLRI, reset: [3, 9] },
];

function build(c: Case): Buffer {
  const body = update({ withdrawn: hex(c.withdrawn ?? ''), attrs: hex(c.attrs), nlri: hex(c.nlri ?? '') });
  if (c.name.startsWith('Withdrawn Routes Length past')) body.writeUInt16BE(200, 19);
  if (c.name.startsWith('Total Path Attribute Length past')) body.writeUInt16BE(body.readUInt16BE(21) + 1, 21);
  return body;
}

for (const c of cases) {
  t.test(c.name, async (t) => {
    const bytes = build(c);
    const opts = c.opts ?? FOUR;
    let result: UpdateMessage | BgpWireError;
    try {
      result = decodeMessage(bytes, opts) as UpdateMessage;
    } catch (err) {
      t.type(err, BgpWireError, 'only BgpWireError is thrown');
      result = err as BgpWireError;
    }
    if (c.reset) {
      t.type(result, BgpWireError, 'session reset');
      if (result instanceof BgpWireError) {
        t.same([result.code, result.subcode, result.action], [...c.reset, 'reset']);
        t.equal(result.flushRoutes, c.flush ?? false, 'flushes the peer\'s routes');
      }
    } else {
      t.notOk(result instanceof BgpWireError, 'no reset');
      const u = result as UpdateMessage;
      const errs = (u.errors ?? []).map((e) => [e.subcode, e.action]);
      t.same(errs, c.errors ?? [], 'errors (subcode, action)');
      t.ok((u.errors ?? []).every((e) => e.code === 3), 'every error is an UPDATE Message Error');
      const withdraw = (c.errors ?? []).some(([, a]) => a === 'withdraw');
      t.equal(u.treatAsWithdraw === true, withdraw, `treatAsWithdraw ${withdraw}`);
      for (const k of c.absent ?? []) t.notOk(k in u.attributes, `${k} removed`);
      for (const k of c.present ?? []) t.ok(k in u.attributes, `${k} kept`);
    }
    let bad = 0;
    for (const pieces of splits(bytes)) {
      const got = frameIn(pieces);
      if (!Array.isArray(got) || got.length !== 1 || got[0] !== bytes.toString('hex')) bad++;
    }
    t.equal(bad, 0, 'Framer passes it whole at every split');
  });
}

t.test('received host bits are masked', async (t) => {
  const u = decodeMessage(update({ attrs: hex(BASE), nlri: hex`18 0a0102  # 10.1.2.0/24
    11 0a0181 # 10.1.128.0/17 with a host bit` }), FOUR) as UpdateMessage;
  t.same(u.nlri, [{ prefix: '10.1.2.0/24' }, { prefix: '10.1.128.0/17' }]);
  const v = decodeMessage(update({ attrs: hex(BASE), nlri: hex`1a 0a0102ff  # 10.1.2.255/26 → 10.1.2.192/26` }), FOUR) as UpdateMessage;
  t.same(v.nlri, [{ prefix: '10.1.2.192/26' }]);
  const w = decodeMessage(update({ attrs: hex`80 0e 1e 0002 01 10 fd000000000000000000000000000001 00 3f fd00000100000001 ${ORIGIN} ${AS_PATH}` }), FOUR) as UpdateMessage;
  t.same(w.attributes.mpReach?.nlri, [{ prefix: 'fd00:1::/63' }]);
});

t.test('unknown transitive attribute is re-encoded with the Partial bit', async (t) => {
  const { encodePathAttributes } = await import('../../../src/bgp/wire/index.js');
  const u = decodeMessage(update({ attrs: hex(`${BASE} c0 63 01 07`), nlri: hex(NLRI) }), FOUR) as UpdateMessage;
  t.same(u.attributes.unknown, [{ flags: 0xc0, type: 0x63, value: hex`07` }]);
  t.equal(encodePathAttributes(u.attributes, FOUR).subarray(-4).toString('hex'), 'e0630107');
});
