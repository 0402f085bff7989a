// One prefix brought to what is wanted (FibSync's tick runs it per dirty prefix) and the
// kernel's answers to the operations that issues, with the inputs of what is wanted besides
// the BGP next hops in the table: the pools, the own blocks (each a blackhole that wins over
// BGP) and whether restart adoption is still open (adopted routes not wanted again stay until
// it closes). The ownership rules it applies are index.ts's: an alien or a learned route in
// the slot is not replaced; a slot with none of ours is written exclusively.
import { parseIpv4Prefix } from '../net/prefix.js';
import { isLearnable, type StatusBook } from './status.js';
import { ADOPTED, routesOf, type PrefixTable, type RouteForm, type Slot } from './table.js';
import { WANT_NONE, type Want, type WantCache } from './want.js';
import type { KernelWriter, WriteDone } from './writer.js';
import type { ObservedTable } from './observed.js';
import type { KernelLoader } from './kernel-load.js';
import type { LearnedRoutes } from './learned.js';
import type { Pool } from './route-shape.js';

/** A route of ours found at start that is adopted (kept until the sweep): a unicast with a gateway. */
export function adoptable(r: Pick<RouteForm, 'type' | 'nextHops'>): boolean {
  return r.type === 'unicast' && r.nextHops.some((nh) => nh.gateway !== undefined);
}

export interface ReconcilerParts {
  readonly table: PrefixTable;
  readonly observed: ObservedTable;
  readonly statuses: StatusBook;
  readonly writer: KernelWriter;
  readonly loader: KernelLoader;
  readonly learned: LearnedRoutes;
  /** rtm_protocol of every route tern writes. */
  readonly protocol: number;
  /** The learned state of a prefix changed (FibSync's 'learned' event). */
  readonly learnedChanged: (prefix: string, present: boolean) => void;
}

export class Reconciler {
  pools: Pool[] = [];
  ownBlocks = new Set<string>();
  adoptionOpen = true;
  private readonly table: PrefixTable;
  private readonly observed: ObservedTable;
  private readonly statuses: StatusBook;
  private readonly writer: KernelWriter;
  private readonly loader: KernelLoader;
  private readonly learned: LearnedRoutes;
  private readonly protocol: number;
  private readonly learnedChanged: (prefix: string, present: boolean) => void;

  constructor(o: ReconcilerParts) {
    this.table = o.table;
    this.observed = o.observed;
    this.statuses = o.statuses;
    this.writer = o.writer;
    this.loader = o.loader;
    this.learned = o.learned;
    this.protocol = o.protocol;
    this.learnedChanged = o.learnedChanged;
  }

  private want(p: string, v4: number, s: Slot, wants: WantCache): Want {
    if (this.ownBlocks.has(p)) return wants.blackhole(p);
    return s.nh ? wants.route(p, v4, s.nh) : WANT_NONE;
  }

