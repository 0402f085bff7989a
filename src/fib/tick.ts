// FibSync's reconciliation queue and tick: the prefixes waiting to be brought to what is
// wanted, and the tick that does it (Reconciler, reconcile.ts) as kernel capacity allows.
//
// Prefixes waiting for a tick are a queue of their strings; a prefix is queued once, marked
// by the DIRTY flag of its slot, which the store that changed the slot sets with the change
// (no hash table of its own per route: a Set's insert and delete were 5 % of a 1 M ingest).
// Changes coalesce: one tick (deferred, `defer`) applies everything marked since the last
// one. Kernel operations in flight are bounded (MAX_INFLIGHT): a tick stops there and the
// next runs as the kernel answers, so no request queue of a whole table is ever built. A
// prefix changed while its operation is in flight waits for the answer, then is queued again.
// What a prefix's routes become in the kernel is decided through a WantCache (want.ts), kept
// from tick to tick while the shape context (pools, node subnet, connected routes, tunnel
// link) is unchanged and the table has not been compacted.
import { MAX_INFLIGHT } from './fib-options.js';
import type { TimerHandle } from '../util/clock.js';
import type { KernelLoader } from './kernel-load.js';
import type { ObservedTable } from './observed.js';
import type { Reconciler } from './reconcile.js';
import type { LearnedRoutes } from './learned.js';
import { RT_TABLE_MAIN } from './netlink-codec.js';
import type { ShapeContext } from './route-shape.js';
import { DIRTY, type PrefixTable, type Slot } from './table.js';
import type { InputToWrite } from './timing.js';
import { WantCache } from './want.js';
import type { KernelWriter } from './writer.js';

export interface TickParts {
  readonly table: PrefixTable;
  readonly observed: ObservedTable;
  readonly rec: Reconciler;
  readonly writer: KernelWriter;
  readonly loader: KernelLoader;
  readonly learned: LearnedRoutes;
  readonly inputToWrite: InputToWrite;
  readonly defer: (fn: () => void) => TimerHandle;
  readonly protocol: number;
  readonly tunnelDev: string;
  readonly maxPaths: number;
}

export class Ticks {
  /** Ticks may run (FibSync started, not stopped). */
  on = false;
  /** The node's IPv4 subnet (CrossSubnet), part of the shape context. */
  nodeSubnetV4: string | undefined;
  /** Prefixes waiting for a tick: dirty[dirtyHead..], each once (its slot carries DIRTY). */
  private dirty: string[] = [];
  private dirtyHead = 0;
  /** Prefixes changed while their operation was in flight: reconciled again after it. */
  private readonly redo = new Set<string>();
  private timer: TimerHandle | undefined;
  /** The last tick's WantCache, kept while its context holds (wantCache()). */
  private wants: WantCache | undefined;

  constructor(private readonly x: TickParts) {}

  /** Prefixes waiting for a tick. */
  get size(): number {
    return this.dirty.length - this.dirtyHead;
  }

  /** A tick is armed. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Queues `prefix` (slot `s`, current) for the next tick, once, and schedules it. */
  mark(prefix: string, s: Slot = this.x.table.get(prefix)): void {
    this.queue(prefix, s);
    this.schedule();
  }

  /** Queues `prefix` (slot `s`, current) once, without scheduling. */
  queue(prefix: string, s: Slot): void {
    if (s.flags & DIRTY) return;
    this.x.table.setFlags(prefix, DIRTY, 0, s);
    this.dirty.push(prefix);
  }

  /** Queues `prefix`, whose slot the caller's own store has just flagged DIRTY (it was not before). */
  flagged(prefix: string): void {
    this.dirty.push(prefix);
  }

  /** Every prefix with BGP next hops (a change that may reshape all of them). */
  markAllRoutes(): void {
    for (const [p, s] of this.x.table.entries()) if (s.nh) this.mark(p, s);
  }

  /** Every prefix FibSync knows (BGP, written, adopted, observed, own blocks, learned). */
  markAll(): void {
    const { table, rec, learned } = this.x;
    for (const [p, s] of table.entries()) this.queue(p, s);
    for (const m of [rec.ownBlocks, learned.prefixes]) for (const p of m) this.queue(p, table.get(p));
    this.schedule();
  }

  /** Arms the tick when something waits and the kernel can take more. */
  schedule(): void {
    if (!this.on || this.timer || this.size === 0) return;
    if (this.x.writer.size >= MAX_INFLIGHT) return; // a completion schedules again
    this.timer = this.x.defer(this.tickSoon);
  }

  /** The writer's hook: an operation of `p` is over. */
  settled(p: string): void {
    if (this.redo.delete(p)) this.mark(p);
    else this.schedule();
  }

  stop(): void {
    this.on = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The deferred tick, made once (schedule runs for every prefix marked: no closure there). */
  private readonly tickSoon = (): void => { this.tick(); };

  /** Applies dirty prefixes; true when it stopped early at MAX_INFLIGHT (the rest stay dirty). */
  tick(): boolean {
    const { table, rec, writer, loader, inputToWrite } = this.x;
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.on || loader.running) return false;
    if (table.maybeCompact()) this.wants = undefined; // it held forms the table may have forgotten
    const wants = this.wantCache();
    const ops = writer.totalOps;
    let more = false;
    // what reconcile queues meanwhile is taken in this tick too (pushed behind)
    while (this.dirtyHead < this.dirty.length) {
      if (writer.size >= MAX_INFLIGHT) { more = true; break; }
      const p = this.dirty[this.dirtyHead++]!;
      let s = table.get(p);
      s = table.setFlags(p, 0, DIRTY, s);
      if (rec.updateLearned(p, s)) s = table.get(p); // a listener may have changed it
      if (writer.has(p)) { this.redo.add(p); continue; }
      rec.reconcile(p, s, wants);
    }
    // taken prefixes are let go (a burst keeps queueing while a tick is cut at MAX_INFLIGHT)
    if (this.dirtyHead === this.dirty.length) { this.dirty = []; this.dirtyHead = 0; }
    else if (this.dirtyHead >= 4096 && this.dirtyHead * 2 >= this.dirty.length) { this.dirty = this.dirty.slice(this.dirtyHead); this.dirtyHead = 0; }
    inputToWrite.ticked(writer.totalOps > ops, this.size === 0);
    return more;
  }

  /** The tick's WantCache: the last one while it serves the shape context now, else a new one. */
  private wantCache(): WantCache {
    const { observed, rec } = this.x;
    const t = observed.linkByName(this.x.tunnelDev);
    const connected = observed.connected();
    if (this.wants?.serves(rec.pools, this.nodeSubnetV4, connected, t)) return this.wants;
    const ctx: ShapeContext = {
      pools: rec.pools, nodeSubnetV4: this.nodeSubnetV4, connected,
      tunnel: t ? { name: t.name, ifindex: t.ifindex, up: t.up } : undefined,
      protocol: this.x.protocol, table: RT_TABLE_MAIN, maxPaths: this.x.maxPaths,
    };
    return (this.wants = new WantCache(ctx, this.x.table));
  }
}
