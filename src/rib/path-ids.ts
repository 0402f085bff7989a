// ADD-PATH ids the Adj-RIB-Out sends (RFC 7911): one per (source, received path id), shared
// by every update group; freed when the Loc-RIB no longer holds a path with them, then reused.
import { sourcePathIdKey, type Path, type PathSource } from './path.js';

/**
 * Stable ADD-PATH ids: one per (source, received path id), shared by all groups. An id is
 * freed when the Loc-RIB holds no path of that (source, path id) any more, and reused: an
 * Adj-RIB-Out still advertising the old path under it then replaces it implicitly (RFC 7911:
 * a path id is per prefix), which is the right outcome either way.
 */
export class PathIdAllocator {
  private readonly ids = new Map<number, number>();
  private readonly free: number[] = [];
  private next = 1;

  idFor(path: Path): number {
    const k = sourcePathIdKey(path.source, path.pathId);
    let id = this.ids.get(k);
    if (id === undefined) { id = this.free.pop() ?? this.next++; this.ids.set(k, id); }
    return id;
  }

  /** The Loc-RIB no longer holds a path of (source, pathId). */
  release(source: PathSource, pathId: number): void {
    const k = sourcePathIdKey(source, pathId);
    const id = this.ids.get(k);
    if (id === undefined) return;
    this.ids.delete(k);
    this.free.push(id);
  }

  /** Ids currently assigned (status / tests). */
  get size(): number {
    return this.ids.size;
  }
}
