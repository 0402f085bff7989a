// Paths held beside the Loc-RIB by (source, prefix, path id) with their attributes as
// received: those a source's import filter (BGPFilter) rejected, so a filter change re-admits
// them without asking the peer (no route refresh); and the received attributes of paths an
// import Accept's operations changed (import-changes.ts).
//
// Invariant: every held path owns one retain of its AttrSet; drop() and dropSource() release
// it, take() hands it to the caller.
import type { Family } from '../net/prefix.js';
import type { AttrSet } from './attr-set.js';
import type { PathSource } from './path.js';
import { familyOfPrefix } from './rib-types.js';

export interface FilteredPath {
  readonly prefix: string;
  readonly pathId: number;
  readonly attrs: AttrSet;
}

export class FilteredPaths {
  /** Per source: "prefix#pathId" → path. */
  private readonly bySource = new Map<PathSource, Map<string, FilteredPath>>();

  /** Sources with held paths. */
  get size(): number {
    return this.bySource.size;
  }

  count(src: PathSource): number {
    return this.bySource.get(src)?.size ?? 0;
  }

  /** Holds a path; `attrs` carries a retain that the held path now owns. */
  hold(src: PathSource, prefix: string, pathId: number, attrs: AttrSet): void {
    let m = this.bySource.get(src);
    if (!m) this.bySource.set(src, (m = new Map()));
    const k = `${prefix}#${pathId}`;
    m.get(k)?.attrs.release();
    m.set(k, { prefix, pathId, attrs });
  }

  /** The held attributes of one path, if any. */
  get(src: PathSource, prefix: string, pathId: number): AttrSet | undefined {
    return this.bySource.get(src)?.get(`${prefix}#${pathId}`)?.attrs;
  }

  /** Forgets one held path (withdrawn by the peer). */
  drop(src: PathSource, prefix: string, pathId: number): void {
    const m = this.bySource.get(src);
    const k = `${prefix}#${pathId}`;
    const f = m?.get(k);
    if (!m || !f) return;
    m.delete(k);
    f.attrs.release();
  }

  /** Forgets a source's held paths, of one family or all (its session went, or it re-sends its table). */
  dropSource(src: PathSource, family: Family | undefined): void {
    const m = this.bySource.get(src);
    if (!m) return;
    for (const [k, f] of m) {
      if (family !== undefined && familyOfPrefix(f.prefix) !== family) continue;
      m.delete(k);
      f.attrs.release();
    }
    if (m.size === 0) this.bySource.delete(src);
  }

  /** Takes out the held paths `rejects` no longer rejects; their retains pass to the caller. */
  take(src: PathSource, rejects: ((prefix: string, attrs: AttrSet) => boolean) | null): FilteredPath[] {
    const m = this.bySource.get(src);
    if (!m) return [];
    const out: FilteredPath[] = [];
    for (const [k, f] of m) {
      if (rejects?.(f.prefix, f.attrs)) continue;
      m.delete(k);
      out.push(f);
    }
    if (m.size === 0) this.bySource.delete(src);
    return out;
  }
}
