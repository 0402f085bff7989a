// Per-prefix FIB status, its summary for `tern status`, and what counts as learned (pure).
import type { KernelRoute } from './kernel.js';
import { poolFor, type HopProblem, type Pool } from './route-shape.js';

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

/**
 * A kernel route tern reports as learned (if it did not write it): protocol bird, type
 * blackhole/unreachable/prohibit or a device route (no gateway), inside an enabled pool.
 */
export function isLearnable(r: KernelRoute, protocol: number, pools: readonly Pool[]): boolean {
  if (r.protocol !== protocol) return false;
  const device = r.type === 'unicast' && r.nextHops.length === 1 && r.nextHops[0]!.gateway === undefined;
  if (!device && r.type !== 'blackhole' && r.type !== 'unreachable' && r.type !== 'prohibit') return false;
  const pool = poolFor(r.prefix, pools);
  return pool !== undefined && !pool.disabled;
}
