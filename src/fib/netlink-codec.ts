// rtnetlink message codec for routes and links (pure: bytes in, objects out, no sockets).
//
// The npm `netlink` package gives tern its socket (RawNetlinkSocket); its own message layer
// formats one message per sendmsg and has no RTA_MULTIPATH encoder, so the few messages the
// FIB syncer needs are encoded and decoded here (rtnetlink(7), linux/rtnetlink.h).
//
//   nlmsghdr (16)          rtmsg (12)                         ifinfomsg (16)
//   +--------+----+----+   +---+------+------+---+-----+       +---+---+----+-------+-----+------+
//   | len u32|type|flag|   |fam|dstlen|srclen|tos|table|       |fam|pad|type|index  |flags|change|
//   | seq u32| pid u32  |   |proto|scope|type| flags u32 |      |u8 |u8 |u16 |i32    |u32  |u32   |
//   +--------+----+----+   +-----+-----+----+-----------+      +---+---+----+-------+-----+------+
//   then attributes: rtattr { len u16, type u16, payload, pad to 4 }
//   RTA_MULTIPATH payload: rtnexthop { len u16, flags u8, hops u8, ifindex i32, attrs } ...
import { formatAddress, parseAddress, parseIpv4Prefix, parsePrefix, formatPrefix, type Family } from '../net/prefix.js';
import type { KernelRoute, KernelNextHop, Link, RouteBody, RouteType } from './kernel.js';

export const NlMsgType = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const RtmType = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
} as const;
export const NlmFlag = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, DUMP_INTR: 0x10, DUMP: 0x300,
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800,
} as const;
export const Rta = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, MULTIPATH: 9, TABLE: 15 } as const;
export const Ifla = { IFNAME: 3 } as const;
export const AfFamily = { INET: 2, INET6: 10 } as const;
export const RtScope = { UNIVERSE: 0, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
export const RtnhFlag = { DEAD: 0x1, ONLINK: 0x4, LINKDOWN: 0x10 } as const;
export const IFF_UP = 0x1;
export const RT_TABLE_MAIN = 254;
const NLMSG_HDRLEN = 16;

const TYPE_NAMES: readonly RouteType[] = [
  'unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast',
  'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve',
];

export function routeTypeNumber(t: RouteType): number {
  const i = TYPE_NAMES.indexOf(t);
  return i < 0 ? 1 : i;
}

const align4 = (n: number): number => (n + 3) & ~3;

function familyNumber(f: Family): number {
  return f === 'ipv4' ? AfFamily.INET : AfFamily.INET6;
}

/** Accumulates attributes into one buffer. */
class AttrWriter {
  private parts: Buffer[] = [];
  private size = 0;
  add(type: number, payload: Buffer): void {
    const len = 4 + payload.length;
    const b = Buffer.alloc(align4(len));
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
    payload.copy(b, 4);
    this.parts.push(b);
    this.size += b.length;
  }
  u32(type: number, v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0, 0);
    this.add(type, b);
  }
  raw(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }
  get length(): number { return this.size; }
  toBuffer(): Buffer { return Buffer.concat(this.parts, this.size); }
}

export function nlHeader(len: number, type: number, flags: number, seq: number, pid = 0): Buffer {
  const h = Buffer.allocUnsafe(NLMSG_HDRLEN);
  h.writeUInt32LE(len, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq >>> 0, 8);
  h.writeUInt32LE(pid >>> 0, 12);
  return h;
}

const gatewayCache = new Map<string, Buffer>();
/** Gateways are the cluster's node addresses: few, parsed once. */
function addressBytes(a: string): Buffer {
  let b = gatewayCache.get(a);
  if (!b) {
    if (gatewayCache.size > 65536) gatewayCache.clear();
    b = Buffer.from(parseAddress(a).bytes);
    gatewayCache.set(a, b);
  }
  return b;
}

