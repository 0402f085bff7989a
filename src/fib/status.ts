// Per-prefix FIB status, its summary for `tern status`, and what counts as learned.
import type { KernelNextHop, KernelRoute } from './kernel.js';
import { poolFor, type HopProblem, type Pool } from './route-shape.js';
import { RtScope } from './netlink-codec.js';
import { INSTALLED, type PrefixTable, type Slot } from './table.js';

export type FibState = 'installed' | 'pending' | 'error';
export interface PrefixStatus { state: FibState; error?: string; code?: string }

/** Stable codes of the conditions FibSync reports besides kernel errors (ERR_FIB_NETLINK_*). */
export const PROBLEM_CODE: Record<HopProblem, string> = {
  'tunnel-missing': 'ERR_FIB_TUNNEL_MISSING',
  'tunnel-down': 'ERR_FIB_TUNNEL_DOWN',
  unreachable: 'ERR_FIB_NEXTHOP_UNREACHABLE',
};

/** One line per cause: "tunl0 missing (3 routes pending)", "CODE: message (n routes error; e.g. P)". */
export function summarizeErrors(statuses: ReadonlyMap<string, PrefixStatus>): string[] {
  const groups = new Map<string, { sample: PrefixStatus; prefix: string; n: number }>();
  for (const [prefix, s] of statuses) {
    if (s.state === 'installed' || !s.code) continue;
    const g = groups.get(s.code);
    if (g) g.n++; else groups.set(s.code, { sample: s, prefix, n: 1 });
  }
  return [...groups.entries()].map(([code, g]) => {
    const what = `${g.n} route${g.n === 1 ? '' : 's'} ${g.sample.state}`;
    if (code === PROBLEM_CODE['tunnel-missing'] || code === PROBLEM_CODE['tunnel-down']) return `${g.sample.error} (${what})`;
    return `${code}: ${g.sample.error} (${what}; e.g. ${g.prefix})`;
  });
}

/** Kernel route protocols BIRD's `learn` never imports: unspec, redirect, kernel (subnets). */
const NOT_LEARNED = new Set([0, 1, 2]);

/**
 * A kernel route tern reports as learned (if it did not write it), inside an IP pool
 * (disabled or not: `disabled` only stops allocation), as Calico's BIRD `learn` imports:
 * - an alien route, any protocol but unspec/redirect/kernel and tern's own, of any shape
 *   (e.g. Felix's `/32 dev caliX proto boot` for a pod whose address was borrowed from
 *   another node's block, or a `proto static` route);
 * - a route with tern's own protocol that tern did not write, of type blackhole,
 *   unreachable or prohibit, or a device route (an IPAM's blackhole, for example).
 * Export then decides (calico_aggr: nothing more specific than an own block leaves).
 */
export function isLearnable(
  prefix: string, r: Pick<KernelRoute, 'protocol' | 'type'> & { readonly nextHops: readonly KernelNextHop[] },
  protocol: number, pools: readonly Pool[],
): boolean {
  return learnableShape(r, protocol) && poolFor(prefix, pools) !== undefined;
}

/** A route BIRD's `learn` imports, wherever it lies (isLearnable without the pool). */
function learnableShape(r: Pick<KernelRoute, 'protocol' | 'type'> & { readonly nextHops: readonly KernelNextHop[] }, protocol: number): boolean {
  if (NOT_LEARNED.has(r.protocol)) return false;
  if (r.type !== 'unicast' && r.type !== 'blackhole' && r.type !== 'unreachable' && r.type !== 'prohibit') return false;
  if (r.protocol === protocol) {
    const device = r.type === 'unicast' && r.nextHops.length === 1 && r.nextHops[0]!.gateway === undefined;
    if (!device && r.type === 'unicast') return false;
  }
  return true;
}

/** Devices Calico's `protocol direct` leaves out (`interface -"cali*", -"kube-ipvs*", "*"`). */
const NOT_DIRECT_IFNAME = /^(cali|kube-ipvs)/;

/**
 * What calico-node's BIRD holds beyond isLearnable, learned only while some peer's BGPFilter
 * export chain could accept it (the caller decides that):
 * - 'kernel': an alien route BIRD's `learn` imports (same shapes as isLearnable) outside
 *   every pool;
 * - 'direct': a connected subnet (`proto kernel` device route, IPv4 scope link, IPv6 not
 *   link-local) on a device other than cali* / kube-ipvs*, as `protocol direct` provides it.
 * `iface` is the route's device name. undefined: neither.
 */
export function extraLearnable(
  prefix: string, r: Pick<KernelRoute, 'protocol' | 'type'> & { readonly scope?: number | undefined; readonly nextHops: readonly KernelNextHop[] },
  protocol: number, pools: readonly Pool[], iface: string,
): 'kernel' | 'direct' | undefined {
  if (r.protocol === 2) {
    if (r.type !== 'unicast' || r.nextHops.length !== 1 || r.nextHops[0]!.gateway !== undefined) return undefined;
    if (prefix.includes(':') ? prefix.toLowerCase().startsWith('fe80:') : r.scope !== RtScope.LINK) return undefined;
    return iface === '' || NOT_DIRECT_IFNAME.test(iface) ? undefined : 'direct';
  }
  if (poolFor(prefix, pools) !== undefined) return undefined; // isLearnable's
  return learnableShape(r, protocol) ? 'kernel' : undefined;
}

/**
 * Statuses of prefixes. A plain 'installed' is only the INSTALLED mark of the prefix's slot
 * (no entry: that is nearly every prefix); other statuses (pending, error, installed with a
 * note) are entries of a Map.
 */
export class StatusBook {
  private readonly others = new Map<string, PrefixStatus>();

  constructor(private readonly table: PrefixTable) {}

  get(p: string): PrefixStatus | undefined {
    return this.others.get(p) ?? (this.table.get(p).flags & INSTALLED ? { state: 'installed' } : undefined);
  }

  /** A status other than a plain 'installed' (`s`: the prefix's slot now, if at hand). */
  set(p: string, status: PrefixStatus, s: Slot = this.table.get(p)): void {
    this.others.set(p, status);
    this.table.setFlags(p, 0, INSTALLED, s);
  }

  clear(p: string, s: Slot = this.table.get(p)): void {
    if (this.others.size > 0) this.others.delete(p);
    this.table.setFlags(p, 0, INSTALLED, s);
  }

  /** After the slot was confirmed (INSTALLED set when `note` is absent): the note, if any. */
  installed(p: string, note: string | undefined): void {
    if (note) this.others.set(p, { state: 'installed', error: note });
    else if (this.others.size > 0) this.others.delete(p);
  }

  summary(): string[] {
    return summarizeErrors(this.others);
  }
}
