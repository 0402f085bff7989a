// FibSync's kernel operations: at most one per prefix in flight, counted, errors logged once
// per cause and retried with exponential backoff, the end of a burst noticed.
//
// A write goes through KernelRoutes.write (a callback, no promise) when the kernel has it,
// else through replace/remove. The route written is FibSync's interned RouteForm, so a write
// in flight costs a Map entry and a small record; its answer comes back to one function made
// once, which finds the operation by its prefix.
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { DaemonError, errorMessage } from '../util/errors.js';
import { collectGarbage } from '../runtime/gc.js';
import { mallocTrim } from '../util/libc.js';
import { routeActivity } from '../runtime/idle-gc.js';
import { LARGE_BURST_OPS, largeBurstYoungGeneration, tightHeapGrowth } from '../runtime/heap-growth.js';
import { tieringBurst } from '../runtime/v8-flags.js';
import type { KernelRoutes } from './kernel.js';
import { routeOf, type RouteForm } from './table.js';

export type WriteOp = 'replace' | 'create' | 'remove';

/** The answer to one operation: its error (none: done), then the operation as it was asked. */
export type WriteDone = (err: { code: string; message: string } | undefined, p: string, op: WriteOp, form: RouteForm, note: string | undefined, changed?: boolean) => void;

/** What another did to the route of a write in flight (overtaken()): deleted it, or put another route of ours there. */
const GONE = 1;
const CHANGED = 2;

/** Kernel operations between two idle moments that make a burst (see WriterHooks.afterBurst). */
export const BURST_OPS = 10_000;
/** Kernel operations between two idle moments that give V8 its default tiering (runtime/v8-flags.ts). */
export const TIERING_BURST_OPS = 256;
const MAX_RETRY_MS = 60_000;

/** An operation in flight, as it was asked (what its answer is handed back with). */
interface InFlight {
  readonly op: WriteOp;
  readonly form: RouteForm;
  readonly note: string | undefined;
  readonly done: WriteDone;
  /** 0, or what another did to its route before the answer came (overtaken()). */
  after: 0 | typeof GONE | typeof CHANGED;
}

export interface WriterHooks {
  /** The backoff after an error of `p` ran out: reconcile it again. */
  retry(p: string): void;
  /** An operation of `p` is over (after its own callback). */
  settled(p: string): void;
  /** A burst of at least BURST_OPS operations is over (null: nothing to do). */
  afterBurst: ((ops: number) => void) | null;
  /**
   * A burst reached BURST_OPS operations (true) or is over (false). Default: the old
   * generation's growth held tight meanwhile (runtime/heap-growth.ts).
   */
  burst?: (on: boolean) => void;
  /** True while more work is waiting (then the burst is not over). */
  busy(): boolean;
}

