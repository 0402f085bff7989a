// Per-source bookkeeping of the Loc-RIB: the prefixes each source has paths for, and how
// many paths use each received ADD-PATH id (so an id's last path leaving can be announced).
//
// What is done to one source (session down, stale marking and sweeping after graceful
// restart) then costs in proportion to that source's routes, not to the whole table.
import type { Destination } from './destination.js';
import type { Path, PathSource } from './path.js';

export class SourceIndex {
  /** Prefixes each source has at least one path for. */
  private readonly prefixesOf = new Map<PathSource, Set<string>>();
  /** Per source: received path id → number of paths held with it. */
  private readonly pathIdUse = new Map<PathSource, Map<number, number>>();
  private readonly pathIdListeners = new Set<(source: PathSource, pathId: number) => void>();

  /** The prefixes `src` has paths for (live set; copy before changing the RIB). */
  prefixes(src: PathSource): Iterable<string> {
    return this.prefixesOf.get(src) ?? [];
  }

  /** A new path of `src` for `prefix` (not a replacement). */
  added(src: PathSource, prefix: string, pathId: number): void {
    src.pathCount++;
    let set = this.prefixesOf.get(src);
    if (!set) { set = new Set(); this.prefixesOf.set(src, set); }
    set.add(prefix);
    let use = this.pathIdUse.get(src);
    if (!use) { use = new Map(); this.pathIdUse.set(src, use); }
    use.set(pathId, (use.get(pathId) ?? 0) + 1);
  }

  /** Paths of `src` removed from `dest` (the destination of `prefix`): releases their attributes. */
  dropped(src: PathSource, gone: readonly Path[], prefix: string, dest: Destination): void {
    if (gone.length === 0) return;
    for (const p of gone) {
      p.attrs.release();
      src.pathCount--;
      const use = this.pathIdUse.get(src);
      const n = (use?.get(p.pathId) ?? 1) - 1;
      if (n > 0) { use!.set(p.pathId, n); continue; }
      use?.delete(p.pathId);
      if (use?.size === 0) this.pathIdUse.delete(src);
      for (const l of this.pathIdListeners) l(src, p.pathId);
    }
    if (!dest.paths.some((p) => p.source === src)) {
      const set = this.prefixesOf.get(src);
      set?.delete(prefix);
      if (set?.size === 0) this.prefixesOf.delete(src);
    }
  }

  /** Called when the last path of (source, received path id) leaves the RIB. */
  onPathIdUnused(listener: (source: PathSource, pathId: number) => void): () => void {
    this.pathIdListeners.add(listener);
    return () => void this.pathIdListeners.delete(listener);
  }
}
