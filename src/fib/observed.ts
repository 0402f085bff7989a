// The FIB syncer's view of the kernel: main-table routes by prefix and the links, kept from
// one dump plus notifications. Pure bookkeeping, no I/O. The routes live in the shared
// PrefixTable (table.ts) as interned forms; connected routes, needed to resolve next hops,
// are also indexed apart (they are few, the table may hold a million routes).
//
// Kernel quirk handled here: IPv4 routes that go away because their device went down or was
// deleted are flushed without RTM_DELROUTE notifications (fib_sync_down_dev), so a link that
// is down or gone drops every observed route through it.
import type { KernelRoute, Link } from './kernel.js';
import { RtScope, RT_TABLE_MAIN } from './netlink-codec.js';
import type { ConnectedRoute } from './route-shape.js';
import { routesOf, type PrefixTable, type RouteForm, type Slot } from './table.js';

type RouteLike = Pick<KernelRoute, 'family' | 'table' | 'protocol' | 'type' | 'scope' | 'metric'> & { readonly nextHops: KernelRoute['nextHops'] | RouteForm['nextHops'] };

/** True when the interned form holds exactly this route (the fields formKey covers). */
function sameRoute(f: RouteForm, r: KernelRoute): boolean {
  if (f.family !== r.family || f.table !== r.table || f.protocol !== r.protocol || f.type !== r.type
    || f.scope !== r.scope || f.metric !== r.metric || f.nextHops.length !== r.nextHops.length) return false;
  for (let i = 0; i < f.nextHops.length; i++) {
    const a = f.nextHops[i]!;
    const b = r.nextHops[i]!;
    if (a.gateway !== b.gateway || a.ifindex !== b.ifindex || a.dev !== b.dev || a.onlink !== b.onlink || a.weight !== b.weight) return false;
  }
  return true;
}

/**
 * The same forwarding as what tern wrote: what the kernel reports for our own write differs
 * only in what tern does not set (scope) or the kernel does not report (dev; weight 1).
 */
function sameWrite(f: RouteForm, r: KernelRoute): boolean {
  if (f.family !== r.family || f.table !== r.table || f.protocol !== r.protocol || f.type !== r.type
    || f.metric !== r.metric || f.nextHops.length !== r.nextHops.length || f.scope !== undefined) return false;
  for (let i = 0; i < f.nextHops.length; i++) {
    const a = f.nextHops[i]!;
    const b = r.nextHops[i]!;
    if (a.gateway !== b.gateway || a.ifindex === undefined || a.ifindex !== b.ifindex || a.onlink !== b.onlink
      || (a.weight ?? 1) !== (b.weight ?? 1)) return false;
  }
  return true;
}

function indexIn(list: readonly RouteForm[], metric: number | undefined, protocol: number, replaced: boolean): number {
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (x.metric === metric && (replaced || x.protocol === protocol)) return i;
  }
  return -1;
}

export class ObservedTable {
  private readonly linksByIndex = new Map<number, Link>();
  /** Prefixes holding at least one connected route. */
  private readonly connectedPrefixes = new Set<string>();
  private connectedCache: ConnectedRoute[] | undefined;
  /** The prefix's slot after the last apply() (saves the caller a lookup). */
  lastSlot: Slot;

  constructor(private readonly table: PrefixTable, private readonly ownProtocol: number) {
    this.lastSlot = table.empty;
  }

  /** True when `r` is a connected (device, link-scope) route usable for next-hop resolution. */
  isConnected(prefix: string, r: RouteLike): boolean {
    if (r.table !== RT_TABLE_MAIN || r.type !== 'unicast' || r.protocol === this.ownProtocol) return false;
    if (r.nextHops.length !== 1) return false;
    const nh = r.nextHops[0]!;
    if (nh.gateway !== undefined || !nh.ifindex) return false;
    return r.family === 'ipv6' ? !prefix.startsWith('fe80:') : r.scope === RtScope.LINK;
  }

