// Update groups: peers that would be sent identical UPDATEs share one export computation.
//
// Peers with the same export-relevant parameters (family, eBGP/iBGP, peer AS, RR-client
// flag, next-hop mode and local address, 4-octet AS, ADD-PATH, extended messages) form a
// group. Export runs once per group and prefix; its results are interned AttrSets, so the
// encoded attribute bytes (cached in the set) are shared by every member and every prefix
// with the same attributes (as BIRD's buckets).
//
// The one per-member rule, "never send a route back to the peer it came from", is applied
// by the member on the group's result (each Advert carries its source key).
//
// Before any export decision, `reach` reads only the sources of a prefix's selected paths
// (split horizon, reflection, the source peer; tunnel routes for a peer without a
// BGPFilter): a prefix that reaches no member, or only its own source, costs its members
// nothing unless they were sent it; in an iBGP group of a node that does not reflect, a new
// member's table walk visits only the prefixes of the sources that may reach it when they
// hold less than half the table (initialWalk).
import type { Family } from '../net/prefix.js';
import type { EncodeOptions, Nlri, PathAttributes } from '../bgp/wire/types.js';
import type { AttrSet, AttrSetTable } from './attr-set.js';
import type { LocRib, Selected } from './loc-rib.js';
import type { Path, PathSource } from './path.js';
import type { PathIdAllocator } from './path-ids.js';
import { GroupMessages } from './group-messages.js';
import {
  calicoRejectsInterface, calicoRejectsSource, exportDecision, exportAttributes, isAccepted, pathPriority, sourceMayExport, withLocalPref, withPriority,
  SOURCE_KERNEL_EXTRA,
} from '../policy/export.js';
import type { ExportContext, ExportPeer, PrefixVerdict } from '../policy/export.js';
import { firstMatch, type CompiledChain } from '../policy/bgp-filter.js';
import { applyOperations } from '../policy/filter-operations.js';
import { addCommunities, communitiesFor, type CommunityAdditions } from '../policy/communities.js';

/** BIRD's `ifname` of a path of `prefix` ("" when it has no interface), for BGPFilter interface rules. */
export type PathInterface = (prefix: string, path: Path) => string;

/** BIRD's `krt_metric` of a local path of `prefix` (a kernel-learned route's metric); undefined: none. */
export type PathMetric = (prefix: string, path: Path) => number | undefined;

/** One path as advertised: ADD-PATH id (0 without ADD-PATH), attributes, origin. */
export interface Advert {
  readonly id: number;
  readonly attrs: AttrSet;
  readonly sourceKey: string;
}

/** What the daemon knows about a peer for output: export parameters and negotiated options. */
export interface OutPeer extends ExportPeer {
  readonly fourOctetAs: boolean;
  /** RFC 7911: we negotiated to SEND path ids for the family. */
  readonly addPath: boolean;
  readonly extendedMessage?: boolean;
  /** The peer's BGPFilter export chain (explicit peers only), run before Calico's rules. */
  readonly exportFilter?: CompiledChain;
}

export function groupKey(p: OutPeer): string {
  return [p.family, p.ebgp ? 'e' : 'i', p.peerAs, p.routeReflectorClient ? 'rr' : '-', p.nextHopMode, p.localAddress ?? '',
    p.fourOctetAs ? 4 : 2, p.addPath ? 'ap' : '-', p.extendedMessage ? 'x' : '-', p.exportFilter?.id ?? ''].join('|');
}

/**
 * Which members the selected paths of a prefix may reach by the source rules alone
 * (UpdateGroup.reach): none, every member but one source peer (the key), or every member.
 */
export type Reach = null | string | typeof EVERY;
export const EVERY: unique symbol = Symbol('every member');

const MEMO_LIMIT = 65_536;
const NOTHING: readonly Advert[] = Object.freeze([]);

