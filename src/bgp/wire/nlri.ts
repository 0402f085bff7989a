// NLRI prefixes on the wire (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3): the hot path of
// the Adj-RIB-Out, so prefix text ↔ octets is done by hand here, without ip-address and
// without caching anything per route.
//
// Decoded prefix text is one flat string each: the digits are written into a scratch buffer
// and sliced out in one allocation. A template literal would give V8 cons strings (two or
// three heap objects per prefix, ~80 B instead of ~32 B), and the RIB and FIB key their
// maps by these strings for the life of the route.
//
//  +---------------------------+
//  | Path Identifier (4, ADD-PATH only)
//  +---------------------------+
//  | Length (1 octet, bits)    |
//  +---------------------------+
//  | Prefix (ceil(Length/8))   |
//  +---------------------------+
import { Buffer } from 'node:buffer';
import { NotifCode, UpdateSubcode } from './constants.js';
import { BgpWireError, ErrorAction } from './errors.js';
import type { Nlri } from './types.js';
import { formatIpv6, type Family } from '../../net/prefix.js';
import { latin1Scratch } from '../../runtime/latin1.js';

const scratch6 = new Uint8Array(16);
/** Prefix text is assembled here (latin1, at most 43 octets: IPv6 text + "/128"). */
const text = latin1Scratch(64);

/** Writes the decimal digits of v (0–255) at `at`; returns the offset after them. */
function writeDecimal(v: number, at: number): number {
  if (v >= 100) {
    const h = (v / 100) | 0;
    text[at++] = 48 + h;
    v -= h * 100;
    text[at++] = 48 + ((v / 10) | 0);
    v %= 10;
  } else if (v >= 10) {
    const t = (v / 10) | 0;
    text[at++] = 48 + t;
    v -= t * 10;
  }
  text[at] = 48 + v;
  return at + 1;
}

function invalidNetwork(message: string, action: ErrorAction): BgpWireError {
  return new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.InvalidNetworkField, message, Buffer.alloc(0), action);
}

/**
 * Decodes the NLRI in buf[start, end). A length above 32/128 or octets past `end` throw
 * 3/10 Invalid Network Field (RFC 4271 §6.3) with `action`. Host bits are masked, so the
 * prefix is canonical.
 */
export function decodeNlri(buf: Buffer, start: number, end: number, family: Family, addPath: boolean, action: ErrorAction = ErrorAction.Reset): Nlri[] {
  const out: Nlri[] = [];
  const max = family === 'ipv4' ? 32 : 128;
  let off = start;
  while (off < end) {
    let pathId: number | undefined;
    if (addPath) {
      if (off + 4 > end) throw invalidNetwork('truncated path identifier', action);
      pathId = buf.readUInt32BE(off);
      off += 4;
    }
    if (off >= end) throw invalidNetwork('missing prefix length', action);
    const len = buf[off++] ?? 0;
    if (len > max) throw invalidNetwork(`prefix length ${len} > ${max}`, action);
    const n = (len + 7) >> 3;
    if (off + n > end) throw invalidNetwork('prefix runs past its field', action);
    const prefix = family === 'ipv4' ? ipv4Text(buf, off, len, n) : ipv6Text(buf, off, len, n);
    off += n;
    out.push(pathId === undefined ? { prefix } : { prefix, pathId });
  }
  return out;
}

function lastMask(len: number): number {
  const rest = len & 7;
  return rest === 0 ? 0xff : (0xff << (8 - rest)) & 0xff;
}

function ipv4Text(buf: Buffer, off: number, len: number, n: number): string {
  const m = lastMask(len);
  const b0 = n > 0 ? (buf[off] ?? 0) & (n === 1 ? m : 0xff) : 0;
  const b1 = n > 1 ? (buf[off + 1] ?? 0) & (n === 2 ? m : 0xff) : 0;
  const b2 = n > 2 ? (buf[off + 2] ?? 0) & (n === 3 ? m : 0xff) : 0;
  const b3 = n > 3 ? (buf[off + 3] ?? 0) & m : 0;
  let at = writeDecimal(b0, 0);
  text[at++] = 46; // .
  at = writeDecimal(b1, at);
  text[at++] = 46;
  at = writeDecimal(b2, at);
  text[at++] = 46;
  at = writeDecimal(b3, at);
  text[at++] = 47; // /
  at = writeDecimal(len, at);
  return text.latin1Slice(0, at);
}

function ipv6Text(buf: Buffer, off: number, len: number, n: number): string {
  scratch6.fill(0);
  for (let i = 0; i < n; i++) scratch6[i] = buf[off + i] ?? 0;
  if (n > 0) scratch6[n - 1] = (scratch6[n - 1] ?? 0) & lastMask(len);
  const addr = formatIpv6(scratch6);
  let at = text.write(addr, 0, 'latin1');
  text[at++] = 47; // /
  at = writeDecimal(len, at);
  return text.latin1Slice(0, at);
}

