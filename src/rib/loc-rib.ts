// Loc-RIB: every path by source, per family, with best path and multipath per prefix.
//
// Changes are batched (change-batch.ts): update/withdraw/remove only mark destinations
// dirty; best paths are recomputed and listeners told once per flush (scheduled with `soon`
// (util/soon.ts) by default, or `flush()` called explicitly). A prefix changed many times
// between flushes is reported once, with `previousBest` being the best at the previous flush.
//
// Each source keeps the list of prefixes it has paths for, per family (source-index.ts), so
// what is done to one source (session down, stale marking and sweeping after graceful
// restart) costs in proportion to that source's routes, not to the whole table: a peer with
// 10 routes that flaps next to a million others touches 10 destinations. Such a pass reads
// the list in place and builds nothing of the source's size (source-passes.ts); a source holding a
// quarter of the table or more is passed over by walking the table instead, which costs a
// tenth of a Map lookup per destination. A new peer's table walk uses the lists too
// (selectionsOf) when only a few sources may reach that peer.
import type { Family } from '../net/prefix.js';
import type { PathAttributes, UpdateMessage, Nlri } from '../bgp/wire/types.js';
import { afiSafiToFamily } from '../bgp/wire/family.js';
import { AttrSetTable } from './attr-set.js';
import type { AttrSet } from './attr-set.js';
import { Destination } from './destination.js';
import { Path } from './path.js';
import type { PathSource, PeerSource, PeerSourceInfo } from './path.js';
import { Sources } from './sources.js';
import { importPath } from '../policy/import.js';
import type { ImportContext, ImportResult, ImportSource } from '../policy/import.js';
import { reflectionLoop } from '../policy/reflection.js';
import { FilteredPaths } from './filtered-paths.js';
import { SourceIndex } from './source-index.js';
import { ChangeBatch } from './change-batch.js';
import { countStale, destinationsOfSources, forSource } from './source-passes.js';
import {
  familyOfPrefix, view,
  ACCEPT_AS_RECEIVED,
  type ApplyResult, type BestChange, type BestChangeListener, type ImportFilter, type LocRibOptions, type RouteView, type Selected,
} from './rib-types.js';
import { ImportChanges } from './import-changes.js';

export { ACCEPT_AS_RECEIVED, RibError } from './rib-types.js';
export type { ApplyResult, BestChange, BestChangeListener, ImportAccept, ImportFilter, LocRibOptions, RouteView, Selected } from './rib-types.js';

export class LocRib {
  readonly attrSets: AttrSetTable;
  private readonly tables: Record<Family, Map<string, Destination>> = { ipv4: new Map(), ipv6: new Map() };
  private readonly sources: Sources;
  /** Per source: its prefixes and its received path ids in use. */
  private readonly bySource = new SourceIndex((src, prefix, family) => this.tables[family].get(prefix)?.hasSource(src) === true);
  /** Destinations changed since the last flush, and the flush. */
  private readonly changes: ChangeBatch;
  private readonly importFn: (source: ImportSource, attrs: PathAttributes) => ImportResult;
  private ictx: ImportContext;
  /** Per-source route filters (BGPFilter import chains). */
  private readonly importFilters = new Map<PathSource, ImportFilter>();
  /** Paths a source's filter rejected, kept so a filter change re-admits them. */
  private readonly filtered = new FilteredPaths();
  /** Paths held changed by an import Accept's operations, with their attributes as received. */
  private readonly changed: ImportChanges;
  /** setLocal's interned set per attributes object (attributes are never changed once given). */
  private readonly localSets = new WeakMap<PathAttributes, AttrSet>();

