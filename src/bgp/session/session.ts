// One BGP connection: binds the pure FSM (fsm.ts) to a socket, the Framer, the Clock (its
// timers: timers.ts) and a per-peer logger. The only place in tern that catches
// BgpWireError (RFC 7606 ladder): `reset` → NOTIFICATION(code, subcode, data) and close;
// discard / treat-as-withdraw → the decoder already marked the UpdateMessage, which is
// delivered, and each cause is logged once at warn with a counter.
//
// Every state change passes `changeState`, which logs and emits 'stateChange'.
//
// Containment: socket data, timer expiries and accepted connections run under one guard.
// Any other exception thrown while handling them — in this session, or in a listener of
// its events (the RIB, the Adj-RIB-Out) — is logged with code ERR_SESSION_INTERNAL and ends
// this session only: Cease 6/0, close, reconnect after backoff. It never escapes to the
// event loop, so other sessions, the FIB and the control socket carry on.
//
// Events: 'stateChange'(prev, next), 'established'(Negotiated), 'down'(SessionEnd, when an
// Established session ends), 'closed'(SessionEnd, every connection end), 'update'(msg),
// 'routeRefresh'(msg), 'drain'.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  Framer, encodeMessage, isBgpWireError, MAX_EXTENDED_MESSAGE_LENGTH, tallyMessages, type BgpWireError,
} from '../wire/index.js';
import type { BgpMessage, DecodeOptions, EncodeOptions, OpenMessage, UpdateMessage } from '../wire/types.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { RetryPolicy } from '../backoff.js';
import { INITIAL_STATE, step } from './fsm.js';
import type { BgpState, FsmAction, FsmEvent, FsmState, StopReason, TimerName } from './fsm.js';
import type { Negotiated } from './capabilities.js';
import { acceptOpen, buildOpen, encodedOpen } from './open.js';
import type { LocalOpenSettings } from './open.js';
import { closeGracefully, netConnect, readDirect, socketErrorText, tcpSecurity } from './transport.js';
import type { ConnectFn } from './transport.js';
import { ConnectionRecord, hardResetWrap, UpdateErrorLog, type SessionCounters, type SessionEnd } from './session-report.js';
import { frameOutcome } from './intake.js';
import { SessionTimers } from './timers.js';

export type Direction = 'outgoing' | 'incoming';

export type { LastError, NotStartedReason, SessionCounters, SessionEnd } from './session-report.js';

export interface SessionOptions {
  readonly spec: PeerSpec;
  readonly direction: Direction;
  readonly local: () => LocalOpenSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff: RetryPolicy;
  readonly connect?: ConnectFn;
  /** RFC 4271 §6.8 hook, called on a valid OPEN in OpenSent; false → Cease 6/7 on this connection. */
  readonly onOpen?: (session: Session, negotiated: Negotiated) => boolean;
  /** Takes each received UPDATE in place of the 'update' event (one call, no emitter in between). */
  readonly onUpdate?: (msg: UpdateMessage) => void;
}

const PRE_OPEN_DECODE: DecodeOptions = { fourOctetAs: false };
const PRE_OPEN_ENCODE: EncodeOptions = { fourOctetAs: false };

