// Addresses and prefixes as tern passes them around: canonical text.
//
// Invariants
// - A prefix string is canonical: host bits zero, IPv4 dotted quad, IPv6 in RFC 5952 form
//   (lower case, longest zero run compressed, no leading zeros), "/len" always present.
//   Two equal prefixes are therefore equal strings, and strings are Map keys everywhere
//   (RIB, FIB, Adj-RIB-Out).
// - Text is parsed by hand-written fast paths for the plain forms (IPv4 dotted quad without
//   leading zeros; IPv6 of 1–4 hex digit groups with at most one "::"). Anything else (IPv6
//   with an embedded IPv4 or a zone, bad input) goes to the validating path through the
//   `ip-address` package, which decides and words the error. The fast paths accept only what
//   that path accepts, with the same bytes (test/net/prefix.test.ts checks both against each
//   other). Wire bytes are formatted by the formatters below, in the same canonical form.
// - canonicalPrefix/canonicalAddress return their argument itself when it is already
//   canonical, so a prefix string from the RIB is shared, not copied, by whoever keeps it.
import { createRequire } from 'node:module';

/** `ip-address`, evaluated on the first text the fast paths decline (a daemon's start usually has none). */
let ipAddress: typeof import('ip-address') | undefined;
function ipAddressPackage(): typeof import('ip-address') {
  // esbuild bundles require() as a module evaluated on first call; the ES module build has no require.
  return (ipAddress ??= (typeof require === 'function' ? require('ip-address') : createRequire(import.meta.url)('ip-address')) as typeof import('ip-address'));
}

export type Family = 'ipv4' | 'ipv6';

export interface ParsedPrefix {
  readonly family: Family;
  /** 4 or 16 bytes, host bits zero. */
  readonly bytes: Uint8Array;
  readonly length: number;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
  readonly code = 'ERR_BAD_ADDRESS';
}

export function familyOf(addressOrPrefix: string): Family {
  return addressOrPrefix.includes(':') ? 'ipv6' : 'ipv4';
}

/** True for an IPv6 link-local address (fe80::/10), in any text form tern keeps (canonical, lower case). */
export function isIpv6LinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

export function maxLength(family: Family): number {
  return family === 'ipv4' ? 32 : 128;
}

/** Formats 4 bytes at `offset` as a dotted quad. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Formats 16 bytes at `offset` in RFC 5952 form. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  // longest run of zero words, length >= 2, first one on ties (RFC 5952 §4.2)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return words.map((w) => w.toString(16)).join(':');
  const head = words.slice(0, bestStart).map((w) => w.toString(16)).join(':');
  const tail = words.slice(bestStart + bestLen).map((w) => w.toString(16)).join(':');
  return `${head}::${tail}`;
}

export function formatAddress(family: Family, bytes: Uint8Array, offset = 0): string {
  return family === 'ipv4' ? formatIpv4(bytes, offset) : formatIpv6(bytes, offset);
}

/** Parses an address (no prefix length) into bytes; throws AddressError. */
export function parseAddress(text: string): { family: Family; bytes: Uint8Array } {
  const fast = parseAddressFast(text, 0, text.length);
  return fast ?? parseAddressValidated(text);
}

/**
 * The validating path through `ip-address` (any form it accepts: embedded IPv4, zones,
 * surrounding blanks); parseAddress uses it when the fast path declines. Exported for tests.
 */
export function parseAddressValidated(text: string): { family: Family; bytes: Uint8Array } {
  const t = text.trim();
  if (t.includes('/')) throw new AddressError(`"${text}" is a prefix, expected an address`);
  const { Address4, Address6 } = ipAddressPackage();
  if (!t.includes(':')) {
    if (!Address4.isValid(t) || !/^\d+\.\d+\.\d+\.\d+$/.test(t)) throw new AddressError(`"${text}" is not an IPv4 address`);
    return { family: 'ipv4', bytes: Uint8Array.from(new Address4(t).toArray()) };
  }
  if (!Address6.isValid(t)) throw new AddressError(`"${text}" is not an IPv6 address`);
  return { family: 'ipv6', bytes: pad16(new Address6(t).toByteArray().map((b) => b & 0xff)) };
}

/**
 * IPv4 dotted quad in text[start, end) as an unsigned 32-bit number; -1 unless it is the plain
 * form (four decimal octets 0–255 without leading zeros, nothing else).
 */
