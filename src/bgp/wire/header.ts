// The 19-octet message header (RFC 4271 §4.1) and the checks made on it before any body
// octet is looked at (RFC 4271 §6.1).
//
//  0                   1                   2                   3
//  +---------------------------------------------------------------+
//  |                     Marker (16 octets, all ones)              |
//  +-------------------------------+---------------+---------------+
//  |          Length               |      Type     |
//  +-------------------------------+---------------+
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, HeaderSubcode, MARKER_LENGTH, MAX_MESSAGE_LENGTH, MsgType, NotifCode } from './constants.js';
import { BgpWireError } from './errors.js';

/** RFC 4271 §4 minimum total lengths per type; KEEPALIVE is exactly 19 (§4.4). */
const MIN_LENGTH: Readonly<Record<number, number>> = {
  [MsgType.Open]: 29, // §4.2: 10 fixed octets after the header
  [MsgType.Update]: 23, // §4.3: two 2-octet length fields
  [MsgType.Notification]: 21, // §4.5: code + subcode
  [MsgType.Keepalive]: 19,
  [MsgType.RouteRefresh]: 23, // RFC 2918 §3: AFI + reserved/subtype + SAFI
};

export interface HeaderInfo {
  readonly length: number;
  readonly type: number;
}

function lengthError(buf: Buffer, off: number, why: string): BgpWireError {
  // RFC 4271 §6.1: Bad Message Length, data = the erroneous Length field.
  return new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, why, Buffer.from(buf.subarray(off + 16, off + 18)));
}

/**
 * Validates the header at `off` (at least 19 octets must be present) against the maximum
 * message length; throws BgpWireError (code 1) on the first violation.
 */
export function checkHeader(buf: Buffer, off: number, maxLength: number): HeaderInfo {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[off + i] !== 0xff) {
      // RFC 4271 §6.1: marker not all ones → Connection Not Synchronized.
      throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.ConnectionNotSynchronized, 'marker is not all ones');
    }
  }
  const length = buf.readUInt16BE(off + 16);
  const type = buf[off + 18] ?? 0;
  if (length < HEADER_LENGTH || length > maxLength) throw lengthError(buf, off, `message length ${length} outside 19..${maxLength}`);
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    // RFC 4271 §6.1: Bad Message Type, data = the erroneous Type field.
    throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageType, `unknown message type ${type}`, Buffer.from([type]));
  }
  if (length < min) throw lengthError(buf, off, `message type ${type} too short: ${length}`);
  if (type === MsgType.Keepalive && length !== 19) throw lengthError(buf, off, `KEEPALIVE length ${length} is not 19`);
  // RFC 8654 §4: OPEN (and KEEPALIVE) never exceed 4096 even with Extended Message.
  if (type === MsgType.Open && length > MAX_MESSAGE_LENGTH) throw lengthError(buf, off, `OPEN length ${length} exceeds 4096`);
  return { length, type };
}

/** The length field of the (already framed) message at `off`. */
export function messageLength(buf: Buffer, off: number): number {
  return buf.readUInt16BE(off + MARKER_LENGTH);
}

/** The type octet of the message at `off` (undefined past the end). */
export function messageType(buf: Buffer, off: number): number | undefined {
  return buf[off + MARKER_LENGTH + 2];
}

/**
 * Calls `each(type, off)` for every message of a buffer of whole, encoded messages (as the
 * Adj-RIB-Out writes them); returns how many there were.
 */
export function forEachMessage(buf: Buffer, each: (type: number | undefined, off: number) => void): number {
  let n = 0;
  for (let off = 0; off + HEADER_LENGTH <= buf.length; off += Math.max(HEADER_LENGTH, messageLength(buf, off))) {
    each(messageType(buf, off), off);
    n++;
  }
  return n;
}

/**
 * Error code and subcode of a NOTIFICATION frame (RFC 4271 §4.5), read without decoding the
 * rest: a NOTIFICATION that does not decode still ends the session with what it said.
 */
export function notificationCodes(frame: Buffer): { code: number; subcode: number } {
  return { code: frame[HEADER_LENGTH] ?? 0, subcode: frame[HEADER_LENGTH + 1] ?? 0 };
}

const MARKER = new Uint8Array(MARKER_LENGTH).fill(0xff);

/** Writes marker, length and type at `off`. */
export function writeHeader(buf: Buffer, off: number, length: number, type: number): void {
  // one TypedArray copy (no argument checks in JavaScript, as Buffer#fill and #writeUInt16BE make)
  if (length > 0xffff) throw new RangeError(`BGP message length ${length} does not fit the header`);
  buf.set(MARKER, off);
  buf[off + 16] = length >>> 8;
  buf[off + 17] = length & 0xff;
  buf[off + 18] = type;
}

/** A new message buffer of `length` octets with its header written. */
export function allocMessage(length: number, type: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  writeHeader(buf, 0, length, type);
  return buf;
}

export function maxLengthFor(extendedMessage: boolean | undefined): number {
  return extendedMessage ? 65535 : MAX_MESSAGE_LENGTH;
}

/** Counts into `tally` the messages of a buffer of whole, encoded messages and its UPDATEs (forEachMessage without a callback per message). */
export function tallyMessages(buf: Buffer, tally: { messagesOut: number; updatesOut: number }): void {
  for (let off = 0; off + HEADER_LENGTH <= buf.length; off += Math.max(HEADER_LENGTH, messageLength(buf, off))) {
    tally.messagesOut++;
    if (buf[off + MARKER_LENGTH + 2] === MsgType.Update) tally.updatesOut++;
  }
}
