// One prefix of the Loc-RIB: every path to it (by source and path id) and the current
// selection.
//
// Memory: one Destination per prefix, so it is compact. `paths` is the single Path itself
// in the common one-path case and an array only when there are several; the multipath set
// is stored only when it has more than one member; the reason is an index into STEPS.
import type { Family } from '../net/prefix.js';
import type { Path, PathSource } from './path.js';
import { select, STEPS } from './best-path.js';
import type { BestPathReason, SelectOptions } from './best-path.js';

const REASONS: readonly BestPathReason[] = ['onlyPath', ...STEPS.map(([name]) => name)];

export class Destination {
  private p: Path | Path[] | null = null;
  /** Current best path (after the last recompute). */
  best: Path | null = null;
  private multi: Path[] | null = null;
  private reasonIdx = 0;
  /** True while queued in the Loc-RIB's dirty set. */
  dirty = false;

  constructor(readonly prefix: string) {}

  get family(): Family {
    return this.prefix.includes(':') ? 'ipv6' : 'ipv4';
  }

  get reason(): BestPathReason | null {
    return this.best ? (REASONS[this.reasonIdx] ?? null) : null;
  }

  /** Best first; empty when there is no path. */
  get multipath(): readonly Path[] {
    if (this.multi) return this.multi;
    return this.best ? [this.best] : [];
  }

  get paths(): readonly Path[] {
    const p = this.p;
    if (p === null) return [];
    return Array.isArray(p) ? p : [p];
  }

  get pathCount(): number {
    const p = this.p;
    return p === null ? 0 : Array.isArray(p) ? p.length : 1;
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
    const prevBest = this.best;
    const prevMulti = this.multipath;
    const sel = select(this.paths, o);
    this.best = sel.best;
    this.multi = sel.multipath.length > 1 ? [...sel.multipath] : null;
    this.reasonIdx = sel.reason ? REASONS.indexOf(sel.reason) : 0;
    if (prevBest !== sel.best) return true;
    const now = this.multipath;
    if (now.length !== prevMulti.length) return true;
    for (let i = 0; i < now.length; i++) if (now[i] !== prevMulti[i]) return true;
    return false;
  }
}