export function ipv4Number(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) { // '.'
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * A plain IPv4 prefix "a.b.c.d/len" as one number, address × 64 + len (exact: below 2^38),
 * host bits cleared; -1 for anything else (IPv6, blanks, bad text). For hot paths that must
 * not allocate: `Math.floor(v / 64)` is the address, `v % 64` the length.
 */
export function parseIpv4Prefix(text: string): number {
  const slash = text.indexOf('/');
  if (slash < 0) return -1;
  const length = lengthValue(text, slash + 1, text.length);
  if (length < 0 || length > 32) return -1;
  const a = ipv4Number(text, 0, slash);
  if (a < 0) return -1;
  const masked = length === 0 ? 0 : (a & (0xffffffff << (32 - length))) >>> 0;
  return masked * 64 + length;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * IPv6 of hex groups in text[start, end) into 16 bytes; false unless it is the plain form:
 * 1–4 hex digits per group, 8 groups, or fewer with exactly one "::" standing for at least one.
 */
function ipv6Into(text: string, start: number, end: number, out: Uint8Array): boolean {
  const words: number[] = [];
  let gap = -1; // index in words where "::" stands
  let i = start;
  if (end - start >= 2 && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 58) { gap = 0; i += 2; }
  else if (i < end && text.charCodeAt(i) === 58) return false;
  while (i < end) {
    let w = 0;
    let n = 0;
    for (; i < end && n <= 4; i++, n++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      w = w * 16 + h;
    }
    if (n === 0 || n > 4) return false;
    words.push(w);
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false; // '.', '%', anything else: not plain
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = words.length;
      i++;
    } else if (i === end) {
      return false; // a single trailing ':'
    }
  }
  if (gap < 0 ? words.length !== 8 : words.length > 7) return false;
  out.fill(0);
  const tail = gap < 0 ? 0 : words.length - gap;
  for (let k = 0; k < words.length; k++) {
    const at = gap >= 0 && k >= gap ? 8 - tail + (k - gap) : k;
    out[2 * at] = (words[k]! >> 8) & 0xff;
    out[2 * at + 1] = words[k]! & 0xff;
  }
  return true;
}

/** The fast path of parseAddress over text[start, end); undefined when it declines. */
function parseAddressFast(text: string, start: number, end: number): { family: Family; bytes: Uint8Array } | undefined {
  const v4 = ipv4Number(text, start, end);
  if (v4 >= 0) return { family: 'ipv4', bytes: Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff) };
  const bytes = new Uint8Array(16);
  return ipv6Into(text, start, end, bytes) ? { family: 'ipv6', bytes } : undefined;
}

function pad16(bytes: number[]): Uint8Array {
  const out = new Uint8Array(16);
  out.set(bytes.slice(-16), 16 - Math.min(16, bytes.length));
  return out;
}

/** Canonical text of an address; throws AddressError. */
export function canonicalAddress(text: string): string {
  if (ipv4Number(text, 0, text.length) >= 0) return text; // the plain form is the canonical one
  const { family, bytes } = parseAddress(text);
  const out = formatAddress(family, bytes);
  return out === text ? text : out;
}

export function isAddress(text: string): boolean {
  try { parseAddress(text); return true; } catch { return false; }
}

/** Zeroes the bits past `length`, in place. */
export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return bytes;
}

/**
 * Parses "addr/len". By default host bits are cleared (10.0.0.5/24 → 10.0.0.0/24);
 * with `strict` they are an error.
 */
export function parsePrefix(text: string, opts: { strict?: boolean } = {}): ParsedPrefix {
  const fast = parsePrefixFast(text);
  if (fast) {
    if (opts.strict && fast.hostBits) throw new AddressError(`"${text}" has host bits set`);
    return fast.prefix;
  }
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) throw new AddressError(`"${text}" has no prefix length`);
  const lenText = t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new AddressError(`"${text}" has a bad prefix length`);
  const { family, bytes } = parseAddress(t.slice(0, slash));
  const length = Number(lenText);
  if (length > maxLength(family)) throw new AddressError(`"${text}": /${length} is longer than ${maxLength(family)} bits`);
  const masked = maskBytes(Uint8Array.from(bytes), length);
  if (opts.strict && masked.some((b, i) => b !== bytes[i])) throw new AddressError(`"${text}" has host bits set`);
  return { family, bytes: masked, length };
}

