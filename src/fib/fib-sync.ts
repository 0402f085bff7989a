// FibSync: the kernel FIB reconciler (BIRD krt / Felix route-table style). See index.ts for
// the model, the ownership rule and the invariants.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { DaemonError, errorMessage } from '../util/errors.js';
import { canonicalPrefix, familyOf, maxLength, prefixLength } from '../net/prefix.js';
import type { KernelRoute, KernelRoutes, Link } from './kernel.js';
import { ObservedTable } from './observed.js';
import { isLearnable, PROBLEM_CODE, summarizeErrors, type FibState, type PrefixStatus } from './status.js';

export type { FibState, PrefixStatus } from './status.js';
import { RT_TABLE_MAIN } from './netlink-codec.js';
import {
  blackholeFor, routeSignature, shapeRoute, TUNNEL_DEV, type Pool, type ShapeContext,
} from './route-shape.js';

export interface FibSyncOptions {
  kernel: KernelRoutes;
  clock: Clock;
  logger: Logger;
  /** rtm_protocol of every route tern writes; default 12 (bird). */
  protocol?: number;
  /** Restart adoption: how long pre-existing routes are kept without endOfRibAll(); default 120 s. */
  staleTimeMs?: number;
  /** Safety-net full resync period; default 5 min. */
  resyncIntervalMs?: number;
  /** First retry delay after a kernel error (doubles up to 60 s); default 1 s. */
  retryBaseMs?: number;
  tunnelDev?: string;
  maxPaths?: number;
}


export interface FibSyncEvents {
  learned: [prefix: string, present: boolean];
}

const MAX_RETRY_MS = 60_000;

type Want =
  | { kind: 'route'; route: KernelRoute; note?: string }
  | { kind: 'blocked'; state: FibState; code: string; error: string }
  | { kind: 'none' };

export class FibSync extends EventEmitter<FibSyncEvents> {
  private readonly kernel: KernelRoutes;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly protocol: number;
  private readonly opts: Required<Pick<FibSyncOptions, 'staleTimeMs' | 'resyncIntervalMs' | 'retryBaseMs' | 'tunnelDev' | 'maxPaths'>>;
  private readonly observed: ObservedTable;

  private pools: Pool[] = [];
  private nodeSubnetV4: string | undefined;
  private ownBlocks = new Set<string>();
  private bgp = new Map<string, string[]>();

  /** What tern wrote and the kernel confirmed (prefix → route). */
  private written = new Map<string, KernelRoute>();
  /** Pre-existing proto-bird unicast routes kept until the sweep. */
  private adopted = new Set<string>();
  private adoptionOpen = true;
  private learned = new Set<string>();
  private statuses = new Map<string, PrefixStatus>();

  private dirty = new Set<string>();
  private inflight = new Map<string, Promise<void>>();
  private redo = new Set<string>();
  private attempts = new Map<string, number>();
  private retryTimers = new Map<string, TimerHandle>();
  private errorCounts = new Map<string, number>();
  private loggedCauses = new Set<string>();
  private counters = { replaced: 0, removed: 0, failed: 0 };

  /** Notifications that arrive while a dump is running, replayed after it. */
  private eventBuffer: (() => void)[] | null = null;
  private started = false;
  private watching = false;
  private stopped = false;
  private tickTimer: TimerHandle | undefined;
  private staleTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;

  constructor(o: FibSyncOptions) {
    super();
    this.kernel = o.kernel;
    this.clock = o.clock;
    this.log = o.logger.child({ module: 'fib' });
    this.protocol = o.protocol ?? 12;
    this.opts = {
      staleTimeMs: o.staleTimeMs ?? 120_000,
      resyncIntervalMs: o.resyncIntervalMs ?? 300_000,
      retryBaseMs: o.retryBaseMs ?? 1000,
      tunnelDev: o.tunnelDev ?? TUNNEL_DEV,
      maxPaths: o.maxPaths ?? 16,
    };
    this.observed = new ObservedTable(this.protocol);
  }

  // --- public API ---------------------------------------------------------------------