  /** Brings one prefix to what is wanted; `s` is its slot now. */
  reconcile(p: string, s: Slot, wants: WantCache): void {
    // parsed once: its pool (what is wanted) and the kernel request (the writer) both take it
    const v4 = parseIpv4Prefix(p);
    const w = this.want(p, v4, s, wants);
    const observed = routesOf(s.obs);
    if (w.kind === 'route') {
      const form = w.form;
      const alien = this.observed.alien(observed, form.metric);
      if (alien) {
        // an alien took the place of our route (`ip route replace`): nothing of ours is there
        // any more, so nothing is written (not counted installed; the alien may be learned)
        if (s.written !== null && !this.observed.ours(observed, s.written.metric)) this.updateLearned(p, this.table.release(p, s));
        this.statuses.set(p, { state: 'pending', code: 'ERR_FIB_ALIEN_ROUTE', error: `prefix held by a proto ${alien.protocol} route at metric ${alien.metric ?? 0}; not replaced` });
        return;
      }
      const cur = this.observed.ours(observed, form.metric);
      if (cur && this.learnedIn(p, cur, s)) {
        if (s.written !== null) this.updateLearned(p, this.table.release(p, s)); // ours went, or was replaced by it
        this.statuses.set(p, { state: 'pending', code: 'ERR_FIB_LEARNED_ROUTE', error: `prefix held by a learned proto-bird ${cur.type} route; not replaced` });
        return;
      }
      if (cur && cur.sig === form.sig) {
        this.confirmed(p, form, w.note, s);
        return;
      }
      // Only a slot we hold is replaced: when we see none of ours there, add exclusively, so a
      // route of another protocol that our view has not caught up with yet is never overwritten
      // (EEXIST instead, retried once the notification has arrived).
      this.writer.run(p, v4, cur ? 'replace' : 'create', form, this.answered, w.note);
      return;
    }
    if (w.kind === 'blocked') this.statuses.set(p, { state: w.state, code: w.code, error: w.error }, s);
    else this.statuses.clear(p, s);
    const mine = s.written;
    if (!mine && (s.flags & ADOPTED) === 0) {
      // a unicast route of ours with a gateway that tern neither wrote nor adopted: its own
      // route changed unseen (a re-dump shows it; tern's view had dropped it, e.g. with the
      // link it was on before): removed like any route of ours no longer wanted
      const stray = this.observed.ours(observed, undefined);
      if (stray && adoptable(stray)) this.writer.run(p, v4, 'remove', stray, this.answered);
      return;
    }
    const cur = this.observed.ours(observed, mine?.metric);
    // nothing of ours is left (an adopted route too may go before the sweep: flushed with its
    // link, deleted), or only a route of our protocol that is neither the one we wrote nor an
    // adopted one (an IPAM's blackhole put there since): nothing to remove; what the prefix
    // holds may be learned now
    if (!cur || (mine ? this.learnedIn(p, cur, s) : !adoptable(cur))) { this.updateLearned(p, this.table.release(p)); return; }
    if (!mine && this.adoptionOpen) return; // adopted: kept until the sweep
    this.writer.run(p, v4, 'remove', cur, this.answered);
  }

  /**
   * `cur`, the route of our protocol in the slot, is one BIRD's `learn` imports (status.ts
   * isLearnable: a blackhole, unreachable, prohibit or device route in a pool) and not the
   * one we wrote: an IPAM's, put there after ours went (the deletion seen or not: a re-dump
   * shows only what is there now) or in its place. Never overwritten or removed; learned.
   */
  private learnedIn(p: string, cur: RouteForm, s: Slot): boolean {
    return (s.written === null || s.written.sig !== cur.sig) && !this.ownBlocks.has(p) && isLearnable(p, cur, this.protocol, this.pools);
  }

  /** A write answered while a dump runs: applied again after it (apart, so `answered` makes no closure per route). */
  private holdOwn(p: string, form: RouteForm, present: boolean): void {
    this.loader.hold(() => this.observed.applyOwn(p, form, present));
  }

  private confirmed(p: string, form: RouteForm, note?: string, s: Slot = this.table.get(p), observed: readonly RouteForm[] | null = null): void {
    const now = this.table.confirm(p, form, !note, s, observed);
    this.writer.succeeded(p);
    this.statuses.installed(p, note);
    this.updateLearned(p, now);
  }

  /**
   * The kernel's answer to an operation of ours on `p` (one function for all of them, made
   * once): a write confirmed as `form`, a removal releases the prefix's slot.
   */
  private readonly answered: WriteDone = (err, p, op, form, note, changed) => {
    if (err) { this.statuses.set(p, { state: 'error', code: err.code, error: err.message }); return; }
    // our view of our own writes comes from these answers, not from their notifications
    // (filtered out); a dump running now may have read the table before this write
    const present = op !== 'remove';
    if (this.loader.holding && !changed) this.holdOwn(p, form, present);
    if (present) {
      // the route observed and the write confirmed in one store (`changed`: another route of
      // ours was seen there since; it stays observed and the prefix is reconciled again)
      const s = this.table.get(p);
      this.confirmed(p, form, note, s, changed ? null : this.observed.withOwn(s, form));
      // a route of another protocol in the same slot was seen before this answer: whether it
      // replaced ours after the write or ours overwrote it, the two orders look the same here;
      // the kernel's table tells
      if (this.observed.alien(routesOf(s.obs), form.metric)) void this.loader.resync();
    } else this.updateLearned(p, this.table.release(p, this.observed.applyOwn(p, form, false)));
  };

  /**
   * Kernel routes tern did not write that BIRD's `learn` would import, inside a pool
   * (isLearnable). Reports a change of the learned state of `p` (slot `s`); true when it did.
   */
  updateLearned(p: string, s: Slot): boolean {
    if (!this.learned.update(p, s, this.ownBlocks.has(p) || s.written !== null, this.pools)) return false;
    this.learnedChanged(p, this.learned.prefixes.has(p));
    return true;
  }
}
