// The Adj-RIB-Out packers: many NLRI under one cached attribute encoding, in as few
// UPDATEs as fit (RFC 4271 §4.3, max 4096 or 65535 with RFC 8654), End-of-RIB (RFC 4724 §2).
//
// IPv4 unicast uses the classic Withdrawn Routes / NLRI fields; IPv6 unicast puts its next
// hop(s) and NLRI in an MP_REACH_NLRI (or MP_UNREACH_NLRI) built per message, placed first
// (RFC 7606 §5.1). The MP attribute always uses the Extended Length form (4-octet header).
import { Buffer } from 'node:buffer';
import { AttrFlag, AttrType, HEADER_LENGTH, MsgType, NotifCode, UpdateSubcode } from './constants.js';
import { BgpWireError } from './errors.js';
import { familyToAfiSafi, afiSafiToFamily } from './family.js';
import { maxLengthFor, writeHeader } from './header.js';
import { mpReachHead, mpUnreachHead } from './attrs/mp.js';
import { nlriSize, prefixSize, writeNlri, writePrefix } from './nlri.js';
import type { EncodeOptions, Nlri, UpdateMessage } from './types.js';
import type { Family } from '../../net/prefix.js';

function encodeError(why: string): BgpWireError {
  return new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.Unspecific, `cannot encode: ${why}`);
}

/** True when an encoded attribute list contains attribute `type`. */
function hasAttribute(attrs: Buffer, type: number): boolean {
  let off = 0;
  while (off + 3 <= attrs.length) {
    const ext = (attrs[off] ?? 0) & AttrFlag.ExtendedLength;
    if (attrs[off + 1] === type) return true;
    off += ext ? 4 + attrs.readUInt16BE(off + 2) : 3 + (attrs[off + 2] ?? 0);
  }
  return false;
}

/**
 * Fills `scratch` from `at` with NLRI from `list[i]` on while they fit under `limit`;
 * returns [next index, end offset].
 */
function fill(scratch: Buffer, at: number, limit: number, list: readonly Nlri[], i: number, family: Family, addPath: boolean): [number, number] {
  let off = at;
  const worst = (addPath ? 5 : 1) + (family === 'ipv4' ? 4 : 16);
  for (; i < list.length; i++) {
    const n = list[i] as Nlri;
    if (limit - off < worst && limit - off < nlriSize(n, addPath)) break;
    off = writeNlri(scratch, off, n, family, addPath);
  }
  return [i, off];
}

/**
 * One scratch buffer per maximum message size, reused by every call (each message is copied
 * out of it): a reflector packs one UPDATE per route per client, and a fresh 4 KiB (or 64 KiB)
 * buffer per call was garbage at that rate. The packers are synchronous, so sharing is safe.
 */
const scratches = new Map<number, Buffer>();
function scratchFor(max: number): Buffer {
  let b = scratches.get(max);
  if (!b) { b = Buffer.allocUnsafe(max); scratches.set(max, b); }
  return b;
}

/**
 * True when an UPDATE with these attributes (and, for IPv6, this MP_REACH next hop) still
 * has room for one NLRI under the session's maximum message length. packUpdates throws
 * for attribute sets where this is false; the Adj-RIB-Out checks first and does not send
 * such a route to that peer (BIRD: "attribute list too long").
 */
export function attributesFit(family: Family, attributesLength: number, nextHops: readonly string[] | undefined, opts: EncodeOptions): boolean {
  const max = maxLengthFor(opts.extendedMessage);
  const addPath = !!opts.addPath?.has(family);
  if (family === 'ipv4') return HEADER_LENGTH + 4 + attributesLength + (addPath ? 9 : 5) <= max;
  const hops = nextHops?.length ?? 1;
  const head = 5 + (hops >= 2 ? 32 : 16);
  return HEADER_LENGTH + 4 + 4 + head + (addPath ? 21 : 17) <= max - attributesLength;
}

