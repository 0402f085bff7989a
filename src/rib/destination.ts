// One prefix of the Loc-RIB: every path to it (by source and path id) and the current
// selection.
//
// Memory: one Destination per prefix (×100 000s), so it has three fields; the prefix is only
// the Loc-RIB's Map key (the Loc-RIB passes it along where needed). `p` is the single
// Path itself in the common one-path case and an array only when there are several; `sel`
// is the best path, or the multipath set (best first) when it has more than one member;
// `flags` packs the dirty mark (bit 0) and the reason (an index into REASONS, above it).
import type { Path, PathSource } from './path.js';
import { select, STEPS } from './best-path.js';
import type { BestPathReason, SelectOptions } from './best-path.js';

const REASONS: readonly BestPathReason[] = ['onlyPath', ...STEPS.map(([name]) => name)];
const NONE: readonly Path[] = Object.freeze([]);

export class Destination {
  private p: Path | Path[] | null = null;
  private sel: Path | readonly Path[] | null = null;
  private flags = 0;

  /** True while queued in the Loc-RIB's dirty set. */
  get dirty(): boolean {
    return (this.flags & 1) !== 0;
  }

  set dirty(v: boolean) {
    this.flags = v ? this.flags | 1 : this.flags & ~1;
  }

  /** Current best path (after the last recompute). */
  get best(): Path | null {
    const s = this.sel;
    return s === null ? null : Array.isArray(s) ? (s as readonly Path[])[0]! : (s as Path);
  }

  get reason(): BestPathReason | null {
    return this.sel !== null ? (REASONS[this.flags >> 1] ?? null) : null;
  }

  /** Best first; empty when there is no path. */
  get multipath(): readonly Path[] {
    const s = this.sel;
    return s === null ? NONE : Array.isArray(s) ? (s as readonly Path[]) : (s as Path).alone;
  }

  get paths(): readonly Path[] {
    const p = this.p;
    if (p === null) return NONE;
    return Array.isArray(p) ? p : p.alone;
  }

  get pathCount(): number {
    const p = this.p;
    return p === null ? 0 : Array.isArray(p) ? p.length : 1;
  }

  /** True when some path is from `source`. */
  hasSource(source: PathSource): boolean {
    const p = this.p;
    if (p === null) return false;
    if (!Array.isArray(p)) return p.source === source;
    for (const x of p) if (x.source === source) return true;
    return false;
  }

  find(source: PathSource, pathId: number): Path | undefined {
    const p = this.p;
    if (p === null) return undefined;
    if (!Array.isArray(p)) return p.source === source && p.pathId === pathId ? p : undefined;
    return p.find((x) => x.source === source && x.pathId === pathId);
  }

  /** Adds or replaces the path with the same source and path id; returns the replaced one. */
  put(path: Path): Path | undefined {
    const p = this.p;
    if (p === null) { this.p = path; return undefined; }
    if (!Array.isArray(p)) {
      if (p.source === path.source && p.pathId === path.pathId) { this.p = path; return p; }
      this.p = [p, path];
      return undefined;
    }
    const i = p.findIndex((x) => x.source === path.source && x.pathId === path.pathId);
    if (i < 0) { p.push(path); return undefined; }
    const old = p[i];
    p[i] = path;
    return old;
  }

  /**
   * Puts `neu` where `old` is, in the paths and in the selection, without reselecting: used
   * to swap a path for its stale twin (the stale mark does not take part in selection).
   */
  replace(old: Path, neu: Path): void {
    const p = this.p;
    if (p === old) this.p = neu;
    else if (Array.isArray(p)) { const i = p.indexOf(old); if (i >= 0) p[i] = neu; }
    const s = this.sel;
    if (s === old) this.sel = neu;
    else if (Array.isArray(s)) { const i = (s as Path[]).indexOf(old); if (i >= 0) (s as Path[])[i] = neu; }
  }

  /** Removes the path with this source and path id (removeWhere without a predicate); returns it. */
  remove(source: PathSource, pathId: number): Path | undefined {
    const p = this.p;
    if (p === null) return undefined;
    if (!Array.isArray(p)) {
      if (p.source !== source || p.pathId !== pathId) return undefined;
      this.p = null;
      return p;
    }
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (x.source !== source || x.pathId !== pathId) continue;
      const kept = p.slice(0, i).concat(p.slice(i + 1)); // a new list: `paths` handed out the old one
      this.p = kept.length === 0 ? null : kept.length === 1 ? kept[0]! : kept;
      return x;
    }
    return undefined;
  }

  /**
   * Removes every path of `source` (with `staleOnly`, only its stale ones); returns them
   * (none: an empty list). Makes no closure and, in the one-path case, no list (the path's
   * own `alone`): it runs once per route of a source that goes down.
   */
  removeOf(source: PathSource, staleOnly: boolean): readonly Path[] {
    const p = this.p;
    if (p === null) return NONE;
    if (!Array.isArray(p)) {
      if (p.source !== source || (staleOnly && !p.stale)) return NONE;
      this.p = null;
      return p.alone;
    }
    let n = 0;
    let one: Path | undefined; // the path gone, when it is one (the common case: no list for it)
    let other: Path | undefined; // a path kept
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (x.source === source && (!staleOnly || x.stale)) { n++; one = x; } else other = x;
    }
    if (n === 0) return NONE;
    const left = p.length - n;
    if (n === 1 && left === 1) { this.p = other!; return one!.alone; }
    // lists only when several go or several stay; a new list: `paths` handed out the old one
    const gone: Path[] = [];
    const kept: Path[] = [];
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (x.source === source && (!staleOnly || x.stale)) gone.push(x); else kept.push(x);
    }
    this.p = left === 0 ? null : left === 1 ? kept[0]! : kept;
    return n === 1 ? one!.alone : gone;
  }

  /** Removes the paths matching `pred`; returns them. */
  removeWhere(pred: (p: Path) => boolean): Path[] {
    const p = this.p;
    if (p === null) return [];
    if (!Array.isArray(p)) {
      if (!pred(p)) return [];
      this.p = null;
      return [p];
    }
    const gone = p.filter(pred);
    if (gone.length === 0) return gone;
    const kept = p.filter((x) => !pred(x));
    this.p = kept.length === 0 ? null : kept.length === 1 ? kept[0]! : kept;
    return gone;
  }

  /**
   * Recomputes best and multipath. Returns true when either changed (by identity: paths
   * are immutable, so a new attribute set is a new Path).
   */
  recompute(o: SelectOptions): boolean {
    const prev = this.sel;
    const only = this.p;
    if (only === null || !Array.isArray(only)) {
      // no path, or one: it is the best ('onlyPath', index 0 of REASONS), no selection run
      this.sel = only;
      this.flags &= 1;
      return prev !== only;
    }
    const sel = select(only, o);
    const m = sel.multipath;
    this.sel = sel.best === null ? null : m.length > 1 ? [...m] : sel.best;
    this.flags = (this.flags & 1) | ((sel.reason ? REASONS.indexOf(sel.reason) : 0) << 1);
    if (prev === null || !Array.isArray(prev)) return prev !== this.sel;
    const before = prev as readonly Path[];
    if (!Array.isArray(this.sel) || before.length !== m.length) return true;
    for (let i = 0; i < m.length; i++) if (m[i] !== before[i]) return true;
    return false;
  }
}
