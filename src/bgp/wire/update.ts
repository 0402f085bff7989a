// UPDATE (RFC 4271 §4.3) with the RFC 7606 error ladder.
//
//  +-----------------------------------------------------+
//  | Withdrawn Routes Length (2)                         |
//  | Withdrawn Routes (variable, IPv4 NLRI)              |
//  | Total Path Attribute Length (2)                     |
//  | Path Attributes (variable, see attrs/registry.ts)   |
//  | Network Layer Reachability Information (variable)   |
//  +-----------------------------------------------------+
import { Buffer } from 'node:buffer';
import { AS_TRANS, AttrType, HEADER_LENGTH, MsgType, NotifCode, UpdateSubcode } from './constants.js';
import { BgpWireError, ErrorAction, strongerAction } from './errors.js';
import { allocMessage, maxLengthFor } from './header.js';
import { mergeAs4Path } from './attrs/as-path.js';
import type { DraftAttributes } from './attrs/codec.js';
import { nlriBytes } from './attrs/mp.js';
import { decodeAttributes, encodeMpAttributes, encodePathAttributes } from './attrs/registry.js';
import { decodeNlri } from './nlri.js';
import type { DecodeOptions, EncodeOptions, UpdateMessage } from './types.js';

function listError(why: string): BgpWireError {
  return new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.MalformedAttributeList, why);
}

/** Decodes a whole UPDATE frame (header included). Throws BgpWireError only for `reset`. */
export function decodeUpdate(frame: Buffer, opts: DecodeOptions): UpdateMessage {
  const end = frame.readUInt16BE(16);
  if (end !== frame.length || end < 23) throw listError(`UPDATE frame length ${frame.length} ≠ header length ${end}`);
  let off = HEADER_LENGTH;
  const wlen = frame.readUInt16BE(off);
  off += 2;
  // RFC 7606 §5.3 / RFC 4271 §6.3: field lengths that do not fit → Malformed Attribute List.
  if (off + wlen + 2 > end) throw listError(`Withdrawn Routes Length ${wlen} overruns the message`);
  const withdrawn = decodeNlri(frame, off, off + wlen, 'ipv4', !!opts.addPath?.has('ipv4'));
  off += wlen;
  const alen = frame.readUInt16BE(off);
  off += 2;
  if (off + alen > end) throw listError(`Total Path Attribute Length ${alen} overruns the message`);
  const parsed = decodeAttributes(frame, off, off + alen, opts);
  off += alen;
  // RFC 7606 §5.3: a malformed classic NLRI field cannot be trusted → reset (3/10).
  const nlri = decodeNlri(frame, off, end, 'ipv4', !!opts.addPath?.has('ipv4'));
  const attrs = parsed.attrs;
  if (!opts.fourOctetAs) mergeAs4(attrs);
  const errors = parsed.errors;
  let action = parsed.action;
  const hasReach = nlri.length > 0 || (attrs.mpReach?.nlri.length ?? 0) > 0;
  if (hasReach) {
    // RFC 7606 §3 (d): a missing well-known mandatory attribute → treat-as-withdraw. An
    // UPDATE with NLRI and no attributes at all lands here too (RFC 7606 §5.2).
    for (const t of nlri.length > 0 ? REQUIRED_WITH_NLRI : REQUIRED_MP_ONLY) {
      if (parsed.seen.has(t)) continue;
      errors.push(new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.MissingWellKnownAttribute, `missing well-known attribute ${t}`, Buffer.from([t]), ErrorAction.Withdraw));
      action = action === null ? ErrorAction.Withdraw : strongerAction(action, ErrorAction.Withdraw);
    }
  }
  const attributes = 'as4Path' in attrs || 'as4Aggregator' in attrs ? withoutAs4(attrs) : attrs; // no copy in the usual case
  const msg: UpdateMessage = parsed.ignored > 0 ? { type: 'update', withdrawn, attributes, nlri, ignoredAttributes: parsed.ignored } : { type: 'update', withdrawn, attributes, nlri };
  if (errors.length === 0) return msg;
  return action === ErrorAction.Withdraw ? { ...msg, treatAsWithdraw: true, errors } : { ...msg, errors };
}

/** RFC 7606 §3 (d): the well-known mandatory attributes of an UPDATE that carries NLRI (classic, or MP only). */
const REQUIRED_WITH_NLRI: readonly number[] = [AttrType.Origin, AttrType.AsPath, AttrType.NextHop];
const REQUIRED_MP_ONLY: readonly number[] = [AttrType.Origin, AttrType.AsPath];

function withoutAs4(d: DraftAttributes): Omit<DraftAttributes, 'as4Path' | 'as4Aggregator'> {
  const { as4Path: _p, as4Aggregator: _a, ...attributes } = d;
  return attributes;
}

/** RFC 6793 §4.2.3: rebuild the 4-octet view from AS_PATH/AS4_PATH, AGGREGATOR/AS4_AGGREGATOR. */
function mergeAs4(d: DraftAttributes): void {
  const as4Path = d.as4Path;
  const as4Agg = d.as4Aggregator;
  // An AGGREGATOR with a real 2-octet AS means the route was aggregated by an OLD speaker
  // after the NEW one: both AS4 attributes are stale and ignored.
  if (d.aggregator && d.aggregator.asn !== AS_TRANS) return;
  if (as4Agg && d.aggregator) d.aggregator = as4Agg;
  if (as4Path && d.asPath) d.asPath = mergeAs4Path(d.asPath, as4Path);
}

/**
 * Encodes an UPDATE; throws BgpWireError when it would exceed the maximum length
 * (4096, or 65535 with RFC 8654 Extended Message).
 */
export function encodeUpdate(msg: UpdateMessage, opts: EncodeOptions): Buffer {
  const addPath4 = !!opts.addPath?.has('ipv4');
  const withdrawn = nlriBytes(msg.withdrawn, 'ipv4', addPath4);
  const attrs = Buffer.concat([encodeMpAttributes(msg.attributes, opts), encodePathAttributes(msg.attributes, opts)]);
  const nlri = nlriBytes(msg.nlri, 'ipv4', addPath4);
  return assembleUpdate(withdrawn, attrs, nlri, opts);
}

export function assembleUpdate(withdrawn: Buffer, attrs: Buffer, nlri: Buffer, opts: EncodeOptions): Buffer {
  const length = HEADER_LENGTH + 4 + withdrawn.length + attrs.length + nlri.length;
  if (length > maxLengthFor(opts.extendedMessage) || withdrawn.length > 0xffff || attrs.length > 0xffff) {
    throw new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.Unspecific, `cannot encode: UPDATE of ${length} octets is too long`);
  }
  const buf = allocMessage(length, MsgType.Update);
  let off = HEADER_LENGTH;
  buf.writeUInt16BE(withdrawn.length, off);
  off += 2 + withdrawn.copy(buf, off + 2);
  buf.writeUInt16BE(attrs.length, off);
  off += 2 + attrs.copy(buf, off + 2);
  nlri.copy(buf, off);
  return buf;
}