  constructor(readonly opts: LocRibOptions) {
    this.attrSets = opts.attrSets ?? new AttrSetTable();
    this.changed = new ImportChanges(this.attrSets);
    this.sources = new Sources(opts.localAs, opts.routerId);
    this.ictx = { localAs: opts.localAs, routerId: opts.routerId, ...(opts.clusterId !== undefined ? { clusterId: opts.clusterId } : {}), allowOwnAs: opts.allowOwnAs ?? 0 };
    this.importFn = opts.importPolicy ?? ((s, a) => importPath(this.ictx, s, a));
    // ADD-PATH ids of paths that left are released once no selection refers to them (source-index.ts)
    this.changes = new ChangeBatch(this.tables, opts, () => this.bySource.announceUnused());
  }

  /** Our route reflector cluster id now (Calico routeReflectorClusterID set or cleared at run time). */
  get clusterId(): string | undefined {
    return this.ictx.clusterId;
  }

  /**
   * A new cluster id for the import loop check (RFC 4456 §8). Peer paths held from before
   * that loop under the new id are removed, as they would have been dropped on receipt.
   * Returns the number of paths removed.
   */
  setClusterId(clusterId: string | undefined): number {
    if (clusterId === this.ictx.clusterId) return 0;
    const { clusterId: _old, ...rest } = this.ictx;
    this.ictx = { ...rest, ...(clusterId !== undefined ? { clusterId } : {}) };
    if (clusterId === undefined) return 0;
    let n = 0;
    for (const table of Object.values(this.tables)) {
      for (const [prefix, dest] of table) {
        const gone = dest.removeWhere((p) => p.source.kind === 'peer' && reflectionLoop(p.attrs.attrs, this.opts.routerId, clusterId) !== null);
        if (gone.length === 0) continue;
        n += gone.length;
        for (const p of gone) this.bySource.dropped(p.source, [p]);
        this.changes.mark(dest, prefix);
      }
    }
    return n;
  }

  // ---- sources ----

  /** Registers (or updates) a peer source; call when its session is established. */
  registerPeer(info: PeerSourceInfo): PeerSource {
    const { src, hadPaths } = this.sources.peer(info);
    if (hadPaths) this.markSourceDirty(src); // router id / eBGP flag may change selection
    return src;
  }

  source(key: string): PathSource | undefined {
    return this.sources.get(key);
  }

  // ---- paths ----

  /** Adds or replaces the path (source, prefix, pathId). The RIB retains `attrs`. */
  update(sourceKey: string, prefix: string, pathId: number, attrs: AttrSet): void {
    this.put(this.sources.must(sourceKey), prefix, pathId, attrs);
  }

  private put(src: PathSource, prefix: string, pathId: number, attrs: AttrSet): void {
    const family = familyOfPrefix(prefix);
    const table = this.tables[family];
    let dest = table.get(prefix);
    if (!dest) { dest = new Destination(); table.set(prefix, dest); }
    const cur = dest.find(src, pathId);
    if (cur && cur.attrs === attrs) { // re-advertised unchanged (RFC 4724 §4.2)
      if (cur.stale) dest.replace(cur, cur.withStale(false));
      return;
    }
    const old = dest.put(Path.of(src, pathId, attrs.retain()));
    if (old) old.attrs.release();
    else this.bySource.added(src, prefix, family, pathId);
    this.changes.mark(dest, prefix);
  }

  withdraw(sourceKey: string, prefix: string, pathId = 0): boolean {
    const src = this.sources.get(sourceKey);
    if (src && this.filtered.size > 0) this.filtered.drop(src, prefix, pathId);
    if (src) this.changed.drop(src, prefix, pathId);
    const dest = this.tables[familyOfPrefix(prefix)].get(prefix);
    if (!src || !dest) return false;
    const gone = dest.remove(src, pathId); // no predicate closure per route
    if (!gone) return false;
    this.bySource.dropped(src, gone.alone);
    this.changes.mark(dest, prefix);
    return true;
  }

