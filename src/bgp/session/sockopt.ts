// TCP socket options Node.js has no API for, set with setsockopt(2) on the socket's file
// descriptor through koffi (an FFI with prebuilt binaries; no compiler at install):
// - TCP MD5 signatures (RFC 2385): TCP_MD5SIG with the peer address in tcpm_addr. On a
//   listening socket one key per peer address (accepted sockets inherit the key); on a
//   connecting socket before connect(), so the SYN is signed.
// - GTSM (RFC 5082): IP_TTL / IPV6_UNICAST_HOPS 255 outgoing and IP_MINTTL /
//   IPV6_MINHOPCOUNT 256 - hops incoming; IP_TTL / IPV6_UNICAST_HOPS 1 for eBGP single-hop.
// An outgoing socket is created here (socket(2), options, then handed to net.Socket({fd})
// which binds and connects it), because net.connect creates its descriptor and calls
// connect() in one step.
//
// Invariants
// - Keys never leave this module except into setsockopt; errors name the option and errno,
//   never the key.
// - koffi is loaded on first use (util/libc.ts): a node without MD5/GTSM/TTL peers never
//   loads it, and a node where it cannot load reports `unavailable()` instead of failing.
// - Linux only (the option numbers and struct tcp_md5sig layout are Linux's).
import * as net from 'node:net';
import { parseAddress, type Family } from '../../net/prefix.js';
import { libc, libcUnavailable } from '../../util/libc.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const TCP_MD5SIG = 14;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MINHOPCOUNT = 73;
/** TCP_MD5SIG_MAXKEYLEN (include/uapi/linux/tcp.h). */
export const MD5_MAX_KEY_LENGTH = 80;
/** struct tcp_md5sig: sockaddr_storage (128), flags, prefixlen, keylen (u16), ifindex (i32), key[80]. */
const MD5SIG_SIZE = 216;

/** Why TCP MD5 / GTSM / TTL cannot be set on this host, or undefined when they can. */
export function unavailable(): string | undefined {
  const why = libcUnavailable();
  return why === undefined ? undefined : `socket options unavailable (${why})`;
}

export class SockoptError extends Error {
  constructor(readonly option: string, readonly errno: number) {
    super(`setsockopt ${option}: errno ${errno}`);
  }
}

function set(fd: number, level: number, name: number, value: Buffer, option: string): void {
  const l = libc();
  if (l.setsockopt(fd, level, name, value, value.length) !== 0) throw new SockoptError(option, l.errno());
}

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

/**
 * struct tcp_md5sig for `peer` on a socket of `socketFamily`; an IPv4 peer on an IPv6
 * (dual-stack) socket is written as ::ffff:a.b.c.d, which the kernel files as an IPv4 key.
 */
export function md5sigStruct(socketFamily: Family, peer: string, key: string): Buffer {
  const k = Buffer.from(key, 'utf8');
  if (k.length > MD5_MAX_KEY_LENGTH) throw new RangeError(`TCP MD5 key longer than ${MD5_MAX_KEY_LENGTH} bytes`);
  const { family, bytes } = parseAddress(peer);
  const b = Buffer.alloc(MD5SIG_SIZE);
  if (socketFamily === 'ipv4') {
    if (family !== 'ipv4') throw new RangeError('IPv6 peer on an IPv4 socket');
    b.writeUInt16LE(AF_INET, 0);
    b.set(bytes, 4); // sockaddr_in.sin_addr
  } else {
    b.writeUInt16LE(AF_INET6, 0);
    if (family === 'ipv4') {
      b[8 + 10] = 0xff;
      b[8 + 11] = 0xff;
      b.set(bytes, 8 + 12);
    } else {
      b.set(bytes, 8); // sockaddr_in6.sin6_addr
    }
  }
  b.writeUInt16LE(k.length, 130); // tcpm_keylen; 0 removes the key
  k.copy(b, 136);
  return b;
}

/** Sets (or with key null removes) the TCP MD5 key for `peer` on socket `fd`. */
export function setMd5Key(fd: number, socketFamily: Family, peer: string, key: string | null): void {
  set(fd, IPPROTO_TCP, TCP_MD5SIG, md5sigStruct(socketFamily, peer, key ?? ''), 'TCP_MD5SIG');
}

/**
 * Outgoing TTL (hop limit). -1 restores the system default. On an IPv6 socket both options
 * are set: IPv4-mapped traffic uses IP_TTL.
 */
export function setTtl(fd: number, socketFamily: Family, ttl: number): void {
  if (socketFamily === 'ipv6') set(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, int(ttl), 'IPV6_UNICAST_HOPS');
  set(fd, IPPROTO_IP, IP_TTL, int(ttl), 'IP_TTL');
}

/** Minimum incoming TTL (GTSM); 0 turns the check off. */
export function setMinTtl(fd: number, socketFamily: Family, minTtl: number): void {
  if (socketFamily === 'ipv6') set(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, int(minTtl), 'IPV6_MINHOPCOUNT');
  set(fd, IPPROTO_IP, IP_MINTTL, int(minTtl), 'IP_MINTTL');
}

/** What a connecting or accepted socket needs beyond plain TCP. Never logged: holds a key. */
export interface TcpSecurity {
  /** TCP MD5 key (RFC 2385). */
  readonly md5Key?: string;
  /** Outgoing TTL (hop limit) when not the kernel default: 255 with GTSM, 1 for eBGP single-hop. */
  readonly ttl?: number;
  /** GTSM (RFC 5082): drop segments with TTL below this. */
  readonly minTtl?: number;
}

/** Applies the outgoing TTL and the GTSM minimum TTL to a socket (accepted or about to connect). */
export function applyTtl(fd: number, socketFamily: Family, sec: Pick<TcpSecurity, 'ttl' | 'minTtl'>): void {
  if (sec.ttl !== undefined) setTtl(fd, socketFamily, sec.ttl);
  if (sec.minTtl !== undefined) setMinTtl(fd, socketFamily, sec.minTtl);
}

/**
 * A TCP socket of `family` with the MD5 key for `peer`, TTL and GTSM set, not yet connected:
 * call connect() on it (Node binds localAddress and connects the same descriptor).
 */
export function securedSocket(family: Family, peer: string, sec: TcpSecurity): net.Socket {
  const l = libc();
  const fd = l.socket(family === 'ipv4' ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SockoptError('socket', l.errno());
  try {
    if (sec.md5Key !== undefined) setMd5Key(fd, family, peer, sec.md5Key);
    applyTtl(fd, family, sec);
    return new net.Socket({ fd, readable: true, writable: true });
  } catch (err) {
    l.close(fd);
    throw err;
  }
}

/** The descriptor behind a listening server or a connected socket (libuv's TCP handle). */
export function fdOf(handleOwner: net.Server | net.Socket): number | undefined {
  const fd = (handleOwner as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
