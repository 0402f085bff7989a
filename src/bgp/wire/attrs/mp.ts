// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4; IPv6 next hops RFC 2545 §3).
//
//  MP_REACH_NLRI                          MP_UNREACH_NLRI
//  +--------------------------------+     +--------------------------------+
//  | AFI (2) | SAFI (1)             |     | AFI (2) | SAFI (1)             |
//  | Next hop length (1)            |     | Withdrawn routes (variable)    |
//  | Next hop (4 | 16 | 32)         |     +--------------------------------+
//  | Reserved (1)                   |
//  | NLRI (variable)                |
//  +--------------------------------+
//
// Malformed → session reset (RFC 7606 §7.11 allows AFI/SAFI disable or reset; tern resets).
// An unsupported AFI/SAFI is skipped: we never negotiated it (RFC 4760 §7).
import { Buffer } from 'node:buffer';
import { AttrType, UpdateSubcode } from '../constants.js';
import { ErrorAction } from '../errors.js';
import { afiSafiToFamily, familyToAfiSafi } from '../family.js';
import { decodeNlri, ipv4Bytes, ipv6Bytes, nlriSize, writeNlri } from '../nlri.js';
import type { Nlri } from '../types.js';
import { formatIpv4, formatIpv6, type Family } from '../../../net/prefix.js';
import { type AttrCodec, malformed, OPTIONAL } from './codec.js';

function nextHopsOf(v: Buffer, family: Family, off: number, len: number): string[] {
  if (family === 'ipv4' && len === 4) return [formatIpv4(v, off)];
  if (family === 'ipv6' && len === 16) return [formatIpv6(v, off)];
  if (family === 'ipv6' && len === 32) return [formatIpv6(v, off), formatIpv6(v, off + 16)];
  return malformed(UpdateSubcode.OptionalAttributeError, `MP_REACH_NLRI: next hop length ${len} for ${family}`);
}

export const mpReach: AttrCodec = {
  type: AttrType.MpReachNlri,
  name: 'MP_REACH_NLRI',
  flags: OPTIONAL,
  onError: ErrorAction.Reset,
  decode(v, ctx, d) {
    if (v.length < 5) malformed(UpdateSubcode.OptionalAttributeError, 'MP_REACH_NLRI: too short');
    const afi = v.readUInt16BE(0);
    const safi = v[2] ?? 0;
    const nhLen = v[3] ?? 0;
    if (5 + nhLen > v.length) malformed(UpdateSubcode.OptionalAttributeError, 'MP_REACH_NLRI: next hop overruns the attribute');
    const family = afiSafiToFamily(afi, safi);
    if (family === null) return;
    const nextHops = nextHopsOf(v, family, 4, nhLen);
    const nlri = decodeNlri(v, 5 + nhLen, v.length, family, !!ctx.addPath?.has(family));
    d.mpReach = { afi, safi, nextHops, nlri };
  },
  encode(a, opts) {
    const m = a.mpReach;
    if (!m) return undefined;
    const family = afiSafiToFamily(m.afi, m.safi);
    if (family === null) return undefined;
    const head = mpReachHead(family, m.nextHops);
    const addPath = !!opts.addPath?.has(family);
    return Buffer.concat([head, nlriBytes(m.nlri, family, addPath)]);
  },
};

export const mpUnreach: AttrCodec = {
  type: AttrType.MpUnreachNlri,
  name: 'MP_UNREACH_NLRI',
  flags: OPTIONAL,
  onError: ErrorAction.Reset,
  decode(v, ctx, d) {
    if (v.length < 3) malformed(UpdateSubcode.OptionalAttributeError, 'MP_UNREACH_NLRI: too short');
    const afi = v.readUInt16BE(0);
    const safi = v[2] ?? 0;
    const family = afiSafiToFamily(afi, safi);
    if (family === null) return;
    d.mpUnreach = { afi, safi, withdrawn: decodeNlri(v, 3, v.length, family, !!ctx.addPath?.has(family)) };
  },
  encode(a, opts) {
    const m = a.mpUnreach;
    if (!m) return undefined;
    const family = afiSafiToFamily(m.afi, m.safi);
    if (family === null) return undefined;
    return Buffer.concat([mpUnreachHead(family), nlriBytes(m.withdrawn, family, !!opts.addPath?.has(family))]);
  },
};

/** AFI, SAFI, next hop length, next hop(s), reserved: everything before the NLRI. */
export function mpReachHead(family: Family, nextHops: readonly string[]): Buffer {
  const { afi, safi } = familyToAfiSafi(family);
  const hops = nextHops.map((h) => (family === 'ipv4' ? ipv4Bytes(h) : ipv6Bytes(h)));
  const nh = Buffer.concat(hops);
  const b = Buffer.alloc(5 + nh.length);
  b.writeUInt16BE(afi, 0);
  b[2] = safi;
  b[3] = nh.length;
  nh.copy(b, 4);
  return b; // reserved octet is already 0
}

export function mpUnreachHead(family: Family): Buffer {
  const { afi, safi } = familyToAfiSafi(family);
  const b = Buffer.alloc(3);
  b.writeUInt16BE(afi, 0);
  b[2] = safi;
  return b;
}

export function nlriBytes(list: readonly Nlri[], family: Family, addPath: boolean): Buffer {
  let size = 0;
  for (const n of list) size += nlriSize(n, addPath);
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  for (const n of list) off = writeNlri(b, off, n, family, addPath);
  return b;
}
