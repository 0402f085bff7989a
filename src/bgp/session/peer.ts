// One configured peer: its outgoing and incoming connections (BIRD's conn pair), collision
// resolution between them (RFC 4271 §6.8), reconnect backoff, the stable PeerHandle the
// RIB writes through, and the BIRD-style status row.
//
// Invariants
// - At most one outgoing and one incoming Session; at most one of them Established.
// - Passive peers never dial. A peer that must not run (its password cannot be resolved,
//   or the socket options it needs cannot be set here) neither dials nor accepts, and its
//   status says why (`notStarted`).
// - `since` changes only when the BIRD protocol state (up/start/wait/stop/down) changes.
// - 'down' is reported only for a session that was Established, exactly once.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CeaseSubcode, NotifCode } from '../wire/constants.js';
import type { BgpMessage, RouteRefreshMessage, UpdateMessage } from '../wire/types.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { ConnectBackoff } from '../backoff.js';
import type { BgpState, DownReason, StopReason } from './fsm.js';
import type { Negotiated } from './capabilities.js';
import { compareRouterIds } from './open.js';
import type { LocalOpenSettings } from './open.js';
import { Session } from './session.js';
import type { LastError, NotStartedReason, SessionCounters, SessionEnd } from './session.js';
import { isIpv6LinkLocal } from '../../net/prefix.js';
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

const ORDER: Record<BgpState, number> = { Idle: 0, Connect: 1, Active: 2, OpenSent: 3, OpenConfirm: 4, Established: 5 };
const MAX_BACKOFF_MS = 60_000;

class Handle extends EventEmitter implements PeerHandle {
  constructor(private readonly peer: Peer) {
    super();
  }
  get spec(): PeerSpec { return this.peer.spec; }
  get negotiated(): Negotiated | null { return this.peer.established?.negotiated ?? null; }
  write(buf: Buffer): boolean { return this.peer.established?.write(buf) ?? true; }
  send(msg: BgpMessage): boolean { return this.peer.established?.send(msg) ?? true; }
  fail(err: unknown): void { this.peer.established?.fail(err); }
  prefixLimitExceeded(data: Buffer): void { this.peer.established?.stopForPrefixLimit(data); }
  restartSession(): void { this.peer.established?.stop('configChanged'); }
  pauseInput(): void { this.peer.established?.pauseInput(); }
  resumeInput(): void { this.peer.established?.resumeInput(); }
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
function notStartedReason(spec: PeerSpec): NotStarted | undefined {
  if (spec.passwordUnresolved !== undefined) return { reason: 'passwordUnresolved', detail: spec.passwordUnresolved };
  if (isIpv6LinkLocal(spec.address)) return { reason: 'linkLocalPeer', detail: LINK_LOCAL_REFUSED };
  const sec = tcpSecurity(spec);
  if (sec.md5Key === undefined && sec.minTtl === undefined && sec.ttl === undefined) return undefined;
  const why = socketOptionsUnavailable();
  return why === undefined ? undefined : { reason: 'socketOptionsUnavailable', detail: `TCP MD5 / TTL: ${why}` };
}

export class Peer {
  readonly handle: Handle;
  established: Session | null = null;
  private outgoing: Session | null = null;
  private incoming: Session | null = null;
  private readonly backoff: ConnectBackoff;
  private restartTimer: TimerHandle | null = null;
  private stopping = false;
  private stopped = false;
  private since: number;
  private protoState: ProtocolState;
  private lastError: LastError | null = null;
  private readonly retired: SessionCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, updateErrors: 0 };
  private readonly log: Logger;
  private readonly notStarted: NotStarted | undefined;

  constructor(public spec: PeerSpec, private readonly deps: PeerDeps) {
    this.handle = new Handle(this);
    this.backoff = new ConnectBackoff({ connectRetryMs: Math.max(1, spec.connectRetryTime) * 1000, maxMs: MAX_BACKOFF_MS });
    this.log = deps.logger.child({ peer: spec.name, address: spec.address, localAs: spec.localAs, peerAs: spec.peerAs });
    this.since = deps.clock.now();
    this.notStarted = notStartedReason(spec);
    if (this.notStarted) {
      this.lastError = { kind: 'notStarted', reason: this.notStarted.reason, detail: this.notStarted.detail };
      this.log.error(`session not started: ${this.notStarted.detail}`, { event: 'sessionNotStarted', reason: this.notStarted.reason });
    }
    this.protoState = this.computeProtoState();
  }