/** Length digits in text[start, end): 1–3 decimal digits (leading zeros allowed), else -1. */
function lengthValue(text: string, start: number, end: number): number {
  if (end <= start || end - start > 3) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The fast path of parsePrefix: plain "addr/len" without blanks. `hostBits` tells whether
 * masking changed the address; `canonical` whether the text is already canonical.
 */
function parsePrefixFast(text: string): { prefix: ParsedPrefix; hostBits: boolean; canonical: boolean } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const length = lengthValue(text, slash + 1, text.length);
  if (length < 0) return undefined;
  const leadingZero = text.length - slash > 2 && text.charCodeAt(slash + 1) === 48;
  const v4 = ipv4Number(text, 0, slash);
  if (v4 >= 0) {
    if (length > 32) return undefined; // the validating path words the error
    const masked = length === 0 ? 0 : (v4 & (0xffffffff << (32 - length))) >>> 0;
    const bytes = Uint8Array.of(masked >>> 24, (masked >>> 16) & 0xff, (masked >>> 8) & 0xff, masked & 0xff);
    return { prefix: { family: 'ipv4', bytes, length }, hostBits: masked !== v4, canonical: masked === v4 && !leadingZero };
  }
  const raw = new Uint8Array(16);
  if (!ipv6Into(text, 0, slash, raw) || length > 128) return undefined;
  const bytes = maskBytes(Uint8Array.from(raw), length);
  const hostBits = bytes.some((b, i) => b !== raw[i]);
  return {
    prefix: { family: 'ipv6', bytes, length }, hostBits,
    canonical: !hostBits && !leadingZero && formatIpv6(bytes) === text.slice(0, slash),
  };
}

export function formatPrefix(family: Family, bytes: Uint8Array, length: number): string {
  return `${formatAddress(family, bytes)}/${length}`;
}

/** Canonical text of a prefix (host bits cleared); throws AddressError. */
export function canonicalPrefix(text: string): string {
  const fast = parsePrefixFast(text);
  if (fast?.canonical) return text;
  const p = fast?.prefix ?? parsePrefix(text);
  const out = formatPrefix(p.family, p.bytes, p.length);
  return out === text ? text : out;
}

/** Canonical prefix of an address with a length, e.g. the subnet of "10.0.0.11/24". */
export function networkOf(addressWithLength: string): string {
  return canonicalPrefix(addressWithLength);
}

export function prefixLength(prefix: string): number {
  return Number(prefix.slice(prefix.lastIndexOf('/') + 1));
}

/** True when `bytes` (same family) lies inside `outer`. */
export function bytesInPrefix(outer: ParsedPrefix, bytes: Uint8Array): boolean {
  const full = outer.length >> 3;
  for (let i = 0; i < full; i++) if (outer.bytes[i] !== bytes[i]) return false;
  const rest = outer.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[full] ?? 0) & mask) === (outer.bytes[full] ?? 0);
}

/** True when `inner` (a prefix) lies inside or equals `outer`. */
export function prefixContains(outer: ParsedPrefix | string, inner: ParsedPrefix | string): boolean {
  const o = typeof outer === 'string' ? parsePrefix(outer) : outer;
  const i = typeof inner === 'string' ? parsePrefix(inner) : inner;
  return o.family === i.family && i.length >= o.length && bytesInPrefix(o, i.bytes);
}

/** True when the address lies inside the prefix. */
export function addressInPrefix(address: string, prefix: ParsedPrefix | string): boolean {
  const p = typeof prefix === 'string' ? parsePrefix(prefix) : prefix;
  const a = parseAddress(address);
  return a.family === p.family && bytesInPrefix(p, a.bytes);
}

/**
 * A canonical dotted quad (router ids, ORIGINATOR_ID, pool networks) as an unsigned 32-bit
 * number, without validation: the hot paths (best path, export prefix checks) get only
 * canonical text. Use ipv4Number() for text that may be anything.
 */
export function ipv4Num(a: string): number {
  let n = 0;
  let part = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) { n = n * 256 + part; part = 0; } else part = part * 10 + (c - 48);
  }
  return n * 256 + part;
}

export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Numeric comparison of two addresses of one family (for "lower address initiates"). */
export function compareAddresses(a: string, b: string): number {
  const x = parseAddress(a).bytes;
  const y = parseAddress(b).bytes;
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

