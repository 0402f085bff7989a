// The FIB syncer's per-prefix state, stored as flyweights (pure bookkeeping, no I/O).
//
// Per prefix FibSync needs: the BGP next hops wanted, the route tern wrote (and the kernel
// confirmed), the main-table routes observed, whether the prefix is installed and whether it
// was adopted at start. At 100 000 routes from one peer nearly every prefix has the same
// values, so every value is interned and shared:
// - `NhList`: a list of next-hop addresses as given to setRoute;
// - `RouteForm`: a kernel route without its prefix (what was written, or one observed route);
// - `Slot`: the combination of all of them for one prefix.
// The table is then one Map from the prefix string (the Loc-RIB's own string, not a copy:
// the first string stored for a prefix stays its key) to the prefix's Entry: a small integer
// indexing two paged arrays, its key and its current shared Slot (no object per prefix). A caller
// that has the Entry (FibSync's dirty set, a kernel write in flight) reads and changes the
// slot through it without looking the prefix up again. An Entry whose slot became empty stays
// until its holder drops it (drop(): FibSync, once nothing holds it); its number is then
// reused for another prefix, so a dropped Entry must not be kept.
//
// Interned values are immutable (frozen; slots only carry a cache of their transitions). The intern tables are compacted (maybeCompact) when
// they have grown to twice what was live at the last compaction: values no slot uses any more
// are forgotten. A forgotten route form may still be held by a pending kernel operation;
// handing it back (setWritten, setObserved) re-interns it by its key, so equal values stay
// one value wherever they are stored.
import type { Family } from '../net/prefix.js';
import type { KernelNextHop, KernelRoute, RouteType } from './kernel.js';
import { routeSignature } from './route-shape.js';

export interface NhList {
  readonly id: number;
  readonly key: string;
  readonly hops: readonly string[];
}

export interface RouteForm {
  readonly id: number;
  readonly key: string;
  readonly family: Family;
  readonly table: number;
  readonly protocol: number;
  readonly type: RouteType;
  readonly scope: number | undefined;
  readonly metric: number | undefined;
  readonly nextHops: readonly KernelNextHop[];
  /** routeSignature(): type, metric and the set of (gateway, ifindex, onlink). */
  readonly sig: string;
}

/** Observed routes of one prefix: none, one (the usual case), or several (metrics, protocols). */
export type Observed = RouteForm | ObsList | null;
export interface ObsList {
  readonly id: number;
  readonly key: string;
  readonly routes: readonly RouteForm[];
}

export const INSTALLED = 1;
/** A proto-bird route found at start, kept until the sweep. */
export const ADOPTED = 2;

/** One prefix's state; interned, so compare with ===. Treat as immutable. */
export interface Slot {
  readonly nh: NhList | null;
  readonly written: RouteForm | null;
  readonly obs: Observed;
  readonly flags: number;
  readonly key: string;
}

/** One prefix's place in the table (keyAt, slotAt). */
export type Entry = number;

/** A Slot with its transition cache: the slot that differs in one field, by field and value. */
interface SlotImpl extends Slot {
  next: [Map<NhList | null, SlotImpl>?, Map<RouteForm | null, SlotImpl>?, Map<Observed, SlotImpl>?, Map<number, SlotImpl>?];
}
const NH = 0;
const WRITTEN = 1;
const OBS = 2;
const FLAGS = 3;

const EMPTY_LIST: readonly RouteForm[] = Object.freeze([]);

function slotKey(nh: NhList | null, written: RouteForm | null, obs: Observed, flags: number): string {
  return `${nh ? nh.id : 0}.${written ? written.id : 0}.${obs ? obs.id : 0}.${flags}`;
}

function hopKey(nh: KernelNextHop): string {
  return `${nh.gateway ?? ''}@${nh.ifindex ?? ''}@${nh.dev ?? ''}@${nh.onlink ? 1 : 0}@${nh.weight ?? ''}`;
}

function formKey(r: Omit<KernelRoute, 'prefix'>): string {
  let k = `${r.family}|${r.table}|${r.protocol}|${r.type}|${r.scope ?? ''}|${r.metric ?? ''}`;
  for (const nh of r.nextHops) k += `|${hopKey(nh)}`;
  return k;
}

function freezeHop(nh: KernelNextHop): KernelNextHop {
  const h: KernelNextHop = { onlink: nh.onlink };
  if (nh.gateway !== undefined) h.gateway = nh.gateway;
  if (nh.ifindex !== undefined) h.ifindex = nh.ifindex;
  if (nh.dev !== undefined) h.dev = nh.dev;
  if (nh.weight !== undefined) h.weight = nh.weight;
  return Object.freeze(h);
}

const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

/**
 * An array indexed by Entry, in pages of 4096 values: growing never copies what is stored
 * (one array of a million grown by copying left tens of MiB of garbage at the peak).
 */
