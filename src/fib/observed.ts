// The FIB syncer's view of the kernel: main-table routes by prefix and the links, kept from
// one dump plus notifications. Pure bookkeeping, no I/O.
//
// Kernel quirk handled here: IPv4 routes that go away because their device went down or was
// deleted are flushed without RTM_DELROUTE notifications (fib_sync_down_dev), so a link that
// is down or gone drops every observed route through it.
import type { KernelRoute, Link } from './kernel.js';
import { RtScope, RT_TABLE_MAIN } from './netlink-codec.js';
import type { ConnectedRoute } from './route-shape.js';

export class ObservedTable {
  /** Main-table routes by prefix (a prefix may hold several: metrics, protocols). */
  private readonly routes = new Map<string, KernelRoute[]>();
  private readonly linksByIndex = new Map<number, Link>();
  private connectedCache: ConnectedRoute[] | undefined;

  constructor(private readonly ownProtocol: number) {}

  /** True when `r` is a connected (device, link-scope) route usable for next-hop resolution. */
  isConnected(r: KernelRoute): boolean {
    if (r.table !== RT_TABLE_MAIN || r.type !== 'unicast' || r.protocol === this.ownProtocol) return false;
    if (r.nextHops.length !== 1) return false;
    const nh = r.nextHops[0]!;
    if (nh.gateway !== undefined || !nh.ifindex) return false;
    return r.family === 'ipv6' ? !r.prefix.startsWith('fe80:') : r.scope === RtScope.LINK;
  }

  /** Applies a notification; returns the prefixes whose entries changed. */
  apply(r: KernelRoute, present: boolean, replaced = false): boolean {
    if (r.table !== RT_TABLE_MAIN) return false;
    const list = this.routes.get(r.prefix) ?? [];
    // IPv4 keys aliases by (prefix, tos, metric); a REPLACE took the place of the first one
    const idx = list.findIndex((x) => x.metric === r.metric && (replaced || x.protocol === r.protocol));
    if (present) {
      if (idx >= 0) list[idx] = r; else list.push(r);
      this.routes.set(r.prefix, list);
    } else {
      if (idx < 0) return false;
      list.splice(idx, 1);
      if (list.length === 0) this.routes.delete(r.prefix);
    }
    if (this.isConnected(r)) this.connectedCache = undefined;
    return true;
  }

  replaceAll(routes: readonly KernelRoute[]): void {
    this.routes.clear();
    this.connectedCache = undefined;
    for (const r of routes) this.apply(r, true);
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
    for (const [prefix, list] of this.routes) {
      const keep = list.filter((r) => !r.nextHops.some((nh) => nh.ifindex === l.ifindex));
      if (keep.length === list.length) continue;
      dropped.push(prefix);
      if (keep.length === 0) this.routes.delete(prefix); else this.routes.set(prefix, keep);
    }
    return dropped;
  }

  at(prefix: string): readonly KernelRoute[] {
    return this.routes.get(prefix) ?? [];
  }

  /** Our route (own protocol) at this prefix and metric. */
  ours(prefix: string, metric: number | undefined): KernelRoute | undefined {
    return this.at(prefix).find((r) => r.protocol === this.ownProtocol && (metric === undefined || r.metric === metric));
  }

  /** A route of another protocol that holds the same (prefix, metric) slot. */
  alien(prefix: string, metric: number | undefined): KernelRoute | undefined {
    return this.at(prefix).find((r) => r.protocol !== this.ownProtocol && r.metric === metric);
  }

  prefixes(): IterableIterator<string> {
    return this.routes.keys();
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
    for (const list of this.routes.values()) {
      for (const r of list) {
        if (!this.isConnected(r)) continue;
        const ifindex = r.nextHops[0]!.ifindex!;
        const link = this.linksByIndex.get(ifindex);
        if (link && !link.up) continue;
        out.push({ prefix: r.prefix, ifindex, dev: link?.name ?? `if${ifindex}` });
      }
    }
    this.connectedCache = out;
    return out;
  }
}
