// The BGP speaker: the listener, the registry of configured peers (diffed on setPeers), and
// the events the daemon consumes. Sessions and collision handling live in session/.
//
// Invariants
// - Only configured peers are accepted; the remote address alone identifies the peer (a
//   peer on a port other than 179 still connects to us from an ephemeral port).
// - setPeers restarts a session only when sessionParamsDiffer or its TTL policy changed (the
//   type decides it for eBGP: a mesh session is single-hop, transport.ts); other name/type
//   changes keep the session and its `since`.
// - stop() sends Cease 6/2 on every connection, waits for the sockets to close, then closes
//   the listener.
// - The listener holds a TCP MD5 key for exactly the addresses of running peers with a
//   password (RFC 2385: the kernel drops unsigned or wrongly signed segments from them, so
//   an unsigned connection never reaches us). Its TTL is 255 while any peer uses GTSM (the
//   SYN-ACK must pass the peer's minimum TTL, as BIRD's listener does); when every running
//   peer uses GTSM it also drops SYNs below the smallest of their minimum TTLs. Each accepted
//   socket gets its own peer's TTL (255 GTSM, 1 eBGP single-hop, else the default) and
//   minimum TTL before any byte is read.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { sessionParamsDiffer } from '../peering/peer-spec.js';
import type { PeerSpec } from '../peering/peer-spec.js';
import { canonicalAddress, familyOf, type Family } from '../net/prefix.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { RouteRefreshMessage, UpdateMessage } from './wire/types.js';
import type { DownReason } from './session/fsm.js';
import { Peer } from './session/peer.js';
import type { PeerHandle, PeerSink, PeerStatus } from './session/peer.js';
import { remoteAddressOf, tcpSecurity, ttlPolicy } from './session/transport.js';
import { applyTtl, fdOf, setMd5Key, setMinTtl, setTtl } from './session/sockopt.js';
import type { ConnectFn } from './session/transport.js';

export interface GracefulRestartState {
  /** We are restarting (R bit, RFC 4724 §3); shown as protocol state 'wait' while up. */
  readonly restarting: boolean;
  /** Our forwarding state survived the restart (F bit). */
  readonly forwardingPreserved: boolean;
}

export interface SpeakerOptions {
  readonly routerId: string;
  readonly listenPort: number;
  /** One address to listen on (default: all, dual stack). */
  readonly listenAddress?: string;
  /** Several addresses to listen on (bindMode NodeIP: the node's IPv4 and IPv6); wins over listenAddress. */
  readonly listenAddresses?: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly gracefulRestart?: GracefulRestartState;
  /** Replaces net.connect for outgoing connections (tests). */
  readonly connectFactory?: ConnectFn;
  /**
   * Takes every received UPDATE in place of the 'update' event: the session calls it through
   * its peer, with no emitter in between (the per-UPDATE path of a daemon).
   */
  readonly onUpdate?: (peer: PeerHandle, msg: UpdateMessage) => void;
}

export interface SpeakerEvents {
  established: [peer: PeerHandle];
  down: [peer: PeerHandle, reason: DownReason, gracefulRestartApplies: boolean];
  update: [peer: PeerHandle, msg: UpdateMessage];
  routeRefresh: [peer: PeerHandle, msg: RouteRefreshMessage];
  stateChange: [peer: PeerHandle];
}

/** What one listening socket carries: its family ('ipv6' when dual-stack) and the options set on it. */
interface ListenerState {
  readonly family: Family;
  /** TCP MD5 keys, by canonical peer address. */
  readonly keys: Map<string, string>;
  ttl255: boolean;
  minTtl: number;
}

/**
 * A session runs on its spec's parameters: a change restarts it. `type` is live but for the
 * TTL it sets (eBGP mesh: single-hop), which the outgoing connection keeps for every redial.
 */
function mustRestart(cur: PeerSpec, next: PeerSpec): boolean {
  return sessionParamsDiffer(cur, next) || ttlPolicy(cur).ttl !== ttlPolicy(next).ttl;
}

/** Unknown-source connections are logged at most once per address per this period. */
const UNKNOWN_LOG_INTERVAL_MS = 60_000;