  /**
   * Applies a decoded UPDATE from a peer: classic withdrawn/NLRI (IPv4) and MP_UNREACH /
   * MP_REACH (RFC 4760). With `treatAsWithdraw` (RFC 7606 §2) every NLRI is withdrawn.
   * Import policy runs once for the message's attributes.
   */
  applyUpdate(sourceKey: string, msg: UpdateMessage): ApplyResult {
    const src = this.sources.must(sourceKey);
    const res: ApplyResult = { announced: 0, withdrawn: 0 };
    const out = (list: readonly Nlri[]) => { for (const n of list) if (this.withdraw(sourceKey, n.prefix, n.pathId ?? 0)) res.withdrawn++; };
    out(msg.withdrawn);
    const a = msg.attributes;
    if (a.mpUnreach && afiSafiToFamily(a.mpUnreach.afi, a.mpUnreach.safi)) out(a.mpUnreach.withdrawn);
    const mpOk = a.mpReach !== undefined && afiSafiToFamily(a.mpReach.afi, a.mpReach.safi) !== null;
    if (msg.nlri.length === 0 && !(mpOk && a.mpReach!.nlri.length > 0)) return res;
    const imported: ImportResult | { rejected: 'treatAsWithdraw' } = msg.treatAsWithdraw ? { rejected: 'treatAsWithdraw' } : this.importFn(src, a);
    if ('rejected' in imported) {
      out(msg.nlri);
      if (mpOk) out(a.mpReach!.nlri);
      res.rejected = imported.rejected;
      return res;
    }
    const { mpReach, mpUnreach: _u, ...plain } = imported.attrs;
    const filter = this.importFilters.get(src);
    if (msg.nlri.length > 0) {
      const set = this.attrSets.intern(plain);
      for (const n of msg.nlri) if (this.imported(src, n.prefix, n.pathId ?? 0, set, filter)) res.announced++;
    }
    if (mpOk && mpReach && mpReach.nlri.length > 0) {
      const set = this.attrSets.intern({ ...plain, nextHop: mpReach.nextHops[0] }, mpReach.nextHops);
      for (const n of mpReach.nlri) if (this.imported(src, n.prefix, n.pathId ?? 0, set, filter)) res.announced++;
    }
    return res;
  }

  // ---- import filters (BGPFilter) ----

  /**
   * Sets (or clears, null) a peer source's import filter and applies it to what the source
   * already sent, as received: accepted paths it now rejects leave the Loc-RIB, filtered paths
   * it now accepts enter it, accepted paths take the attributes its operations give them. No
   * route refresh is needed. Returns the number of paths moved or changed.
   */
  setImportFilter(sourceKey: string, filter: ImportFilter | null): number {
    const src = this.sources.must(sourceKey);
    if (filter) this.importFilters.set(src, filter);
    else this.importFilters.delete(src);
    let moved = 0;
    if ((filter || this.changed.size > 0) && src.pathCount > 0) {
      for (const table of Object.values(this.tables)) {
        for (const [prefix, dest] of table) {
          for (const p of dest.paths.filter((x) => x.source === src)) {
            const got = this.changed.receivedOf(src, prefix, p.pathId) ?? p.attrs;
            const verdict = filter ? filter(prefix, got) : ACCEPT_AS_RECEIVED;
            if (verdict === null) {
              const held = got.retain(); // its own reference: withdraw releases the path's and the received one's
              this.withdraw(src.key, prefix, p.pathId);
              this.filtered.hold(src, prefix, p.pathId, held);
              moved++;
              continue;
            }
            const attrs = this.changed.accepted(got, verdict);
            if (attrs === p.attrs) continue;
            this.changed.note(src, prefix, p.pathId, got, attrs);
            this.put(src, prefix, p.pathId, attrs);
            moved++;
          }
        }
      }
    }
    for (const f of this.filtered.take(src, filter ? (prefix, attrs) => filter(prefix, attrs) === null : null)) {
      const attrs = this.changed.accepted(f.attrs, filter?.(f.prefix, f.attrs) ?? ACCEPT_AS_RECEIVED);
      this.changed.note(src, f.prefix, f.pathId, f.attrs, attrs);
      this.put(src, f.prefix, f.pathId, attrs);
      f.attrs.release();
      moved++;
    }
    return moved;
  }