export class KernelWriter {
  /** Prefixes with an operation in flight, with the operation. */
  private readonly inflight = new Map<string, InFlight>();
  private idleWaiters: (() => void)[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Map<string, TimerHandle>();
  readonly errorCounts = new Map<string, number>();
  private readonly loggedCauses = new Set<string>();
  readonly counters = { replaced: 0, removed: 0, failed: 0 };
  /** Operations since the writer was last idle. */
  private burstOps = 0;
  /** Operations since start. */
  totalOps = 0;
  private stopped = false;

  constructor(
    private readonly kernel: KernelRoutes,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly retryBaseMs: number,
    private readonly hooks: WriterHooks,
  ) {}

  get size(): number { return this.inflight.size; }
  has(p: string): boolean { return this.inflight.has(p); }
  /** The route being written for `p` (undefined: none; null: a removal). */
  writing(p: string): RouteForm | null | undefined {
    const w = this.inflight.get(p);
    return w === undefined ? undefined : w.op === 'remove' ? null : w.form;
  }

  /**
   * Writes or removes `form` at `p` (`v4`: `p` as parseIpv4Prefix's number, -1 when not
   * IPv4; handed to the kernel, which need not parse `p` again). `done` gets no error when
   * the kernel did it (a route already gone counts as removed), else the error, after it was
   * counted, logged and its retry scheduled; then the operation's own arguments, so that one
   * function made once can answer every operation (no closure per route on the caller's side).
   */
  run(p: string, v4: number, op: WriteOp, form: RouteForm, done: WriteDone, note?: string): void {
    this.inflight.set(p, { op, form, note, done, after: 0 });
    routeActivity();
    if (++this.burstOps === TIERING_BURST_OPS) tieringBurst(true);
    else if (this.burstOps === BURST_OPS) (this.hooks.burst ?? tightHeapGrowth)(true);
    else if (this.burstOps === LARGE_BURST_OPS && !this.hooks.burst) largeBurstYoungGeneration(true);
    this.totalOps++;
    if (this.kernel.write) this.kernel.write(op, p, v4, form, this.answered);
    else this.byPromise(p, op, form);
  }

  /** A kernel without `write` (apart from run: its closures would cost run a context per call). */
  private byPromise(p: string, op: WriteOp, form: RouteForm): void {
    const r = routeOf(p, form);
    const call = op === 'remove' ? this.kernel.remove(r) : this.kernel.replace(r, op === 'create');
    call.then(() => this.answered(undefined, p), (e: unknown) => this.answered(e ?? new Error('kernel operation failed'), p));
  }

  /**
   * The kernel's answer for `p` (one function for every operation: the operation is found by
   * its prefix, at most one is in flight per prefix).
   */
  private readonly answered = (e: unknown, p: string): void => {
    const w = this.inflight.get(p);
    if (!w) return;
    const { op, form, note, done } = w;
    try {
      if (e === undefined) {
        this.counters[op === 'remove' ? 'removed' : 'replaced']++;
        // a write whose route was deleted since: what it did is undone, answered as a removal
        done(undefined, p, w.after === GONE ? 'remove' : op, form, note, w.after === CHANGED);
        return;
      }
      const code = e instanceof DaemonError ? e.code : 'ERR_FIB_NETLINK_UNKNOWN';
      if (op === 'remove' && code === 'ERR_FIB_NETLINK_ESRCH') { done(undefined, p, op, form, note); return; }
      if (this.stopped) return;
      const message = errorMessage(e);
      this.failed(p, op, code, message);
      done({ code, message }, p, op, form, note);
    } finally {
      this.inflight.delete(p);
      this.hooks.settled(p);
      if (this.inflight.size === 0) this.onIdle();
    }
  };

  /**
   * Another deleted (`present` false) or put (true) a route of our protocol at `p`, `sig`, while
   * a write of ours is in flight: a deletion of the route being written undid the write; a
   * route other than it landed before or after it (its answer cannot tell). True when so.
   */
  overtaken(p: string, sig: string, present: boolean): boolean {
    const w = this.inflight.get(p);
    if (w === undefined || w.op === 'remove' || (w.form.sig === sig) !== !present) return false;
    w.after = present ? CHANGED : GONE;
    return true;
  }

  /** `p` is as wanted: its next error starts the backoff afresh. */
  succeeded(p: string): void {
    if (this.attempts.size > 0) this.attempts.delete(p);
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) t.cancel();
    this.retryTimers.clear();
  }

  private failed(p: string, op: string, code: string, message: string): void {
    this.counters.failed++;
    this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
    if (!this.loggedCauses.has(code)) {
      this.loggedCauses.add(code); // once per cause; later ones are only counted
      this.log.warn('kernel refused a route', { event: 'fibKernelError', code, op, prefix: p, error: message });
    }
    const n = (this.attempts.get(p) ?? 0) + 1;
    this.attempts.set(p, n);
    const delay = Math.min(MAX_RETRY_MS, this.retryBaseMs * 2 ** (n - 1));
    this.retryTimers.get(p)?.cancel();
    this.retryTimers.set(p, this.clock.setTimer(delay, () => { this.retryTimers.delete(p); this.hooks.retry(p); }));
  }

  /** Nothing in flight: wakes idle() callers; at the end of a burst, runs afterBurst. */
  private onIdle(): void {
    if (this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
    if (this.hooks.busy()) return; // the burst goes on
    const ops = this.burstOps;
    this.burstOps = 0;
    if (ops >= TIERING_BURST_OPS) tieringBurst(false);
    if (ops < BURST_OPS) return;
    (this.hooks.burst ?? tightHeapGrowth)(false);
    const after = this.hooks.afterBurst;
    if (!after) return;
    setImmediate(() => { if (!this.stopped) after(ops); }).unref();
  }
}

/**
 * The default afterBurst: one full GC (gc.ts), then malloc_trim, logged with what they
 * returned. The trim gives back the native memory the burst freed that malloc kept (in the
 * main heap and in V8's worker threads' arenas): 4–6 MiB of RSS after 100 000 routes, about
 * 15 MiB after 1 000 000 (docs/benchmarks.md).
 */
export function collectAfterBurst(log: Logger, ops: number): void {
  const before = process.memoryUsage();
  const t0 = performance.now();
  if (!collectGarbage()) return;
  const trimmed = mallocTrim();
  const after = process.memoryUsage();
  const mib = (n: number): number => Math.round(n / 2 ** 20);
  log.info('fib burst applied: garbage collected', {
    event: 'fibBurstGc', ops, ms: Math.round(performance.now() - t0), trimmed,
    heapUsedMiB: [mib(before.heapUsed), mib(after.heapUsed)], rssMiB: [mib(before.rss), mib(after.rss)],
  });
}
