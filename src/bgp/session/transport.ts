// TCP details of a session: dialing (local bind address, TCP MD5 key and GTSM set before
// connect(), see sockopt.ts), TTL policy, socket error texts in BIRD's words, and status
// text helpers.
//
// TTL: GTSM peers (RFC 5082, `ttlSecurity: N`, BIRD `ttl security on; multihop N`) send
// with TTL 255 and drop segments whose TTL is below 256 - N, on the connecting and the
// accepted socket. Other sessions keep the kernel default TTL (64): eBGP single-hop TTL 1
// is not set (BIRD would send with TTL 1).
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { describeNotification } from '../wire/index.js';
import { canonicalAddress } from '../../net/prefix.js';
import type { Family } from '../../net/prefix.js';
import type { PeerSpec } from '../../config/peer-spec.js';
import { securedSocket, type TcpSecurity } from './sockopt.js';

export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly family: Family;
  /** TCP MD5 key and GTSM, set on the socket before connect(). Holds a secret: never log it. */
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
  const secured = sec !== undefined && (sec.md5Key !== undefined || sec.minTtl !== undefined);
  const sock = secured ? securedSocket(req.family, req.host, sec).connect(opts) : net.connect(opts);
  sock.setNoDelay(true);
  return sock;
};

export interface TtlPolicy {
  /** The TTL BIRD would send with (tern sets it only for GTSM; see the file header). */
  readonly ttl: number;
  /** GTSM (RFC 5082) requested: `ttlSecurity` hops. */
  readonly gtsmHops?: number;
  /** GTSM: segments with a TTL below this are dropped by the kernel (256 - hops). */
  readonly minTtl?: number;
}

/** BIRD: GTSM sends with TTL 255; otherwise iBGP is multihop (TTL 64) and eBGP TTL 1. */
export function ttlPolicy(spec: PeerSpec): TtlPolicy {
  if (spec.ttlSecurity !== undefined && spec.ttlSecurity > 0) {
    const hops = Math.min(spec.ttlSecurity, 255);
    return { ttl: 255, gtsmHops: hops, minTtl: 256 - hops };
  }
  if (spec.localAs === spec.peerAs) return { ttl: 64 };
  return { ttl: 1 };
}

/** What a socket to or from this peer must carry: its MD5 key and GTSM minimum TTL. */
export function tcpSecurity(spec: PeerSpec): TcpSecurity {
  const minTtl = ttlPolicy(spec).minTtl;
  return {
    ...(spec.password !== undefined && spec.password !== '' ? { md5Key: spec.password } : {}),
    ...(minTtl !== undefined ? { minTtl } : {}),
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

/** NOTIFICATION text as BIRD shows it: the subcode's words when there is one ("Bad Peer AS"). */
export function notificationText(code: number, subcode: number): string {
  const full = describeNotification(code, subcode);
  const colon = full.indexOf(': ');
  return colon >= 0 ? full.slice(colon + 2) : full;
}

/** Remote address of an accepted socket in canonical form (IPv4-mapped IPv6 unwrapped). */
export function remoteAddressOf(sock: net.Socket): string | undefined {
  const a = sock.remoteAddress;
  if (!a) return undefined;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  const bare = m ? m[1]! : a.replace(/%.*$/, ''); // drop an IPv6 zone ("fe80::1%eth0")
  try {
    return canonicalAddress(bare);
  } catch {
    return bare.toLowerCase();
  }
}