  /**
   * Applies a notification. Returns the form of the route added or removed, null when nothing
   * applied (another table; removal of an unknown route). The notification of our own write
   * (see sameWrite) leaves the form written in place, or stores `writing`, the form of a
   * write of ours still in flight, when it is that one.
   */
  apply(r: KernelRoute, present: boolean, replaced = false, writing?: RouteForm): RouteForm | null {
    if (r.table !== RT_TABLE_MAIN) return null;
    const s = this.table.get(r.prefix);
    this.lastSlot = s;
    const list = routesOf(s.obs);
    // IPv4 keys aliases by (prefix, tos, metric); a REPLACE took the place of the first one
    const idx = indexIn(list, r.metric, r.protocol, replaced);
    let form: RouteForm;
    if (present) {
      const old = idx >= 0 ? list[idx]! : undefined;
      if (old && (sameRoute(old, r) || (old.protocol === this.ownProtocol && sameWrite(old, r)))) form = old;
      else form = this.put(r.prefix, s, list, idx, writing && sameWrite(writing, r) ? writing : this.table.form(r));
    } else {
      if (idx < 0) return null;
      form = list[idx]!;
      this.remove(r.prefix, s, list, idx);
    }
    if (this.isConnected(r.prefix, r)) this.reindex(r.prefix);
    return form;
  }

  /**
   * Applies a write or delete of ours that the kernel confirmed (main table, own protocol);
   * returns the prefix's slot after it. A delete (also one answered ESRCH: nothing of it was
   * there) takes that route out of the view: it names the route (type, next hops;
   * netlink-codec.ts), so another route of ours there (one changed unseen) is still there.
   */
  applyOwn(prefix: string, form: RouteForm, present: boolean): Slot {
    const s = this.table.get(prefix);
    this.lastSlot = s;
    const list = routesOf(s.obs);
    const idx = indexIn(list, form.metric, form.protocol, false);
    if (present) {
      if (idx < 0 || list[idx] !== form) this.put(prefix, s, list, idx, form);
    } else if (idx >= 0 && list[idx]!.sig === form.sig) this.remove(prefix, s, list, idx);
    return this.lastSlot;
  }

  /**
   * The observed routes of slot `s` once a write of ours as `form` is confirmed (applyOwn's
   * present case, not stored: the caller stores them with the confirmation, one store for
   * both); null when they stay as they are.
   */
  withOwn(s: Slot, form: RouteForm): readonly RouteForm[] | null {
    const list = routesOf(s.obs);
    const idx = indexIn(list, form.metric, form.protocol, false);
    if (idx >= 0 && list[idx] === form) return null;
    if (list.length === 0 || (list.length === 1 && idx === 0)) return routesOf(form);
    const next = list.slice();
    if (idx >= 0) next[idx] = form; else next.push(form);
    return next;
  }

  private put(prefix: string, s: Slot, list: readonly RouteForm[], idx: number, form: RouteForm): RouteForm {
    if (list.length === 0 || (list.length === 1 && idx === 0)) this.lastSlot = this.table.setObserved(prefix, routesOf(form), s);
    else {
      const next = list.slice();
      if (idx >= 0) next[idx] = form; else next.push(form);
      this.lastSlot = this.table.setObserved(prefix, next, s);
    }
    return form;
  }

  private remove(prefix: string, s: Slot, list: readonly RouteForm[], idx: number): void {
    const next = list.slice();
    next.splice(idx, 1);
    this.lastSlot = this.table.setObserved(prefix, next, s);
  }

