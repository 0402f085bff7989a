// Route interfaces as BIRD's `ifname` gives them to filters (Calico BGPFilter `interface`
// rules), read from the observed kernel state:
// - a kernel route's interface is the device of its first next hop ("" for a route without
//   one: blackhole, unreachable, prohibit), as BIRD's krt imports it;
// - a BGP route's interface is the one its next hop is reached through (BIRD `gateway
//   recursive`): the device of the longest-matching main-table route to the next hop that
//   has one, tern's own routes left out (BIRD resolves through its IGP table: direct and
//   learned routes). Unreachable: "".
// Answers for next hops are cached; a change of a kernel route covering a cached next hop,
// of a link, or a reload of the table voids them and is reported so the caller re-filters.
import { bytesInPrefix, familyOf, formatPrefix, maskBytes, maxLength, parseAddress, parsePrefix } from '../net/prefix.js';
import type { Family } from '../net/prefix.js';
import type { ObservedTable } from './observed.js';
import type { RouteForm } from './table.js';

interface Cached {
  readonly family: Family;
  readonly bytes: Uint8Array;
  readonly iface: string;
}

export class InterfaceResolver {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly observed: ObservedTable, private readonly ownProtocol: number) {}

  /** The interface of a kernel route: its first next hop's device, "" when it has none. */
  ofRoute(r: Pick<RouteForm, 'nextHops'>): string {
    const h = r.nextHops[0];
    if (!h) return '';
    if (h.ifindex !== undefined) return this.observed.link(h.ifindex)?.name ?? h.dev ?? '';
    return h.dev ?? '';
  }

  /** The interface through which the kernel reaches `address`; "" when none is known. */
  toward(address: string): string {
    const hit = this.cache.get(address);
    if (hit) return hit.iface;
    let parsed: { family: Family; bytes: Uint8Array };
    try {
      parsed = parseAddress(address);
    } catch {
      return '';
    }
    const iface = this.lookup(parsed.family, parsed.bytes);
    this.cache.set(address, { ...parsed, iface });
    return iface;
  }

  private lookup(family: Family, bytes: Uint8Array): string {
    for (let len = maxLength(family); len >= 0; len--) {
      const prefix = formatPrefix(family, maskBytes(Uint8Array.from(bytes), len), len);
      for (const r of this.observed.at(prefix)) {
        if (r.protocol === this.ownProtocol || r.type !== 'unicast') continue;
        const iface = this.ofRoute(r);
        if (iface !== '') return iface;
      }
    }
    return '';
  }

  /**
   * A kernel route of `prefix` (not ours) came or went: cached next hops inside it are
   * resolved again on next use. True when one was.
   */
  routeChanged(prefix: string): boolean {
    if (this.cache.size === 0) return false;
    const p = parsePrefix(prefix);
    let hit = false;
    for (const [addr, c] of this.cache) {
      if (c.family === p.family && familyOf(addr) === p.family && bytesInPrefix(p, c.bytes)) {
        this.cache.delete(addr);
        hit = true;
      }
    }
    return hit;
  }

  /** Links changed or the table was reloaded: every answer is void. True when any was cached. */
  reset(): boolean {
    const had = this.cache.size > 0;
    this.cache.clear();
    return had;
  }
}
