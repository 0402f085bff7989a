// What a session reports and how a connection ends: message counters, RFC 7606 downgrades
// per cause (each logged once), what one connection saw (its socket error, the NOTIFICATIONs
// sent and received, each logged as it passes), the typed "last error" (BIRD's) and
// SessionEnd, as pure functions of what the connection saw, and RFC 8538's Hard Reset
// wrapping of the Ceases it covers.
import { CeaseSubcode } from '../wire/constants.js';
import { describeNotification } from '../wire/describe.js';
import { NotifCode } from '../wire/index.js';
import type { NotificationMessage } from '../wire/types.js';
import type { Logger } from '../../util/log.js';
import type { BgpState, DownReason, FsmAction } from './fsm.js';
import type { FrameOutcome } from './intake.js';

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  /** UPDATEs delivered with RFC 7606 discard / treat-as-withdraw outcomes. */
  updateErrors: number;
}

/** RFC 7606 downgrades of one session: each cause logged once (warn), every occurrence counted. */
export class UpdateErrorLog {
  /** Counts per cause ("code/subcode/action"). */
  readonly causes = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  note(errors: readonly { code: number; subcode: number; action: string; message: string }[]): void {
    for (const e of errors) {
      const cause = `${e.code}/${e.subcode}/${e.action}`;
      const n = (this.causes.get(cause) ?? 0) + 1;
      this.causes.set(cause, n);
      if (n === 1) this.log.warn('malformed UPDATE handled without reset (RFC 7606)', { event: 'updateErrorDowngraded', code: e.code, subcode: e.subcode, action: e.action, detail: e.message });
    }
  }
}

/**
 * Why a configured session was not started: its password secret does not resolve, socket
 * options cannot be set here, or its peer address is IPv6 link-local (no interface to scope it).
 */
export type NotStartedReason = 'passwordUnresolved' | 'socketOptionsUnavailable' | 'linkLocalPeer';

/**
 * Why a connection failed, as BIRD's "last error" reports it, typed: the socket's error text,
 * a NOTIFICATION received or sent, a peer restarting, or why a configured session was not started (its detail names
 * secrets, never their values).
 * src/api/peer-display.ts renders it ("Socket: Connection refused", "Received: …").
 */
export type LastError =
  | { readonly kind: 'socket'; readonly message: string }
  | { readonly kind: 'received' | 'sent'; readonly code: number; readonly subcode: number }
  | { readonly kind: 'gracefulRestart' }
  | { readonly kind: 'notStarted'; readonly reason: NotStartedReason; readonly detail: string };

/** How a connection ended; `lastError` is null when the end is no error (a stop, a collision's loser). */
export interface SessionEnd {
  readonly reason: DownReason;
  readonly lastError: LastError | null;
  readonly sent?: NotificationMessage;
  readonly received?: NotificationMessage;
  readonly wasEstablished: boolean;
  /** RFC 7606 §5.3: the peer's routes of this session must go now (no graceful restart). */
  readonly flushRoutes?: boolean;
}

/** What the connection saw before it ended. */
export interface EndEvidence {
  readonly socketError: string | null;
  readonly sent: NotificationMessage | undefined;
  readonly received: NotificationMessage | undefined;
  readonly flushRoutes: boolean;
}

/** What one connection saw, kept from its start until it ends. */
export class ConnectionRecord implements EndEvidence {
  socketError: string | null = null;
  sent: NotificationMessage | undefined;
  received: NotificationMessage | undefined;
  /** Set by an UPDATE error whose NLRI could not all be located (RFC 7606 §5.3). */
  flushRoutes = false;

  constructor(private readonly log: Logger) {}

  /** A new connection: nothing seen yet. */
  reset(): void {
    this.socketError = null;
    this.flushRoutes = false;
    this.sent = undefined;
    this.received = undefined;
  }

  /** A NOTIFICATION about to be sent: a Cease logged at info, an error at warn. */
  sending(m: NotificationMessage): void {
    this.sent = m;
    this.log.log(m.code === NotifCode.Cease ? 'info' : 'warn', 'sending NOTIFICATION', { event: 'notificationSent', code: m.code, subcode: m.subcode, text: describeNotification(m.code, m.subcode) });
  }

