// OPEN (RFC 4271 §4.2) with optional parameters (RFC 5492 capabilities) and the RFC 9072
// extended optional parameters length.
//
//  +----------------+--------------------+----------------+-------------------+
//  | Version (1)    | My AS (2)          | Hold Time (2)  | BGP Identifier (4)|
//  +----------------+--------------------+----------------+-------------------+
//  | Opt Parm Len (1) | Optional Parameters: type (1) | length (1) | value     |
//  +----------------------------------------------------------------------------+
//  RFC 9072: Opt Parm Len = 255 and first type = 255 → Extended Length (2) follows, and
//  each parameter's length is 2 octets.
import { Buffer } from 'node:buffer';
import { BGP_VERSION, HEADER_LENGTH, MsgType, NotifCode, OpenParamType, OpenSubcode } from './constants.js';
import { BgpWireError } from './errors.js';
import { allocMessage } from './header.js';
import { decodeCapability, encodeCapability } from './capabilities.js';
import { ipv4Bytes } from './nlri.js';
import type { Capability, OpenMessage } from './types.js';
import { formatIpv4 } from '../../net/prefix.js';
import { deepFreeze } from '../../util/freeze.js';

function openError(subcode: number, why: string, data: Buffer = Buffer.alloc(0)): BgpWireError {
  return new BgpWireError(NotifCode.OpenMessageError, subcode, why, data);
}

/** Decodes a whole OPEN frame (header included); throws BgpWireError (code 2). */
export function decodeOpen(frame: Buffer): OpenMessage {
  const end = frame.length;
  if (end < 29) throw openError(OpenSubcode.Unspecific, 'OPEN too short');
  const b = HEADER_LENGTH;
  const version = frame[b] ?? 0;
  // RFC 4271 §6.2: data = the largest supported version, 2 octets.
  if (version !== BGP_VERSION) throw openError(OpenSubcode.UnsupportedVersionNumber, `version ${version}`, Buffer.from([0, BGP_VERSION]));
  const myAs = frame.readUInt16BE(b + 1);
  const holdTime = frame.readUInt16BE(b + 3);
  // RFC 4271 §6.2: hold time 1 or 2 is unacceptable (0 is "no keepalives").
  if (holdTime === 1 || holdTime === 2) throw openError(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTime}`);
  const idNum = frame.readUInt32BE(b + 5);
  // RFC 4271 §6.2 / RFC 6286 §2.2: a valid unicast, non-zero identifier.
  if (idNum === 0 || idNum >>> 28 === 0xe) throw openError(OpenSubcode.BadBgpIdentifier, `BGP identifier ${formatIpv4(frame, b + 5)}`, Buffer.from(frame.subarray(b + 5, b + 9)));
  const bgpId = formatIpv4(frame, b + 5);
  const capabilities = paramsOf(frame, b + 9, end);
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities };
}

/**
 * Decoded optional parameters, by their octets (latin1): the peers of a mesh all send the same
 * capabilities, decoded once. Only lists that can be deeply frozen are kept (an unknown
 * capability carries a Buffer, which cannot be), so a shared list is never modified; nor
 * are lists from more than PARAM_OCTETS_KEPT octets (a usual OPEN has well under 100).
 */
const paramLists = new Map<string, readonly Capability[]>();
const PARAM_LISTS_KEPT = 32;
const PARAM_OCTETS_KEPT = 512;

function paramsOf(frame: Buffer, at: number, end: number): readonly Capability[] {
  if (end - at > PARAM_OCTETS_KEPT) return decodeParams(frame, at, end);
  const key = frame.toString('latin1', at, end);
  const known = paramLists.get(key);
  if (known !== undefined) return known;
  const caps = decodeParams(frame, at, end);
  if (caps.some((c) => c.kind === 'unknown')) return caps;
  deepFreeze(caps);
  if (paramLists.size >= PARAM_LISTS_KEPT) paramLists.clear();
  paramLists.set(key, caps);
  return caps;
}

function decodeParams(frame: Buffer, at: number, end: number): Capability[] {
  let len = frame[at] ?? 0;
  let off = at + 1;
  let wide = false;
  if (len === 255 && frame[off] === OpenParamType.Extended) {
    // RFC 9072 §2: non-extended length 255, type 255, then a 2-octet length.
    if (off + 3 > end) throw openError(OpenSubcode.Unspecific, 'truncated extended optional parameters length');
    len = frame.readUInt16BE(off + 1);
    off += 3;
    wide = true;
  }
  if (off + len !== end) throw openError(OpenSubcode.Unspecific, `optional parameters length ${len} does not match the message`);
  const caps: Capability[] = [];
  const head = wide ? 3 : 2;
  while (off < end) {
    if (off + head > end) throw openError(OpenSubcode.Unspecific, 'truncated optional parameter');
    const type = frame[off] ?? 0;
    const plen = wide ? frame.readUInt16BE(off + 1) : (frame[off + 1] ?? 0);
    off += head;
    if (off + plen > end) throw openError(OpenSubcode.Unspecific, 'optional parameter overruns the message');
    // RFC 4271 §6.2 / RFC 5492 §3: only Capabilities (2) is known.
    if (type !== OpenParamType.Capabilities) throw openError(OpenSubcode.UnsupportedOptionalParameter, `optional parameter type ${type}`, Buffer.from([type]));
    decodeCapabilities(frame.subarray(off, off + plen), caps);
    off += plen;
  }
  return caps;
}

function decodeCapabilities(v: Buffer, out: Capability[]): void {
  let off = 0;
  while (off < v.length) {
    if (off + 2 > v.length) throw openError(OpenSubcode.Unspecific, 'truncated capability header');
    const code = v[off] ?? 0;
    const len = v[off + 1] ?? 0;
    if (off + 2 + len > v.length) throw openError(OpenSubcode.Unspecific, `capability ${code} overruns its parameter`);
    out.push(decodeCapability(code, v.subarray(off + 2, off + 2 + len)));
    off += 2 + len;
  }
}

/**
 * Encodes an OPEN. All capabilities go in one Capabilities parameter; when that exceeds
 * 255 octets the RFC 9072 extended form is used.
 */
export function encodeOpen(msg: OpenMessage): Buffer {
  const caps = Buffer.concat(msg.capabilities.map(encodeCapability));
  let params: Buffer;
  if (caps.length === 0) params = Buffer.from([0]);
  else if (caps.length + 2 <= 255) params = Buffer.concat([Buffer.from([caps.length + 2, OpenParamType.Capabilities, caps.length]), caps]);
  else {
    const p = Buffer.alloc(4 + 3);
    p[0] = 255;
    p[1] = OpenParamType.Extended;
    p.writeUInt16BE(caps.length + 3, 2);
    p[4] = OpenParamType.Capabilities;
    p.writeUInt16BE(caps.length, 5);
    params = Buffer.concat([p, caps]);
  }
  const length = HEADER_LENGTH + 9 + params.length;
  const buf = allocMessage(length, MsgType.Open);
  const b = HEADER_LENGTH;
  buf[b] = msg.version;
  buf.writeUInt16BE(msg.myAs & 0xffff, b + 1);
  buf.writeUInt16BE(msg.holdTime, b + 3);
  ipv4Bytes(msg.bgpId).copy(buf, b + 5);
  params.copy(buf, b + 9);
  return buf;
}
