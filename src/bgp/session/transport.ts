// TCP details of a session: dialing (local bind address, TCP MD5 key, TTL and GTSM set before
// connect(), see sockopt.ts), closing, TTL policy, socket error texts in BIRD's words, and
// status text helpers.
//
// TTL, as confd's bird.cfg makes BIRD send it (set on the connecting and the accepted socket):
// - GTSM peers (RFC 5082, `ttlSecurity: N`, BIRD `ttl security on; multihop N`): TTL 255 out,
//   segments whose TTL is below 256 - N dropped;
// - mesh sessions between nodes of different ASes: confd writes no `multihop` line there, so
//   BIRD runs them as eBGP single-hop ("direct"): TTL 1 out. BIRD also waits for the peer to
//   be on a connected network before dialling; with TTL 1 a peer behind a router is never
//   reached either (tern dials and the connection times out);
// - every other session is multihop (explicit peers: confd writes `multihop;`; iBGP mesh:
//   BIRD's default), BIRD's TTL 64: the kernel default TTL, left as it is.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { describeNotification } from '../wire/index.js';
import { canonicalAddress, ipv4Number } from '../../net/prefix.js';
import type { Family } from '../../net/prefix.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import type { Clock } from '../../util/clock.js';
import { securedSocket, type TcpSecurity } from './sockopt.js';

export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly family: Family;
  /** TCP MD5 key, TTL and GTSM, set on the socket before connect(). Holds a secret: never log it. */
  readonly security?: TcpSecurity;
}

/**
 * Opens a transport to a peer. A returned socket whose `connecting` is true is awaited for
 * 'connect'; any other Duplex counts as connected at once (tests use in-memory pairs).
 */
export type ConnectFn = (req: ConnectRequest) => Duplex;

export const netConnect: ConnectFn = (req) => {
  const opts: net.TcpNetConnectOpts = { host: req.host, port: req.port, family: req.family === 'ipv4' ? 4 : 6 };
  if (req.localAddress) opts.localAddress = req.localAddress;
  const sec = req.security;
  const secured = sec !== undefined && (sec.md5Key !== undefined || sec.minTtl !== undefined || sec.ttl !== undefined);
  const sock = secured ? securedSocket(req.family, req.host, sec).connect(opts) : net.connect(opts);
  sock.setNoDelay(true);
  return sock;
};

/**
 * Reads a connected or connecting `net.Socket` without its Readable stream: Node's user-buffer
 * read path (the `onread` option of net.Socket, which Node 20 offers only to sockets it creates
 * with the option, not to accepted ones), switched on for an existing socket through the same
 * internal fields. libuv then reads into one buffer shared by every such socket and `onChunk`
 * gets a view of it, valid only during the call (so the caller copies what it keeps); per
 * read there is no chunk Buffer, no `Readable.push`/`addChunk`/'data' event, and no
 * `maybeReadMore` tick. 'end', 'close', 'error', `pause()` (readStop) and `resume()` behave as
 * before. False (nothing changed) for any other Duplex (tests' in-memory pairs), a socket
 * that has already buffered data, or a Node.js without those fields: then read 'data'.
 */
export function readDirect(sock: Duplex, onChunk: (chunk: Buffer) => void): boolean {
  if (!(sock instanceof net.Socket) || sock.readableLength > 0 || sock.listenerCount('data') > 0) return false;
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (buf: Uint8Array) => void } | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  const keys = userBufferKeys(sock);
  if (!keys) return false;
  const fields = sock as unknown as Record<symbol, unknown>;
  if (fields[keys.buffer] !== null || fields[keys.callback] !== null) return false; // already in use
  const buf = (readBuffer ??= Buffer.allocUnsafe(READ_BUFFER));
  fields[keys.buffer] = buf;
  fields[keys.callback] = (n: number): void => onChunk(buf.subarray(0, n));
  handle.useUserBuffer(buf);
  return true;
}

/** libuv reads at most this much per call (its own suggestion for a stream read is 64 KiB). */
const READ_BUFFER = 64 * 1024;
let readBuffer: Buffer | undefined;

interface UserBufferKeys { buffer: symbol; callback: symbol }
let keysCache: UserBufferKeys | null | undefined;

