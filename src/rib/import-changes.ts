// Paths an import Accept's operations (BGPFilter, v3.32) changed: the Loc-RIB holds them
// changed, and this keeps, per (source, prefix, path id), the attributes as received, so the
// next filter change runs on the route as received (operations are never applied twice, a
// removed filter restores it). The changed sets are memoized per received set and operations.
//
// Invariant: a path has an entry here exactly while the Loc-RIB holds it changed; each entry
// owns one retain of its received set (FilteredPaths).
import type { AttrSet, AttrSetTable } from './attr-set.js';
import type { PathSource } from './path.js';
import type { Family } from '../net/prefix.js';
import type { ImportAccept } from './rib-types.js';
import { FilteredPaths } from './filtered-paths.js';
import { applyOperations } from '../policy/filter-operations.js';

export class ImportChanges {
  private readonly received = new FilteredPaths();
  private readonly changedSets = new WeakMap<AttrSet, Map<string, AttrSet>>();

  constructor(private readonly attrSets: AttrSetTable) {}

  /** Some path is held changed. */
  get size(): number {
    return this.received.size;
  }

  /** The attributes as received of a path held changed, if it is. */
  receivedOf(src: PathSource, prefix: string, pathId: number): AttrSet | undefined {
    return this.received.get(src, prefix, pathId);
  }

  /** The attributes an accepted route enters the Loc-RIB with: changed by the rule's operations. */
  accepted(set: AttrSet, verdict: ImportAccept): AttrSet {
    if (!verdict.operations || verdict.operations.length === 0) return set;
    const key = verdict.operationsKey ?? JSON.stringify(verdict.operations);
    let m = this.changedSets.get(set);
    const hit = m?.get(key);
    if (hit && this.attrSets.holds(hit)) return hit;
    const out = this.attrSets.intern(applyOperations(set.attrs, verdict.operations), set.nextHops);
    if (!m) this.changedSets.set(set, (m = new Map()));
    m.set(key, out);
    return out;
  }

  /** A path enters the Loc-RIB as `attrs`, received as `got`: kept when it was changed, forgotten otherwise. */
  note(src: PathSource, prefix: string, pathId: number, got: AttrSet, attrs: AttrSet): void {
    if (attrs !== got) this.received.hold(src, prefix, pathId, got.retain());
    else if (this.received.size > 0) this.received.drop(src, prefix, pathId);
  }

  /** The path left the Loc-RIB. */
  drop(src: PathSource, prefix: string, pathId: number): void {
    if (this.received.size > 0) this.received.drop(src, prefix, pathId);
  }

  /** The source's paths (of one family or all) left the Loc-RIB. */
  dropSource(src: PathSource, family: Family | undefined): void {
    this.received.dropSource(src, family);
  }
}
