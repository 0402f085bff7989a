// Adj-RIB-Out manager: every peer's AdjRibOut (adj-rib-out.ts), grouped into update groups
// (update-group.ts), fed by the Loc-RIB's best-path changes.
//
// Invariants: a peer belongs to exactly one group, keyed by what its export depends on
// (groupKey); a Loc-RIB change invalidates the prefix in every group and marks it pending
// in every member it concerns: one that its selected paths' sources may reach
// (UpdateGroup.reach), or one that holds the prefix as sent; the others are not touched
// (in a full iBGP mesh a route learned from the mesh concerns no member); a new export context re-evaluates only the prefixes whose verdict may
// change (changedScope); hold() keeps every member silent during a selection deferral
// (RFC 4724 §4.1).
import { familyOf, type Family } from '../net/prefix.js';
import type { LocRib, BestChange } from './loc-rib.js';
import { UpdateGroup, groupKey } from './update-group.js';
import { PathIdAllocator } from './path-ids.js';
import type { OutPeer, PathInterface, PathMetric } from './update-group.js';
import { changedScope, inScope, type ExportContext } from '../policy/export.js';
import type { Logger } from '../util/log.js';
import { AdjRibOut, DEFAULT_BATCH, type PeerSink } from './adj-rib-out.js';
import { RibError } from './loc-rib.js';

/**
 * A flush of at most this many changes looks a gone prefix up in each member as it arrives,
 * so only the members that were sent it are pumped: in a K=50 full mesh a withdrawal from
 * the mesh had every node pump all 49 members for nothing, much of the extra CPU a withdrawal
 * cost over a re-announcement (perf of the churn bench, docs/benchmarks.md, round 2 changes).
 * A larger flush looks each up when the member takes it, next to the diff that removes it:
 * looked up as they arrive, a 1 M peer-down's flush took 2.0–2.4 s against 1.6–1.9 s
 * (bench/peer-down.ts --adj-rib-out).
 */
export const LOOKUP_AT_ONCE_MAX = 256;

/**
 * Every peer's Adj-RIB-Out, grouped into update groups, fed by the Loc-RIB's best-path
 * changes. The daemon calls addPeer on session up, removePeer on session down,
 * routeRefresh on ROUTE-REFRESH and setContext when pools, blocks or addresses change.
 */
export class AdjRibOutManager {
  private readonly groups = new Map<string, UpdateGroup>();
  private readonly peers = new Map<string, AdjRibOut>();
  /** Each group's members. */
  private readonly members = new Map<UpdateGroup, Set<AdjRibOut>>();
  /** ADD-PATH ids handed out (exposed for tests). */
  readonly ids = new PathIdAllocator();
  private readonly unsubscribe: () => void;
  private held = false;

  constructor(
    private readonly rib: LocRib,
    private ctx: ExportContext,
    private readonly opts: { batchSize?: number; log?: Logger; interfaceOf?: PathInterface; metricOf?: PathMetric } = {},
  ) {
    const offChanges = rib.onBestChange((changes) => this.onChanges(changes));
    const offIds = rib.onPathIdUnused((src, pathId) => this.ids.release(src, pathId));
    this.unsubscribe = () => { offChanges(); offIds(); };
  }

  /** Session established: start sending the full table, then End-of-RIB. */
  private joinGroup(peer: OutPeer, out: AdjRibOut | null): UpdateGroup {
    const key = groupKey(peer);
    let group = this.groups.get(key);
    if (!group) {
      group = new UpdateGroup(peer, this.ctx, this.rib, this.rib.attrSets, this.ids, this.opts.interfaceOf, this.opts.metricOf);
      this.groups.set(key, group);
      this.members.set(group, new Set());
    }
    group.members++;
    if (out) this.members.get(group)!.add(out);
    return group;
  }

  private leaveGroup(out: AdjRibOut): void {
    const group = out.group;
    this.members.get(group)?.delete(out);
    if (--group.members === 0) {
      group.dispose();
      this.groups.delete(group.key);
      this.members.delete(group);
    }
  }

  /**
   * New export parameters for an established peer (its BGPFilter export chain changed):
   * the peer moves to the matching update group, keeps what it advertised, and every prefix
   * is re-evaluated, so only the difference is sent (no session reset).
   */
  updatePeer(peer: OutPeer): void {
    const out = this.peers.get(peer.key);
    if (!out || groupKey(peer) === out.group.key) return;
    const old = out.group;
    old.setBusy(out, false);
    this.leaveGroup(out);
    out.group = this.joinGroup(peer, out);
    out.peer = peer;
    out.resync();
    out.pump();
  }

