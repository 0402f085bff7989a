// FibSync: the kernel FIB reconciler (BIRD krt / Felix route-table style). See index.ts for
// the model, the ownership rule and the invariants.
//
// Storage: all per-prefix state (BGP next hops, the route written, the routes observed, the
// installed and adopted marks) is one shared, interned Slot per prefix in a PrefixTable
// (table.ts), keyed by the prefix string the caller passed (the Loc-RIB's own). Statuses are
// kept only for prefixes that are not plainly installed (pending, error, or a note).
// This file takes the inputs (BGP routes, pools, own blocks) and the kernel's notifications
// and marks the prefixes they change; the queue of marked prefixes and the tick that applies
// them, bounded by the kernel operations in flight (MAX_INFLIGHT), are tick.ts's. Each marked
// prefix is brought to what is wanted by the Reconciler (reconcile.ts), which holds the
// pools, own blocks and adoption window and takes the kernel's answers.
import { EventEmitter } from 'node:events';
import type { FibSyncEvents, FibSyncOptions } from './fib-options.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { canonicalPrefix, familyOf, maxLength, prefixLength } from '../net/prefix.js';
import type { KernelRoute, KernelRoutes, Link } from './kernel.js';
import { ObservedTable } from './observed.js';
import { KernelLoader } from './kernel-load.js';
import { LearnedRoutes } from './learned.js';
import { InterfaceResolver } from './interfaces.js';
import { StatusBook, type PrefixStatus } from './status.js';
import { ADOPTED, DIRTY, PrefixTable, type RouteForm, type Slot } from './table.js';
import { Ticks } from './tick.js';
import { collectAfterBurst, KernelWriter } from './writer.js';
import { adoptable, Reconciler } from './reconcile.js';

export type { FibState, PrefixStatus } from './status.js';
export { MAX_INFLIGHT, type FibSyncEvents, type FibSyncOptions } from './fib-options.js';
import { RT_TABLE_MAIN } from './netlink-codec.js';
import { MAX_PATHS, routeSignature, TUNNEL_DEV, type Pool } from './route-shape.js';
import { soon } from '../util/soon.js';
import { InputToWrite, type TimingView } from './timing.js';

export class FibSync extends EventEmitter<FibSyncEvents> {
  private readonly kernel: KernelRoutes;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly protocol: number;
  private readonly opts: Required<Pick<FibSyncOptions, 'staleTimeMs' | 'resyncIntervalMs' | 'retryBaseMs' | 'tunnelDev' | 'maxPaths'>>;
  private readonly defer: (fn: () => void) => TimerHandle;
  /** Per prefix: BGP next hops, route written, routes observed, installed/adopted marks. */
  private readonly table = new PrefixTable();
  private readonly observed: ObservedTable;

  /** Pools, own blocks, adoption window; one prefix brought to what is wanted. */
  private readonly rec: Reconciler;

  private readonly ifaces: InterfaceResolver;
  private readonly learned: LearnedRoutes;
  private interfacesPending = false;
  private readonly statuses = new StatusBook(this.table);

  /** Prefixes waiting for a tick, and the tick. */
  private readonly ticks: Ticks;
  /** Kernel operations in flight (at most one per prefix), errors and retries. */
  private readonly writer: KernelWriter;

