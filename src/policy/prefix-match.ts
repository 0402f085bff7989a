// Fast "is this prefix inside that CIDR" for export decisions, which run for every
// prefix × update group. IPv4 compares 32-bit numbers; IPv6 compares bytes.
import type { Family } from '../net/prefix.js';
import { parsePrefix, prefixContains } from '../net/prefix.js';
import type { ParsedPrefix } from '../net/prefix.js';
import { ipv4Num } from '../net/prefix.js';

export interface MatchPrefix {
  readonly text: string;
  readonly family: Family;
  readonly length: number;
  /** IPv4 network as an unsigned number. */
  readonly net: number;
  /** IPv6 only. */
  readonly parsed: ParsedPrefix | null;
}

/** Parses a canonical prefix string. */
export function matchPrefix(text: string): MatchPrefix {
  const slash = text.lastIndexOf('/');
  if (!text.includes(':')) {
    return { text, family: 'ipv4', length: Number(text.slice(slash + 1)), net: ipv4Num(text.slice(0, slash)), parsed: null };
  }
  const parsed = parsePrefix(text);
  return { text, family: 'ipv6', length: parsed.length, net: 0, parsed };
}

/**
 * True when `inner` equals or lies inside `outer`: net/prefix.ts prefixContains on values
 * parsed once, with IPv4 compared as numbers (this runs for every prefix × update group).
 */
export function inside(inner: MatchPrefix, outer: MatchPrefix): boolean {
  if (inner.family !== outer.family) return false;
  if (inner.family === 'ipv6') return prefixContains(outer.parsed!, inner.parsed!);
  if (inner.length < outer.length) return false;
  if (outer.length === 0) return true;
  const shift = 32 - outer.length;
  return inner.net >>> shift === outer.net >>> shift;
}

export function samePrefix(a: MatchPrefix, b: MatchPrefix): boolean {
  return a.family === b.family && a.length === b.length && inside(a, b);
}