export class UpdateGroup {
  readonly key: string;
  readonly family: Family;
  readonly opts: EncodeOptions;
  /** Export template: the key is empty so the group never matches a source peer. */
  private readonly template: ExportPeer;
  private readonly cache = new Map<string, readonly Advert[]>();
  private readonly memo = new Map<AttrSet, [PathSource, AttrSet | null][]>();
  /** The same for sets changed by a BGPFilter Accept's operations. */
  private readonly memoChanged = new Map<AttrSet, [PathSource, AttrSet | null][]>();
  /**
   * A set and a change of it (community additions of apply_communities, "c…"; a BGPFilter
   * Accept's operations, "o…") → the changed set.
   */
  private readonly derivedSets = new Map<AttrSet, Map<string, AttrSet>>();
  private memoSize = 0;
  private computed = 0;
  /** Members in the group; with one, per-prefix results are not worth caching. */
  members = 0;
  private readonly busy = new Set<object>();
  /** The encoded messages the members share (group-messages.ts). */
  private readonly messages: GroupMessages;

  constructor(
    readonly peer: OutPeer,
    private ctx: ExportContext,
    private readonly rib: LocRib,
    private readonly attrSets: AttrSetTable,
    private readonly ids: PathIdAllocator,
    private readonly interfaceOf: PathInterface = () => '',
    private readonly metricOf: PathMetric = () => undefined,
  ) {
    this.key = groupKey(peer);
    this.family = peer.family;
    this.template = { ...peer, key: '' };
    this.opts = {
      fourOctetAs: peer.fourOctetAs,
      ...(peer.addPath ? { addPath: new Set<Family>([peer.family]) } : {}),
      ...(peer.extendedMessage ? { extendedMessage: true } : {}),
    };
    this.messages = new GroupMessages(this.family, this.opts);
  }

  /** What the group advertises for `prefix` now (best first; several only with ADD-PATH). */
  desired(prefix: string): readonly Advert[] {
    if (this.members <= 1) return this.compute(prefix);
    let d = this.cache.get(prefix);
    if (d === undefined) {
      d = this.compute(prefix);
      this.cache.set(prefix, d);
    }
    return d;
  }

  /**
   * Which members may be sent anything of a prefix whose selection is `best` / `multipath`,
   * by the rules that read only each path's source (sourceMayExport, never back to the
   * source peer): null when no member can, so nothing needs deciding for a member that
   * holds nothing of the prefix. In a full iBGP mesh that is every route learned from the
   * mesh: one look at its source, not an export decision per member and route.
   */
  reach(best: Path | null, multipath: readonly Path[]): Reach {
    if (best === null) return null;
    if (!this.peer.addPath || multipath.length <= 1) return this.reachOf(best.source);
    let r: Reach = null;
    for (const p of multipath) {
      const one = this.reachOf(p.source);
      if (one === null || one === r) continue;
      if (one === EVERY || r !== null) return EVERY;
      r = one;
    }
    return r;
  }

  /**
   * The walk of a new member's initial table. For an iBGP group of a node that does not
   * reflect, when the sources that may reach the member (by the same rules as reach, and not
   * the member itself) hold less than half the table, only their prefixes are visited: in a
   * full iBGP mesh, the node's own routes instead of every route learned from the mesh, which
   * no member may be sent. Otherwise the whole table. (eBGP groups and reflectors' groups
   * may be sent most of the table: they walk it all, without a look at every source per
   * member, which a reflector with thousands of clients would pay quadratically.)
   */
  initialWalk(memberKey: string): Iterator<[string, Selected]> {
    const all = this.rib.selections(this.family);
    if (this.peer.ebgp || this.ctx.clusterId !== undefined) return all;
    const half = this.rib.size(this.family) / 2;
    const sources: PathSource[] = [];
    let paths = 0;
    for (const src of this.rib.allSources()) {
      if (src.pathCount === 0) continue;
      const r = this.reachOf(src);
      if (r === null || r === memberKey) continue;
      sources.push(src);
      if ((paths += src.pathCount) >= half) return all;
    }
    return this.rib.selectionsOf(sources, this.family);
  }

