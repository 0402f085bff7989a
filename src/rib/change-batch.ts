// The Loc-RIB's change bookkeeping: the destinations changed since the last flush, each
// listed once with its prefix, and the flush that recomputes their best path and multipath
// (best-path.ts), drops destinations left without paths from their table (clearing a table
// when that is all of it) and tells every listener once with the batch. Marking the first
// destination schedules the flush with `soon` (util/soon.ts) unless the owner flushes by hand
// (`schedule: 'manual'`).
//
// A prefix marked many times between flushes is reported once, with `previousBest` being
// the best at the previous flush. A listener that throws does not keep the batch from the
// others: with `onError` each error goes there; without it the first is rethrown once every
// listener has run.
import type { Family } from '../net/prefix.js';
import { MAX_MULTIPATH } from './best-path.js';
import type { Destination } from './destination.js';
import { soon } from '../util/soon.js';
import { familyOfPrefix, type BestChange, type BestChangeListener, type LocRibOptions } from './rib-types.js';

export class ChangeBatch {
  private dirty: Destination[] = [];
  /** The prefixes of `dirty`, in the same order (a destination does not hold its prefix). */
  private dirtyPrefixes: string[] = [];
  private scheduled = false;
  private readonly listeners = new Set<BestChangeListener>();
  private readonly selectOpts;

  /** `tables` are the Loc-RIB's own, per family: a flush deletes the destinations left empty. */
  /** `recomputed` runs in each flush once the batch's selections are recomputed, before the listeners. */
  constructor(private readonly tables: Readonly<Record<Family, Map<string, Destination>>>, private readonly opts: LocRibOptions, private readonly recomputed?: () => void) {
    this.selectOpts = { localAs: opts.localAs, maxMultipath: opts.maxMultipath ?? MAX_MULTIPATH };
  }

  listen(listener: BestChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Lists `dest` (at `prefix`) for the next flush, once until then. */
  mark(dest: Destination, prefix: string): void {
    if (dest.dirty) return;
    dest.dirty = true;
    this.dirty.push(dest);
    this.dirtyPrefixes.push(prefix);
    if (!this.scheduled && this.opts.schedule !== 'manual') {
      this.scheduled = true;
      soon(this.flushSoon);
    }
  }

  /** The deferred flush, made once (mark runs per route: no closure there). */
  private readonly flushSoon = (): void => {
    try {
      this.flush();
    } catch (err) {
      if (this.opts.onError) this.opts.onError(err);
      else throw err;
    }
  };

  /** The destinations of `family` changed since the last flush, with their prefixes. */
  *changedOf(family: Family): IterableIterator<[string, Destination]> {
    const dirty = this.dirty;
    const prefixes = this.dirtyPrefixes;
    for (let i = 0; i < dirty.length; i++) {
      const prefix = prefixes[i]!;
      if (familyOfPrefix(prefix) === family) yield [prefix, dirty[i]!];
    }
  }

  /** Destinations changed and not yet flushed (best paths not recomputed yet). */
  get pending(): boolean {
    return this.dirty.length > 0;
  }

  /** Recomputes dirty destinations and notifies listeners once with every change. */
  flush(): readonly BestChange[] {
    this.scheduled = false;
    const batch = this.dirty;
    const prefixes = this.dirtyPrefixes;
    this.dirty = [];
    this.dirtyPrefixes = [];
    const changes: BestChange[] = [];
    let emptyV4 = 0;
    let emptyV6 = 0;
    for (let i = 0; i < batch.length; i++) {
      const dest = batch[i]!;
      const prefix = prefixes[i]!;
      const family = familyOfPrefix(prefix);
      dest.dirty = false;
      const previousBest = dest.best;
      if (dest.recompute(this.selectOpts)) {
        changes.push({ prefix, family, best: dest.best, multipath: dest.multipath, previousBest, reason: dest.reason });
      }
      if (dest.pathCount === 0) { if (family === 'ipv4') emptyV4++; else emptyV6++; }
    }
    if (emptyV4 + emptyV6 > 0) this.dropEmpty(batch, prefixes, emptyV4, emptyV6);
    this.recomputed?.();
    if (changes.length > 0) {
      let failure = null as { err: unknown } | null;
      for (const l of this.listeners) {
        try {
          l(changes);
        } catch (err) {
          if (this.opts.onError) this.opts.onError(err);
          else failure ??= { err };
        }
      }
      if (failure) throw failure.err;
    }
    return changes;
  }

  /**
   * Deletes the batch's destinations left without paths from their table: a table they are
   * all of (the one source of a family's routes went down) is cleared at once, which is the
   * same and spares a Map deletion per prefix (a quarter of a second at a million).
   */
  private dropEmpty(batch: readonly Destination[], prefixes: readonly string[], emptyV4: number, emptyV6: number): void {
    const { ipv4, ipv6 } = this.tables;
    const clearV4 = emptyV4 > 0 && emptyV4 === ipv4.size;
    const clearV6 = emptyV6 > 0 && emptyV6 === ipv6.size;
    if (clearV4) ipv4.clear();
    if (clearV6) ipv6.clear();
    if ((clearV4 || emptyV4 === 0) && (clearV6 || emptyV6 === 0)) return;
    for (let i = 0; i < batch.length; i++) {
      if (batch[i]!.pathCount !== 0) continue;
      const prefix = prefixes[i]!;
      if (familyOfPrefix(prefix) === 'ipv4') { if (!clearV4) ipv4.delete(prefix); } else if (!clearV6) ipv6.delete(prefix);
    }
  }
}