/** rtnexthop array for RTA_MULTIPATH (rtnetlink(7), struct rtnexthop). */
function encodeMultipath(hops: RouteBody['nextHops']): Buffer {
  const w = new AttrWriter();
  for (const nh of hops) {
    const attrs = new AttrWriter();
    if (nh.gateway) attrs.add(Rta.GATEWAY, addressBytes(nh.gateway));
    const head = Buffer.alloc(8);
    head.writeUInt16LE(8 + attrs.length, 0);
    head.writeUInt8(nh.onlink ? RtnhFlag.ONLINK : 0, 2);
    head.writeUInt8(Math.max(0, (nh.weight ?? 1) - 1), 3); // rtnh_hops = weight - 1
    head.writeInt32LE(nh.ifindex ?? 0, 4);
    w.raw(head);
    w.raw(attrs.toBuffer());
  }
  return w.toBuffer();
}

/**
 * 'replace': NLM_F_CREATE|NLM_F_REPLACE (takes the (prefix, metric) slot whoever holds it);
 * 'create': NLM_F_CREATE|NLM_F_EXCL (EEXIST if anyone holds the slot); 'remove': RTM_DELROUTE.
 */
export type RouteOp = 'replace' | 'create' | 'remove';

/**
 * RTM_NEWROUTE or RTM_DELROUTE for one route, in a single
 * buffer. Next hops must already carry their ifindex. `ack` sets NLM_F_ACK (the pipeline uses
 * it as a barrier). A delete names the route as it is: prefix, table, protocol, metric,
 * type and next hops (RT_SCOPE_NOWHERE: any scope). IPv4 takes RTA_PRIORITY 0 for "any
 * metric" (fib_table_delete), so without the type and next hops a delete of our metric-0
 * route that is already gone would take a `proto bird` route at another metric (an IPAM's).
 * IPv6 merges a route another program appends (NLM_F_APPEND) at the same metric into ours
 * as ECMP siblings, and a delete without a gateway removes every sibling (ip6_route_del),
 * theirs too; with the next hops only ours go, one by one.
 */
export function encodeRouteRequest(op: RouteOp, r: KernelRoute, seq: number, ack: boolean): Buffer {
  return encodeRouteMessage(op, r.prefix, r, seq, ack);
}

