// What one peer was sent for one prefix (one attribute set, or one per ADD-PATH id: RFC 7911),
// and the NLRI the Adj-RIB-Out collects per attribute set for its next UPDATEs (RFC 4271 §4.3:
// one UPDATE carries the NLRI that share its path attributes).
import type { Nlri } from '../bgp/wire/types.js';
import type { AttrSet } from './attr-set.js';

/** Without ADD-PATH the set itself; with it, path id → set. */
export type Advertised = AttrSet | Map<number, AttrSet>;

/** The NLRI of `prefix` for this peer: with its path id under ADD-PATH. */
export function nlri(prefix: string, id: number, addPath: boolean): Nlri {
  return addPath ? { prefix, pathId: id } : { prefix };
}

/** Collects `n` under its attribute set (one UPDATE per set). */
export function addNlri(m: Map<AttrSet, Nlri[]>, set: AttrSet, n: Nlri): void {
  const l = m.get(set);
  if (l) l.push(n);
  else m.set(set, [n]);
}

/** Each (path id, set) advertised; 0 without ADD-PATH. */
export function forEachEntry(a: Advertised, fn: (id: number, s: AttrSet) => void): void {
  if (a instanceof Map) for (const [id, s] of a) fn(id, s);
  else fn(0, a);
}

/** Each set advertised. */
export function forEachSet(a: Advertised, fn: (s: AttrSet) => void): void {
  forEachEntry(a, (_id, s) => fn(s));
}