export function packUpdates(p: { family: Family; attributes: Buffer; nextHops?: readonly string[]; nlri: readonly Nlri[]; opts: EncodeOptions }): Buffer[] {
  const { family, attributes, nlri, opts } = p;
  const max = maxLengthFor(opts.extendedMessage);
  const addPath = !!opts.addPath?.has(family);
  const scratch = scratchFor(max);
  const out: Buffer[] = [];
  if (family === 'ipv4') {
    if (!hasAttribute(attributes, AttrType.NextHop)) throw encodeError('IPv4 UPDATE attributes lack NEXT_HOP');
    const start = HEADER_LENGTH + 4 + attributes.length;
    if (start + (addPath ? 9 : 5) > max) throw encodeError('attributes leave no room for NLRI');
    if (nlri.length === 1) return [packOne(attributes, nlri[0]!, addPath)];
    scratch.writeUInt16BE(0, HEADER_LENGTH);
    scratch.writeUInt16BE(attributes.length, HEADER_LENGTH + 2);
    attributes.copy(scratch, HEADER_LENGTH + 4);
    for (let i = 0; i < nlri.length; ) {
      const [next, end] = fill(scratch, start, max, nlri, i, family, addPath);
      writeHeader(scratch, 0, end, MsgType.Update);
      out.push(Buffer.from(scratch.subarray(0, end)));
      i = next;
    }
    return out;
  }
  if (!p.nextHops || p.nextHops.length === 0) throw encodeError('IPv6 UPDATE needs a next hop');
  const head = mpReachHead(family, p.nextHops);
  const mpAt = HEADER_LENGTH + 4;
  const start = mpAt + 4 + head.length;
  const limit = max - attributes.length;
  if (start + (addPath ? 21 : 17) > limit) throw encodeError('attributes leave no room for NLRI');
  scratch.writeUInt16BE(0, HEADER_LENGTH);
  scratch[mpAt] = AttrFlag.Optional | AttrFlag.ExtendedLength;
  scratch[mpAt + 1] = AttrType.MpReachNlri;
  head.copy(scratch, mpAt + 4);
  for (let i = 0; i < nlri.length; ) {
    const [next, end] = fill(scratch, start, limit, nlri, i, family, addPath);
    scratch.writeUInt16BE(end - mpAt - 4, mpAt + 2);
    scratch.writeUInt16BE(end - mpAt + attributes.length, HEADER_LENGTH + 2);
    attributes.copy(scratch, end);
    const total = end + attributes.length;
    writeHeader(scratch, 0, total, MsgType.Update);
    out.push(Buffer.from(scratch.subarray(0, total)));
    i = next;
  }
  return out;
}

/**
 * One IPv4 UPDATE with one NLRI (a route event's usual case), written straight into a Buffer
 * of its size: the same octets as the scratch path, without the copy out of the scratch.
 */
function packOne(attributes: Buffer, n: Nlri, addPath: boolean): Buffer {
  const start = HEADER_LENGTH + 4 + attributes.length;
  const buf = Buffer.allocUnsafe(start + nlriSize(n, addPath));
  writeHeader(buf, 0, buf.length, MsgType.Update);
  buf[HEADER_LENGTH] = 0; // Withdrawn Routes Length
  buf[HEADER_LENGTH + 1] = 0;
  buf[HEADER_LENGTH + 2] = attributes.length >> 8;
  buf[HEADER_LENGTH + 3] = attributes.length & 0xff;
  buf.set(attributes, HEADER_LENGTH + 4);
  writeNlri(buf, start, n, 'ipv4', addPath);
  return buf;
}

export function packWithdrawals(p: { family: Family; nlri: readonly Nlri[]; opts: EncodeOptions }): Buffer[] {
  const prefixes = p.nlri.map((n) => n.prefix);
  const pathIds = p.nlri.map((n) => n.pathId ?? 0);
  return packWithdrawn({ family: p.family, prefixes, pathIds, count: prefixes.length, opts: p.opts });
}

/**
 * Fills `scratch` from `at` with the withdrawn prefixes `prefixes[i]` on (path ids from
 * `pathIds` under ADD-PATH) while they fit under `limit`; returns [next index, end offset].
 */
function fillPrefixes(scratch: Buffer, at: number, limit: number, prefixes: readonly string[], pathIds: readonly number[], count: number, i: number, family: Family, addPath: boolean): [number, number] {
  let off = at;
  const worst = (addPath ? 5 : 1) + (family === 'ipv4' ? 4 : 16);
  for (; i < count; i++) {
    const prefix = prefixes[i]!;
    if (limit - off < worst && limit - off < prefixSize(prefix, addPath)) break;
    off = writePrefix(scratch, off, prefix, addPath ? pathIds[i]! : 0, family, addPath);
  }
  return [i, off];
}