  replaceAll(routes: readonly KernelRoute[]): void {
    const byPrefix = new Map<string, RouteForm[]>();
    for (const r of routes) {
      if (r.table !== RT_TABLE_MAIN) continue;
      let list = byPrefix.get(r.prefix);
      if (!list) { list = []; byPrefix.set(r.prefix, list); }
      const idx = list.findIndex((x) => x.metric === r.metric && x.protocol === r.protocol);
      const form = this.table.form(r);
      if (idx >= 0) list[idx] = form; else list.push(form);
    }
    // prefixes already known keep their key string (shared with the RIB)
    for (const [p, s] of this.table.entries()) {
      const list = byPrefix.get(p);
      if (!list && !s.obs) continue;
      this.table.setObserved(p, list ?? []);
      byPrefix.delete(p);
    }
    for (const [p, list] of byPrefix) this.table.setObserved(p, list);
    this.connectedPrefixes.clear();
    for (const [p, s] of this.table.entries()) if (s.obs) this.reindex(p);
    this.connectedCache = undefined;
  }

  setLinks(links: readonly Link[]): void {
    this.linksByIndex.clear();
    for (const l of links) this.linksByIndex.set(l.ifindex, l);
    this.connectedCache = undefined;
  }

  /**
   * Applies a link notification; returns the prefixes whose observed routes were dropped
   * because the link is down or gone (IPv4 flushes those silently).
   */
  applyLink(l: Link, present: boolean): string[] {
    if (present) this.linksByIndex.set(l.ifindex, l); else this.linksByIndex.delete(l.ifindex);
    this.connectedCache = undefined;
    if (present && l.up) return [];
    const dropped: string[] = [];
    for (const [prefix, s] of this.table.entries()) {
      if (!s.obs) continue;
      const list = routesOf(s.obs);
      const keep = list.filter((r) => !r.nextHops.some((nh) => nh.ifindex === l.ifindex));
      if (keep.length === list.length) continue;
      dropped.push(prefix);
      this.table.setObserved(prefix, keep);
      if (this.connectedPrefixes.has(prefix)) this.reindex(prefix);
    }
    return dropped;
  }

  at(prefix: string): readonly RouteForm[] {
    return routesOf(this.table.get(prefix).obs);
  }

  /** Our route (own protocol) at this metric among a prefix's routes (`at`, or its slot's). */
  ours(routes: readonly RouteForm[], metric: number | undefined): RouteForm | undefined {
    for (let i = 0; i < routes.length; i++) { // indexed: for-of over a frozen list allocates an iterator per call
      const r = routes[i]!;
      if (r.protocol === this.ownProtocol && (metric === undefined || r.metric === metric)) return r;
    }
    return undefined;
  }

  /** A route of another protocol that holds the same (prefix, metric) slot. */
  alien(routes: readonly RouteForm[], metric: number | undefined): RouteForm | undefined {
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.protocol !== this.ownProtocol && r.metric === metric) return r;
    }
    return undefined;
  }

  /** Prefixes with at least one observed route. */
  *prefixes(): IterableIterator<string> {
    for (const [p, s] of this.table.entries()) if (s.obs) yield p;
  }

  link(ifindex: number): Link | undefined {
    return this.linksByIndex.get(ifindex);
  }

  linkByName(name: string): Link | undefined {
    for (const l of this.linksByIndex.values()) if (l.name === name) return l;
    return undefined;
  }

  connected(): ConnectedRoute[] {
    if (this.connectedCache) return this.connectedCache;
    const out: ConnectedRoute[] = [];
    for (const prefix of this.connectedPrefixes) {
      for (const r of this.at(prefix)) {
        if (!this.isConnected(prefix, r)) continue;
        const ifindex = r.nextHops[0]!.ifindex!;
        const link = this.linksByIndex.get(ifindex);
        if (link && !link.up) continue;
        out.push({ prefix, ifindex, dev: link?.name ?? `if${ifindex}` });
      }
    }
    this.connectedCache = out;
    return out;
  }

  private reindex(prefix: string): void {
    if (this.at(prefix).some((r) => this.isConnected(prefix, r))) this.connectedPrefixes.add(prefix);
    else this.connectedPrefixes.delete(prefix);
    this.connectedCache = undefined;
  }
}