class Column<T> {
  private readonly pages: T[][] = [];
  get(i: number): T { return this.pages[i >> PAGE_BITS]![i & (PAGE - 1)]!; }
  set(i: number, v: T): void {
    const n = i >> PAGE_BITS;
    while (this.pages.length <= n) this.pages.push(new Array<T>(PAGE));
    this.pages[n]![i & (PAGE - 1)] = v;
  }
}

export class PrefixTable {
  private readonly map = new Map<string, Entry>();
  /** Per entry: the prefix (undefined: free) and its slot. */
  private readonly keys = new Column<string | undefined>();
  private readonly at = new Column<SlotImpl>();
  /** Entries ever made (the next new number). */
  private made = 0;
  /** Entries dropped, reused first. */
  private readonly free: Entry[] = [];
  private readonly slots = new Map<string, SlotImpl>();
  private readonly nhLists = new Map<string, NhList>();
  private readonly forms = new Map<string, RouteForm>();
  private readonly lists = new Map<string, ObsList>();
  private nextId = 1;
  private compactAt = 4096;
  private counts = { written: 0, adopted: 0 };
  readonly empty: Slot;

  constructor() {
    this.empty = this.internSlot(null, null, null, 0);
  }

  get(prefix: string): Slot {
    const e = this.map.get(prefix);
    return e === undefined ? this.empty : this.at.get(e);
  }

  /** The prefix's entry, if it has one. */
  find(prefix: string): Entry | undefined {
    return this.map.get(prefix);
  }

  /** The prefix's entry, made (with the empty slot) when it has none: one Map lookup. */
  entry(prefix: string): Entry {
    let e = this.map.get(prefix);
    if (e === undefined) {
      e = this.free.pop() ?? this.made++;
      this.keys.set(e, prefix);
      this.at.set(e, this.empty as SlotImpl);
      this.map.set(prefix, e);
    }
    return e;
  }

  keyAt(e: Entry): string {
    return this.keys.get(e)!;
  }

  slotAt(e: Entry): Slot {
    return this.at.get(e);
  }

  /** Removes an entry whose slot is empty; nothing may hold it any more (its number is reused). */
  drop(e: Entry): void {
    const key = this.keys.get(e);
    if (key === undefined || this.at.get(e) !== this.empty) return;
    this.map.delete(key);
    this.keys.set(e, undefined);
    this.free.push(e);
  }

