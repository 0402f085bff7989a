// Whole-message dispatch: decodeMessage / encodeMessage over the per-type codecs.
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MsgType, NotifCode, HeaderSubcode } from './constants.js';
import { BgpWireError } from './errors.js';
import { checkHeader, maxLengthFor } from './header.js';
import { decodeKeepalive, decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification, encodeRouteRefresh } from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import type { BgpMessage, DecodeOptions, EncodeOptions } from './types.js';

/**
 * Decodes one whole message (header included), as returned by Framer. Throws BgpWireError
 * for every error that resets the session; weaker UPDATE errors are in the result.
 */
export function decodeMessage(frame: Buffer, opts: DecodeOptions): BgpMessage {
  if (frame.length < HEADER_LENGTH) {
    throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, `frame of ${frame.length} octets is shorter than a header`);
  }
  const { length, type } = checkHeader(frame, 0, Math.max(maxLengthFor(opts.extendedMessage), MAX_MESSAGE_LENGTH));
  if (length !== frame.length) {
    throw new BgpWireError(NotifCode.MessageHeaderError, HeaderSubcode.BadMessageLength, `header length ${length} ≠ frame length ${frame.length}`, Buffer.from(frame.subarray(16, 18)));
  }
  switch (type) {
    case MsgType.Open:
      return decodeOpen(frame);
    case MsgType.Update:
      return decodeUpdate(frame, opts);
    case MsgType.Notification:
      return decodeNotification(frame);
    case MsgType.Keepalive:
      return decodeKeepalive(frame);
    default:
      return decodeRouteRefresh(frame);
  }
}

export function encodeMessage(msg: BgpMessage, opts: EncodeOptions): Buffer {
  switch (msg.type) {
    case 'open':
      return encodeOpen(msg);
    case 'update':
      return encodeUpdate(msg, opts);
    case 'notification':
      return encodeNotification(msg);
    case 'keepalive':
      return encodeKeepalive();
    case 'routeRefresh':
      return encodeRouteRefresh(msg);
  }
}
