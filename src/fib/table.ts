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
// the first string stored for a prefix stays its key) to a shared Slot: one Map entry per
// prefix. A prefix whose slot becomes empty leaves the Map.
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
/**
 * Waiting in FibSync's dirty queue: set when the prefix is queued, cleared by the tick that
 * takes it off (so a prefix is queued once, and marking it costs no hash table of its own).
 * Every transition but that tick's keeps it; a slot with it set is never empty.
 */
export const DIRTY = 4;

/** One prefix's state; interned, so compare with ===. Treat as immutable. */
export interface Slot {
  readonly nh: NhList | null;
  readonly written: RouteForm | null;
  readonly obs: Observed;
  readonly flags: number;
  readonly key: string;
}

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

export class PrefixTable {
  private readonly map = new Map<string, SlotImpl>();
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
    return this.map.get(prefix) ?? this.empty;
  }

  get size(): number {
    return this.map.size;
  }

  /** Prefixes with any state, with their slots (the Map may be changed while iterating). */
  entries(): IterableIterator<[string, Slot]> {
    return this.map.entries();
  }

  /** Routes written and confirmed, routes adopted and not yet swept. */
  get writtenCount(): number { return this.counts.written; }
  get adoptedCount(): number { return this.counts.adopted; }

  // Mutators take the prefix's current slot when the caller has it (one Map lookup less; it
  // must be current) and return the new one.

  /** Stores `next` as the slot of `prefix`, whose slot is `cur`. */
  private put(prefix: string, cur: Slot, next: Slot): Slot {
    if (next === cur) return cur;
    this.counts.written += (next.written ? 1 : 0) - (cur.written ? 1 : 0);
    this.counts.adopted += (next.flags & ADOPTED ? 1 : 0) - (cur.flags & ADOPTED ? 1 : 0);
    if (next === this.empty) this.map.delete(prefix); else this.map.set(prefix, next as SlotImpl);
    return next;
  }

  /** Sets the BGP next hops, and the flags `set` with them (one store for both). */
  setNh(prefix: string, nh: NhList | null, cur: Slot = this.get(prefix), set = 0): Slot {
    const s = this.step(cur, NH, nh);
    return this.put(prefix, cur, set === 0 ? s : this.step(s, FLAGS, s.flags | set));
  }

  setObserved(prefix: string, routes: readonly RouteForm[], cur: Slot = this.get(prefix)): Slot {
    return this.put(prefix, cur, this.step(cur, OBS, this.observed(routes)));
  }

  setFlags(prefix: string, set: number, clear: number, cur: Slot = this.get(prefix)): Slot {
    return this.put(prefix, cur, this.step(cur, FLAGS, (cur.flags | set) & ~clear));
  }

  /**
   * Our write is confirmed: it is the route written, the prefix no longer adopted; with
   * `observed`, the prefix's observed routes become those in the same store.
   */
  confirm(prefix: string, written: RouteForm, installed: boolean, cur: Slot = this.get(prefix), observed: readonly RouteForm[] | null = null): Slot {
    const flags = (installed ? cur.flags | INSTALLED : cur.flags & ~INSTALLED) & ~ADOPTED;
    const s = observed === null ? cur : this.step(cur, OBS, this.observed(observed));
    return this.put(prefix, cur, this.step(this.step(s, WRITTEN, this.reintern(written)), FLAGS, flags));
  }

  /** Our route is gone (removed, or found missing): nothing written, nothing adopted. */
  release(prefix: string, cur: Slot = this.get(prefix)): Slot {
    return this.put(prefix, cur, this.step(this.step(cur, WRITTEN, null), FLAGS, cur.flags & ~ADOPTED));
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
   * Called by FibSync at the start of a tick, when it holds no interned value of its own
   * (true: compacted, so FibSync drops its WantCache, which holds interned forms).
   */
  maybeCompact(): boolean {
    if (this.slots.size + this.forms.size + this.nhLists.size + this.lists.size < this.compactAt) return false;
    this.compact();
    return true;
  }

  private compact(): void {
    const live = new Set<SlotImpl>(this.map.values());
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

/** The list routesOf gave for the last single form (a burst's routes share one form). */
let oneForm: RouteForm | null = null;
let oneList: readonly RouteForm[] = EMPTY_LIST;

/** The observed routes of a slot as a list (frozen; for a single form, shared while it repeats). */
export function routesOf(obs: Observed): readonly RouteForm[] {
  if (!obs) return EMPTY_LIST;
  if ('routes' in obs) return obs.routes;
  if (obs !== oneForm) {
    oneForm = obs;
    oneList = Object.freeze([obs]);
  }
  return oneList;
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