export class Speaker extends EventEmitter<SpeakerEvents> {
  private readonly peers = new Map<string, Peer>();
  /** Canonical remote address → the first configured peer with it (accepted connections are matched by address). */
  private byAddress = new Map<string, Peer>();
  private servers: net.Server[] = [];
  private listening: { port: number; addresses: readonly string[] } | null = null;
  private gr: GracefulRestartState;
  private readonly log: Logger;
  private readonly unknownLogged = new Map<string, { at: number; suppressed: number }>();
  private readonly stopping = new Set<Promise<void>>();
  /** MD5 keys and TTLs set on each listening socket (new listeners start empty). */
  private readonly listenerState = new WeakMap<net.Server, ListenerState>();
  /** Some peer uses GTSM: listeners answer with TTL 255. */
  private listenerTtl255 = false;

  constructor(private readonly opts: SpeakerOptions) {
    super();
    this.gr = opts.gracefulRestart ?? { restarting: false, forwardingPreserved: false };
    this.log = opts.logger.child({ module: 'bgp' });
  }

  /** The bound listen port (useful with listenPort 0), or null before start(). */
  get port(): number | null {
    const a = this.servers[0]?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  /** Listens on listenPort (IPv4 and IPv6 unless listenAddress(es) pin the addresses). */
  async start(): Promise<void> {
    const addresses = this.opts.listenAddresses ?? (this.opts.listenAddress ? [this.opts.listenAddress] : []);
    await this.listen(this.opts.listenPort, addresses);
  }

  /**
   * Moves the listener to `port` / `addresses` ([] = every address, dual stack) without
   * touching sessions: connections already accepted stay up. The old listeners close first
   * (a wildcard and a specific address cannot share a port), so a dial in that instant is
   * refused and retried by the peer. A listener that cannot open is an error: the old one
   * is then already closed and the caller decides.
   */
  async relisten(port: number, addresses: readonly string[]): Promise<void> {
    const cur = this.listening;
    if (cur && cur.port === port && cur.addresses.join(',') === addresses.join(',')) return;
    await this.closeListeners();
    await this.listen(port, addresses);
  }

  private async listen(port: number, addresses: readonly string[]): Promise<void> {
    // host undefined: Node binds :: (dual stack) or, without IPv6, 0.0.0.0, without the DNS
    // module and its IPv6-literal check that a host string costs at start-up.
    const open = (host: string | undefined, ipv6Only?: boolean) =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer((sock) => this.onConnection(sock));
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ port, ...(host === undefined ? {} : { host }), ...(ipv6Only === undefined ? {} : { ipv6Only }) }, () => {
          server.off('error', onError);
          server.on('error', (err) => this.log.error('listener error', { event: 'listenError', error: errorMessage(err) }));
          resolve(server);
        });
      });
    const servers: net.Server[] = [];
    try {
      if (addresses.length > 0) {
        for (const a of addresses) servers.push(await open(a));
      } else {
        try {
          servers.push(await open(undefined, false)); // dual stack: IPv4 arrives as ::ffff:a.b.c.d
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAFNOSUPPORT' && (err as { code?: string }).code !== 'EADDRNOTAVAIL') throw err;
          servers.push(await open('0.0.0.0'));
        }
      }
    } catch (err) {
      for (const sv of servers) sv.close();
      throw err;
    }
    this.servers = servers;
    this.listening = { port, addresses: [...addresses] };
    this.syncListener();
    this.log.info('BGP listening', { event: 'listening', port: this.port, address: addresses.length ? addresses.join(',') : '::' });
  }

  private async closeListeners(): Promise<void> {
    const old = this.servers;
    this.servers = [];
    this.listening = null;
    await Promise.all(old.map((sv) => new Promise<void>((resolve) => sv.close(() => resolve()))));
  }

  /** Reconciles the configured peers (diff by key). */
  setPeers(specs: readonly PeerSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.key, s]));
    for (const [key, peer] of this.peers) {
      const next = wanted.get(key);
      if (!next) {
        this.log.info('peer removed', { event: 'peerRemoved', peer: peer.spec.name });
        this.retire(key, peer, 'peerDeconfigured');
      } else if (mustRestart(peer.spec, next)) {
        this.log.info('peer changed, restarting session', { event: 'peerChanged', peer: next.name });
        this.retire(key, peer, 'configChanged');
      } else {
        peer.updateSpec(next);
      }
    }
    for (const spec of specs) {
      if (this.peers.has(spec.key)) continue;
      const peer = new Peer(spec, {
        local: () => ({ routerId: this.opts.routerId, gracefulRestart: this.gr, restartingNow: this.gr.restarting }),
        clock: this.opts.clock,
        logger: this.opts.logger,
        sink: this.sink,
        ...(this.opts.connectFactory ? { connect: this.opts.connectFactory } : {}),
      });
      this.peers.set(spec.key, peer);
      peer.start();
    }
    this.indexAddresses();
    this.syncListener();
  }

  private indexAddresses(): void {
    const m = new Map<string, Peer>();
    for (const peer of this.peers.values()) {
      let addr: string;
      try {
        addr = canonicalAddress(peer.spec.address);
      } catch {
        continue;
      }
      if (!m.has(addr)) m.set(addr, peer);
    }
    this.byAddress = m;
  }

  /** Our GR state: the R/F bits of later OPENs, and 'wait' vs 'up' in status. */
  setGracefulRestartState(state: GracefulRestartState): void {
    this.gr = { restarting: state.restarting, forwardingPreserved: state.forwardingPreserved };
    for (const peer of this.peers.values()) if (peer.refresh()) this.emit('stateChange', peer.handle);
  }

  /**
   * Cease 6/4 (Administrative Reset) to every peer, wait for the sockets to close, close the
   * listener. RFC 8538 §5 leaves 6/4 to the implementation: tern stops to come back (restart,
   * upgrade), so it is not a Hard Reset and helpers with the N bit keep our routes.
   */
  async stop(): Promise<void> {
    const all = [...this.peers].map(([key, peer]) => {
      this.peers.delete(key);
      return peer.stop('adminReset');
    });
    this.byAddress = new Map();
    await Promise.all([...all, ...this.stopping]);
    await this.closeListeners();
    this.log.info('BGP stopped', { event: 'stopped' });
  }

  status(): PeerStatus[] {
    return [...this.peers.values()].map((p) => p.status());
  }

  private retire(key: string, peer: Peer, reason: 'peerDeconfigured' | 'configChanged'): void {
    this.peers.delete(key);
    const done = peer.stop(reason);
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  private readonly sink: PeerSink = {
    established: (h) => this.emit('established', h),
    down: (h, reason, gr) => this.emit('down', h, reason, gr),
    update: (h, msg) => {
      const direct = this.opts.onUpdate;
      if (direct) direct(h, msg); else this.emit('update', h, msg);
    },
    routeRefresh: (h, msg) => this.emit('routeRefresh', h, msg),
    stateChange: (h) => this.emit('stateChange', h),
  };

  private onConnection(sock: net.Socket): void {
    sock.on('error', () => undefined); // errors of rejected sockets are not interesting
    const remote = remoteAddressOf(sock);
    const peer = remote === undefined ? undefined : this.findPeer(remote);
    if (!peer) {
      this.logUnknown(remote ?? '?', sock.remotePort);
      sock.destroy();
      return;
    }
    if (!peer.blocked && !this.secureAccepted(sock, peer.spec)) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    try {
      peer.accept(sock);
    } catch (err) {
      // Sessions contain their own errors; this is the Peer's bookkeeping around them.
      this.log.error('internal error accepting a connection', { event: 'acceptError', code: 'ERR_SESSION_INTERNAL', peer: peer.spec.name, error: errorMessage(err) });
      sock.destroy();
    }
  }

  /** TTL and GTSM on an accepted socket (the MD5 key came with it from the listener); false: refuse it. */
  private secureAccepted(sock: net.Socket, spec: PeerSpec): boolean {
    const sec = tcpSecurity(spec);
    if (sec.ttl === undefined && sec.minTtl === undefined && !this.listenerTtl255) return true;
    const fd = fdOf(sock);
    const family: Family = (sock.localAddress ?? '').includes(':') ? 'ipv6' : 'ipv4'; // "::ffff:a.b.c.d" is an IPv6 socket
    try {
      if (fd === undefined) throw new Error('no file descriptor');
      if (sec.ttl !== undefined) applyTtl(fd, family, sec);
      else setTtl(fd, family, -1); // back to the default TTL the listener's 255 replaced
      return true;
    } catch (err) {
      this.log.error('cannot set TTL on an accepted connection; closed', { event: 'sockoptError', peer: spec.name, error: errorMessage(err) });
      return false;
    }
  }

  /** Brings every listener's MD5 keys and TTLs in line with the running peers. */
  private syncListener(): void {
    const want = new Map<string, string>();
    let gtsm = false;
    let minTtl = Infinity; // a listener may check only what every running peer sends
    for (const peer of this.peers.values()) {
      if (peer.blocked) continue;
      const sec = tcpSecurity(peer.spec);
      if (sec.minTtl !== undefined) gtsm = true;
      minTtl = Math.min(minTtl, sec.minTtl ?? 0);
      if (sec.md5Key === undefined) continue;
      let addr: string;
      try {
        addr = canonicalAddress(peer.spec.address);
      } catch {
        continue;
      }
      const other = want.get(addr);
      if (other !== undefined && other !== sec.md5Key) {
        this.log.warn('two sessions with one address and different passwords; the listener keeps the first', { event: 'md5KeyConflict', address: addr, peer: peer.spec.name });
        continue;
      }
      want.set(addr, sec.md5Key);
    }
    this.listenerTtl255 = gtsm;
    const listenMin = Number.isFinite(minTtl) ? minTtl : 0;
    for (const server of this.servers) this.syncServer(server, want, gtsm, listenMin);
  }

  private syncServer(server: net.Server, want: ReadonlyMap<string, string>, gtsm: boolean, minTtl: number): void {
    const fd = fdOf(server);
    const bound = server.address();
    if (fd === undefined || !bound || typeof bound !== 'object') return;
    let st = this.listenerState.get(server);
    if (!st) {
      st = { family: bound.family === 'IPv6' ? 'ipv6' : 'ipv4', keys: new Map(), ttl255: false, minTtl: 0 };
      this.listenerState.set(server, st);
    }
    const dualStack = bound.address === '::';
    const reachable = (addr: string) => (familyOf(addr) === 'ipv6' ? st.family === 'ipv6' : st.family === 'ipv4' || dualStack);
    for (const [addr, key] of [...st.keys]) {
      if (want.get(addr) !== key) this.listenerKeyOp(fd, st, addr, null);
    }
    for (const [addr, key] of want) {
      if (reachable(addr) && st.keys.get(addr) !== key) this.listenerKeyOp(fd, st, addr, key);
    }
    try {
      if (gtsm !== st.ttl255) {
        setTtl(fd, st.family, gtsm ? 255 : -1);
        st.ttl255 = gtsm;
      }
      if (minTtl !== st.minTtl) {
        setMinTtl(fd, st.family, minTtl);
        st.minTtl = minTtl;
      }
    } catch (err) {
      this.log.error('cannot set the listener TTL for GTSM', { event: 'sockoptError', error: errorMessage(err) });
    }
  }

  private listenerKeyOp(fd: number, st: ListenerState, addr: string, key: string | null): void {
    try {
      setMd5Key(fd, st.family, addr, key);
      if (key === null) st.keys.delete(addr);
      else st.keys.set(addr, key);
      this.log.info(key === null ? 'TCP MD5 key removed from the listener' : 'TCP MD5 key set on the listener', { event: key === null ? 'md5KeyRemoved' : 'md5KeySet', address: addr });
    } catch (err) {
      this.log.error('cannot set a TCP MD5 key on the listener', { event: 'sockoptError', address: addr, error: errorMessage(err) });
    }
  }

  private findPeer(remote: string): Peer | undefined {
    return this.byAddress.get(remote);
  }

  private logUnknown(remote: string, port: number | undefined): void {
    const now = this.opts.clock.now();
    const seen = this.unknownLogged.get(remote);
    if (seen && now - seen.at < UNKNOWN_LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    this.unknownLogged.set(remote, { at: now, suppressed: 0 });
    if (this.unknownLogged.size > 1024) this.unknownLogged.clear();
    this.log.warn('connection from an unconfigured address closed', { event: 'unknownPeer', remote, port, suppressedSinceLast: seen?.suppressed ?? 0 });
  }
}
