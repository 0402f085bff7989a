// Per-source bookkeeping of the Loc-RIB: the prefixes each source has paths for, per family,
// and how many paths use each received ADD-PATH id (so an id's last path leaving can be
// announced).
//
// What is done to one source (session down, stale marking and sweeping after graceful
// restart) then costs in proportion to that source's routes, not to the whole table.
//
// The prefixes of a source in a family are an append-only list, not a set: a path added
// appends its prefix (no hashing: at a million routes a Set cost 0.6 s of CPU and ~20 MiB), a
// path removed leaves its entry behind. Readers (`prefixes`) get the list itself, with
// entries that may repeat or no longer hold a path of the source, and check each against the
// table as they go (the Loc-RIB does): no copy, no set of what was seen, so a source with a
// million routes going down builds no temporary structure of its size. A list is only ever
// appended to or replaced, never changed in place, so a reader holding it while paths come
// and go sees its entries as they were. It is compacted (repeats and dead entries dropped,
// with the `holds` check the Loc-RIB gives) when it grows past twice the source's path count
// (`added`, `tidy`), so its length stays within a constant factor of the paths the source
// holds, and is dropped when the source holds no path any more (or none of the family).
import type { Family } from '../net/prefix.js';
import { sourcePathIdKey, type Path, type PathSource } from './path.js';

const NONE: readonly string[] = Object.freeze([]);

export class SourceIndex {
  /** Prefixes each source has (or had) a path for, per family: see the header. */
  private readonly prefixesOf: Record<Family, Map<PathSource, string[]>> = { ipv4: new Map(), ipv6: new Map() };
  /** Per source: received path id → number of paths held with it. */
  private readonly pathIdUse = new Map<PathSource, Map<number, number>>();
  private readonly pathIdListeners = new Set<(source: PathSource, pathId: number) => void>();
  /** (source, received path id) whose last path left since the last flush: told at the flush (announceUnused). */
  private unusedSources: PathSource[] = [];
  private unusedIds: number[] = [];

  /** `holds(src, prefix, family)`: the table has a path of `src` for `prefix` now. */
  constructor(private readonly holds: (src: PathSource, prefix: string, family: Family) => boolean) {}

  /**
   * Every prefix of `family` that `src` has paths for, possibly with repeats and with prefixes
   * it no longer has a path for (the caller checks each). Never changed in place: entries
   * added later go to its end, or to a new list that replaces it.
   */
  prefixes(src: PathSource, family: Family): readonly string[] {
    return this.prefixesOf[family].get(src) ?? NONE;
  }

  /** A new path of `src` for `prefix` of `family` (not a replacement). */
  added(src: PathSource, prefix: string, family: Family, pathId: number): void {
    src.pathCount++;
    const lists = this.prefixesOf[family];
    let list = lists.get(src);
    if (!list) { list = []; lists.set(src, list); }
    list.push(prefix);
    if (list.length > 2 * src.pathCount + 1024) lists.set(src, this.compact(src, list, family));
    let use = this.pathIdUse.get(src);
    if (!use) { use = new Map(); this.pathIdUse.set(src, use); }
    use.set(pathId, (use.get(pathId) ?? 0) + 1);
  }

  /**
   * After paths of `src` in `family` were removed: `none` (the source holds no path of the
   * family now) drops its list, else the list is compacted when it is past twice the
   * source's path count.
   */
  tidy(src: PathSource, family: Family, none: boolean): void {
    const lists = this.prefixesOf[family];
    const list = lists.get(src);
    if (!list) return;
    if (none) lists.delete(src);
    else if (list.length > 2 * src.pathCount + 1024) lists.set(src, this.compact(src, list, family));
  }

  /** `list` without repeats and without prefixes `src` no longer has a path for. */
  private compact(src: PathSource, list: readonly string[], family: Family): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of list) {
      if (seen.has(p) || !this.holds(src, p, family)) continue;
      seen.add(p);
      out.push(p);
    }
    return out;
  }

  /** Paths of `src` removed from one destination: releases their attributes. */
  dropped(src: PathSource, gone: readonly Path[]): void {
    if (gone.length === 0) return;
    for (let i = 0; i < gone.length; i++) { // indexed: `gone` may be a path's frozen `alone` (for-of would allocate)
      const p = gone[i]!;
      p.attrs.release();
      src.pathCount--;
      const use = this.pathIdUse.get(src);
      const n = (use?.get(p.pathId) ?? 1) - 1;
      if (n > 0) { use!.set(p.pathId, n); continue; }
      use?.delete(p.pathId);
      if (use?.size === 0) this.pathIdUse.delete(src);
      this.unusedSources.push(src);
      this.unusedIds.push(p.pathId);
    }
    if (src.pathCount === 0) { this.prefixesOf.ipv4.delete(src); this.prefixesOf.ipv6.delete(src); }
  }

  /**
   * Tells the listeners of each (source, path id) whose last path left since the last call and
   * that no path uses again. The Loc-RIB's flush calls it once every changed destination's
   * selection is recomputed: until then a flushed selection may still hold a path that left,
   * and an Adj-RIB-Out exporting it (a new peer's walk, a drained peer) would be handed a new
   * ADD-PATH id for it after the release, held for good.
   */
  announceUnused(): void {
    if (this.unusedIds.length === 0) return;
    const sources = this.unusedSources;
    const ids = this.unusedIds;
    this.unusedSources = [];
    this.unusedIds = [];
    // an id may have left, come back and left again since the last flush: told once
    const told = ids.length > 1 ? new Set<number>() : null;
    for (let i = 0; i < ids.length; i++) {
      const src = sources[i]!;
      const id = ids[i]!;
      if (this.pathIdUse.get(src)?.has(id)) continue; // back in use since
      if (told) {
        const k = sourcePathIdKey(src, id);
        if (told.has(k)) continue;
        told.add(k);
      }
      for (const l of this.pathIdListeners) l(src, id);
    }
  }

  /** Called (at the next flush) when the last path of (source, received path id) has left the RIB. */
  onPathIdUnused(listener: (source: PathSource, pathId: number) => void): () => void {
    this.pathIdListeners.add(listener);
    return () => void this.pathIdListeners.delete(listener);
  }
}