  /** Paths of a source held back by its import filter (for status and tests). */
  filteredCount(sourceKey: string): number {
    const src = this.sources.get(sourceKey);
    return src ? this.filtered.count(src) : 0;
  }

  /**
   * A received path through the source's filter (if any): held back when rejected, else
   * admitted as the filter leaves it. An admitted path replaces the one held back for the same
   * prefix and path id too, which a later filter change must not re-admit over it. Only a
   * source with a filter has held paths. True when admitted.
   */
  private imported(src: PathSource, prefix: string, pathId: number, set: AttrSet, filter: ImportFilter | undefined): boolean {
    if (filter === undefined) { this.put(src, prefix, pathId, set); return true; }
    const verdict = filter(prefix, set);
    if (verdict === null) {
      this.withdraw(src.key, prefix, pathId);
      this.filtered.hold(src, prefix, pathId, set.retain());
      return false;
    }
    if (this.filtered.size > 0) this.filtered.drop(src, prefix, pathId);
    const attrs = this.changed.accepted(set, verdict);
    this.changed.note(src, prefix, pathId, set, attrs);
    this.put(src, prefix, pathId, attrs);
    return true;
  }

  /**
   * Sets (attrs) or clears (null) a locally originated route. `sourceKey` separates local
   * origins (e.g. 'local' for own blocks, 'kernel' for learned routes). Interned once per
   * attributes object (the daemon passes one per family for all its local routes).
   */
  setLocal(prefix: string, attrs: PathAttributes | null, sourceKey = 'local'): void {
    const src = this.sources.local(sourceKey);
    if (attrs === null) { this.withdraw(sourceKey, prefix, 0); return; }
    let set = this.localSets.get(attrs);
    if (set === undefined || !this.attrSets.holds(set)) this.localSets.set(attrs, (set = this.attrSets.intern({ origin: 0, asPath: [], ...attrs })));
    this.put(src, prefix, 0, set);
  }

  /** Removes every path of the source (session down without GR, GR timer expiry). */
  removeSource(sourceKey: string, family?: Family): number {
    const src = this.sources.get(sourceKey);
    if (src) { this.filtered.dropSource(src, family); this.changed.dropSource(src, family); }
    if (!src || src.pathCount === 0) return 0;
    if (family !== undefined) return this.removeOf(src, family, false);
    return this.removeOf(src, 'ipv4', false) + this.removeOf(src, 'ipv6', false);
  }

  /** RFC 4724 §4.2: marks the source's paths stale; they stay usable. Returns the count. */
  markStale(sourceKey: string, family: Family): number {
    const src = this.sources.get(sourceKey);
    if (src) this.filtered.dropSource(src, family); // the peer sends its table again
    if (!src || src.pathCount === 0) return 0;
    let n = 0;
    // a destination visited twice is marked on its first visit only (its paths are stale by the second)
    this.forSource(src, family, (dest) => {
      const paths = dest.paths;
      for (let j = 0; j < paths.length; j++) {
        const p = paths[j]!;
        if (p.source === src && !p.stale) { dest.replace(p, p.withStale(true)); n++; }
      }
    });
    this.bySource.tidy(src, family, false);
    return n;
  }

  /** Removes the source's paths still stale (not re-advertised since markStale). */
  sweepStale(sourceKey: string, family: Family): number {
    const src = this.sources.get(sourceKey);
    if (!src || src.pathCount === 0) return 0;
    return this.removeOf(src, family, true);
  }

  /** Number of the source's paths currently stale in `family`. */
  staleCount(sourceKey: string, family: Family): number {
    const src = this.sources.get(sourceKey);
    if (!src || src.pathCount === 0) return 0;
    return countStale(this.tables[family], this.bySource.prefixes(src, family), src);
  }