  /** A message that failed to decode (a NOTIFICATION among them still counts as received). */
  malformed(out: Extract<FrameOutcome, { kind: 'malformed' }>): void {
    const err = out.error;
    this.log.warn('malformed message', { event: 'decodeError', type: out.type, code: err.code, subcode: err.subcode, detail: err.message });
    if (err.flushRoutes) this.flushRoutes = true;
    if (out.event.type === 'NotifMsg') this.received = out.event.message;
  }

  /** A received frame's outcome, counted: a NOTIFICATION kept and logged, a malformed message logged, RFC 7606 downgrades noted. */
  noteFrame(out: FrameOutcome, counters: SessionCounters, updateErrors: UpdateErrorLog): void {
    counters.messagesIn++;
    if (out.kind === 'malformed') this.malformed(out);
    else if (out.kind === 'message') {
      const msg = out.message;
      if (msg.type === 'notification') this.receivedNotification(msg);
      else if (msg.type === 'update') {
        counters.updatesIn++;
        if (msg.errors?.length) { counters.updateErrors++; updateErrors.note(msg.errors); }
      }
    }
  }

  /** A NOTIFICATION received and decoded, logged as `sending` logs. */
  receivedNotification(m: NotificationMessage): void {
    this.received = m;
    this.log.log(m.code === NotifCode.Cease ? 'info' : 'warn', 'NOTIFICATION received', { event: 'notificationReceived', code: m.code, subcode: m.subcode, text: describeNotification(m.code, m.subcode) });
  }

  /** The SessionEnd of this connection ending for `reason` in `prev`, by `actions` (a NOTIFICATION among them is the one sent). */
  end(reason: DownReason, prev: BgpState, actions: readonly FsmAction[]): SessionEnd {
    for (const a of actions) if (a.type === 'send' && a.message.type === 'notification') this.sent = a.message;
    return connectionEnd(reason, prev, this);
  }

  /** The end has been reported: its NOTIFICATIONs are not the next end's. */
  ended(): void {
    this.sent = undefined;
    this.received = undefined;
  }
}

/** The SessionEnd of a connection that ends for `reason` while in state `prev`. */
export function connectionEnd(reason: DownReason, prev: BgpState, e: EndEvidence): SessionEnd {
  let lastError: LastError | null = null;
  if (reason === 'connectionFailed') lastError = { kind: 'socket', message: e.socketError ?? 'Connection closed' };
  else if (reason === 'notificationReceived' && e.received) lastError = { kind: 'received', code: e.received.code, subcode: e.received.subcode };
  else if (reason === 'peerRestarted') lastError = { kind: 'gracefulRestart' };
  else if (e.sent && (reason === 'notificationSent' || reason === 'holdTimerExpired' || reason === 'collision' || reason === 'internalError' || reason === 'prefixLimit')) {
    lastError = { kind: 'sent', code: e.sent.code, subcode: e.sent.subcode };
  }
  const end: SessionEnd = { reason, lastError, wasEstablished: prev === 'Established', ...(e.flushRoutes ? { flushRoutes: true } : {}) };
  return { ...end, ...(e.sent ? { sent: e.sent } : {}), ...(e.received ? { received: e.received } : {}) };
}

/** RFC 8538 §5: the Cease subcodes sent as Hard Reset (6/9) when both sides set the N bit. */
const HARD_RESET_SUBCODES: ReadonlySet<number> = new Set([
  CeaseSubcode.MaximumPrefixesReached,
  CeaseSubcode.AdministrativeShutdown,
  CeaseSubcode.PeerDeconfigured,
]);

/** RFC 8538 §3: a Hard Reset carries the Cease it stands for (code, subcode, data) as its data. */
export function hardResetWrap(a: FsmAction): FsmAction {
  if (a.type !== 'send' || a.message.type !== 'notification') return a;
  const m = a.message;
  if (m.code !== NotifCode.Cease || !HARD_RESET_SUBCODES.has(m.subcode)) return a;
  const data = Buffer.concat([Buffer.from([m.code, m.subcode]), m.data]);
  return { type: 'send', message: { type: 'notification', code: NotifCode.Cease, subcode: CeaseSubcode.HardReset, data } };
}