  /** Dumps (start, resync), notifications held back while one runs. */
  private readonly loader: KernelLoader;
  private started = false;
  private watching = false;
  private stopped = false;
  private staleTimer: TimerHandle | undefined;
  private readonly inputToWrite = new InputToWrite();

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
      maxPaths: o.maxPaths ?? MAX_PATHS,
    };
    this.defer = o.defer ?? soon;
    this.observed = new ObservedTable(this.table, this.protocol);
    this.ifaces = new InterfaceResolver(this.observed, this.protocol);
    this.learned = new LearnedRoutes(this.observed, this.ifaces, this.protocol);
    this.loader = new KernelLoader(() => this.loadKernel(), this.log, { loaded: () => this.ticks.markAll(), settled: () => this.ticks.schedule() });
    this.writer = new KernelWriter(this.kernel, this.clock, this.log, this.opts.retryBaseMs, {
      retry: (p) => this.ticks.mark(p),
      settled: (p) => this.ticks.settled(p),
      afterBurst: o.afterBurst === undefined ? (ops) => collectAfterBurst(this.log, ops) : o.afterBurst,
      busy: () => this.ticks.size > 0,
    });
    this.rec = new Reconciler({
      table: this.table, observed: this.observed, statuses: this.statuses, writer: this.writer, loader: this.loader,
      learned: this.learned, protocol: this.protocol, learnedChanged: (p, present) => this.emit('learned', p, present),
    });
    this.ticks = new Ticks({
      table: this.table, observed: this.observed, rec: this.rec, writer: this.writer, loader: this.loader, learned: this.learned,
      inputToWrite: this.inputToWrite, defer: this.defer, protocol: this.protocol, tunnelDev: this.opts.tunnelDev, maxPaths: this.opts.maxPaths,
    });
  }

  // --- public API ---------------------------------------------------------------------

  /** Subscribes, dumps links and routes, adopts pre-existing proto-bird routes, reconciles. */
  async start(): Promise<void> {
    if (this.started) return;
    if (!this.watching) this.kernel.watch(
      (r, present, replaced) => this.onRoute(r, present, replaced ?? false),
      (l, present) => this.onLink(l, present),
      () => { this.log.warn('kernel notifications lost, resyncing', { event: 'fibEventsLost' }); void this.loader.resync(); },
    );
    this.watching = true; // a start() that failed on the dump may be called again
    await this.loader.load();
    for (const p of [...this.observed.prefixes()]) {
      const r = this.observed.ours(this.observed.at(p), undefined);
      if (r && adoptable(r)) this.table.setFlags(p, ADOPTED, 0);
    }
    this.started = true;
    this.ticks.on = !this.stopped;
    this.log.info('fib sync started', { event: 'fibStarted', adopted: this.table.adoptedCount, staleTimeMs: this.opts.staleTimeMs });
    this.staleTimer = this.clock.setTimer(this.opts.staleTimeMs, () => this.sweep('stale timer'));
    this.loader.arm(this.clock, this.opts.resyncIntervalMs);
    this.ticks.markAll();
  }

  /** Pools (for shaping and for what counts as learned) and the node's IPv4 subnet. */
  setPools(pools: readonly Pool[], nodeSubnetV4?: string): void {
    this.rec.pools = pools.map((p) => ({ ...p, cidr: canonicalPrefix(p.cidr) }));
    this.ticks.nodeSubnetV4 = nodeSubnetV4 ? canonicalPrefix(nodeSubnetV4) : undefined;
    this.ticks.markAll();
  }

  /**
   * Learn, or stop learning, what calico-node's BIRD holds beyond pool routes (alien kernel
   * routes outside pools, connected subnets: extraLearnable). Off by default: the daemon
   * turns it on only while some peer's export filter could accept such a route.
   */
  setLearnExtra(on: boolean): void {
    if (on === this.learned.learnExtra) return;
    this.learned.learnExtra = on;
    this.ticks.markAll();
  }

  /** The node's confirmed block affinities; each becomes `blackhole <block> proto bird`. */
  setOwnBlocks(cidrs: readonly string[]): void {
    const next = new Set<string>();
    for (const c of cidrs) {
      const p = canonicalPrefix(c);
      if (prefixLength(p) < maxLength(familyOf(p))) next.add(p); // Calico: no blackhole for /32 blocks
    }
    for (const p of this.rec.ownBlocks) if (!next.has(p)) this.ticks.mark(p);
    for (const p of next) if (!this.rec.ownBlocks.has(p)) this.ticks.mark(p);
    this.rec.ownBlocks = next;
  }

  /** Best path (or multipath set) change from BGP; null withdraws. Applied on the next tick. */
  setRoute(prefix: string, nextHops: readonly string[] | null): void {
    this.setCanonicalRoute(canonicalPrefix(prefix), nextHops);
  }

  /**
   * setRoute for a prefix already in canonical form (a Loc-RIB key): not parsed again, and
   * this very string is what the FIB keeps. `nextHops` is not kept (the caller may reuse it).
   */
  setCanonicalRoute(prefix: string, nextHops: readonly string[] | null): void {
    const nh = nextHops && nextHops.length > 0 ? this.table.nhList(nextHops) : null;
    const s = this.table.get(prefix);
    // no route before or now, none written or adopted, no own block (a learned route's local path): nothing to do
    if (nh === null && s.nh === null && s.written === null && (s.flags & ADOPTED) === 0 && !this.rec.ownBlocks.has(prefix)) return;
    this.table.setNh(prefix, nh, s, DIRTY);
    this.inputToWrite.route();
    if ((s.flags & DIRTY) === 0) this.ticks.flagged(prefix);
    this.ticks.schedule();
  }

  /** Routes of a previous run adopted at start() (0 after a clean start): we are restarting. */
  adoptedCount(): number {
    return this.table.adoptedCount;
  }

  /** Every peer sent End-of-RIB: remove adopted routes that were not re-learned. */
  endOfRibAll(): void {
    this.sweep('end-of-rib');
  }

  status(prefix: string): PrefixStatus | undefined {
    const p = canonicalPrefix(prefix);
    return this.statuses.get(p);
  }

  /** Human lines for `tern status`, one per cause, e.g. "tunl0 missing (3 routes pending)". */
  errors(): string[] {
    return this.statuses.summary();
  }

  /** Prefixes waiting for a tick plus kernel operations in flight (what BGP input may be held back for). */
  get backlog(): number {
    return this.ticks.size + this.writer.size;
  }

  /** Kernel operations since start, routes installed and learned now (for metrics). */
  stats(): { replaced: number; removed: number; failed: number; installed: number; learned: number } {
    return { ...this.writer.counters, installed: this.table.writtenCount, learned: this.learned.prefixes.size };
  }

  /**
   * A BGP UPDATE was read at `since` (performance.now()): the next tick that writes to the
   * kernel records how long after it the write was issued.
   */
  noteInput(since: number, ribPending = false): void {
    // idle: no earlier input pending in the Loc-RIB (`ribPending`) or here; nothing is armed
    this.inputToWrite.note(since, !ribPending && !this.ticks.armed && this.ticks.size === 0);
  }

  /** UPDATE read → kernel write issued, per tick (see noteInput). */
  timings(): { updateToKernel: TimingView } {
    return { updateToKernel: this.inputToWrite.samples.view() };
  }

  /** Kernel errors seen since start, by code. */
  errorCounters(): ReadonlyMap<string, number> {
    return this.writer.errorCounts;
  }

  /** Applies every pending change now and waits for the kernel's answers. */
  async flush(): Promise<void> {
    for (let rounds = 0; rounds < 20;) {
      if (this.loader.running) await this.loader.running;
      const cut = this.ticks.tick();
      if (this.writer.size === 0 && this.ticks.size === 0) return;
      if (!cut) rounds++; // a tick cut short by MAX_INFLIGHT is progress, not a round
      await this.writer.idle();
    }
  }

  /** Stops timers and notifications; installed routes stay in the kernel. */
  stop(): void {
    this.stopped = true;
    this.ticks.stop();
    this.staleTimer?.cancel();
    this.loader.stop();
    this.writer.stop();
    this.kernel.close();
  }

  // --- kernel state -------------------------------------------------------------------

  private async loadKernel(): Promise<void> {
    const [links, routes] = await Promise.all([this.kernel.links(), this.kernel.dump()]);
    this.observed.setLinks(links);
    this.observed.replaceAll(routes);
    if (this.ifaces.reset()) this.interfacesChanged();
  }

  private onRoute(r: KernelRoute, present: boolean, replaced: boolean): void {
    if (this.stopped || r.table !== RT_TABLE_MAIN) return;
    if (this.loader.holding && this.loader.hold(() => this.onRoute(r, present, replaced))) return; // no closure per notification otherwise
    const ours = r.protocol === this.protocol;
    // the notification of a write still in flight: stored as the form written (no new form)
    const writing = present && ours ? this.writer.writing(r.prefix) : undefined;
    // a route of ours deleted while a write is in flight (the view may not hold it yet)
    if (!present && ours && this.writer.overtaken(r.prefix, routeSignature(r), false)) this.ticks.mark(r.prefix);
    const form = this.observed.apply(r, present, replaced, writing ?? undefined);
    if (!form) return;
    if (!ours && this.ifaces.routeChanged(r.prefix)) this.interfacesChanged();
    if (this.observed.isConnected(r.prefix, r)) this.ticks.markAllRoutes();
    // another route of ours put there while a write is in flight: reconciled after its answer
    if (present && ours && this.writer.overtaken(r.prefix, form.sig, true)) { this.ticks.mark(r.prefix); return; }
    if (present && ours && this.isEcho(r.prefix, form, this.observed.lastSlot)) return;
    this.ticks.mark(r.prefix);
  }

  /** The notification of a write of ours (in flight, or equal to what we wrote): nothing to do. */
  private isEcho(prefix: string, form: RouteForm, s: Slot): boolean {
    if (this.writer.has(prefix)) return true; // the completion reconciles if needed
    const w = s.written;
    return w !== null && w.sig === form.sig;
  }

  private onLink(l: Link, present: boolean): void {
    if (this.stopped) return;
    if (this.loader.hold(() => this.onLink(l, present))) return;
    const before = this.observed.link(l.ifindex);
    for (const p of this.observed.applyLink(l, present)) this.ticks.mark(p);
    if (!before || !present || before.up !== l.up || before.name !== l.name) {
      this.ticks.markAllRoutes();
      if (this.ifaces.reset()) this.interfacesChanged();
    }
  }

  private sweep(why: string): void {
    if (!this.rec.adoptionOpen) return;
    this.rec.adoptionOpen = false;
    this.staleTimer?.cancel();
    this.log.info('fib adoption ended', { event: 'fibSweep', reason: why, adopted: this.table.adoptedCount });
    for (const [p, s] of this.table.entries()) if (s.flags & ADOPTED) this.ticks.mark(p, s);
  }

  // --- learned routes -----------------------------------------------------------------

  /** The learned route of `p` leaves through a `*.cali` / `*.calico` device (BIRD's ifname). */
  learnedOnTunnel(p: string): boolean {
    return this.learned.onTunnel(p);
  }

  /** The learned route of `p` is an extraLearnable one (exported only by a BGPFilter Accept). */
  learnedIsExtra(p: string): boolean {
    return this.learned.isExtra(p);
  }

  /** BIRD's `krt_metric` of the learned route of `p`; undefined when it has none (a connected subnet). */
  learnedMetric(p: string): number | undefined {
    return this.learned.metricOf(p);
  }

  /** BIRD's `ifname` of the learned route of `p`: its first next hop's device; "" when none. */
  learnedInterface(p: string): string {
    return this.learned.interfaceOf(p);
  }

  /** The interface the kernel reaches `address` through (BIRD `gateway recursive`); "" when unknown. */
  interfaceToward(address: string): string {
    return this.ifaces.toward(address);
  }

  /** Reports 'interfaces' once for a burst of changes. */
  private interfacesChanged(): void {
    if (this.interfacesPending) return;
    this.interfacesPending = true;
    this.defer(() => {
      this.interfacesPending = false;
      if (!this.stopped) this.emit('interfaces');
    });
  }
}