  /**
   * Removes the paths of `src` in `family` (only the stale ones with `staleOnly`), marking
   * each destination that lost one for the next flush, once (`mark` lists a destination once).
   */
  private removeOf(src: PathSource, family: Family, staleOnly: boolean): number {
    let n = 0;
    this.forSource(src, family, (dest, prefix) => {
      const gone = dest.removeOf(src, staleOnly);
      if (gone.length === 0) return; // not the source's, or seen already
      n += gone.length;
      this.bySource.dropped(src, gone);
      if (this.changed.size > 0) for (const p of gone) this.changed.drop(src, prefix, p.pathId);
      this.changes.mark(dest, prefix);
    });
    this.bySource.tidy(src, family, !staleOnly);
    return n;
  }

  private markSourceDirty(src: PathSource): void {
    const mark = (dest: Destination, prefix: string): void => { if (dest.hasSource(src)) this.changes.mark(dest, prefix); };
    this.forSource(src, 'ipv4', mark);
    this.forSource(src, 'ipv6', mark);
  }

  /** source-passes.ts forSource over `src`'s prefix list in `family`. */
  private forSource(src: PathSource, family: Family, fn: (dest: Destination, prefix: string) => void): void {
    forSource(this.tables[family], this.bySource.prefixes(src, family), fn);
  }

  // ---- reading ----

  lookup(prefix: string): RouteView | undefined {
    const dest = this.tables[familyOfPrefix(prefix)].get(prefix);
    return dest && dest.pathCount > 0 ? view(prefix, dest) : undefined;
  }

  /** Every prefix with at least one path (for `tern routes`, sorted by the caller). */
  *routes(family?: Family): IterableIterator<RouteView> {
    for (const f of family ? [family] : (['ipv4', 'ipv6'] as const)) {
      for (const [prefix, dest] of this.tables[f]) if (dest.pathCount > 0) yield view(prefix, dest, f);
    }
  }

  /** Live iteration over the prefixes of a family (used by the Adj-RIB-Out's table walk). */
  prefixes(family: Family): IterableIterator<string> {
    return this.tables[family].keys();
  }

  /**
   * Live iteration over a family's prefixes with their current (flushed) selection: the
   * Adj-RIB-Out's table walk, which looks at the selected paths' sources before anything else.
   */
  selections(family: Family): IterableIterator<[string, Selected]> {
    return this.tables[family].entries();
  }

  /**
   * Like selections, over only the prefixes `sources` hold paths for, and those changed
   * since the last flush, each once: a new peer's table walk when few sources may reach it
   * (UpdateGroup.initialWalk). The selections are the flushed ones, the source lists the
   * paths held now: a changed prefix's selection may be another source's path, which left
   * (and may come back, the same shared Path, so that the flush reports no change). A
   * source's prefixes are read when the walk reaches it: a prefix it gains while the walk
   * runs may or may not be visited; its flush reaches the Adj-RIB-Out as a change either way.
   */
  selectionsOf(sources: readonly PathSource[], family: Family): IterableIterator<[string, Selected]> {
    return destinationsOfSources(this.tables[family], sources, (src) => this.bySource.prefixes(src, family), this.changes.changedOf(family));
  }

  /** Every source registered (peers, local and kernel sources), with or without paths. */
  allSources(): IterableIterator<PathSource> {
    return this.sources.values();
  }

  /** The prefix's current (flushed) selection as a live view (nothing allocated), undefined when it has no destination. */
  selection(prefix: string): Selected | undefined {
    return this.tables[familyOfPrefix(prefix)].get(prefix);
  }

  size(family: Family): number {
    return this.tables[family].size;
  }

  // ---- change notification ----

  /** Called at the flush after the last path of (source, received path id) left the RIB. */
  onPathIdUnused(listener: (source: PathSource, pathId: number) => void): () => void {
    return this.bySource.onPathIdUnused(listener);
  }

  onBestChange(listener: BestChangeListener): () => void {
    return this.changes.listen(listener);
  }

  /** Destinations changed and not yet flushed (best paths not recomputed yet). */
  get pending(): boolean {
    return this.changes.pending;
  }

  /** Recomputes dirty destinations and notifies listeners once with every change. */
  flush(): readonly BestChange[] {
    return this.changes.flush();
  }
}

