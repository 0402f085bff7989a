// Route priority (calico-node v3.32): a route's kernel priority (metric, lower preferred) and
// its LOCAL_PREF (higher preferred) are one value, mapped as `2147483647 − x` both ways
// (confd's BirdIntMaxValue, 2^31−1). N, the family's normal route priority, comes from
// BGPConfiguration `default` ipv4NormalRoutePriority / ipv6NormalRoutePriority (default 1024).
//
// confd's export filter, before a peer's BGPFilters:
//   if (source = RTS_BGP && defined(bgp_local_pref)) krt_metric = 2147483647 − bgp_local_pref;
//   else { if (!defined(krt_metric)) krt_metric = N; bgp_local_pref = 2147483647 − krt_metric; }
// - A route learned over BGP keeps its LOCAL_PREF; BIRD gives every received route one (100
//   when it came without, or from eBGP, whose LOCAL_PREF is ignored: RFC 4271 §5.1.5).
// - Any other route: a kernel-learned route's krt_metric is the metric of the kernel route
//   BIRD's `learn` picked (the lowest), always defined: 0 for an IPv4 route the kernel dumps
//   without RTA_PRIORITY (metric 0; BIRD's netlink parser reads the missing attribute as 0).
//   Own blocks, service CIDRs (BIRD static routes) and connected subnets (`protocol direct`)
//   have none: N.
// calico_aggr then accepts a route inside an own block whose krt_metric is below N.
// BGPFilter `priority` p matches `bgp_local_pref = 2147483647 − p`; `setPriority` v sets
// `bgp_local_pref = 2147483647 − v`, on import and export alike.
// The arithmetic is BIRD's: 32-bit signed ints, attributes stored as unsigned 32-bit.
import type { Family } from '../net/prefix.js';

/** confd's BirdIntMaxValue (2^31 − 1). */
export const BIRD_INT_MAX = 2147483647;
/** Calico's default ipv4NormalRoutePriority / ipv6NormalRoutePriority (Felix's too). */
export const DEFAULT_NORMAL_ROUTE_PRIORITY = 1024;
/** BIRD's default_local_pref: the LOCAL_PREF of a BGP route that came without one. */
export const DEFAULT_LOCAL_PREF = 100;

/** BGPConfiguration `default` normal route priorities, as written (absent: the default). */
export interface NormalRoutePriority {
  readonly ipv4?: number;
  readonly ipv6?: number;
}

/** N for a family. */
export function normalPriority(n: NormalRoutePriority | undefined, family: Family): number {
  return n?.[family] ?? DEFAULT_NORMAL_ROUTE_PRIORITY;
}

/** `2147483647 − x` as BIRD computes it: x read as a signed 32-bit int, the result stored unsigned. */
export function invertPriority(x: number): number {
  return ((BIRD_INT_MAX - (x | 0)) | 0) >>> 0;
}

/** BIRD's `krt_metric < n` (both read as signed 32-bit ints). */
export function metricBelow(krtMetric: number, n: number): boolean {
  return (krtMetric | 0) < (n | 0);
}

/** A route's priority at the start of confd's export filter. */
export interface ExportPriority {
  readonly localPref: number;
  readonly krtMetric: number;
}

/**
 * `fromPeer`: learned over BGP, with its LOCAL_PREF as held (undefined: BIRD's 100).
 * Otherwise `krtMetric` is the kernel route's metric, undefined for a route that has none.
 */
export function exportPriority(fromPeer: boolean, localPref: number | undefined, krtMetric: number | undefined, n: number): ExportPriority {
  if (fromPeer) {
    const lp = localPref ?? DEFAULT_LOCAL_PREF;
    return { localPref: lp, krtMetric: invertPriority(lp) };
  }
  const m = krtMetric ?? n;
  return { localPref: invertPriority(m), krtMetric: m };
}
