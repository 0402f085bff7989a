// What a Peer (peer.ts) shows the rest of tern, and the rules those views rely on: the
// PeerHandle the RIB and the Adj-RIB-Out write through, the PeerSink it reports to, its
// BIRD-style status row, whether the RFC 4724 §4.2 helper keeps a peer's routes when a
// session ends (gracefulRestartApplies), and why a configured session cannot run here
// (notStartedReason).
import type { BgpMessage, RouteRefreshMessage, UpdateMessage } from '../wire/types.js';
import { CeaseSubcode, NotifCode } from '../wire/constants.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { isIpv6LinkLocal } from '../../net/prefix.js';
import type { BgpState, DownReason } from './fsm.js';
import type { Negotiated } from './capabilities.js';
import type { LocalOpenSettings } from './open.js';
import type { LastError, NotStartedReason, SessionCounters, SessionEnd } from './session-report.js';
import { unavailable as socketOptionsUnavailable } from './sockopt.js';
import { tcpSecurity } from './transport.js';
import type { ConnectFn } from './transport.js';

/** BIRD protocol state as `show protocols` prints it. 'passive' is never produced: BIRD shows a waiting passive peer as 'start' with info "Passive". */
export type ProtocolState = 'up' | 'start' | 'down' | 'stop' | 'wait' | 'passive';
export type StatusBgpState = BgpState | 'Passive';

export interface PeerStatus {
  readonly key: string;
  readonly name: string;
  readonly type: PeerSpec['type'];
  readonly address: string;
  readonly port: number;
  readonly family: PeerSpec['family'];
  readonly state: ProtocolState;
  readonly bgpState: StatusBgpState;
  /** ms epoch of the last protocol state change. */
  readonly since: number;
  /** Why the last connection failed (null: no error since the last Established); src/api/peer-display.ts renders calicoctl's INFO column from it. */
  readonly lastError: LastError | null;
  readonly localAs: number;
  readonly peerAs: number;
  /** The peer's BGP identifier once an OPEN was accepted, else "". */
  readonly routerId: string;
  /** Negotiated hold time while up, else the configured one. */
  readonly holdTime: number;
  readonly counters: SessionCounters;
  /** Set when the session is configured but not started, with the reason. */
  readonly notStarted?: NotStarted;
}

/** Why a configured session is not started. `detail` names secrets, never their values. */
export interface NotStarted {
  readonly reason: NotStartedReason;
  readonly detail: string;
}

/**
 * What the RIB / Adj-RIB-Out sees of a peer. One object for the peer's lifetime (a changed
 * spec makes a new peer and a new handle). 'drain' listeners are removed when a session goes
 * down: register them again on 'established'.
 */
export interface PeerHandle {
  readonly spec: PeerSpec;
  /** Valid while Established and during the 'down' event, else null. */
  readonly negotiated: Negotiated | null;
  /** Pre-encoded messages; returns socket.write's result. Dropped (true) when not Established. */
  write(buf: Buffer): boolean;
  send(msg: BgpMessage): boolean;
  /** An unexpected error while serving this peer: end the Established session (Cease 6/0), back off. */
  fail(err: unknown): void;
  /** The import prefix limit was exceeded: Cease 6/1 with `data` (RFC 4486 §4), back off. */
  prefixLimitExceeded(data: Buffer): void;
  /**
   * A configuration change the peer can only see through a new session: Cease 6/6 (RFC 4486,
   * other configuration change) to the Established session; the peer stays configured and
   * the session comes up again as after any end (graceful restart applies as to any Cease).
   */
  restartSession(): void;
  /** Stops reading the Established session's socket (backpressure); `resumeInput` undoes it. */
  pauseInput(): void;
  resumeInput(): void;
  on(event: 'drain', listener: () => void): this;
  off(event: 'drain', listener: () => void): this;
}

export interface PeerSink {
  established(h: PeerHandle): void;
  down(h: PeerHandle, reason: DownReason, gracefulRestartApplies: boolean): void;
  update(h: PeerHandle, msg: UpdateMessage): void;
  routeRefresh(h: PeerHandle, msg: RouteRefreshMessage): void;
  stateChange(h: PeerHandle): void;
}

export interface PeerDeps {
  readonly local: () => LocalOpenSettings & { readonly restartingNow: boolean };
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sink: PeerSink;
  readonly connect?: ConnectFn;
}


/** RFC 4724 §4.2 and RFC 8538 §4: keep the peer's routes as stale? */
export function gracefulRestartApplies(n: Negotiated | null, end: SessionEnd): boolean {
  const gr = n?.peerGracefulRestart;
  // RFC 7606 §5.3 (routes that cannot be trusted) and the import limit (RFC 8538 §5 would
  // send Hard Reset for 6/1): the peer's routes go now.
  if (!gr || end.flushRoutes || end.reason === 'prefixLimit') return false;
  const notif = end.received ?? end.sent;
  if (!notif) return true; // TCP failure or a restarted peer, no NOTIFICATION
  const hardReset = notif.code === NotifCode.Cease && notif.subcode === CeaseSubcode.HardReset;
  return gr.notification && !hardReset;
}

/**
 * A link-local peer needs the interface that scopes its address (sockaddr_in6.sin6_scope_id,
 * for connect() and for the TCP MD5 key). Calico's BGPPeer has no field for it (peerIP takes
 * no zone) and BIRD refuses such a neighbor without one, so calico-node never runs these
 * sessions either.
 */
const LINK_LOCAL_REFUSED = 'the peer address is IPv6 link-local: tern does not run link-local sessions (Calico\'s BGPPeer has no interface to scope it); use a global or ULA address';

/** Why `spec` cannot run here, if it cannot. */
export function notStartedReason(spec: PeerSpec): NotStarted | undefined {
  if (spec.passwordUnresolved !== undefined) return { reason: 'passwordUnresolved', detail: spec.passwordUnresolved };
  if (isIpv6LinkLocal(spec.address)) return { reason: 'linkLocalPeer', detail: LINK_LOCAL_REFUSED };
  const sec = tcpSecurity(spec);
  if (sec.md5Key === undefined && sec.minTtl === undefined && sec.ttl === undefined) return undefined;
  const why = socketOptionsUnavailable();
  return why === undefined ? undefined : { reason: 'socketOptionsUnavailable', detail: `TCP MD5 / TTL: ${why}` };
}