  /** The session is configured but not started (status says why). */
  get blocked(): boolean {
    return this.notStarted !== undefined;
  }

  /** Starts dialing (unless passive). */
  start(): void {
    if (this.notStarted) return;
    if (!this.spec.passive) {
      this.outgoing = this.newSession('outgoing');
      this.outgoing.start();
    }
    this.refresh();
  }

  /** An accepted TCP connection from this peer's address. */
  accept(sock: Duplex): void {
    if (this.stopping || this.notStarted) {
      sock.destroy();
      return;
    }
    // RFC 4724 §4.2 (BIRD bgp_incoming_connection): a GR-capable peer reconnecting while we
    // think the session is up has restarted; drop the old session, keep its routes stale.
    if (this.established?.negotiated?.peerGracefulRestart) this.established.stop('peerRestarted');
    if (this.incoming) {
      this.log.warn('second incoming connection while one is in progress; closed', { event: 'incomingRejected' });
      sock.destroy();
      return;
    }
    const s = this.newSession('incoming');
    this.incoming = s;
    s.accept(sock);
  }

  /** Cease to the peer (6/2, 6/3, 6/6) and close; resolves when every socket is closed. */
  async stop(reason: StopReason): Promise<void> {
    this.stopping = true;
    this.restartTimer?.cancel();
    this.restartTimer = null;
    const sessions = [this.outgoing, this.incoming].filter((s): s is Session => s !== null);
    for (const s of sessions) s.stop(reason);
    this.refresh();
    await Promise.all(sessions.map((s) => s.closed()));
    this.stopped = true;
    this.refresh();
  }

  /** Name/type changes that do not restart the session. */
  updateSpec(spec: PeerSpec): void {
    this.spec = spec;
  }

  /** Re-evaluates the protocol state (e.g. after a GR state change); true when it changed. */
  refresh(): boolean {
    const next = this.computeProtoState();
    if (next === this.protoState) return false;
    this.protoState = next;
    this.since = this.deps.clock.now();
    return true;
  }

  status(): PeerStatus {
    const s = this.spec;
    const bgpState = this.bgpState();
    const n = this.established?.negotiated;
    const live = [this.outgoing, this.incoming].filter((x): x is Session => x !== null);
    const counters = { ...this.retired };
    for (const x of live) for (const k of Object.keys(counters) as (keyof SessionCounters)[]) counters[k] += x.counters[k];
    return {
      key: s.key, name: s.name, type: s.type, address: s.address, port: s.port, family: s.family,
      state: this.protoState, bgpState, since: this.since, lastError: this.lastError,
      localAs: s.localAs, peerAs: s.peerAs,
      routerId: n?.peerRouterId ?? '',
      holdTime: n?.holdTime ?? s.holdTime,
      counters,
      ...(this.notStarted ? { notStarted: this.notStarted } : {}),
    };
  }

  private bgpState(): StatusBgpState {
    if (this.established) return 'Established';
    let best: BgpState = 'Idle';
    for (const x of [this.outgoing, this.incoming]) if (x && ORDER[x.state] > ORDER[best]) best = x.state;
    if (this.spec.passive && (best === 'Idle' || best === 'Active') && !this.stopped) return 'Passive';
    return best;
  }

  private computeProtoState(): ProtocolState {
    if (this.stopped || this.notStarted) return 'down';
    if (this.stopping) return 'stop';
    if (this.established) return this.deps.local().restartingNow ? 'wait' : 'up';
    return 'start';
  }

