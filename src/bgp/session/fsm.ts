// The BGP finite state machine of RFC 4271 §8 as a pure transition function:
// step(state, event, ctx) → { state, actions, reason }. No sockets, no timers, no logging:
// session.ts carries out the actions (send, timers, connect, close, emit).
//
// One FSM runs per TCP connection (the model of RFC 4271 §8 "one FSM per configured peer,
// plus one per incoming connection", and of BIRD's incoming/outgoing conn pair); the Speaker
// resolves collisions between the two (RFC 4271 §6.8) and feeds OpenCollisionDump.
//
// Deliberate simplifications, all allowed by RFC 4271 §8.1 optional attributes:
// - no DelayOpen, no IdleHoldTimer / DampPeerOscillations inside the FSM: after a session
//   drops to Idle the Peer restarts it with an exponential backoff (AutomaticStart);
// - any failure after the TCP connection is up goes to Idle (RFC 4271 sends OpenSent
//   TcpConnectionFails to Active; BIRD goes Idle too), so one restart path exists.
import { FsmSubcode, NotifCode, CeaseSubcode } from '../wire/constants.js';
import type { BgpMessage, NotificationMessage, OpenMessage, RouteRefreshMessage, UpdateMessage } from '../wire/types.js';

/**
 * A protocol error to report with a NOTIFICATION: a BgpWireError from the codec, or a
 * semantic OPEN check (open.ts), which returns this shape instead of throwing.
 */
export interface ProtocolError {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly message: string;
}

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

/** Why a connection (or an established session) ended. Closed union; rendered by describeDownReason. */
export type DownReason =
  | 'holdTimerExpired' // we sent NOTIFICATION 4/0
  | 'notificationReceived'
  | 'notificationSent' // a protocol error we detected (header, OPEN, UPDATE, FSM)
  | 'connectionFailed' // TCP connect failed, or the peer closed / reset the connection
  | 'adminShutdown' // Cease 6/2 (a session shut down for good; Hard Reset with the N bit)
  | 'adminReset' // Cease 6/4 (Speaker.stop: the daemon stops and is expected back, GR covers it)
  | 'peerDeconfigured' // Cease 6/3 (setPeers removed it)
  | 'configChanged' // Cease 6/6 (setPeers changed a session parameter)
  | 'collision' // Cease 6/7 (RFC 4271 §6.8)
  | 'peerRestarted' // a GR-capable peer's new connection completed its OPEN exchange while Established (RFC 4724 §4.2)
  | 'internalError' // Cease 6/0: an unexpected error inside tern while serving this session
  | 'prefixLimit'; // Cease 6/1: the peer sent more prefixes than its import limit (RFC 4486)

/** ManualStop reasons and the Cease subcode each sends (RFC 4486). */
export type StopReason = 'adminShutdown' | 'adminReset' | 'peerDeconfigured' | 'configChanged' | 'collision' | 'peerRestarted' | 'internalError' | 'prefixLimit';
const STOP_SUBCODE: Record<Exclude<StopReason, 'peerRestarted'>, number> = {
  internalError: CeaseSubcode.Unspecific,
  prefixLimit: CeaseSubcode.MaximumPrefixesReached,
  adminShutdown: CeaseSubcode.AdministrativeShutdown,
  adminReset: CeaseSubcode.AdministrativeReset,
  peerDeconfigured: CeaseSubcode.PeerDeconfigured,
  configChanged: CeaseSubcode.OtherConfigurationChange,
  collision: CeaseSubcode.ConnectionCollisionResolution,
};

export interface FsmState {
  readonly state: BgpState;
  /** Negotiated hold time in seconds (0: no hold timer); set on a valid OPEN. */
  readonly holdTime: number;
  /** Negotiated keepalive interval in seconds (0: no keepalives). */
  readonly keepaliveTime: number;
}

export const INITIAL_STATE: FsmState = { state: 'Idle', holdTime: 0, keepaliveTime: 0 };

export interface FsmContext {
  /** Never initiate the TCP connection (passive peer, or the FSM of an incoming connection). */
  readonly passive: boolean;
  /** Seconds before the next connection attempt (the Peer's current backoff). */
  readonly connectRetryTime: number;
  /** Our OPEN, sent on TcpConnectionAcknowledged / Confirmed. */
  readonly localOpen: OpenMessage;
  /** Hold timer while waiting for the peer's OPEN; RFC 4271 §8.2.2 suggests 4 minutes. */
  readonly openHoldTime?: number;
}

