// Path sources and paths.
//
// A path is one route to a prefix learned from one source (a BGP peer, or a local origin:
// own blocks, kernel-learned routes). The prefix is not stored in the path (the destination
// holds it), so Path has two fields: a shared PathKey (source, path id, stale mark: one pair
// per source and path id) and the shared interned AttrSet (memory: × routes × peers).
// Paths are shared too: `Path.of` returns one Path per (source, path id, attribute set),
// cached on the set, so a route costs no Path object of its own. A path is therefore never
// changed: the GR stale mark (RFC 4724 §4.2; it takes no part in selection, stale routes
// stay usable) is set by replacing the path, in its destination, with its stale twin
// (`withStale(true)`: same source, path id and attributes, the other key).
import { ipv4Num, type Family } from '../net/prefix.js';
import type { AttrSet } from './attr-set.js';

/** What the daemon registers once per established session. */
export interface PeerSourceInfo {
  readonly key: string;
  readonly address: string;
  readonly asn: number;
  /** The peer's BGP identifier (dotted quad). */
  readonly routerId: string;
  readonly ebgp: boolean;
  /** We reflect routes of this peer as from a client (RFC 4456). */
  readonly routeReflectorClient: boolean;
  /** Routes learned are of this family (the session's transport family). */
  readonly family?: Family;
  /** Occurrences of our AS tolerated in this peer's AS_PATHs (Calico numAllowedLocalASNumbers). */
  readonly allowOwnAs?: number;
}

export interface PeerSource extends PeerSourceInfo {
  readonly kind: 'peer';
  /** Small positive number, stable for the life of the RIB; used for ADD-PATH ids. */
  readonly index: number;
  /** Sortable form of `address` (RFC 4271 §9.1.2.2 g). */
  readonly addressKey: string;
  /** Numeric router id (RFC 4456 §9). */
  readonly routerIdNum: number;
  /** Paths currently held from this source. */
  pathCount: number;
}

/** Locally originated routes: own blocks (static blackholes), kernel-learned routes. */
export interface LocalSource {
  readonly kind: 'local';
  readonly key: string;
  readonly index: number;
  readonly address: '';
  readonly addressKey: '';
  readonly asn: number;
  readonly routerId: string;
  readonly routerIdNum: number;
  readonly ebgp: false;
  readonly routeReflectorClient: false;
  pathCount: number;
}

export type PathSource = PeerSource | LocalSource;

/** Source, path id and stale mark, shared by every path with the same three. */
class PathKey {
  /** The same key with the other stale mark. */
  twin!: PathKey;
  constructor(readonly source: PathSource, readonly pathId: number, readonly stale: boolean) {}
}

function keyPair(source: PathSource, pathId: number): PathKey {
  const fresh = new PathKey(source, pathId, false);
  const stale = new PathKey(source, pathId, true);
  fresh.twin = stale;
  stale.twin = fresh;
  return fresh;
}

/** Path ids below this are shared per source; larger ones (rare) get a key per path. */
const SHARED_IDS = 4096;
const keys = new WeakMap<PathSource, PathKey[]>();
let last: PathKey | null = null;

function keyOf(source: PathSource, pathId: number, stale: boolean): PathKey {
  let k = last;
  if (k === null || k.source !== source || k.pathId !== pathId) {
    if (pathId >= 0 && pathId < SHARED_IDS) {
      let list = keys.get(source);
      if (!list) keys.set(source, (list = []));
      k = list[pathId] ??= keyPair(source, pathId);
    } else k = keyPair(source, pathId);
    last = k.stale ? k.twin : k;
  }
  return k.stale === stale ? k : k.twin;
}

/** One number per (source, received path id): what the ADD-PATH ids are keyed and deduplicated by. */
export function sourcePathIdKey(source: PathSource, pathId: number): number {
  return source.index * 0x1_0000_0000 + pathId;
}

export class Path {
  private k: PathKey;
  /** The same path with the other stale mark, made on first use. */
  private t: Path | undefined = undefined;
  /** `[this]`, frozen, made on first use (paths are shared, so this list is too). */
  private one: readonly Path[] | undefined = undefined;

  constructor(
    source: PathSource,
    /** RFC 7911 path identifier as received (0 without ADD-PATH). */
    pathId: number,
    readonly attrs: AttrSet,
    /** RFC 4724 §4.2: kept after the session went down, until swept. */
    stale = false,
  ) {
    this.k = keyOf(source, pathId, stale);
  }

  /** The shared fresh path for (source, path id, attrs); does not retain `attrs`. */
  static of(source: PathSource, pathId: number, attrs: AttrSet): Path {
    if (pathId < 0 || pathId >= SHARED_IDS) return new Path(source, pathId, attrs);
    const k = keyOf(source, pathId, false);
    const c = attrs.paths;
    if (c === undefined) return (attrs.paths = new Path(source, pathId, attrs));
    if (c instanceof Path) {
      if (c.k === k) return c;
      const p = new Path(source, pathId, attrs);
      attrs.paths = new Map<object, Path>([[c.k, c], [k, p]]);
      return p;
    }
    let p = c.get(k);
    if (p === undefined) c.set(k, (p = new Path(source, pathId, attrs)));
    return p;
  }

  get source(): PathSource {
    return this.k.source;
  }

  /** RFC 7911 path identifier as received (0 without ADD-PATH). */
  get pathId(): number {
    return this.k.pathId;
  }

  /** A list of this path alone: the same frozen array every time (no array per route). */
  get alone(): readonly Path[] {
    return (this.one ??= Object.freeze([this]));
  }

  /** RFC 4724 §4.2: kept after the session went down, until swept. */
  get stale(): boolean {
    return this.k.stale;
  }

  /** This path, or its twin with the other stale mark (shared, like the path). */
  withStale(v: boolean): Path {
    if (this.k.stale === v) return this;
    let t = this.t;
    if (t === undefined) {
      t = new Path(this.k.source, this.k.pathId, this.attrs, v);
      t.k = this.k.twin;
      t.t = this;
      this.t = t;
    }
    return t;
  }
}


/** A string that sorts like the address: IPv4 as 8 hex digits, IPv6 as 32 hex digits. */
export function addressSortKey(address: string): string {
  if (!address.includes(':')) return ipv4Num(address).toString(16).padStart(8, '0');
  const [head = '', tail] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const last = t.length > 0 ? t : h;
  const lastWord = last[last.length - 1] ?? '';
  if (lastWord.includes('.')) {
    // embedded IPv4 (::ffff:1.2.3.4): two words
    const v4 = ipv4Num(lastWord);
    last.splice(last.length - 1, 1, (v4 >>> 16).toString(16), (v4 & 0xffff).toString(16));
  }
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((w) => w.padStart(4, '0')).join('');
}
