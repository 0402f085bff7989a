// What FibSync wants in the kernel for one prefix, decided once per distinct input.
//
// A route's kernel form depends on its prefix only through the family and the pool holding
// it; the rest is its next hops (an interned NhList) and the shape context of the tick
// (pools, connected routes, tunnel). So within one tick the answer for a (next hops, pool,
// family) triple is computed once and shared by every prefix with that triple: for 100 000
// routes from one peer, one shaping and one interned RouteForm. A WantCache answers for one
// shape context: FibSync keeps it from tick to tick while that context is the same (the same
// pools, node subnet, connected routes and tunnel link) and the table has not been compacted
// (it holds interned forms and next-hop lists), and makes a new one otherwise.
import { familyOf, parsePrefix, type Family } from '../net/prefix.js';
import { RT_TABLE_MAIN } from './netlink-codec.js';
import { blackholeFor, ipv4PoolIndex, METRIC, poolFor, shapeHops, type Pool, type ShapeContext } from './route-shape.js';
import { PROBLEM_CODE, type FibState } from './status.js';
import type { NhList, PrefixTable, RouteForm } from './table.js';

export type Want =
  | { readonly kind: 'route'; readonly form: RouteForm; readonly note?: string }
  | { readonly kind: 'blocked'; readonly state: FibState; readonly code: string; readonly error: string }
  | { readonly kind: 'none' };

export const WANT_NONE: Want = Object.freeze({ kind: 'none' });

export class WantCache {
  private readonly byHops = new Map<NhList, Want[]>();
  private readonly blackholes: Partial<Record<Family, Want>> = {};

  constructor(
    readonly ctx: ShapeContext,
    private readonly table: PrefixTable,
  ) {}

  /**
   * Whether this cache answers for a tick whose shape context has these parts too: the same
   * pools, node subnet and list of connected routes (by identity: their owners make new ones
   * on any change), and the same tunnel link. Protocol, table and path limit are FibSync's
   * own and never change. Takes the parts, so a tick builds no context while the cache serves.
   */
  serves(pools: ShapeContext['pools'], nodeSubnetV4: ShapeContext['nodeSubnetV4'], connected: ShapeContext['connected'], tunnel: ShapeContext['tunnel']): boolean {
    const c = this.ctx;
    const a = c.tunnel;
    return c.pools === pools && c.nodeSubnetV4 === nodeSubnetV4 && c.connected === connected
      && (a === undefined ? tunnel === undefined : tunnel !== undefined && a.name === tunnel.name && a.ifindex === tunnel.ifindex && a.up === tunnel.up);
  }

  /** The blackhole of an own block of this family. */
  blackhole(prefix: string): Want {
    const family = familyOf(prefix);
    let w = this.blackholes[family];
    if (!w) {
      w = Object.freeze({ kind: 'route', form: this.table.form(blackholeFor(prefix, this.ctx.protocol, RT_TABLE_MAIN)) });
      this.blackholes[family] = w;
    }
    return w;
  }

  /** The route for a BGP prefix with these next hops (`v4`: the prefix as parseIpv4Prefix's number, -1 when not IPv4). */
  route(prefix: string, v4: number, nh: NhList): Want {
    const pools = this.ctx.pools;
    let family: Family = 'ipv4';
    let pool: Pool | undefined;
    if (v4 >= 0) pool = pools[ipv4PoolIndex(v4, pools)];
    else {
      const p = parsePrefix(prefix);
      family = p.family;
      pool = poolFor(p, pools);
    }
    const at = pool ? 2 + pools.indexOf(pool) : family === 'ipv4' ? 0 : 1;
    let byPool = this.byHops.get(nh);
    if (!byPool) { byPool = []; this.byHops.set(nh, byPool); }
    let w = byPool[at];
    if (!w) {
      w = this.shape(family, pool, nh);
      byPool[at] = w;
    }
    return w;
  }

  private shape(family: Family, pool: Pool | undefined, nh: NhList): Want {
    const s = shapeHops(family, pool, nh.hops, this.ctx);
    if (s.kind === 'skip') return WANT_NONE;
    if (s.kind === 'unresolved') {
      const state: FibState = s.problem === 'unreachable' ? 'error' : 'pending';
      return Object.freeze({ kind: 'blocked', state, code: PROBLEM_CODE[s.problem], error: s.reason });
    }
    const form = this.table.form({
      family, table: RT_TABLE_MAIN, protocol: this.ctx.protocol, type: 'unicast', nextHops: s.nextHops,
      metric: METRIC[family],
    });
    if (s.dropped.length === 0) return Object.freeze({ kind: 'route', form });
    const note = `${s.dropped.length} next hop(s) left out: ${s.dropped.map((d) => d.nextHop).join(', ')}`;
    return Object.freeze({ kind: 'route', form, note });
  }
}