export class Session extends EventEmitter {
  readonly direction: Direction;
  readonly counters: SessionCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, updateErrors: 0 };
  /** ms epoch of the last state change. */
  since: number;
  /** Valid from a good OPEN until the connection ends. */
  negotiated: Negotiated | null = null;
  private fsm: FsmState = INITIAL_STATE;
  private socket: Duplex | null = null;
  private socketRefused = false;
  private framer = new Framer();
  private readonly timers: SessionTimers;
  private readonly closing = new Set<Promise<void>>();
  private localOpen: OpenMessage;
  /** What the current connection saw (socket error, NOTIFICATIONs): how its end is reported. */
  private readonly record: ConnectionRecord;
  private readonly updateErrors: UpdateErrorLog;
  private readonly log: Logger;
  private failing = false;

  constructor(private readonly opts: SessionOptions) {
    super();
    this.direction = opts.direction;
    this.since = opts.clock.now();
    this.localOpen = buildOpen(opts.spec, opts.local());
    this.log = opts.logger.child({ conn: opts.direction });
    this.updateErrors = new UpdateErrorLog(this.log);
    this.record = new ConnectionRecord(this.log);
    this.timers = new SessionTimers(opts.clock, (fn) => this.guard(fn), (name) => this.timerExpired(name));
  }

  get state(): BgpState {
    return this.fsm.state;
  }

  get spec(): PeerSpec {
    return this.opts.spec;
  }

  /** Outgoing: dial the peer (Connect). */
  start(): void {
    this.guard(() => this.fire({ type: 'AutomaticStart' }));
  }

  /** Incoming: run the FSM on an accepted connection (Active → OpenSent). */
  accept(socket: Duplex): void {
    this.guard(() => {
      this.fire({ type: 'ManualStart' });
      this.attach(socket);
      this.fire({ type: 'TcpConnectionConfirmed' });
    });
  }

  /** ManualStop: Cease with the reason's subcode (and `data`) when connected, then Idle. */
  stop(reason: StopReason, data?: Buffer): void {
    this.guard(() => this.fire(data ? { type: 'ManualStop', reason, data } : { type: 'ManualStop', reason }));
  }

  /**
   * A KEEPALIVE out of turn on this Established connection (spaced by timers.ts), to learn
   * whether the peer still has it: a peer host that restarted answers with a TCP reset, and
   * the session ends as a connection failure. peer.ts sends it when it holds a new
   * connection from the peer.
   */
  probe(): void {
    const sock = this.socket;
    if (this.fsm.state !== 'Established' || !sock) return;
    this.timers.probe(() => { if (this.socket === sock && this.fsm.state === 'Established') this.send({ type: 'keepalive' }); });
  }

  /**
   * Stops reading the socket (what is read already is still handled): the kernel's receive
   * buffer fills and TCP closes the peer's window, so the peer waits. `resumeInput` reads
   * again. A new connection starts reading.
   */
  pauseInput(): void {
    this.socket?.pause();
  }

  resumeInput(): void {
    this.socket?.resume();
  }

  /** Cease 6/1 with its RFC 4486 data (the import prefix limit), then back off. */
  stopForPrefixLimit(data: Buffer): void {
    this.opts.backoff.penalize();
    this.stop('prefixLimit', data);
  }

  /**
   * An unexpected error while handling this session (here or in a listener): log it, end
   * the session with Cease 6/0 and back off. Never throws.
   */
  fail(err: unknown): void {
    this.log.error('internal error; closing the session', { event: 'sessionInternalError', code: 'ERR_SESSION_INTERNAL', state: this.fsm.state, error: err instanceof Error ? err.message : String(err), stack: (err as Error | undefined)?.stack });
    if (this.failing) return; // failed again while ending: the socket is closed below
    this.failing = true;
    try {
      this.opts.backoff.penalize(); // the next attempts wait longer than a plain reconnect
      this.fire({ type: 'ManualStop', reason: 'internalError' });
    } catch (again) {
      this.log.error('internal error while closing the session', { event: 'sessionInternalError', code: 'ERR_SESSION_INTERNAL', error: again instanceof Error ? again.message : String(again) });
      this.closeSocket();
    } finally {
      this.failing = false;
    }
  }

  /** Runs `fn`; an exception ends this session (fail) instead of reaching the event loop. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  /** RFC 4271 §6.8: this connection lost the collision. */
  collisionDump(): void {
    this.guard(() => this.fire({ type: 'OpenCollisionDump' }));
  }

  /** Resolves when every socket this session opened is closed. */
  async closed(): Promise<void> {
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /** Writes pre-encoded messages (Adj-RIB-Out); returns socket.write's result. */
  write(buf: Buffer): boolean {
    const sock = this.socket;
    if (!sock) return true; // no connection: dropped ('closed' has been emitted)
    tallyMessages(buf, this.counters);
    const ok = sock.write(buf);
    this.timers.messageSent(this.fsm);
    return ok;
  }

  send(msg: BgpMessage): boolean {
    if (msg === this.localOpen) return this.write(encodedOpen(msg)); // shared with every session sending the same OPEN
    return this.write(encodeMessage(msg, this.negotiated?.encodeOptions ?? PRE_OPEN_ENCODE));
  }

  private ctx() {
    return {
      passive: this.direction === 'incoming' || this.opts.spec.passive,
      connectRetryTime: this.opts.backoff.current() / 1000,
      localOpen: this.localOpen,
    };
  }

  private fire(ev: FsmEvent): void {
    const prev = this.fsm.state;
    const res = step(this.fsm, ev, this.ctx());
    this.fsm = res.state;
    const actions = this.negotiated?.peerGracefulRestart?.notification ? res.actions.map(hardResetWrap) : res.actions;
    const end = res.reason ? this.record.end(res.reason, prev, actions) : null;
    const emits: FsmAction[] = [];
    for (const a of actions) {
      if (a.type === 'emitDown' || a.type === 'emitEstablished' || a.type === 'deliver') emits.push(a);
      else this.run(a);
    }
    if (prev !== this.fsm.state) this.changeState(prev, this.fsm.state, end);
    // Every event is emitted even when a listener throws, so the session's bookkeeping
    // ('down' then 'closed') always completes; the first error is rethrown afterwards.
    let failure = null as { err: unknown } | null;
    const emitSafely = (fn: () => void) => {
      try { fn(); } catch (err) { failure ??= { err }; }
    };
    for (const a of emits) {
      if (a.type === 'emitEstablished') {
        this.opts.backoff.reset();
        emitSafely(() => this.emit('established', this.negotiated));
      } else if (a.type === 'emitDown' && end) emitSafely(() => this.emit('down', end));
      else if (a.type === 'deliver') {
        const m = a.message;
        const direct = m.type === 'update' ? this.opts.onUpdate : undefined;
        try { if (direct) direct(m as UpdateMessage); else this.emit(m.type === 'update' ? 'update' : 'routeRefresh', m); } catch (err) { failure ??= { err }; }
      }
    }
    if (end) {
      this.negotiated = null;
      this.record.ended();
      emitSafely(() => this.emit('closed', end));
    }
    if (failure) throw failure.err;
  }

  /** The one choke point for state changes. */
  private changeState(prev: BgpState, next: BgpState, end: SessionEnd | null): void {
    this.since = this.opts.clock.now();
    const meta: Record<string, unknown> = { event: 'stateChange', from: prev, to: next };
    if (end) Object.assign(meta, { reason: end.reason, lastError: end.lastError });
    const level = next === 'Established' || prev === 'Established' ? 'info' : 'debug';
    this.log.log(level, `BGP state ${prev} → ${next}`, meta);
    this.emit('stateChange', prev, next);
  }

  private run(a: FsmAction): void {
    switch (a.type) {
      case 'send':
        if (a.message.type === 'notification') this.record.sending(a.message);
        this.send(a.message);
        return;
      case 'startTimer':
        // In Connect the ConnectRetryTimer bounds the TCP handshake: never shorter than the
        // configured time, even while refused connects are redialed sooner (backoff.ts).
        this.timers.start(a.timer, a.timer === 'connectRetry' && this.fsm.state === 'Connect' ? Math.max(a.seconds, this.opts.spec.connectRetryTime) : a.seconds);
        if (a.timer === 'connectRetry' && this.fsm.state === 'Active') this.opts.backoff.advance();
        return;
      case 'stopTimer':
        this.timers.stop(a.timer);
        return;
      case 'connect':
        this.dial();
        return;
      case 'closeConnection':
        this.closeSocket();
        return;
      default:
        return;
    }
  }

  /** A timer fell due (under guard). */
  private timerExpired(name: TimerName): void {
    if (name === 'connectRetry' && this.fsm.state === 'Connect') this.opts.backoff.noteFailure(false); // handshake timed out
    this.fire(
      name === 'hold' ? { type: 'HoldTimerExpires' } : name === 'keepalive' ? { type: 'KeepaliveTimerExpires' } : { type: 'ConnectRetryTimerExpires' },
    );
  }

  private dial(): void {
    const spec = this.opts.spec;
    const where = { host: spec.address, port: spec.port, family: spec.family, ...(spec.sourceAddress ? { localAddress: spec.sourceAddress } : {}) };
    const security = tcpSecurity(spec);
    this.log.debug('connecting', { event: 'connect', ...where, md5: security.md5Key !== undefined, ttl: security.ttl, minTtl: security.minTtl });
    let sock: Duplex;
    try {
      sock = (this.opts.connect ?? netConnect)({ ...where, security });
    } catch (err) {
      // Socket options refused by the kernel (the message names the option, never the key).
      this.record.socketError = socketErrorText(err);
      queueMicrotask(() => this.fire({ type: 'TcpConnectionFails', error: this.record.socketError ?? 'Connection closed' }));
      return;
    }
    this.attach(sock);
    const connected = () => this.guard(() => {
      if (this.socket !== sock) return;
      this.opts.backoff.noteFailure(false);
      this.fire({ type: 'TcpConnectionAcknowledged' });
    });
    if ((sock as { connecting?: boolean }).connecting) sock.once('connect', connected);
    else queueMicrotask(connected);
  }

  private attach(sock: Duplex): void {
    this.socket = sock;
    this.record.reset();
    this.socketRefused = false;
    this.localOpen = buildOpen(this.opts.spec, this.opts.local()); // GR R/F bits may have changed
    this.framer = new Framer();
    const done = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
    sock.on('error', (err: unknown) => {
      if (this.socket !== sock) return;
      this.record.socketError = socketErrorText(err);
      this.socketRefused = (err as { code?: unknown } | null)?.code === 'ECONNREFUSED';
    });
    // a net.Socket is read without its Readable stream (one shared read buffer: the framer copies)
    const direct = readDirect(sock, (chunk) => {
      if (this.socket === sock) this.guard(() => this.onData(sock, chunk, true));
    });
    if (!direct) {
      sock.on('data', (chunk: Buffer) => {
        if (this.socket === sock) this.guard(() => this.onData(sock, chunk, false));
      });
    }
    sock.on('drain', () => {
      if (this.socket === sock) this.guard(() => this.emit('drain'));
    });
    sock.once('close', () => {
      if (this.socket !== sock) return;
      this.guard(() => {
        // Before the FSM picks its ConnectRetry delay: a refused connect redials sooner.
        if (this.fsm.state === 'Connect') this.opts.backoff.noteFailure(this.socketRefused);
        this.fire({ type: 'TcpConnectionFails', error: this.record.socketError ?? 'Connection closed' });
      });
    });
  }

  private closeSocket(): void {
    const sock = this.socket;
    if (!sock) return;
    this.socket = null;
    this.timers.cancelProbe();
    closeGracefully(sock, this.opts.clock);
  }

  private onData(sock: Duplex, chunk: Buffer, transient: boolean): void {
    // Whole messages ahead of a bad header in the same chunk were received before it: they
    // are handled first, in order, then the header error (RFC 4271 §6.1) ends the session.
    const frames: Buffer[] = [];
    let headerError: BgpWireError | null = null;
    try {
      this.framer.push(chunk, transient, frames);
    } catch (err) {
      if (!isBgpWireError(err)) throw err;
      headerError = err;
    }
    for (const frame of frames) {
      if (this.socket !== sock) return; // a message closed the connection
      this.onFrame(frame);
    }
    if (headerError && this.socket === sock) this.fire({ type: 'BGPHeaderErr', error: headerError });
  }

  private onFrame(frame: Buffer): void {
    const out = frameOutcome(frame, this.fsm.state, this.negotiated?.decodeOptions ?? PRE_OPEN_DECODE);
    this.record.noteFrame(out, this.counters, this.updateErrors);
    if (out.kind === 'open') this.onOpen(out.message);
    else this.fire(out.event);
  }

  /** RFC 4271 §6.2 checks and capability negotiation, then the collision hook (§6.8). */
  private onOpen(open: OpenMessage): void {
    if (this.fsm.state !== 'OpenSent') {
      this.fire({ type: 'UnexpectedOpen' });
      return;
    }
    const accepted = acceptOpen(this.localOpen, open, this.opts.spec, this.opts.local().routerId);
    if ('error' in accepted) {
      const bad = accepted.error;
      this.log.warn('rejecting OPEN', { event: 'openRejected', detail: bad.message, code: bad.code, subcode: bad.subcode });
      this.fire({ type: 'BGPOpenMsgErr', error: bad });
      return;
    }
    const n = accepted.negotiated;
    this.negotiated = n;
    if (n.extendedMessage) this.framer.setMaxMessageLength(MAX_EXTENDED_MESSAGE_LENGTH);
    if (n.families.size === 0) this.log.warn('no common address family with the peer', { event: 'noCommonFamily', family: this.opts.spec.family });
    this.log.debug('OPEN accepted', { event: 'openReceived', peerRouterId: n.peerRouterId, holdTime: n.holdTime, families: [...n.families] });
    if (this.opts.onOpen && !this.opts.onOpen(this, n)) {
      this.fire({ type: 'OpenCollisionDump' });
      return;
    }
    this.fire({ type: 'BGPOpen', holdTime: n.holdTime, keepaliveTime: n.keepaliveTime });
  }

  /** Counts of RFC 7606 downgrades per cause ("code/subcode/action"). */
  updateErrorCauses(): ReadonlyMap<string, number> {
    return this.updateErrors.causes;
  }
}
