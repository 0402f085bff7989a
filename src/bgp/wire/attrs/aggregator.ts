// AGGREGATOR (RFC 4271 §5.1.7; 4-octet AS form RFC 6793 §3) and AS4_AGGREGATOR (RFC 6793
// §4.2.2). Both are informational: malformed → attribute discard (RFC 7606 §7.7, RFC 6793 §6).
//
//  +--------------------------+------------------+
//  | AS (2 or 4 octets)       | IPv4 address (4) |
//  +--------------------------+------------------+
import { Buffer } from 'node:buffer';
import { AS_TRANS, AttrType, UpdateSubcode } from '../constants.js';
import { ErrorAction } from '../errors.js';
import { formatIpv4 } from '../../../net/prefix.js';
import { ipv4Bytes } from '../nlri.js';
import { type AttrCodec, expectLength, malformed, OPTIONAL_TRANSITIVE } from './codec.js';

export const aggregator: AttrCodec = {
  type: AttrType.Aggregator,
  name: 'AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  onError: ErrorAction.Discard,
  decode(v, ctx, d) {
    const four = ctx.fourOctetAs;
    expectLength(v, v.length === (four ? 8 : 6), 'AGGREGATOR');
    const asn = four ? v.readUInt32BE(0) : v.readUInt16BE(0);
    if (asn === 0) malformed(UpdateSubcode.OptionalAttributeError, 'AGGREGATOR: AS 0'); // RFC 7607 §2: attribute discard
    d.aggregator = { asn, address: formatIpv4(v, four ? 4 : 2) };
  },
  encode(a, opts) {
    const g = a.aggregator;
    if (!g) return undefined;
    const addr = ipv4Bytes(g.address);
    if (opts.fourOctetAs) {
      const b = Buffer.allocUnsafe(8);
      b.writeUInt32BE(g.asn >>> 0, 0);
      addr.copy(b, 4);
      return b;
    }
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(g.asn > 0xffff ? AS_TRANS : g.asn, 0); // RFC 6793 §4.2.2
    addr.copy(b, 2);
    return b;
  },
};

export const as4Aggregator: AttrCodec = {
  type: AttrType.As4Aggregator,
  name: 'AS4_AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  onError: ErrorAction.Discard,
  decode(v, ctx, d) {
    if (ctx.fourOctetAs) return; // RFC 6793 §6: ignored between NEW speakers
    expectLength(v, v.length === 8, 'AS4_AGGREGATOR');
    if (v.readUInt32BE(0) === 0) malformed(UpdateSubcode.OptionalAttributeError, 'AS4_AGGREGATOR: AS 0'); // RFC 7607 §2
    d.as4Aggregator = { asn: v.readUInt32BE(0), address: formatIpv4(v, 4) };
  },
  encode(a, opts) {
    const g = a.aggregator;
    if (!g || opts.fourOctetAs || g.asn <= 0xffff) return undefined;
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE(g.asn >>> 0, 0);
    ipv4Bytes(g.address).copy(b, 4);
    return b;
  },
};