  private newSession(direction: 'outgoing' | 'incoming'): Session {
    const s = new Session({
      spec: this.spec,
      direction,
      local: this.deps.local,
      clock: this.deps.clock,
      logger: this.log,
      backoff: this.backoff,
      ...(this.deps.connect ? { connect: this.deps.connect } : {}),
      onOpen: (sess, n) => this.resolveCollision(sess, n),
      onUpdate: (msg) => this.deps.sink.update(this.handle, msg),
    });
    s.on('stateChange', () => {
      this.refresh();
      this.deps.sink.stateChange(this.handle);
    });
    s.on('established', () => {
      this.established = s;
      this.lastError = null;
      this.refresh();
      this.log.info('session established', { event: 'sessionUp', conn: direction });
      this.deps.sink.established(this.handle);
    });
    s.on('down', (end: SessionEnd) => {
      const gr = gracefulRestartApplies(s.negotiated, end);
      this.log.info('session down', { event: 'sessionDown', reason: end.reason, lastError: end.lastError, gracefulRestart: gr });
      try {
        // handle.negotiated stays readable during the 'down' event (GR restart time, families).
        this.deps.sink.down(this.handle, end.reason, gr);
      } finally {
        // Even when the sink threw (the session reports it): the peer is no longer up.
        if (this.established === s) this.established = null;
        this.handle.removeAllListeners('drain'); // drain listeners belong to the session that ended
        this.refresh();
      }
    });
    s.on('closed', (end: SessionEnd) => this.onClosed(s, end));
    s.on('routeRefresh', (msg: RouteRefreshMessage) => this.onRouteRefresh(s, msg));
    s.on('drain', () => {
      if (this.established === s) this.handle.emit('drain');
    });
    return s;
  }

  private onRouteRefresh(s: Session, msg: RouteRefreshMessage): void {
    // RFC 2918 §4: a ROUTE-REFRESH for a family not negotiated is ignored.
    const fams = s.negotiated?.families;
    const fam = msg.afi === 1 ? 'ipv4' : msg.afi === 2 ? 'ipv6' : null;
    if (msg.safi !== 1 || !fam || !fams?.has(fam)) {
      this.log.debug('ROUTE-REFRESH for a family not negotiated ignored', { event: 'routeRefreshIgnored', afi: msg.afi, safi: msg.safi });
      return;
    }
    this.deps.sink.routeRefresh(this.handle, msg);
  }

  private onClosed(s: Session, end: SessionEnd): void {
    // BIRD bgp_store_error: errors of the secondary connection while up, and collision
    // losers, are not the peer's "last error".
    const secondary = this.established !== null && this.established !== s;
    if (end.lastError && end.reason !== 'collision' && !secondary) this.lastError = end.lastError;
    if (s === this.incoming) {
      for (const k of Object.keys(this.retired) as (keyof SessionCounters)[]) this.retired[k] += s.counters[k];
      this.incoming = null;
    }
    this.refresh();
    try {
      this.deps.sink.stateChange(this.handle);
    } finally {
      this.scheduleRestart();
    }
  }

  /** After a failure, redial with backoff once no connection is in progress. */
  private scheduleRestart(): void {
    const out = this.outgoing;
    if (!out || this.stopping || this.restartTimer) return;
    const busy = [this.outgoing, this.incoming].some((x) => x !== null && x.state !== 'Idle');
    if (busy) return;
    const delay = this.backoff.current();
    this.backoff.advance();
    this.log.debug('reconnect scheduled', { event: 'reconnectScheduled', delayMs: delay });
    this.restartTimer = this.deps.clock.setTimer(delay, () => {
      this.restartTimer = null;
      if (!this.stopping && out.state === 'Idle' && !this.established) out.start();
    });
  }

  /**
   * RFC 4271 §6.8 (BIRD bgp_rx_open): called when `s` received a valid OPEN. Returns false
   * when `s` must be dumped with Cease 6/7.
   */
  private resolveCollision(s: Session, n: Negotiated): boolean {
    const other = s === this.outgoing ? this.incoming : this.outgoing;
    if (!other) return true;
    switch (other.state) {
      case 'Connect':
      case 'Active': // stop dialing: this connection got there first
        this.restartTimer?.cancel();
        this.restartTimer = null;
        other.stop('collision');
        return true;
      case 'Idle':
      case 'OpenSent':
        return true;
      case 'OpenConfirm': {
        // The connection initiated by the higher BGP identifier survives; equal ids: the
        // higher AS (RFC 6286 §2.3).
        const local = this.deps.local();
        const cmp = compareRouterIds(n.peerRouterId, local.routerId);
        const peerDominant = cmp > 0 || (cmp === 0 && n.peerAs > this.spec.localAs);
        const keepThis = peerDominant === (s.direction === 'incoming');
        this.log.info('connection collision', { event: 'collision', keep: keepThis ? s.direction : other.direction, peerRouterId: n.peerRouterId });
        if (!keepThis) return false;
        other.collisionDump();
        return true;
      }
      case 'Established':
        return false;
    }
  }
}
