// One configured peer: its outgoing and incoming connections (BIRD's conn pair), collision
// resolution between them (RFC 4271 §6.8), a connection held while Established (RFC 4724
// §4.2, below), reconnect backoff, the stable PeerHandle the RIB writes through, and the
// BIRD-style status row (its types and rules: peer-view.ts).
//
// A connection accepted from a GR-capable peer while the session is Established is held in
// a third slot: it runs its OPEN exchange and the session is probed with a KEEPALIVE. When it
// would become Established the peer has no session on the old connection, so it restarted:
// the old session ends as 'peerRestarted' (GR keeps its routes) and the held connection
// takes over. When the peer closes it or refuses it (Cease 6/7, its side of a collision of
// simultaneous dials), it is dropped and the session is untouched. When the session ends
// first (the probe met a reset), the held connection carries on as the incoming one.
//
// Invariants
// - At most one outgoing, one incoming and one held Session; at most one of them
//   Established. A held Session exists only beside an Established one.
// - Passive peers never dial. A peer that must not run (its password cannot be resolved,
//   or the socket options it needs cannot be set here) neither dials nor accepts, and its
//   status says why (`notStarted`).
// - `since` changes only when the BIRD protocol state (up/start/wait/stop/down) changes; a
//   held connection that is dropped changes neither it nor the session.
// - 'down' is reported only for a session that was Established, exactly once.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { BgpMessage, RouteRefreshMessage } from '../wire/types.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import type { TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { ConnectBackoff } from '../backoff.js';
import type { BgpState, StopReason } from './fsm.js';
import type { Negotiated } from './capabilities.js';
import { compareRouterIds } from './open.js';
import { Session } from './session.js';
import type { LastError, SessionCounters, SessionEnd } from './session.js';
import { gracefulRestartApplies, notStartedReason } from './peer-view.js';
import type { NotStarted, PeerDeps, PeerHandle, PeerStatus, ProtocolState, StatusBgpState } from './peer-view.js';

export { gracefulRestartApplies } from './peer-view.js';
export type { NotStarted, PeerDeps, PeerHandle, PeerSink, PeerStatus, ProtocolState, StatusBgpState } from './peer-view.js';

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

export class Peer {
  readonly handle: Handle;
  established: Session | null = null;
  private outgoing: Session | null = null;
  private incoming: Session | null = null;
  /** A connection accepted from a GR-capable peer while Established (RFC 4724 §4.2; `hold`). */
  private held: Session | null = null;
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
    const up = this.established;
    if (up?.negotiated?.peerGracefulRestart) {
      this.hold(sock, up);
      return;
    }
    if (this.incoming) {
      this.log.warn('second incoming connection while one is in progress; closed', { event: 'incomingRejected' });
      sock.destroy();
      return;
    }
    const s = this.newSession('incoming');
    this.incoming = s;
    s.accept(sock);
  }

  /**
   * RFC 4724 §4.2: a GR-capable peer connecting while the session is Established has either
   * restarted (its old connection, half-open here, is gone on its side) or dialed at the
   * same moment as we did (RFC 4271 §6.8: it resolves that collision itself, with Cease 6/7
   * on this connection). The connection is held beside the session and runs its OPEN
   * exchange; nothing is concluded before it would become Established (`takeOver`). The
   * session is probed meanwhile: a restarted host answers the KEEPALIVE with a reset. A
   * newer connection replaces a held one (Cease 6/7), so a silent one never blocks a restart.
   */
  private hold(sock: Duplex, up: Session): void {
    const prev = this.held;
    const s = this.newSession('incoming');
    this.held = s;
    this.log.info('connection from the peer while Established; held until it completes its OPEN exchange', { event: 'connectionHeld' });
    prev?.stop('collision');
    s.accept(sock);
    if (this.held === s) up.probe();
  }

  /**
   * RFC 4724 §4.2: the held connection completed its OPEN exchange (the peer answered our
   * OPEN with a KEEPALIVE), so the peer has no session on the old connection: it restarted.
   * The old session ends without a NOTIFICATION (its routes kept stale when GR applies) and
   * the held connection becomes the peer's incoming one (onClosed → promote).
   */
  private takeOver(s: Session): void {
    this.log.info('peer restarted: its new connection replaces the session', { event: 'peerRestartDetected' });
    this.established?.stop('peerRestarted');
    if (this.held === s) this.promote(s);
  }

  /**
   * The session the held connection stood beside is gone: it becomes the incoming connection
   * and RFC 4271 §6.8 applies between it and the outgoing one from now on. An incoming
   * connection still in progress is the older of two accepted ones: the one further on
   * stays (the held one on a tie), the other gets Cease 6/7.
   */
  private promote(h: Session): void {
    this.held = null;
    const cur = this.incoming;
    if (cur && ORDER[cur.state] > ORDER[h.state]) {
      h.stop('collision');
      return;
    }
    this.incoming = h;
    cur?.stop('collision');
  }

  /** Cease to the peer (6/2, 6/3, 6/6) and close; resolves when every socket is closed. */
  async stop(reason: StopReason): Promise<void> {
    this.stopping = true;
    this.restartTimer?.cancel();
    this.restartTimer = null;
    const sessions = this.connections();
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
    const counters = { ...this.retired };
    for (const x of this.connections()) for (const k of Object.keys(counters) as (keyof SessionCounters)[]) counters[k] += x.counters[k];
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
    for (const x of this.connections()) if (ORDER[x.state] > ORDER[best]) best = x.state;
    if (this.spec.passive && (best === 'Idle' || best === 'Active') && !this.stopped) return 'Passive';
    return best;
  }

  private connections(): Session[] {
    return [this.outgoing, this.incoming, this.held].filter((x): x is Session => x !== null);
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
      if (s === this.held) this.takeOver(s);
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
    // BIRD bgp_store_error: errors of the secondary connection while up (a held one the peer
    // closed or refused included: the session, its status and `since` stay as they were), and
    // collision losers, are not the peer's "last error".
    const secondary = this.established !== null && this.established !== s;
    if (end.lastError && end.reason !== 'collision' && !secondary) this.lastError = end.lastError;
    if (s !== this.outgoing) { // the outgoing Session redials; the others serve one connection
      for (const k of Object.keys(this.retired) as (keyof SessionCounters)[]) this.retired[k] += s.counters[k];
      if (s === this.incoming) this.incoming = null;
      if (s === this.held) {
        this.held = null;
        this.log.info('held connection ended; the session carries on', { event: 'heldConnectionClosed', reason: end.reason });
      }
    }
    if (this.held && !this.established && !this.stopping) this.promote(this.held); // stopping: each gets the stop's Cease
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
    const busy = this.connections().some((x) => x.state !== 'Idle');
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
    if (s === this.held) return true; // RFC 4724 §4.2: decided when it would become Established (takeOver)
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
