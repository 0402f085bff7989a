// Interned path attribute sets.
//
// Thousands of routes share a handful of attribute combinations (one per advertising node
// in a Calico cluster), so a path holds a reference to one shared, frozen AttrSet instead of
// its own PathAttributes. Equal attributes intern to the same object: identity comparison
// is attribute equality, and the encoded bytes are computed once per set and per encoding
// variant (2- or 4-octet AS, RFC 6793) for every peer that receives it.
//
// Invariants
// - `attrs` never holds mpReach / mpUnreach; the next hop(s) of the route live in the set
//   (`attrs.nextHop` is the primary next hop, `nextHops` has one entry, or two for IPv6
//   global + link-local, RFC 2545). Calico nodes share few next hops, so this costs little.
// - A set is reference counted by its holders (Loc-RIB paths, Adj-RIB-Out entries, export
//   memos). When the count drops to zero it leaves the table; a later equal set is a new
//   object. Holders must pair every retain() with one release().
import type { EncodeOptions, PathAttributes, AsPathSegment, RawAttribute } from '../bgp/wire/types.js';
import { encodePathAttributes } from '../bgp/wire/index.js';
import type { Path } from './path.js';

export class AttrSet {
  /** Holders; managed by AttrSetTable. */
  refs = 0;
  private enc2: Buffer | undefined;
  private enc4: Buffer | undefined;
  /** The shared fresh Paths with this set, by key (src/rib/path.ts `Path.of`). */
  paths: Path | Map<object, Path> | undefined = undefined;

  constructor(
    readonly table: AttrSetTable,
    readonly key: string,
    /** Frozen; no mpReach/mpUnreach; nextHop is the primary next hop if any. */
    readonly attrs: PathAttributes,
    /** All next hops (global first, then IPv6 link-local), possibly empty. */
    readonly nextHops: readonly string[],
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs <= 0) this.table.drop(this);
  }

  /**
   * The encoded Path Attributes field for packUpdates, cached per 2-/4-octet AS variant
   * (RFC 6793). An IPv4 next hop is included as NEXT_HOP (RFC 4271 §5.1.3); an IPv6 one is
   * left out, the packer writes it into MP_REACH_NLRI (RFC 4760 §3) from `nextHops`.
   */
  encoded(opts: EncodeOptions): Buffer {
    if (opts.fourOctetAs) return (this.enc4 ??= encodePathAttributes(forEncoding(this.attrs), { fourOctetAs: true }));
    return (this.enc2 ??= encodePathAttributes(forEncoding(this.attrs), { fourOctetAs: false }));
  }
}

function forEncoding(a: PathAttributes): PathAttributes {
  if (a.nextHop === undefined || !a.nextHop.includes(':')) return a;
  const { nextHop: _nh, ...rest } = a;
  return rest;
}

export class AttrSetTable {
  private readonly sets = new Map<string, AttrSet>();

  /**
   * The shared set equal to `attrs` (mpReach/mpUnreach ignored). `nextHops` overrides the
   * next hop(s): pass the MP_REACH next hops for MP NLRI; by default `attrs.nextHop`.
   * The returned set is not retained: the caller retains it if it keeps it.
   */
  intern(attrs: PathAttributes, nextHops?: readonly string[]): AttrSet {
    const hops = nextHops ?? (attrs.nextHop !== undefined ? [attrs.nextHop] : []);
    const key = attrKey(attrs, hops);
    const found = this.sets.get(key);
    if (found) return found;
    const set = new AttrSet(this, key, freezeAttrs(attrs, hops[0]), Object.freeze([...hops]));
    this.sets.set(key, set);
    return set;
  }

  /** `set` is still the table's set for its attributes (intern would return it). */
  holds(set: AttrSet): boolean {
    return this.sets.get(set.key) === set;
  }

  /** Removes a set nobody holds any more (called by AttrSet.release). */
  drop(set: AttrSet): void {
    if (set.refs <= 0 && this.sets.get(set.key) === set) this.sets.delete(set.key);
  }

  /** Forgets sets that were interned but never retained. */
  prune(): number {
    let n = 0;
    for (const [k, s] of this.sets) if (s.refs <= 0) { this.sets.delete(k); n++; }
    return n;
  }

  get size(): number {
    return this.sets.size;
  }
}

function freezeAttrs(a: PathAttributes, nextHop: string | undefined): PathAttributes {
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  if (a.origin !== undefined) out.origin = a.origin;
  if (a.asPath !== undefined) out.asPath = Object.freeze(a.asPath.map((s) => Object.freeze({ type: s.type, asns: Object.freeze([...s.asns]) })));
  if (nextHop !== undefined) out.nextHop = nextHop;
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator !== undefined) out.aggregator = Object.freeze({ ...a.aggregator });
  if (a.communities !== undefined) out.communities = Object.freeze([...a.communities]);
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  if (a.clusterList !== undefined) out.clusterList = Object.freeze([...a.clusterList]);
  if (a.extendedCommunities !== undefined) out.extendedCommunities = Object.freeze([...a.extendedCommunities]);
  if (a.largeCommunities !== undefined) out.largeCommunities = Object.freeze(a.largeCommunities.map((l) => Object.freeze([l[0], l[1], l[2]] as const)));
  if (a.unknown !== undefined) out.unknown = Object.freeze([...a.unknown]);
  return Object.freeze(out);
}

/** Compact canonical key: one tagged field per present attribute, in type order. */
export function attrKey(a: PathAttributes, nextHops: readonly string[]): string {
  let k = a.origin === undefined ? '' : `o${a.origin}`;
  if (a.asPath !== undefined) k += `|a${segmentsKey(a.asPath)}`;
  if (nextHops.length > 0) k += `|n${nextHops.join(',')}`;
  if (a.med !== undefined) k += `|m${a.med}`;
  if (a.localPref !== undefined) k += `|l${a.localPref}`;
  if (a.atomicAggregate) k += '|A';
  if (a.aggregator !== undefined) k += `|g${a.aggregator.asn}:${a.aggregator.address}`;
  if (a.communities !== undefined) k += `|c${a.communities.join(',')}`;
  if (a.originatorId !== undefined) k += `|r${a.originatorId}`;
  if (a.clusterList !== undefined) k += `|C${a.clusterList.join(',')}`;
  if (a.extendedCommunities !== undefined) k += `|x${a.extendedCommunities.map((b) => b.toString('hex')).join(',')}`;
  if (a.largeCommunities !== undefined) k += `|L${a.largeCommunities.map((l) => l.join(':')).join(',')}`;
  if (a.unknown !== undefined) k += `|u${a.unknown.map(rawKey).join(',')}`;
  return k;
}

function segmentsKey(segs: readonly AsPathSegment[]): string {
  let k = '';
  for (const s of segs) k += `${s.type}:${s.asns.join(' ')};`;
  return k;
}

function rawKey(r: RawAttribute): string {
  return `${r.flags}:${r.type}:${r.value.toString('hex')}`;
}