  private reachOf(src: PathSource): Reach {
    if (!sourceMayExport(this.ctx, src, this.peer)) return null;
    if (!this.peer.exportFilter && calicoRejectsSource(src, this.peer)) return null; // only an Accept sends it
    return src.kind === 'peer' ? src.key : EVERY;
  }

  /** The UPDATE(s) announcing `list` with `set`, encoded once for the whole group while the same list repeats (never modified). */
  pack(set: AttrSet, list: readonly Nlri[]): Buffer[] {
    return this.messages.pack(set, list, this.members > 1);
  }

  /** One member's batch as few Buffers as possible, shared with the members before it (group-messages.ts). */
  joinBatch(parts: readonly Buffer[]): Buffer[] {
    return this.messages.joinBatch(parts, this.members > 1);
  }

  /** Forgets the cached result for a changed prefix. */
  invalidate(prefix: string): void {
    if (this.cache.size > 0) this.cache.delete(prefix);
  }

  /** Forgets every cached result (the routes' interfaces changed). */
  invalidateAll(): void {
    this.cache.clear();
  }

  /**
   * Members with work left (pending prefixes, a table walk, queued bytes). When the last
   * one becomes idle the per-prefix cache is dropped: it only serves members catching up.
   */
  setBusy(member: object, busy: boolean): void {
    if (busy) this.busy.add(member);
    else if (this.busy.delete(member) && this.busy.size === 0) {
      this.cache.clear();
      this.messages.idle();
    }
  }

  /** Export decisions made (compute runs) since the group was created (status / tests). */
  get decisions(): number {
    return this.computed;
  }

  get cachedPrefixes(): number {
    return this.cache.size;
  }

  /** New pools / blocks / addresses: every cached result and memo is void. */
  setContext(ctx: ExportContext): void {
    this.ctx = ctx;
    this.cache.clear();
    this.clearMemo();
  }

  dispose(): void {
    this.messages.clear();
    this.cache.clear();
    this.clearMemo();
  }

  /**
   * The export filter as confd writes it: the route priority step (LOCAL_PREF and krt_metric,
   * policy/priority.ts), the peer's BGPFilter chain (first matching rule: Accept exports as
   * is, Reject drops), else calico_export_to_bgp_peers (prefix verdict with calico_aggr's
   * krt_metric exception, communities from prefixAdvertisements), else reject. Protocol rules
   * apply either way. Paths of SOURCE_KERNEL_EXTRA leave only by an explicit Accept of the chain.
   */
  private compute(prefix: string): readonly Advert[] {
    this.computed++;
    const sel = this.rib.selection(prefix);
    if (!sel?.best || this.reach(sel.best, sel.multipath) === null) return NOTHING;
    const best = sel.best;
    const multipath = sel.multipath;
    const filter = this.peer.exportFilter;
    let verdict: PrefixVerdict | undefined;
    if (!filter) {
      verdict = exportDecision(this.ctx, prefix);
      if (!isAccepted(verdict) && verdict !== 'moreSpecificOfOwnBlock') return []; // no krt_metric lets it out
    }
    const paths = this.peer.addPath ? multipath : [best];
    const out: Advert[] = [];
    let adds: CommunityAdditions | null | undefined;
    for (const p of paths) {
      const prio = pathPriority(this.ctx, prefix, { source: p.source, attrs: p.attrs, ...this.krtMetricOf(prefix, p) });
      // the route as the filter holds it: a local route takes the LOCAL_PREF of its priority
      // (a BGP route keeps its own, 100 when it has none, which exportAttributes also sends)
      const held = p.source.kind === 'peer' || p.attrs.attrs.localPref === prio.localPref
        ? p.attrs
        : this.derived(p.attrs, `l${prio.localPref}`, (a) => withLocalPref(a, prio.localPref));
      const rule = filter
        ? firstMatch(filter, { prefix, attrs: held.attrs, fromPeer: p.source.kind === 'peer', iface: filter.usesInterface ? this.interfaceOf(prefix, p) : '' })
        : undefined;
      const byFilter = rule?.action;
      if (byFilter === 'reject') continue;
      if (byFilter === undefined) {
        if (p.source.key === SOURCE_KERNEL_EXTRA) continue; // only an explicit Accept exports it
        if (calicoRejectsSource(p.source, this.peer)) continue; // reject_tunnel_routes: skipped by an Accept
        if (p.source.kind === 'local' && calicoRejectsInterface(this.interfaceOf(prefix, p))) continue; // reject_local_routes
        verdict ??= exportDecision(this.ctx, prefix);
        if (!isAccepted(withPriority(this.ctx, prefix, verdict, prio.krtMetric))) continue;
      }
      let attrs = this.exported(held, p.source, false);
      if (!attrs) continue;
      if (rule?.operations) {
        // An Accept's operations change the route as held, before the protocol's own changes;
        // the RFC 1997 communities were checked on the route as held (BIRD's preexport).
        const changed = this.derived(held, `o${rule.operationsKey}`, (a) => applyOperations(a, rule.operations!));
        attrs = this.exported(changed, p.source, true);
        if (!attrs) continue;
      }
      if (byFilter === undefined) {
        adds ??= this.ctx.prefixCommunities?.length ? communitiesFor(this.ctx.prefixCommunities, prefix) : null;
        if (adds) attrs = this.derived(attrs, `c${adds.key}`, (a) => addCommunities(a, adds!));
      }
      out.push({ id: this.peer.addPath ? this.ids.idFor(p) : 0, attrs, sourceKey: p.source.key });
    }
    return out;
  }