export type FsmEvent =
  | { readonly type: 'ManualStart' } // Event 1 (Event 4, passive, when ctx.passive)
  | { readonly type: 'AutomaticStart' } // Event 3 (Event 5 when ctx.passive): restart after backoff
  | { readonly type: 'ManualStop'; readonly reason: StopReason; readonly data?: Buffer } // Event 2 (data: the Cease's data field)
  | { readonly type: 'ConnectRetryTimerExpires' } // Event 9
  | { readonly type: 'HoldTimerExpires' } // Event 10
  | { readonly type: 'KeepaliveTimerExpires' } // Event 11
  | { readonly type: 'TcpConnectionAcknowledged' } // Event 16: our connect() completed
  | { readonly type: 'TcpConnectionConfirmed' } // Event 17: an incoming connection
  | { readonly type: 'TcpConnectionFails'; readonly error?: string } // Event 18
  | { readonly type: 'BGPOpen'; readonly holdTime: number; readonly keepaliveTime: number } // Event 19 (validated)
  | { readonly type: 'UnexpectedOpen' } // an OPEN outside OpenSent (Event 19 in a state that does not expect it)
  | { readonly type: 'UnexpectedMessage' } // UPDATE / ROUTE-REFRESH before Established, not decoded (RFC 6608)
  | { readonly type: 'BGPHeaderErr'; readonly error: ProtocolError } // Event 21
  | { readonly type: 'BGPOpenMsgErr'; readonly error: ProtocolError } // Event 22
  | { readonly type: 'OpenCollisionDump' } // Event 23
  | { readonly type: 'NotifMsg'; readonly message: NotificationMessage } // Events 24, 25
  | { readonly type: 'KeepAliveMsg' } // Event 26
  | { readonly type: 'UpdateMsg'; readonly message: UpdateMessage } // Event 27
  | { readonly type: 'UpdateMsgErr'; readonly error: ProtocolError } // Event 28
  | { readonly type: 'RouteRefreshMsg'; readonly message: RouteRefreshMessage } // RFC 2918
  | { readonly type: 'RouteRefreshMsgErr'; readonly error: ProtocolError }; // RFC 7313 §5

export type FsmAction =
  | { readonly type: 'send'; readonly message: BgpMessage }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  | { readonly type: 'connect' }
  | { readonly type: 'closeConnection' }
  | { readonly type: 'deliver'; readonly message: UpdateMessage | RouteRefreshMessage }
  | { readonly type: 'emitEstablished' }
  | { readonly type: 'emitDown'; readonly reason: DownReason };

export interface StepResult {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
  /** Set when the connection ended in this step. */
  readonly reason?: DownReason;
}

export const DEFAULT_OPEN_HOLD_TIME = 240;

export function notification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** RFC 6608 §3: the FSM error subcode for an unexpected message in `state`. */
export function fsmErrorSubcode(state: BgpState): number {
  switch (state) {
    case 'OpenSent': return FsmSubcode.UnexpectedInOpenSent;
    case 'OpenConfirm': return FsmSubcode.UnexpectedInOpenConfirm;
    case 'Established': return FsmSubcode.UnexpectedInEstablished;
    default: return FsmSubcode.Unspecified;
  }
}

const ALL_TIMERS: readonly TimerName[] = ['connectRetry', 'hold', 'keepalive'];
const stopAll = (): FsmAction[] => ALL_TIMERS.map((timer) => ({ type: 'stopTimer', timer }));

function to(s: FsmState, state: BgpState, actions: FsmAction[], reason?: DownReason): StepResult {
  return reason === undefined ? { state: { ...s, state }, actions } : { state: { ...s, state }, actions, reason };
}

/** Drop the connection and go Idle; `emitDown` only when an Established session ends. */
function toIdle(s: FsmState, reason: DownReason, sent?: NotificationMessage): StepResult {
  const actions: FsmAction[] = [];
  if (sent) actions.push({ type: 'send', message: sent });
  actions.push(...stopAll(), { type: 'closeConnection' });
  if (s.state === 'Established') actions.push({ type: 'emitDown', reason });
  return { state: { state: 'Idle', holdTime: 0, keepaliveTime: 0 }, actions, reason };
}

function timer(name: TimerName, seconds: number): FsmAction {
  return seconds > 0 ? { type: 'startTimer', timer: name, seconds } : { type: 'stopTimer', timer: name };
}

/** RFC 4271 §8.2.2: a connection is up — send OPEN, start the large hold timer. */
function connectionUp(s: FsmState, ctx: FsmContext): StepResult {
  return to(s, 'OpenSent', [
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'send', message: ctx.localOpen },
    timer('hold', ctx.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME),
  ]);
}

/** Events every connected state (OpenSent, OpenConfirm, Established) handles alike; null if not one of them. */
function connectedCommon(s: FsmState, ev: FsmEvent): StepResult | null {
  switch (ev.type) {
    case 'ManualStop':
      // RFC 4724 §4.2: the old connection of a restarted peer is dropped without NOTIFICATION.
      if (ev.reason === 'peerRestarted') return toIdle(s, ev.reason);
      return toIdle(s, ev.reason, notification(NotifCode.Cease, STOP_SUBCODE[ev.reason], ev.data));
    case 'HoldTimerExpires': // RFC 4271 §8.2.2, §6.5
      return toIdle(s, 'holdTimerExpired', notification(NotifCode.HoldTimerExpired, 0));
    case 'TcpConnectionFails':
      return toIdle(s, 'connectionFailed');
    case 'NotifMsg': // never answer a NOTIFICATION with one (RFC 4271 §6.4)
      return toIdle(s, 'notificationReceived');
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsgErr':
      return toIdle(s, 'notificationSent', notification(ev.error.code, ev.error.subcode, ev.error.data));
    case 'OpenCollisionDump': // RFC 4271 §6.8
      return toIdle(s, 'collision', notification(NotifCode.Cease, CeaseSubcode.ConnectionCollisionResolution));
    default:
      return null;
  }
}