function encodeError(message: string): BgpWireError {
  return new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.Unspecific, `cannot encode: ${message}`);
}

/** The prefix length of canonical "addr/len" text, without allocating. */
export function prefixBits(prefix: string): number {
  const slash = prefix.lastIndexOf('/');
  let v = 0;
  for (let i = slash + 1; i < prefix.length; i++) {
    const d = prefix.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || slash < 0) throw encodeError(`bad prefix "${prefix}"`);
    v = v * 10 + d;
  }
  return v;
}

/** Octets `n` takes on the wire. */
export function nlriSize(n: Nlri, addPath: boolean): number {
  return prefixSize(n.prefix, addPath);
}

/** Octets a prefix given as text takes on the wire (with its path id under ADD-PATH). */
export function prefixSize(prefix: string, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((prefixBits(prefix) + 7) >> 3);
}

/** Writes one NLRI at `off`; returns the offset after it. The caller checked the room. */
export function writeNlri(out: Buffer, off: number, n: Nlri, family: Family, addPath: boolean): number {
  return writePrefix(out, off, n.prefix, n.pathId ?? 0, family, addPath);
}

/** writeNlri for a prefix and path id given apart (no NLRI object per prefix). */
export function writePrefix(out: Buffer, off: number, p: string, pathId: number, family: Family, addPath: boolean): number {
  if (addPath) {
    out.writeUInt32BE(pathId >>> 0, off);
    off += 4;
  }
  const len = prefixBits(p);
  const octets = (len + 7) >> 3;
  if (family === 'ipv4') {
    if (len > 32) throw encodeError(`"${p}" is not IPv4`);
    writeIpv4(out, off + 1, p, octets);
  } else {
    if (len > 128) throw encodeError(`"${p}" is not IPv6`);
    parseIpv6(p, p.lastIndexOf('/'));
    for (let i = 0; i < octets; i++) out[off + 1 + i] = scratch6[i] ?? 0;
  }
  out[off] = len;
  if (octets > 0) out[off + octets] = (out[off + octets] ?? 0) & lastMask(len);
  return off + 1 + octets;
}

function writeIpv4(out: Buffer, at: number, p: string, octets: number): void {
  let part = 0;
  let v = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 46 /* . */ || c === 47 /* / */) {
      if (v > 255 || part > 3) throw encodeError(`"${p}" is not IPv4`);
      if (part < octets) out[at + part] = v;
      part++;
      v = 0;
      if (c === 47) break;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9) throw encodeError(`"${p}" is not IPv4`);
      v = v * 10 + d;
    }
  }
  if (part !== 4) throw encodeError(`"${p}" is not IPv4`);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text in s[0, end) (hex groups with at most one "::") into `scratch6`. */
function parseIpv6(s: string, end: number): void {
  const words: number[] = [];
  let gap = -1;
  let v = 0;
  let digits = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) {
      if (i + 1 < end && s.charCodeAt(i + 1) === 58) {
        if (gap >= 0) throw encodeError(`"${s}" has two "::"`);
        if (digits > 0) words.push(v);
        gap = words.length;
        i++;
      } else if (digits > 0) words.push(v);
      else throw encodeError(`"${s}" is not IPv6`);
      v = 0;
      digits = 0;
      continue;
    }
    const d = hexDigit(c);
    if (d < 0 || ++digits > 4) throw encodeError(`"${s}" is not IPv6`);
    v = (v << 4) | d;
  }
  if (digits > 0) words.push(v);
  const total = words.length;
  if ((gap < 0 && total !== 8) || total > 8) throw encodeError(`"${s}" is not IPv6`);
  scratch6.fill(0);
  const tail = gap < 0 ? 0 : total - gap;
  for (let i = 0; i < total; i++) {
    const w = words[i] ?? 0;
    const slot = gap >= 0 && i >= gap ? 8 - tail + (i - gap) : i;
    scratch6[slot * 2] = w >> 8;
    scratch6[slot * 2 + 1] = w & 0xff;
  }
}

/** 16 octets of an IPv6 address given as text (next hops); throws BgpWireError. */
export function ipv6Bytes(address: string): Buffer {
  parseIpv6(address, address.length);
  return Buffer.from(scratch6);
}

/** 4 octets of a dotted quad (next hop, identifiers); throws BgpWireError. */
export function ipv4Bytes(address: string): Buffer {
  const out = Buffer.alloc(4);
  writeIpv4(out, 0, `${address}/`, 4);
  return out;
}