  /** Subscribes, dumps links and routes, adopts pre-existing proto-bird routes, reconciles. */
  async start(): Promise<void> {
    if (this.started) return;
    this.eventBuffer = [];
    if (!this.watching) this.kernel.watch(
      (r, present, replaced) => this.onRoute(r, present, replaced ?? false),
      (l, present) => this.onLink(l, present),
      () => { this.log.warn('kernel notifications lost, resyncing', { event: 'fibEventsLost' }); void this.resync(); },
    );
    this.watching = true; // a start() that failed on the dump may be called again
    try {
      await this.loadKernel();
    } catch (e) {
      this.eventBuffer = null;
      throw e;
    }
    for (const p of this.observed.prefixes()) {
      const r = this.observed.ours(p, undefined);
      if (r && r.type === 'unicast' && r.nextHops.some((nh) => nh.gateway !== undefined)) this.adopted.add(p);
    }
    this.started = true;
    this.log.info('fib sync started', { event: 'fibStarted', adopted: this.adopted.size, staleTimeMs: this.opts.staleTimeMs });
    this.staleTimer = this.clock.setTimer(this.opts.staleTimeMs, () => this.sweep('stale timer'));
    this.armResync();
    this.markAll();
  }

  /** Pools (for shaping and for what counts as learned) and the node's IPv4 subnet. */
  setPools(pools: readonly Pool[], nodeSubnetV4?: string): void {
    this.pools = pools.map((p) => ({ ...p, cidr: canonicalPrefix(p.cidr) }));
    this.nodeSubnetV4 = nodeSubnetV4 ? canonicalPrefix(nodeSubnetV4) : undefined;
    this.markAll();
  }

  /** The node's confirmed block affinities; each becomes `blackhole <block> proto bird`. */
  setOwnBlocks(cidrs: readonly string[]): void {
    const next = new Set<string>();
    for (const c of cidrs) {
      const p = canonicalPrefix(c);
      if (prefixLength(p) < maxLength(familyOf(p))) next.add(p); // Calico: no blackhole for /32 blocks
    }
    for (const p of this.ownBlocks) if (!next.has(p)) this.markDirty(p);
    for (const p of next) if (!this.ownBlocks.has(p)) this.markDirty(p);
    this.ownBlocks = next;
  }

  /** Best path (or multipath set) change from BGP; null withdraws. Applied on the next tick. */
  setRoute(prefix: string, nextHops: readonly string[] | null): void {
    const p = canonicalPrefix(prefix);
    if (nextHops && nextHops.length > 0) this.bgp.set(p, [...nextHops]); else this.bgp.delete(p);
    this.markDirty(p);
  }

  /** Routes of a previous run adopted at start() (0 after a clean start): we are restarting. */
  adoptedCount(): number {
    return this.adopted.size;
  }

  /** Every peer sent End-of-RIB: remove adopted routes that were not re-learned. */
  endOfRibAll(): void {
    this.sweep('end-of-rib');
  }

  status(prefix: string): PrefixStatus | undefined {
    return this.statuses.get(canonicalPrefix(prefix));
  }

  /** Human lines for `tern status`, one per cause, e.g. "tunl0 missing (3 routes pending)". */
  errors(): string[] {
    return summarizeErrors(this.statuses);
  }

  /** Kernel operations since start, routes installed and learned now (for metrics). */
  stats(): { replaced: number; removed: number; failed: number; installed: number; learned: number } {
    return { ...this.counters, installed: this.written.size, learned: this.learned.size };
  }

  /** Kernel errors seen since start, by code. */
  errorCounters(): ReadonlyMap<string, number> {
    return this.errorCounts;
  }

