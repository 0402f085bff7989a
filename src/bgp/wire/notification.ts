// NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3).
//
//  NOTIFICATION: Error code (1) | Error subcode (1) | Data (variable)
//  KEEPALIVE:    header only
//  ROUTE-REFRESH: AFI (2) | Reserved / RFC 7313 subtype (1) | SAFI (1)
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, HeaderSubcode, MAX_MESSAGE_LENGTH, MsgType, NotifCode, RouteRefreshSubcode, RouteRefreshSubtype } from './constants.js';
import { BgpWireError } from './errors.js';
import { allocMessage } from './header.js';
import type { KeepaliveMessage, NotificationMessage, RouteRefreshMessage } from './types.js';

export function decodeNotification(frame: Buffer): NotificationMessage {
  if (frame.length < 21) throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, 'NOTIFICATION too short');
  return { type: 'notification', code: frame[19] ?? 0, subcode: frame[20] ?? 0, data: Buffer.from(frame.subarray(21)) };
}

/** Data beyond what fits in a 4096-octet message is cut (the peer may lack RFC 8654). */
export function encodeNotification(msg: NotificationMessage): Buffer {
  const data = msg.data.subarray(0, MAX_MESSAGE_LENGTH - 21);
  const buf = allocMessage(21 + data.length, MsgType.Notification);
  buf[19] = msg.code;
  buf[20] = msg.subcode;
  data.copy(buf, 21);
  return buf;
}

export function decodeKeepalive(frame: Buffer): KeepaliveMessage {
  if (frame.length !== HEADER_LENGTH) throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, 'KEEPALIVE length is not 19', Buffer.from(frame.subarray(16, 18)));
  return { type: 'keepalive' };
}

export function encodeKeepalive(): Buffer {
  return allocMessage(HEADER_LENGTH, MsgType.Keepalive);
}

export function decodeRouteRefresh(frame: Buffer): RouteRefreshMessage {
  if (frame.length !== 23) {
    const subtype = frame[21];
    // RFC 7313 §5: a BoRR/EoRR of the wrong length → 7/1 with the whole message as data.
    if (frame.length >= 22 && (subtype === RouteRefreshSubtype.BeginningOfRouteRefresh || subtype === RouteRefreshSubtype.EndOfRouteRefresh)) {
      throw new BgpWireError(NotifCode.RouteRefreshMessageError, RouteRefreshSubcode.InvalidMessageLength, `ROUTE-REFRESH length ${frame.length}`, Buffer.from(frame));
    }
    // RFC 4271 §6.1: otherwise a length inconsistent with the type.
    throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, `ROUTE-REFRESH length ${frame.length}`, Buffer.from(frame.subarray(16, 18)));
  }
  // RFC 7313 §5: a subtype other than 0, 1, 2 is to be ignored; that is the session's call.
  return { type: 'routeRefresh', afi: frame.readUInt16BE(19), subtype: frame[21] ?? 0, safi: frame[22] ?? 0 };
}

export function encodeRouteRefresh(msg: RouteRefreshMessage): Buffer {
  const buf = allocMessage(23, MsgType.RouteRefresh);
  buf.writeUInt16BE(msg.afi, 19);
  buf[21] = msg.subtype;
  buf[22] = msg.safi;
  return buf;
}
