// Addresses and prefixes as tern passes them around: canonical text.
//
// Invariants
// - A prefix string is canonical: host bits zero, IPv4 dotted quad, IPv6 in RFC 5952 form
//   (lower case, longest zero run compressed, no leading zeros), "/len" always present.
//   Two equal prefixes are therefore equal strings, and strings are Map keys everywhere
//   (RIB, FIB, Adj-RIB-Out).
// - User input (config, CLI) is validated through the `ip-address` package; wire bytes are
//   formatted by the fast paths below, which produce the same canonical form.
import { Address4, Address6 } from 'ip-address';

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
  const t = text.trim();
  if (t.includes('/')) throw new AddressError(`"${text}" is a prefix, expected an address`);
  if (!t.includes(':')) {
    if (!Address4.isValid(t) || !/^\d+\.\d+\.\d+\.\d+$/.test(t)) throw new AddressError(`"${text}" is not an IPv4 address`);
    return { family: 'ipv4', bytes: Uint8Array.from(new Address4(t).toArray()) };
  }
  if (!Address6.isValid(t)) throw new AddressError(`"${text}" is not an IPv6 address`);
  return { family: 'ipv6', bytes: pad16(new Address6(t).toByteArray().map((b) => b & 0xff)) };
}

function pad16(bytes: number[]): Uint8Array {
  const out = new Uint8Array(16);
  out.set(bytes.slice(-16), 16 - Math.min(16, bytes.length));
  return out;
}

/** Canonical text of an address; throws AddressError. */
export function canonicalAddress(text: string): string {
  const { family, bytes } = parseAddress(text);
  return formatAddress(family, bytes);
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

export function formatPrefix(family: Family, bytes: Uint8Array, length: number): string {
  return `${formatAddress(family, bytes)}/${length}`;
}

/** Canonical text of a prefix (host bits cleared); throws AddressError. */
export function canonicalPrefix(text: string): string {
  const p = parsePrefix(text);
  return formatPrefix(p.family, p.bytes, p.length);
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

export function ipv4ToNumber(address: string): number {
  const b = parseAddress(address).bytes;
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
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