/** encodeRouteRequest with the prefix apart (for FibSync's interned route forms). */
export function encodeRouteMessage(op: RouteOp, prefix: string, r: RouteBody, seq: number, ack: boolean): Buffer {
  const v4 = parseIpv4Prefix(prefix); // IPv4 without allocating; IPv6 by the fast path
  const p = v4 >= 0 ? undefined : parsePrefix(prefix);
  const family: Family = p ? p.family : 'ipv4';
  const alen = p ? p.bytes.length : 4;
  const single = r.nextHops.length === 1 ? r.nextHops[0] : undefined;
  const add = op !== 'remove';
  const withHops = r.type === 'unicast';
  const gw = withHops && single?.gateway ? addressBytes(single.gateway) : undefined;
  const oif = withHops && single?.ifindex ? single.ifindex : 0;
  const mp = withHops && r.nextHops.length > 1 ? encodeMultipath(r.nextHops) : undefined;
  const len = NLMSG_HDRLEN + 12 + 4 + alen + 8 + (r.metric !== undefined ? 8 : 0)
    + (gw ? 4 + gw.length : 0) + (oif ? 8 : 0) + (mp ? 4 + mp.length : 0);
  const b = Buffer.allocUnsafe(len).fill(0); // pooled: cheaper than alloc for small buffers
  const flags = NlmFlag.REQUEST | (ack ? NlmFlag.ACK : 0)
    | (op === 'replace' ? NlmFlag.CREATE | NlmFlag.REPLACE : op === 'create' ? NlmFlag.CREATE | NlmFlag.EXCL : 0);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(add ? RtmType.NEWROUTE : RtmType.DELROUTE, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  // rtmsg
  b[16] = familyNumber(family);
  b[17] = p ? p.length : v4 % 64;
  b[20] = r.table < 256 ? r.table : 252; // RT_TABLE_COMPAT + RTA_TABLE above 255
  b[21] = r.protocol;
  b[22] = op === 'remove' ? RtScope.NOWHERE
    : r.type === 'unicast' && single && !single.gateway ? RtScope.LINK : RtScope.UNIVERSE;
  b[23] = routeTypeNumber(r.type);
  b.writeUInt32LE(add && withHops && single?.onlink ? RtnhFlag.ONLINK : 0, 24);
  // attributes in order, each after the previous one's aligned end (no closure per message)
  let off = 28;
  if (p) b.set(p.bytes, attrAt(b, off, Rta.DST, alen)); else b.writeUInt32BE(Math.floor(v4 / 64), attrAt(b, off, Rta.DST, 4));
  off += align4(4 + alen);
  b.writeUInt32LE(r.table, attrAt(b, off, Rta.TABLE, 4));
  off += 8;
  if (r.metric !== undefined) { b.writeUInt32LE(r.metric >>> 0, attrAt(b, off, Rta.PRIORITY, 4)); off += 8; }
  if (gw) { b.set(gw, attrAt(b, off, Rta.GATEWAY, gw.length)); off += align4(4 + gw.length); }
  if (oif) { b.writeUInt32LE(oif, attrAt(b, off, Rta.OIF, 4)); off += 8; }
  if (mp) mp.copy(b, attrAt(b, off, Rta.MULTIPATH, mp.length));
  return b;
}

/**
 * The message of one operation and route body for any IPv4 prefix: encoded once (for
 * 0.0.0.0/0), then copied per prefix with the prefix length, the address and the sequence
 * number put in (an IPv4 RTA_DST is always 4 octets at the same offset). The same bytes as
 * encodeRouteMessage, without parsing or encoding the body's next hops again per route.
 */
export function ipv4RouteTemplate(op: RouteOp, r: RouteBody): Buffer {
  return encodeRouteMessage(op, '0.0.0.0/0', r, 0, false);
}

/** ipv4RouteTemplate's message for the prefix `v4` (parseIpv4Prefix's number: address × 64 + length). */
export function fromIpv4Template(t: Buffer, v4: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(t.length);
  writeFromIpv4Template(b, 0, t, v4, seq);
  return b;
}

/** fromIpv4Template's message written into `out` at `off` (a datagram of many); returns where it ends. */
export function writeFromIpv4Template(out: Buffer, off: number, t: Buffer, v4: number, seq: number): number {
  out.set(t, off);
  out.writeUInt32LE(seq >>> 0, off + 8);
  out[off + 17] = v4 % 64;
  out.writeUInt32BE(Math.floor(v4 / 64), off + IPV4_DST_AT);
  return off + t.length;
}

/** Where an IPv4 RTA_DST's address lies: after the header, the rtmsg and the attribute's own header. */
const IPV4_DST_AT = NLMSG_HDRLEN + 12 + 4;

/** Writes an attribute header (length 4 + size, type) at `off`; returns where its value goes. */
function attrAt(b: Buffer, off: number, type: number, size: number): number {
  b.writeUInt16LE(4 + size, off);
  b.writeUInt16LE(type, off + 2);
  return off + 4;
}

/** RTM_GETROUTE / RTM_GETLINK dump request. */
export function encodeDumpRequest(kind: 'route' | 'link', family: Family | 'all', seq: number): Buffer {
  const fam = family === 'all' ? 0 : familyNumber(family);
  const body = Buffer.alloc(kind === 'route' ? 12 : 16);
  body.writeUInt8(fam, 0);
  const len = NLMSG_HDRLEN + body.length;
  const type = kind === 'route' ? RtmType.GETROUTE : RtmType.GETLINK;
  return Buffer.concat([nlHeader(len, type, NlmFlag.REQUEST | NlmFlag.DUMP, seq), body], len);
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Payload after the 16-byte header (a view, not a copy). */
  data: Buffer;
}

/** Splits one datagram into messages; stops at a truncated tail. */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      data: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** NLMSG_ERROR payload: errno as a positive number (0 = ACK). */
export function errnoOf(msg: NlMessage): number {
  return msg.data.length >= 4 ? -msg.data.readInt32LE(0) : 0;
}

function forEachAttr(buf: Buffer, start: number, fn: (type: number, payload: Buffer) => void): void {
  let off = start;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    fn(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
}

function decodeMultipath(buf: Buffer, family: Family): KernelNextHop[] {
  const hops: KernelNextHop[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 8 || off + len > buf.length) break;
    const flags = buf.readUInt8(off + 2);
    const nh: KernelNextHop = { onlink: (flags & RtnhFlag.ONLINK) !== 0, ifindex: buf.readInt32LE(off + 4), weight: buf.readUInt8(off + 3) + 1 };
    forEachAttr(buf.subarray(off, off + len), 8, (t, p) => {
      if (t === Rta.GATEWAY) nh.gateway = formatAddress(family, p);
    });
    hops.push(nh);
    off += align4(len);
  }
  return hops;
}

const ipv4Texts = new Map<number, string>();
/** Gateways are the cluster's node addresses: few, each formatted once. */
function ipv4Text(n: number): string {
  let t = ipv4Texts.get(n);
  if (t === undefined) {
    if (ipv4Texts.size >= 65536) ipv4Texts.clear();
    t = `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
    ipv4Texts.set(n, t);
  }
  return t;
}

/**
 * Decodes an RTM_NEWROUTE/RTM_DELROUTE payload (data[start, end)); undefined for families
 * other than IPv4/IPv6. Hot path (one call per notification): read in place, no views.
 */
export function decodeRoute(data: Buffer, start = 0, end = data.length): KernelRoute | undefined {
  if (end - start < 12) return undefined;
  const fam = data[start]!;
  if (fam !== AfFamily.INET && fam !== AfFamily.INET6) return undefined;
  const family: Family = fam === AfFamily.INET ? 'ipv4' : 'ipv6';
  const alen = family === 'ipv4' ? 4 : 16;
  const dstLen = data[start + 1]!;
  let table = data[start + 4]!;
  const rtmFlags = data.readUInt32LE(start + 8);
  let dstAt = -1;
  let dstSize = 0;
  let metric: number | undefined;
  let gateway: string | undefined;
  let oif: number | undefined;
  let multipath: KernelNextHop[] | undefined;
  let off = start + 12;
  while (off + 4 <= end) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    const at = off + 4;
    switch (data.readUInt16LE(off + 2) & 0x3fff) {
      case Rta.DST: dstAt = at; dstSize = len - 4; break;
      case Rta.TABLE: table = data.readUInt32LE(at); break;
      case Rta.PRIORITY: metric = data.readUInt32LE(at); break;
      case Rta.GATEWAY: gateway = len === 8 && family === 'ipv4' ? ipv4Text(data.readUInt32BE(at)) : formatAddress(family, data, at); break;
      case Rta.OIF: oif = data.readUInt32LE(at); break;
      case Rta.MULTIPATH: multipath = decodeMultipath(data.subarray(at, off + len), family); break;
      default: break;
    }
    off += align4(len);
  }
  const type = TYPE_NAMES[data[start + 7]!] ?? 'unspec';
  // IPv6 reports blackhole/unreachable/prohibit routes with `dev lo`: not a next hop
  const forwards = type === 'unicast' || type === 'local' || type === 'multicast';
  let nextHops: KernelNextHop[];
  if (!forwards) nextHops = [];
  else if (multipath) nextHops = multipath;
  else if (gateway !== undefined) nextHops = [{ gateway, ifindex: oif, onlink: (rtmFlags & RtnhFlag.ONLINK) !== 0 }];
  else if (oif !== undefined) nextHops = [{ ifindex: oif, onlink: (rtmFlags & RtnhFlag.ONLINK) !== 0 }];
  else nextHops = [];
  for (const nh of nextHops) if (nh.gateway === undefined) delete nh.gateway;
  let prefix: string;
  if (dstAt < 0) prefix = `${family === 'ipv4' ? '0.0.0.0' : '::'}/${dstLen}`;
  else if (dstSize === alen) prefix = `${formatAddress(family, data, dstAt)}/${dstLen}`;
  else prefix = formatPrefix(family, Uint8Array.from(data.subarray(dstAt, dstAt + dstSize)), dstLen);
  return {
    prefix,
    family,
    table,
    protocol: data[start + 5]!,
    scope: data[start + 6]!,
    type,
    nextHops,
    metric: metric ?? (family === 'ipv4' ? 0 : undefined),
  };
}

/** Decodes an RTM_NEWLINK/RTM_DELLINK payload. */
export function decodeLink(data: Buffer): Link | undefined {
  if (data.length < 16) return undefined;
  const ifindex = data.readInt32LE(4);
  const flags = data.readUInt32LE(8);
  let name = '';
  forEachAttr(data, 16, (t, p) => {
    if (t === Ifla.IFNAME) name = p.toString('utf8').replace(/\0.*$/s, '');
  });
  return { ifindex, name, up: (flags & IFF_UP) !== 0 };
}