  addPeer(peer: OutPeer, sink: PeerSink): AdjRibOut {
    if (this.peers.has(peer.key)) throw new RibError('ERR_RIB_PEER_EXISTS', `Adj-RIB-Out for ${peer.key} exists`, { peer: peer.key });
    const g = this.joinGroup(peer, null);
    const out = new AdjRibOut(peer, g, this.rib, sink, this.opts.batchSize ?? DEFAULT_BATCH, {
      ...(this.opts.log ? { log: this.opts.log } : {}),
      onFail: (o) => { if (this.peers.get(o.key) === o) this.removePeer(o.key); },
    });
    this.members.get(g)!.add(out);
    out.held = this.held;
    this.peers.set(peer.key, out);
    out.pump();
    return out;
  }

  /**
   * RFC 4724 §4.1 selection deferral: while held, no peer is sent anything (routes, End-of-RIB,
   * refresh answers). Releasing walks each peer's table afresh, then sends End-of-RIB.
   */
  hold(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    for (const p of this.peers.values()) {
      p.held = on;
      if (!on) { p.resync(); p.pump(); }
    }
  }

  get holding(): boolean {
    return this.held;
  }

  removePeer(key: string): void {
    const out = this.peers.get(key);
    if (!out) return;
    out.close();
    this.peers.delete(key);
    this.leaveGroup(out);
  }

  get(key: string): AdjRibOut | undefined {
    return this.peers.get(key);
  }

  /**
   * ROUTE-REFRESH received (RFC 2918 §4): re-send the family's advertised routes; `enhanced`
   * (RFC 7313 negotiated): framed by BoRR and EoRR.
   */
  routeRefresh(key: string, family?: Family, enhanced = false): void {
    const out = this.peers.get(key);
    if (!out || (family !== undefined && family !== out.family)) return;
    out.routeRefresh(enhanced);
    out.pump();
  }

  /**
   * The interface of routes changed: with no prefix (next hops reached through other
   * interfaces) every prefix is re-evaluated for the peers whose export chain reads
   * interfaces (BGPFilter interface rules); `prefix` alone (a local route's own device or
   * kernel metric changed) for every peer of its family, as Calico's reject_local_routes reads
   * that device too, and the route priority step that metric.
   */
  interfacesChanged(prefix?: string): void {
    const family = prefix === undefined ? undefined : familyOf(prefix);
    for (const p of this.peers.values()) {
      if (family !== undefined && p.family !== family) continue; // never another family's prefix in its UPDATEs
      if (prefix === undefined) {
        if (!p.peer.exportFilter?.usesInterface) continue;
        p.group.invalidateAll();
        p.resync();
      } else {
        p.group.invalidate(prefix);
        p.markPending(prefix);
      }
      p.pump();
    }
  }

  /**
   * New export context: the prefixes whose verdict may have changed are re-evaluated for
   * every peer (all of them unless only own blocks changed: then those inside the blocks
   * that came or went, found in one walk of the table per family).
   */
  setContext(ctx: ExportContext): void {
    const scope = changedScope(this.ctx, ctx);
    this.ctx = ctx;
    for (const g of this.groups.values()) g.setContext(ctx);
    if (scope === null) {
      for (const p of this.peers.values()) { p.resync(); p.pump(); }
      return;
    }
    const touched = new Map<Family, string[]>();
    for (const p of this.peers.values()) {
      let list = touched.get(p.family);
      if (!list) touched.set(p.family, (list = scope.length ? [...this.rib.prefixes(p.family)].filter((x) => inScope(scope, x)) : []));
      for (const prefix of list) p.markPending(prefix);
      p.pump();
    }
  }

  /** Group key → member peer keys (for status output). */
  groupMembers(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const p of this.peers.values()) m.set(p.group.key, [...(m.get(p.group.key) ?? []), p.key]);
    return m;
  }

  close(): void {
    this.unsubscribe();
    for (const k of [...this.peers.keys()]) this.removePeer(k);
  }

  private onChanges(changes: readonly BestChange[]): void {
    const touched = new Set<AdjRibOut>();
    const lookNow = changes.length <= LOOKUP_AT_ONCE_MAX;
    for (const c of changes) {
      for (const [g, outs] of this.members) {
        if (g.family !== c.family) continue;
        g.invalidate(c.prefix);
        if (c.best === null) { // gone from the Loc-RIB: only members that were sent it
          for (const p of outs) if (p.gone(c.prefix, lookNow)) touched.add(p);
          continue;
        }
        const reach = g.reach(c.best, c.multipath);
        for (const p of outs) {
          if (!p.concerns(c.prefix, reach)) continue;
          p.changed(c.prefix);
          touched.add(p);
        }
      }
    }
    for (const p of touched) p.pump();
  }
}
