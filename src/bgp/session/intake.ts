// Received frames to FSM events, pure:
// - RFC 6608: a message the state does not expect is an FSM error (5/1, 5/2, 5/3) whether or
//   not its body would parse, so it is not decoded (a malformed one would get 3/x or 2/x);
// - a message that fails to decode becomes the event of its kind (RFC 4271 §6: header 1/x,
//   OPEN 2/x, UPDATE 3/x, ROUTE-REFRESH 7/x); a NOTIFICATION we cannot parse still ends the
//   session and is never answered (§6.4), so it is reported as received, codes only;
// - a decoded message becomes its event (OPEN is the session's: it negotiates first).
import { decodeMessage, isBgpWireError, messageType, MsgType, NotifCode, notificationCodes } from '../wire/index.js';
import type { BgpWireError } from '../wire/errors.js';
import type { BgpMessage, DecodeOptions, OpenMessage } from '../wire/types.js';
import type { BgpState, FsmEvent, ProtocolError } from './fsm.js';

export type FrameOutcome =
  /** Not expected in this state: not decoded. */
  | { readonly kind: 'unexpected'; readonly event: FsmEvent }
  | { readonly kind: 'malformed'; readonly type: number | undefined; readonly error: BgpWireError; readonly event: FsmEvent }
  | { readonly kind: 'open'; readonly message: OpenMessage }
  | { readonly kind: 'message'; readonly message: Exclude<BgpMessage, OpenMessage>; readonly event: FsmEvent };

/** What one received frame means to the FSM in `state`. */
export function frameOutcome(frame: Buffer, state: BgpState, decode: DecodeOptions): FrameOutcome {
  const type = messageType(frame, 0);
  if (type === MsgType.Open && state !== 'OpenSent') return { kind: 'unexpected', event: { type: 'UnexpectedOpen' } };
  if ((type === MsgType.Update || type === MsgType.RouteRefresh) && (state === 'OpenSent' || state === 'OpenConfirm')) {
    return { kind: 'unexpected', event: { type: 'UnexpectedMessage' } };
  }
  let msg: BgpMessage;
  try {
    msg = decodeMessage(frame, decode);
  } catch (err) {
    if (!isBgpWireError(err)) throw err;
    return { kind: 'malformed', type, error: err, event: decodeErrorEvent(type, err, frame) };
  }
  switch (msg.type) {
    case 'open': return { kind: 'open', message: msg };
    case 'keepalive': return { kind: 'message', message: msg, event: { type: 'KeepAliveMsg' } };
    case 'notification': return { kind: 'message', message: msg, event: { type: 'NotifMsg', message: msg } };
    case 'update': return { kind: 'message', message: msg, event: { type: 'UpdateMsg', message: msg } };
    case 'routeRefresh': return { kind: 'message', message: msg, event: { type: 'RouteRefreshMsg', message: msg } };
  }
}

/** The FSM event for a message of `type` that failed to decode with `err`. */
export function decodeErrorEvent(type: number | undefined, err: ProtocolError, frame: Buffer): FsmEvent {
  if (type === MsgType.Notification) {
    return { type: 'NotifMsg', message: { type: 'notification', ...notificationCodes(frame), data: Buffer.alloc(0) } };
  }
  if (err.code === NotifCode.MessageHeaderError) return { type: 'BGPHeaderErr', error: err };
  if (type === MsgType.Open) return { type: 'BGPOpenMsgErr', error: err };
  if (type === MsgType.RouteRefresh) return { type: 'RouteRefreshMsgErr', error: err };
  return { type: 'UpdateMsgErr', error: err };
}