/**
 * The UPDATEs withdrawing the first `count` of `prefixes` (text, each with `pathIds[i]` as
 * its RFC 7911 path id when ADD-PATH is negotiated for the family; ignored otherwise), as
 * few as fit the session's maximum message length. Parallel lists the caller reuses: the
 * Adj-RIB-Out withdrawing a full table makes no object per prefix.
 */
export function packWithdrawn(p: { family: Family; prefixes: readonly string[]; pathIds: readonly number[]; count: number; opts: EncodeOptions }): Buffer[] {
  const { family, prefixes, pathIds, count, opts } = p;
  const max = maxLengthFor(opts.extendedMessage);
  const addPath = !!opts.addPath?.has(family);
  const scratch = scratchFor(max);
  const out: Buffer[] = [];
  if (family === 'ipv4') {
    const start = HEADER_LENGTH + 2;
    for (let i = 0; i < count; ) {
      const [next, end] = fillPrefixes(scratch, start, max - 2, prefixes, pathIds, count, i, family, addPath);
      scratch.writeUInt16BE(end - start, HEADER_LENGTH);
      scratch.writeUInt16BE(0, end); // Total Path Attribute Length
      writeHeader(scratch, 0, end + 2, MsgType.Update);
      out.push(Buffer.from(scratch.subarray(0, end + 2)));
      i = next;
    }
    return out;
  }
  const head = mpUnreachHead(family);
  const mpAt = HEADER_LENGTH + 4;
  const start = mpAt + 4 + head.length;
  scratch.writeUInt16BE(0, HEADER_LENGTH);
  scratch[mpAt] = AttrFlag.Optional | AttrFlag.ExtendedLength;
  scratch[mpAt + 1] = AttrType.MpUnreachNlri;
  head.copy(scratch, mpAt + 4);
  for (let i = 0; i < count; ) {
    const [next, end] = fillPrefixes(scratch, start, max, prefixes, pathIds, count, i, family, addPath);
    scratch.writeUInt16BE(end - mpAt - 4, mpAt + 2);
    scratch.writeUInt16BE(end - mpAt, HEADER_LENGTH + 2);
    writeHeader(scratch, 0, end, MsgType.Update);
    out.push(Buffer.from(scratch.subarray(0, end)));
    i = next;
  }
  return out;
}

/** RFC 4724 §2: an empty UPDATE (IPv4 unicast) or one with only an empty MP_UNREACH_NLRI. */
export function endOfRib(family: Family): Buffer {
  if (family === 'ipv4') {
    const b = Buffer.alloc(23);
    writeHeader(b, 0, 23, MsgType.Update);
    return b;
  }
  const { afi, safi } = familyToAfiSafi(family);
  const b = Buffer.alloc(29);
  writeHeader(b, 0, 29, MsgType.Update);
  b.writeUInt16BE(0, 19); // Withdrawn Routes Length
  b.writeUInt16BE(6, 21); // Total Path Attribute Length
  b[23] = AttrFlag.Optional;
  b[24] = AttrType.MpUnreachNlri;
  b[25] = 3; // AFI + SAFI, no withdrawn routes
  b.writeUInt16BE(afi, 26);
  b[28] = safi;
  return b;
}

/**
 * The family an End-of-RIB marker is for, or null when `msg` is not one (RFC 4724 §2): an
 * UPDATE empty on the wire (IPv4 unicast), or one whose only attribute is an MP_UNREACH_NLRI
 * with no withdrawn routes. An UPDATE whose attributes were all discarded or ignored (errors,
 * unknown non-transitive, unknown AFI/SAFI) was not empty on the wire: not End-of-RIB.
 */
export function isEndOfRib(msg: UpdateMessage): Family | null {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0 || msg.treatAsWithdraw) return null;
  if ((msg.errors?.length ?? 0) > 0 || (msg.ignoredAttributes ?? 0) > 0) return null;
  let only: string | null = null;
  for (const [k, v] of Object.entries(msg.attributes)) {
    if (v === undefined) continue;
    if (only !== null) return null;
    only = k;
  }
  if (only === null) return 'ipv4';
  const un = msg.attributes.mpUnreach;
  if (only !== 'mpUnreach' || !un || un.withdrawn.length > 0) return null;
  return afiSafiToFamily(un.afi, un.safi);
}