  /** A local path's kernel metric, as ExportablePath carries it. */
  private krtMetricOf(prefix: string, p: Path): { krtMetric?: number } {
    if (p.source.kind !== 'local') return {};
    const m = this.metricOf(prefix, p);
    return m === undefined ? {} : { krtMetric: m };
  }

  /** `set` changed by `change` (community additions, a filter's operations), memoized by `key`. */
  private derived(set: AttrSet, key: string, change: (a: PathAttributes) => PathAttributes): AttrSet {
    let m = this.derivedSets.get(set);
    const hit = m?.get(key);
    if (hit) return hit;
    const out = this.attrSets.intern(change(set.attrs), set.nextHops).retain();
    if (!m) { m = new Map(); this.derivedSets.set(set.retain(), m); }
    m.set(key, out);
    this.memoSize++;
    return out;
  }

  /**
   * exportAttributes memoized by (source attribute set, source); `changed`: a set made by a
   * BGPFilter's operations, whose RFC 1997 communities are not checked again.
   */
  private exported(attrs: AttrSet, source: PathSource, changed: boolean): AttrSet | null {
    const memo = changed ? this.memoChanged : this.memo;
    let list = memo.get(attrs);
    const hit = list?.find(([s]) => s === source);
    if (hit) return hit[1];
    const r = exportAttributes(this.ctx, { source, attrs }, this.template, changed);
    const set = 'attrs' in r ? this.attrSets.intern(r.attrs).retain() : null;
    if (this.memoSize >= MEMO_LIMIT) {
      this.clearMemo();
      list = undefined; // released with the rest: the entry starts a new list
    }
    if (!list) { list = []; memo.set(attrs.retain(), list); }
    list.push([source, set]);
    this.memoSize++;
    return set;
  }

  private clearMemo(): void {
    for (const memo of [this.memo, this.memoChanged]) {
      for (const [src, list] of memo) {
        src.release();
        for (const [, set] of list) set?.release();
      }
      memo.clear();
    }
    this.memoSize = 0;
    for (const [src, m] of this.derivedSets) {
      src.release();
      for (const set of m.values()) set.release();
    }
    this.derivedSets.clear();
  }
}
