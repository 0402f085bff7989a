// Learned-route bookkeeping of FibSync: which prefixes hold a kernel route tern did not write
// that BIRD's `learn` would import (status.ts isLearnable; with learnExtra also
// extraLearnable), and per learned prefix whether it leaves through a `*.cali` / `*.calico`
// device, whether it is an extra one, its interface (BIRD's `ifname`) and its metric (BIRD's
// `krt_metric`: that of the route `learn` picks, the lowest; an IPv4 route the kernel dumps
// without RTA_PRIORITY is read as metric 0, as BIRD reads it; a connected subnet, which BIRD
// has from `protocol direct`, has none).
// Invariant: a prefix tern writes (or holds as an own block) is never learned.
import type { ObservedTable } from './observed.js';
import type { InterfaceResolver } from './interfaces.js';
import type { Pool } from './route-shape.js';
import { extraLearnable, isLearnable } from './status.js';
import { routesOf, type RouteForm, type Slot } from './table.js';

/** BIRD's `ifname ~ "*.cali"` / `"*.calico"` (Calico's reject_tunnel_routes). */
const CALICO_TUNNEL_IFNAME = /\.cali(co)?$/;

export class LearnedRoutes {
  /** Learned prefixes. */
  readonly prefixes = new Set<string>();
  /** Learned prefixes whose route is on a `*.cali` / `*.calico` device. */
  private readonly tunnel = new Set<string>();
  /** Interface of each learned prefix's route (the lowest metric's first next hop's device; absent: none). */
  private readonly iface = new Map<string, string>();
  /** krt_metric of each learned prefix that has one. */
  private readonly metric = new Map<string, number>();
  /** Learned prefixes that are extraLearnable routes (outside pools, connected subnets). */
  private readonly extra = new Set<string>();
  /** Learn extraLearnable routes too (some BGPFilter export chain could accept them). */
  learnExtra = false;

  constructor(
    private readonly observed: ObservedTable,
    private readonly ifaces: InterfaceResolver,
    private readonly protocol: number,
  ) {}

  /**
   * Recomputes the learned state of `p` (slot `s`; `mine`: tern writes or owns it); true when
   * it changed.
   */
  update(p: string, s: Slot, mine: boolean, pools: readonly Pool[]): boolean {
    // one pass over the observed routes, no intermediate lists (it runs for every prefix of a tick)
    let present = false;
    let extra = false;
    let tunnel = true;
    let iface: string | undefined;
    let metric: number | undefined;
    if (!mine && s.obs) {
      const all = routesOf(s.obs);
      for (const r of all) {
        if (!isLearnable(p, r, this.protocol, pools)) continue;
        // BIRD's `learn` picks the route of the lowest metric: its interface and metric
        const m = r.metric ?? 0;
        if (metric === undefined || m < metric) { metric = m; iface = this.ifaces.ofRoute(r); }
        present = true;
        if (tunnel && !this.onTunnelDevice(r)) tunnel = false;
      }
      if (!present && this.learnExtra) {
        // a connected subnet (`protocol direct`, preference 240, no krt_metric) wins over
        // kernel routes (preference 10); among those, the lowest metric, as above
        let direct = false;
        for (const r of all) {
          const ifname = this.ifaces.ofRoute(r);
          const kind = extraLearnable(p, r, this.protocol, pools, ifname);
          if (kind === undefined || direct) continue;
          present = true;
          if (kind === 'direct') { direct = true; metric = undefined; iface = ifname; continue; }
          const m = r.metric ?? 0;
          if (metric === undefined || m < metric) { metric = m; iface = ifname; }
        }
        extra = present;
      }
    }
    if (!present && !this.prefixes.has(p)) return false; // the other marks exist only for learned prefixes
    tunnel = present && !extra && tunnel;
    if (present === this.prefixes.has(p) && tunnel === this.tunnel.has(p) && extra === this.extra.has(p)
      && iface === this.iface.get(p) && metric === this.metric.get(p)) return false;
    if (present) this.prefixes.add(p); else this.prefixes.delete(p);
    if (tunnel) this.tunnel.add(p); else this.tunnel.delete(p);
    if (extra) this.extra.add(p); else this.extra.delete(p);
    if (iface !== undefined) this.iface.set(p, iface); else this.iface.delete(p);
    if (metric !== undefined) this.metric.set(p, metric); else this.metric.delete(p);
    return true;
  }

  /** The learned route of `p` leaves through a `*.cali` / `*.calico` device. */
  onTunnel(p: string): boolean {
    return this.tunnel.has(p);
  }

  /** The learned route of `p` is an extraLearnable one. */
  isExtra(p: string): boolean {
    return this.extra.has(p);
  }

  /** The first next hop's device of the learned route of `p`; "" when none. */
  interfaceOf(p: string): string {
    return this.iface.get(p) ?? '';
  }

  /** BIRD's krt_metric of the learned route of `p`; undefined when it has none. */
  metricOf(p: string): number | undefined {
    return this.metric.get(p);
  }

  private onTunnelDevice(r: RouteForm): boolean {
    if (r.nextHops.length === 0) return false;
    for (const h of r.nextHops) {
      const name = h.dev ?? (h.ifindex !== undefined ? this.observed.link(h.ifindex)?.name : undefined);
      if (name === undefined || !CALICO_TUNNEL_IFNAME.test(name)) return false;
    }
    return true;
  }
}