/** net.Socket's own symbol-keyed fields for the `onread` option (kBuffer, kBufferCb, kBufferGen: set to null on every socket). */
function userBufferKeys(sock: net.Socket): UserBufferKeys | null {
  if (keysCache !== undefined) return keysCache;
  const syms = Object.getOwnPropertySymbols(sock);
  const find = (d: string) => syms.find((s) => s.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const gen = find('kBufferGen');
  const fields = sock as unknown as Record<symbol, unknown>;
  keysCache = buffer && callback && gen && fields[gen] === null ? { buffer, callback } : null;
  return keysCache;
}

/** How long a closing socket may take to flush (a final NOTIFICATION) before it is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/** Ends a connection: a socket still connecting is destroyed, else flushed (FIN) and destroyed after a grace period. */
export function closeGracefully(sock: Duplex, clock: Clock): void {
  if (sock.destroyed) return;
  if ((sock as { connecting?: boolean }).connecting) {
    sock.destroy();
    return;
  }
  sock.end(); // flushes a final NOTIFICATION, then FIN
  const t = clock.setTimer(CLOSE_GRACE_MS, () => sock.destroy());
  sock.once('close', () => t.cancel());
}

export interface TtlPolicy {
  /** The TTL BIRD sends with (64 is the kernel default and not set; see the file header). */
  readonly ttl: number;
  /** GTSM (RFC 5082) requested: `ttlSecurity` hops. */
  readonly gtsmHops?: number;
  /** GTSM: segments with a TTL below this are dropped by the kernel (256 - hops). */
  readonly minTtl?: number;
}

/** TTL of BIRD's multihop sessions (`multihop;` without a number), the kernel's default too. */
export const MULTIHOP_TTL = 64;

/**
 * BIRD, as confd configures it: GTSM sends with TTL 255; a mesh session to a node of another
 * AS is eBGP without `multihop` (TTL 1); every other session is multihop (TTL 64).
 */
export function ttlPolicy(spec: PeerSpec): TtlPolicy {
  if (spec.ttlSecurity !== undefined && spec.ttlSecurity > 0) {
    const hops = Math.min(spec.ttlSecurity, 255);
    return { ttl: 255, gtsmHops: hops, minTtl: 256 - hops };
  }
  if (spec.type === 'mesh' && spec.localAs !== spec.peerAs) return { ttl: 1 };
  return { ttl: MULTIHOP_TTL };
}

/** What a socket to or from this peer must carry: its MD5 key, the TTL and GTSM minimum TTL. */
export function tcpSecurity(spec: PeerSpec): TcpSecurity {
  const ttl = ttlPolicy(spec);
  return {
    ...(spec.password !== undefined && spec.password !== '' ? { md5Key: spec.password } : {}),
    ...(ttl.ttl !== MULTIHOP_TTL ? { ttl: ttl.ttl } : {}),
    ...(ttl.minTtl !== undefined ? { minTtl: ttl.minTtl } : {}),
  };
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EPIPE: 'Broken pipe',
  ECONNABORTED: 'Software caused connection abort',
};

/** strerror()-like text of a socket error, as BIRD prints after "Socket: ". */
export function socketErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return err instanceof Error ? err.message : String(err);
}

const V4_MAPPED = '::ffff:';

/**
 * Remote address of an accepted socket in canonical form: IPv4-mapped IPv6 unwrapped, an IPv6
 * zone ("fe80::1%eth0") dropped. Plain string checks, no regular expression: this runs once
 * per accepted connection, mostly in a fresh process, where compiling the expressions (one
 * of them case-insensitive) was about half of its CPU.
 */
export function remoteAddressOf(sock: net.Socket): string | undefined {
  const a = sock.remoteAddress;
  if (!a) return undefined;
  const n = V4_MAPPED.length;
  const mapped = a.length > n && a.slice(0, n).toLowerCase() === V4_MAPPED && ipv4Number(a, n, a.length) >= 0;
  const zone = mapped ? -1 : a.indexOf('%');
  const bare = mapped ? a.slice(n) : zone >= 0 ? a.slice(0, zone) : a;
  try {
    return canonicalAddress(bare);
  } catch {
    return bare.toLowerCase();
  }
}
