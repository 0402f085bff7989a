// The etcd watch creation check: finds a watch that etcd never confirmed, so the datastore
// replaces the etcd client's watch stream instead of waiting on it for ever.
//
// Why. The etcd3 client creates the watches of one client one at a time over a single gRPC
// stream, each after etcd confirmed the one before ('connected'). When etcd answers a
// creation with "created and cancelled" (its answer to a creation it refuses, e.g. a
// permission it lacks), the client drops that watcher with an 'error' but never moves its
// creation queue on: every watch added to that client while its stream lives (the stream is
// torn down only when its last watcher is gone) waits for ever, and the daemon would never
// see a datastore change again. A creation that gets no answer at all (a stream that stopped
// delivering) looks the same from here. Closing the client does not depend on that timing.
//
// How. start(n) marks watches 0..n-1 unconfirmed. A cancellation of an unconfirmed watch
// (cancelled(i) returns true), or any watch still unconfirmed `timeoutMs` after start, calls
// onFail(reason) once; the datastore then closes the client, re-reads at a new revision on a
// new one and watches from there. A cancellation after the confirmation is etcd's ordinary
// one (a compacted start revision) and stays with the caller. A lost connection is not this
// check's business: the caller stops it and handles the outage.
import type { Clock, TimerHandle } from '../util/clock.js';

/** Default bound on a watch's creation: two request timeouts. */
export const WATCH_CONFIRM_MS = 10_000;

export interface WatchConfirmOptions {
  clock: Clock;
  timeoutMs: number;
  /** A watch was cancelled before it was confirmed, or not confirmed in time; called once per start. */
  onFail(reason: string): void;
}

export class WatchConfirm {
  private pending = new Set<number>();
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: WatchConfirmOptions) {}

  /** Expects a confirmation for each of `watches` new watches (stops any earlier run). */
  start(watches: number): void {
    this.stop();
    this.pending = new Set(Array.from({ length: watches }, (_, i) => i));
    this.timer = this.opts.clock.setTimer(this.opts.timeoutMs, () => {
      this.timer = undefined;
      if (this.pending.size > 0) this.fail(`etcd did not confirm the watch's creation within ${this.opts.timeoutMs} ms`);
    });
  }

  /** Watch `i` was confirmed by etcd: true once all are. */
  confirmed(i: number): boolean {
    this.pending.delete(i);
    if (this.pending.size > 0) return false;
    this.stop();
    return true;
  }

  /** Watch `i` was cancelled by etcd: true when it had not been confirmed (then onFail ran). */
  cancelled(i: number): boolean {
    if (!this.pending.has(i)) return false;
    this.fail('etcd cancelled the watch before confirming its creation');
    return true;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.pending = new Set();
  }

  private fail(reason: string): void {
    this.stop();
    this.opts.onFail(reason);
  }
}
