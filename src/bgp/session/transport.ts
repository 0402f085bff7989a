// TCP details of a session: dialing (local bind address), TTL policy, socket error texts in
// BIRD's words, and status text helpers.
//
// Limits of Node.js (no native addon in tern), stated rather than hidden:
// - TTL: net.Socket has no setTTL/IP_TTL, so outgoing TTL stays the kernel default (64) for
//   every session. eBGP single-hop (TTL 1) is therefore not enforced, and GTSM (RFC 5082:
//   send with TTL 255, drop incoming TTL < 255 - hops) can be neither sent nor checked.
//   `ttlPolicy` computes what BIRD would use so status/logs can say what is missing.
// - TCP MD5 (RFC 2385, `password`): TCP_MD5SIG needs setsockopt with a struct; sessions
//   with a password are refused (status "Error: MD5 password not supported") rather than
//   silently run unauthenticated.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { describeNotification } from '../wire/index.js';
import { canonicalAddress } from '../../net/prefix.js';
import type { Family } from '../../net/prefix.js';
import type { PeerSpec } from '../../peering/peer-spec.js';

export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly family: Family;
}

/**
 * Opens a transport to a peer. A returned socket whose `connecting` is true is awaited for
 * 'connect'; any other Duplex counts as connected at once (tests use in-memory pairs).
 */
export type ConnectFn = (req: ConnectRequest) => Duplex;

export const netConnect: ConnectFn = (req) => {
  const opts: net.TcpNetConnectOpts = { host: req.host, port: req.port, family: req.family === 'ipv4' ? 4 : 6 };
  if (req.localAddress) opts.localAddress = req.localAddress;
  const sock = net.connect(opts);
  sock.setNoDelay(true);
  return sock;
};

export interface TtlPolicy {
  /** The TTL BIRD would send with. */
  readonly ttl: number;
  /** GTSM (RFC 5082) requested: drop packets with TTL below 256 - hops. */
  readonly gtsmHops?: number;
  /** Always false in Node.js; see the file header. */
  readonly enforced: false;
}

/** BIRD: iBGP is multihop (TTL 64); eBGP is TTL 1 unless `ttl security` (GTSM, TTL 255). */
export function ttlPolicy(spec: PeerSpec): TtlPolicy {
  if (spec.localAs === spec.peerAs) return { ttl: 64, enforced: false };
  if (spec.ttlSecurity !== undefined && spec.ttlSecurity > 0) return { ttl: 255, gtsmHops: spec.ttlSecurity, enforced: false };
  return { ttl: 1, enforced: false };
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