  /** Applies every pending change now and waits for the kernel's answers. */
  async flush(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      if (this.resyncing) await this.resyncing;
      this.tick();
      if (this.inflight.size === 0 && this.dirty.size === 0) return;
      await Promise.allSettled([...this.inflight.values()]);
    }
  }

  /** Stops timers and notifications; installed routes stay in the kernel. */
  stop(): void {
    this.stopped = true;
    for (const t of [this.tickTimer, this.staleTimer, this.resyncTimer, ...this.retryTimers.values()]) t?.cancel();
    this.retryTimers.clear();
    this.kernel.close();
  }

  // --- kernel state -------------------------------------------------------------------

  private async loadKernel(): Promise<void> {
    const [links, routes] = await Promise.all([this.kernel.links(), this.kernel.dump()]);
    this.observed.setLinks(links);
    this.observed.replaceAll(routes);
    const buffered = this.eventBuffer ?? [];
    this.eventBuffer = null;
    for (const replay of buffered) replay();
  }

  private onRoute(r: KernelRoute, present: boolean, replaced: boolean): void {
    if (this.stopped || r.table !== RT_TABLE_MAIN) return;
    if (this.eventBuffer) { this.eventBuffer.push(() => this.onRoute(r, present, replaced)); return; }
    if (!this.observed.apply(r, present, replaced)) return;
    if (this.observed.isConnected(r)) this.markAllRoutes();
    if (present && r.protocol === this.protocol && this.isEcho(r)) return;
    this.markDirty(r.prefix);
  }

  /** The notification of a write of ours (in flight, or equal to what we wrote): nothing to do. */
  private isEcho(r: KernelRoute): boolean {
    if (this.inflight.has(r.prefix)) return true; // the completion reconciles if needed
    const w = this.written.get(r.prefix);
    return w !== undefined && routeSignature(w) === routeSignature(r);
  }

  private onLink(l: Link, present: boolean): void {
    if (this.stopped) return;
    if (this.eventBuffer) { this.eventBuffer.push(() => this.onLink(l, present)); return; }
    const before = this.observed.link(l.ifindex);
    for (const p of this.observed.applyLink(l, present)) this.markDirty(p);
    if (!before || !present || before.up !== l.up || before.name !== l.name) this.markAllRoutes();
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    if (this.resyncing) {
      // losses reported during a dump may postdate it: dump once more afterwards
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.eventBuffer = [];
    this.resyncing = this.loadKernel()
      .then(() => this.markAll())
      .catch((e: unknown) => { this.eventBuffer = null; this.log.warn('fib resync failed', { event: 'fibResyncFailed', error: errorMessage(e) }); })
      .finally(() => {
        this.resyncing = undefined;
        if (this.resyncAgain) { this.resyncAgain = false; void this.resync(); }
        this.schedule();
      });
    return this.resyncing;
  }

  private armResync(): void {
    this.resyncTimer = this.clock.setTimer(this.opts.resyncIntervalMs, () => {
      void this.resync();
      if (!this.stopped) this.armResync();
    });
  }

  private sweep(why: string): void {
    if (!this.adoptionOpen) return;
    this.adoptionOpen = false;
    this.staleTimer?.cancel();
    this.log.info('fib adoption ended', { event: 'fibSweep', reason: why, adopted: this.adopted.size });
    for (const p of this.adopted) this.markDirty(p);
  }

  // --- reconciliation -----------------------------------------------------------------

  private markDirty(prefix: string): void {
    this.dirty.add(prefix);
    this.schedule();
  }

  /** Changes coalesce: one tick applies everything marked since the last one. */
  private schedule(): void {
    if (!this.started || this.stopped || this.tickTimer || this.dirty.size === 0) return;
    this.tickTimer = this.clock.setTimer(0, () => this.tick());
  }

  private markAllRoutes(): void {
    for (const p of this.bgp.keys()) this.markDirty(p);
  }

  private markAll(): void {
    for (const m of [this.bgp.keys(), this.ownBlocks, this.written.keys(), this.adopted, this.observed.prefixes(), this.learned]) {
      for (const p of m) this.dirty.add(p);
    }
    this.schedule();
  }

  private tick(): void {
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    if (!this.started || this.stopped || this.resyncing) return;
    const batch = this.dirty;
    this.dirty = new Set();
    const ctx = this.shapeContext();
    for (const p of batch) {
      this.updateLearned(p);
      if (this.inflight.has(p)) { this.redo.add(p); continue; }
      this.reconcile(p, ctx);
    }
  }

  private shapeContext(): ShapeContext {
    const t = this.observed.linkByName(this.opts.tunnelDev);
    return {
      pools: this.pools, nodeSubnetV4: this.nodeSubnetV4, connected: this.observed.connected(),
      tunnel: t ? { name: t.name, ifindex: t.ifindex, up: t.up } : undefined,
      protocol: this.protocol, table: RT_TABLE_MAIN, maxPaths: this.opts.maxPaths,
    };
  }

  private want(p: string, ctx: ShapeContext): Want {
    if (this.ownBlocks.has(p)) return { kind: 'route', route: blackholeFor(p, this.protocol, RT_TABLE_MAIN) };
    const nhs = this.bgp.get(p);
    if (!nhs) return { kind: 'none' };
    const s = shapeRoute(p, nhs, ctx);
    if (s.kind === 'skip') return { kind: 'none' };
    if (s.kind === 'unresolved') {
      const state: FibState = s.problem === 'unreachable' ? 'error' : 'pending';
      return { kind: 'blocked', state, code: PROBLEM_CODE[s.problem], error: s.reason };
    }
    const note = s.dropped.length ? `${s.dropped.length} next hop(s) left out: ${s.dropped.map((d) => d.nextHop).join(', ')}` : undefined;
    return { kind: 'route', route: s.route, note };
  }

  private reconcile(p: string, ctx: ShapeContext): void {
    const w = this.want(p, ctx);
    if (w.kind === 'route') {
      const alien = this.observed.alien(p, w.route.metric);
      if (alien) {
        this.setStatus(p, { state: 'pending', code: 'ERR_FIB_ALIEN_ROUTE', error: `prefix held by a proto ${alien.protocol} route at metric ${alien.metric ?? 0}; not replaced` });
        return;
      }
      const cur = this.observed.ours(p, w.route.metric);
      if (cur && !this.written.has(p) && isLearnable(cur, this.protocol, this.pools) && !this.ownBlocks.has(p)) {
        this.setStatus(p, { state: 'pending', code: 'ERR_FIB_LEARNED_ROUTE', error: `prefix held by a learned proto-bird ${cur.type} route; not replaced` });
        return;
      }
      if (cur && routeSignature(cur) === routeSignature(w.route)) {
        this.confirmed(p, w.route, w.note);
        return;
      }
      // Only a slot we hold is replaced: when we see none of ours there, add exclusively, so a
      // route of another protocol that our view has not caught up with yet is never overwritten
      // (EEXIST instead, retried once the notification has arrived).
      this.run(p, cur ? 'replace' : 'create', w.route, () => this.confirmed(p, w.route, w.note));
      return;
    }
    if (w.kind === 'blocked') this.setStatus(p, { state: w.state, code: w.code, error: w.error });
    else this.statuses.delete(p);
    const mine = this.written.get(p);
    const adoptedGone = this.adopted.has(p) && !this.adoptionOpen;
    if (!mine && !adoptedGone) return;
    const cur = this.observed.ours(p, mine?.metric);
    const done = (): void => { this.written.delete(p); this.adopted.delete(p); };
    if (!cur) { done(); return; }
    this.run(p, 'remove', cur, done);
  }

  private confirmed(p: string, r: KernelRoute, note?: string): void {
    this.written.set(p, r);
    this.adopted.delete(p);
    this.attempts.delete(p);
    this.setStatus(p, note ? { state: 'installed', error: note } : { state: 'installed' });
    this.updateLearned(p);
  }

  private run(p: string, op: 'replace' | 'create' | 'remove', r: KernelRoute, ok: () => void): void {
    const call = op === 'remove' ? this.kernel.remove(r) : this.kernel.replace(r, op === 'create');
    const done = call.then(
      () => {
        this.counters[op === 'remove' ? 'removed' : 'replaced']++;
        this.observed.apply(r, op !== 'remove');
        ok();
      },
      (e: unknown) => {
        const code = e instanceof DaemonError ? e.code : 'ERR_FIB_NETLINK_UNKNOWN';
        if (op === 'remove' && code === 'ERR_FIB_NETLINK_ESRCH') { this.observed.apply(r, false); ok(); return; }
        this.failed(p, op, r, code, errorMessage(e));
      },
    ).finally(() => {
      this.inflight.delete(p);
      if (this.redo.delete(p)) this.markDirty(p);
    });
    this.inflight.set(p, done);
  }

  private failed(p: string, op: string, r: KernelRoute, code: string, message: string): void {
    if (this.stopped) return;
    this.counters.failed++;
    this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
    if (!this.loggedCauses.has(code)) {
      this.loggedCauses.add(code); // once per cause; later ones are only counted
      this.log.warn('kernel refused a route', { event: 'fibKernelError', code, op, prefix: r.prefix, error: message });
    }
    this.setStatus(p, { state: 'error', code, error: message });
    const n = (this.attempts.get(p) ?? 0) + 1;
    this.attempts.set(p, n);
    const delay = Math.min(MAX_RETRY_MS, this.opts.retryBaseMs * 2 ** (n - 1));
    this.retryTimers.get(p)?.cancel();
    this.retryTimers.set(p, this.clock.setTimer(delay, () => { this.retryTimers.delete(p); this.markDirty(p); }));
  }

  private setStatus(p: string, s: PrefixStatus): void {
    this.statuses.set(p, s);
  }

  // --- learned routes -----------------------------------------------------------------

  /** proto-bird blackhole/unreachable/prohibit/device routes tern did not write, inside an enabled pool. */
  private updateLearned(p: string): void {
    const present = !this.ownBlocks.has(p) && !this.written.has(p)
      && this.observed.at(p).some((r) => isLearnable(r, this.protocol, this.pools));
    if (present === this.learned.has(p)) return;
    if (present) this.learned.add(p); else this.learned.delete(p);
    this.emit('learned', p, present);
  }
}