/** RFC 6608: an unexpected message or event in a connected state → NOTIFICATION 5/x, Idle. */
function fsmError(s: FsmState, ev: FsmEvent): StepResult {
  const isMessage = ev.type === 'KeepAliveMsg' || ev.type === 'UpdateMsg' || ev.type === 'RouteRefreshMsg' ||
    ev.type === 'UnexpectedOpen' || ev.type === 'BGPOpen' || ev.type === 'UnexpectedMessage';
  const subcode = isMessage ? fsmErrorSubcode(s.state) : FsmSubcode.Unspecified;
  return toIdle(s, 'notificationSent', notification(NotifCode.FsmError, subcode));
}

function stepIdle(s: FsmState, ev: FsmEvent, ctx: FsmContext): StepResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      if (ctx.passive) return to(s, 'Active', []); // Events 4/5: wait for the peer to connect
      return to(s, 'Connect', [timer('connectRetry', ctx.connectRetryTime), { type: 'connect' }]);
    default:
      return { state: s, actions: [] }; // RFC 4271 §8.2.2 Idle: other events are ignored
  }
}

function stepConnectOrActive(s: FsmState, ev: FsmEvent, ctx: FsmContext): StepResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return { state: s, actions: [] };
    case 'ManualStop':
      return toIdle(s, ev.reason);
    case 'ConnectRetryTimerExpires':
      if (ctx.passive) return { state: s, actions: [] };
      // Connect: the attempt timed out, drop it and retry; Active: time to retry.
      return to(s, 'Connect', [
        ...(s.state === 'Connect' ? [{ type: 'closeConnection' } as const] : []),
        timer('connectRetry', ctx.connectRetryTime),
        { type: 'connect' },
      ]);
    case 'TcpConnectionAcknowledged':
    case 'TcpConnectionConfirmed':
      return connectionUp(s, ctx);
    case 'TcpConnectionFails':
      // Connect: keep trying after ConnectRetryTimer, in Active (RFC 4271 §8.2.2 Connect state).
      if (s.state === 'Connect' && !ctx.passive) {
        return to(s, 'Active', [{ type: 'closeConnection' }, timer('connectRetry', ctx.connectRetryTime)], 'connectionFailed');
      }
      return toIdle(s, 'connectionFailed');
    default:
      return { state: s, actions: [] }; // no connection yet: nothing else can happen here
  }
}

function stepOpenSent(s: FsmState, ev: FsmEvent): StepResult {
  const common = connectedCommon(s, ev);
  if (common) return common;
  if (ev.type === 'BGPOpen') {
    // RFC 4271 §8.2.2 OpenSent, Event 19: KEEPALIVE, timers to the negotiated values.
    const next: FsmState = { state: 'OpenConfirm', holdTime: ev.holdTime, keepaliveTime: ev.keepaliveTime };
    return {
      state: next,
      actions: [
        { type: 'stopTimer', timer: 'connectRetry' },
        { type: 'send', message: { type: 'keepalive' } },
        timer('keepalive', ev.keepaliveTime),
        timer('hold', ev.holdTime),
      ],
    };
  }
  return fsmError(s, ev);
}

function stepOpenConfirm(s: FsmState, ev: FsmEvent): StepResult {
  const common = connectedCommon(s, ev);
  if (common) return common;
  switch (ev.type) {
    case 'KeepaliveTimerExpires':
      return to(s, 'OpenConfirm', [{ type: 'send', message: { type: 'keepalive' } }, timer('keepalive', s.keepaliveTime)]);
    case 'KeepAliveMsg':
      return to(s, 'Established', [timer('hold', s.holdTime), { type: 'emitEstablished' }]);
    default:
      return fsmError(s, ev);
  }
}

function stepEstablished(s: FsmState, ev: FsmEvent): StepResult {
  const common = connectedCommon(s, ev);
  if (common) return common;
  switch (ev.type) {
    case 'KeepaliveTimerExpires':
      return to(s, 'Established', [{ type: 'send', message: { type: 'keepalive' } }, timer('keepalive', s.keepaliveTime)]);
    case 'KeepAliveMsg':
      return to(s, 'Established', [timer('hold', s.holdTime)]);
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return to(s, 'Established', [timer('hold', s.holdTime), { type: 'deliver', message: ev.message }]);
    default:
      return fsmError(s, ev);
  }
}

/** RFC 4271 §8.2.2: one transition. Pure: same input, same output. */
export function step(s: FsmState, ev: FsmEvent, ctx: FsmContext): StepResult {
  switch (s.state) {
    case 'Idle': return stepIdle(s, ev, ctx);
    case 'Connect':
    case 'Active': return stepConnectOrActive(s, ev, ctx);
    case 'OpenSent': return stepOpenSent(s, ev);
    case 'OpenConfirm': return stepOpenConfirm(s, ev);
    case 'Established': return stepEstablished(s, ev);
  }
}
