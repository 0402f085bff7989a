// Per-source bookkeeping of the Loc-RIB: the prefixes each source has paths for, and how
// many paths use each received ADD-PATH id (so an id's last path leaving can be announced).
//
// What is done to one source (session down, stale marking and sweeping after graceful
// restart) then costs in proportion to that source's routes, not to the whole table.
//
// The prefixes of a source are an append-only list, not a set: a path added appends its
// prefix (no hashing: at a million routes a Set cost 0.6 s of CPU and ~20 MiB), a path
// removed leaves its entry behind. Readers (`prefixes`) get the list as it is, with entries
// that may repeat or no longer hold a path of the source, and check each against the table
// (the Loc-RIB does, in destinationsOf). The list is compacted (repeats and dead entries
// dropped, with the `holds` check the Loc-RIB gives) when it grows past twice the source's
// path count, so its length stays within a constant factor of the paths the source holds,
// and is dropped when the source holds no path any more.
import type { Path, PathSource } from './path.js';

export class SourceIndex {
  /** Prefixes each source has (or had) a path for: see the header. */
  private readonly prefixesOf = new Map<PathSource, string[]>();
  /** Per source: received path id → number of paths held with it. */
  private readonly pathIdUse = new Map<PathSource, Map<number, number>>();
  private readonly pathIdListeners = new Set<(source: PathSource, pathId: number) => void>();

  /** `holds(src, prefix)`: the table has a path of `src` for `prefix` now. */
  constructor(private readonly holds: (src: PathSource, prefix: string) => boolean) {}

  /**
   * Every prefix `src` has paths for, possibly with repeats and with prefixes it no longer
   * has a path for (the caller checks each). A snapshot only until the next `added`.
   */
  prefixes(src: PathSource): readonly string[] {
    return this.prefixesOf.get(src) ?? [];
  }

  /** Puts back a checked list (no repeats, every prefix held) for `src`, as `prefixes` gave it. */
  checked(src: PathSource, list: string[]): void {
    if (this.prefixesOf.has(src)) this.prefixesOf.set(src, list);
  }

  /** A new path of `src` for `prefix` (not a replacement). */
  added(src: PathSource, prefix: string, pathId: number): void {
    src.pathCount++;
    let list = this.prefixesOf.get(src);
    if (!list) { list = []; this.prefixesOf.set(src, list); }
    list.push(prefix);
    if (list.length > 2 * src.pathCount + 1024) this.prefixesOf.set(src, this.compact(src, list));
    let use = this.pathIdUse.get(src);
    if (!use) { use = new Map(); this.pathIdUse.set(src, use); }
    use.set(pathId, (use.get(pathId) ?? 0) + 1);
  }

  /** `list` without repeats and without prefixes `src` no longer has a path for. */
  private compact(src: PathSource, list: readonly string[]): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of list) {
      if (seen.has(p)) continue;
      seen.add(p);
      if (this.holds(src, p)) out.push(p);
    }
    return out;
  }

  /** Paths of `src` removed from `dest` (the destination of `prefix`): releases their attributes. */
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
      for (const l of this.pathIdListeners) l(src, p.pathId);
    }
    if (src.pathCount === 0) this.prefixesOf.delete(src);
  }

  /** Called when the last path of (source, received path id) leaves the RIB. */
  onPathIdUnused(listener: (source: PathSource, pathId: number) => void): () => void {
    this.pathIdListeners.add(listener);
    return () => void this.pathIdListeners.delete(listener);
  }
}