  /** Entries in the table, empty ones included (the Map may be changed while iterating). */
  values(): IterableIterator<Entry> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }

  /** Prefixes with an entry, with their slots (the Map may be changed while iterating). */
  *entries(): IterableIterator<[string, Slot]> {
    for (const [k, e] of this.map) yield [k, this.at.get(e)];
  }

  /** Routes written and confirmed, routes adopted and not yet swept. */
  get writtenCount(): number { return this.counts.written; }
  get adoptedCount(): number { return this.counts.adopted; }

  // Mutators take the prefix's Entry when the caller has it (no Map lookup), else its string,
  // and return the new slot.

  /** The entry of `at`; -1 for a prefix without one. */
  private resolve(at: string | Entry): Entry {
    return typeof at === 'string' ? (this.map.get(at) ?? -1) : at;
  }

  private slotOf(e: Entry): Slot {
    return e < 0 ? this.empty : this.at.get(e);
  }

  /** Stores `next` as the slot of entry `e` (-1: `at` is a prefix without an entry yet). */
  private put(e: Entry, at: string | Entry, next: Slot): Slot {
    const cur = this.slotOf(e);
    if (next === cur) return cur;
    this.counts.written += (next.written ? 1 : 0) - (cur.written ? 1 : 0);
    this.counts.adopted += (next.flags & ADOPTED ? 1 : 0) - (cur.flags & ADOPTED ? 1 : 0);
    this.at.set(e < 0 ? this.entry(at as string) : e, next as SlotImpl);
    return next;
  }

  setNh(at: string | Entry, nh: NhList | null): Slot {
    const e = this.resolve(at);
    return this.put(e, at, this.step(this.slotOf(e), NH, nh));
  }

  setObserved(at: string | Entry, routes: readonly RouteForm[]): Slot {
    const e = this.resolve(at);
    return this.put(e, at, this.step(this.slotOf(e), OBS, this.observed(routes)));
  }

  setFlags(at: string | Entry, set: number, clear: number): Slot {
    const e = this.resolve(at);
    const cur = this.slotOf(e);
    return this.put(e, at, this.step(cur, FLAGS, (cur.flags | set) & ~clear));
  }

  /** Our write is confirmed: it is the route written, the prefix no longer adopted. */
  confirm(at: string | Entry, written: RouteForm, installed: boolean): Slot {
    const e = this.resolve(at);
    const cur = this.slotOf(e);
    const flags = (installed ? cur.flags | INSTALLED : cur.flags & ~INSTALLED) & ~ADOPTED;
    return this.put(e, at, this.step(this.step(cur, WRITTEN, this.reintern(written)), FLAGS, flags));
  }

  /** Our route is gone (removed, or found missing): nothing written, nothing adopted. */
  release(at: string | Entry): Slot {
    const e = this.resolve(at);
    const cur = this.slotOf(e);
    return this.put(e, at, this.step(this.step(cur, WRITTEN, null), FLAGS, cur.flags & ~ADOPTED));
  }

  // --- interning ----------------------------------------------------------------------

  nhList(hops: readonly string[]): NhList {
    const key = hops.length === 1 ? hops[0]! : hops.join(' ');
    let l = this.nhLists.get(key);
    if (!l) {
      l = Object.freeze({ id: this.nextId++, key, hops: Object.freeze([...hops]) });
      this.nhLists.set(key, l);
    }
    return l;
  }

  /** The interned form of a route (its prefix left out). */
  form(r: Omit<KernelRoute, 'prefix'>): RouteForm {
    const key = formKey(r);
    let f = this.forms.get(key);
    if (!f) {
      const nextHops = Object.freeze(r.nextHops.map(freezeHop));
      const sig = routeSignature({ type: r.type, nextHops, metric: r.metric });
      f = Object.freeze({
        id: this.nextId++, key, family: r.family, table: r.table, protocol: r.protocol, type: r.type,
        scope: r.scope, metric: r.metric, nextHops, sig,
      });
      this.forms.set(key, f);
    }
    return f;
  }

  private reintern(f: RouteForm): RouteForm {
    const cur = this.forms.get(f.key);
    if (cur) return cur;
    this.forms.set(f.key, f);
    return f;
  }

  private observed(routes: readonly RouteForm[]): Observed {
    if (routes.length === 0) return null;
    if (routes.length === 1) return this.reintern(routes[0]!);
    const forms = routes.map((f) => this.reintern(f));
    const key = forms.map((f) => f.id).join(',');
    let l = this.lists.get(key);
    if (!l) {
      l = Object.freeze({ id: this.nextId++, key, routes: Object.freeze(forms) });
      this.lists.set(key, l);
    }
    return l;
  }

  /** The slot that differs from `s` in one field only (cached per slot). */
  private step(s: Slot, field: 0 | 1 | 2 | 3, value: NhList | RouteForm | Observed | number | null): Slot {
    const cur = field === NH ? s.nh : field === WRITTEN ? s.written : field === OBS ? s.obs : s.flags;
    if (cur === value) return s;
    const impl = s as SlotImpl;
    const cache = (impl.next[field] ??= new Map()) as Map<typeof value, SlotImpl>;
    let n = cache.get(value);
    if (!n) {
      n = this.internSlot(
        field === NH ? value as NhList | null : s.nh,
        field === WRITTEN ? value as RouteForm | null : s.written,
        field === OBS ? value as Observed : s.obs,
        field === FLAGS ? value as number : s.flags,
      );
      cache.set(value, n);
    }
    return n;
  }

  private internSlot(nh: NhList | null, written: RouteForm | null, obs: Observed, flags: number): SlotImpl {
    const key = slotKey(nh, written, obs, flags);
    let s = this.slots.get(key);
    if (!s) {
      s = { nh, written, obs, flags, key, next: [] };
      this.slots.set(key, s);
    }
    return s;
  }

  /**
   * Forgets interned values no prefix uses, when the tables have doubled since last time.
   * Called by FibSync at the start of a tick, when it holds no interned value of its own.
   */
  maybeCompact(): void {
    if (this.slots.size + this.forms.size + this.nhLists.size + this.lists.size >= this.compactAt) this.compact();
  }

  private compact(): void {
    const live = new Set<SlotImpl>();
    for (const e of this.map.values()) live.add(this.at.get(e));
    live.add(this.empty as SlotImpl);
    this.slots.clear();
    this.nhLists.clear();
    this.forms.clear();
    this.lists.clear();
    for (const s of live) {
      s.next = []; // may lead to forgotten slots
      this.slots.set(s.key, s);
      if (s.nh) this.nhLists.set(s.nh.key, s.nh);
      if (s.written) this.forms.set(s.written.key, s.written);
      for (const f of routesOf(s.obs)) this.forms.set(f.key, f);
      if (s.obs && 'routes' in s.obs) this.lists.set(s.obs.key, s.obs);
    }
    this.compactAt = Math.max(4096, 2 * (this.slots.size + this.forms.size + this.nhLists.size + this.lists.size));
  }
}

/** The observed routes of a slot as a list. */
export function routesOf(obs: Observed): readonly RouteForm[] {
  if (!obs) return EMPTY_LIST;
  return 'routes' in obs ? obs.routes : [obs];
}

/** A kernel route for `prefix` with this form (scope left out when unset). */
export function routeOf(prefix: string, f: RouteForm): KernelRoute {
  const r: KernelRoute = {
    prefix, family: f.family, table: f.table, protocol: f.protocol, type: f.type,
    nextHops: f.nextHops.map((nh) => ({ ...nh })), metric: f.metric,
  };
  if (f.scope !== undefined) r.scope = f.scope;
  return r;
}
