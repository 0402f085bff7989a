// The etcd watch stall check: finds a watch that etcd moved past a compaction without
// cancelling it, so the datastore re-reads instead of keeping a wrong state for ever.
//
// Why. etcd cancels a watch whose next revision it has compacted away (the datastore then
// re-reads). etcd 3.4 (3.4.23 is Debian's) and 3.5 before the 2024 fix (etcd issue 17529,
// PR 17555) do not always: when the stream's send buffer is full at that moment (a slow
// client, a burst of writes), etcd moves the lagging watch on to the current revision
// without a word. The events in between are never sent, and the watch looks healthy
// afterwards: nothing times out, the connection is up, later changes arrive.
//
// How. A watch's position is the revision up to which it has delivered: its start − 1,
// then each response's last event (or a progress notification's revision). Every
// `intervalMs`, one single-key read at (the lowest position recorded at the last good check
// + 1) asks etcd whether that revision is compacted. A compacted answer at two checks in a
// row (one interval for a genuine cancellation still on its way) means etcd compacted past
// a position this watch held without cancelling it: `onStall` (the datastore re-reads).
// A healthy watch is never caught while etcd keeps more history than one interval; a watch
// with no events for longer than etcd's retention (etcd sends progress notifications every
// 10 minutes by default) is re-read once after such a compaction: a false alarm costs one
// full read, never a wrong state.
import type { IWatchResponse } from 'etcd3';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

/** Default interval between checks: a stalled watch is found 1–2 intervals after the compaction. */
export const WATCH_CHECK_MS = 20_000;

export interface WatchCheckOptions {
  clock: Clock;
  intervalMs: number;
  logger?: Logger;
  /** True when etcd has compacted `revision` away (a read at it is refused as compacted). */
  compacted(revision: number): Promise<boolean>;
  /** A watch was found stalled at `position`; called once, then the check stops. */
  onStall(position: number): void;
}

export class WatchCheck {
  /** Per watch: the revision up to which it has delivered. */
  private delivered: number[] = [];
  /** Per watch: its position when a check last found nothing compacted past it. */
  private verified: number[] = [];
  private strikes = 0;
  private timer: TimerHandle | undefined;
  private run = 0;

  constructor(private readonly opts: WatchCheckOptions) {}

  /** Starts checking `watches` watches that start at `fromRevision` (stops any earlier run). */
  start(fromRevision: number, watches: number): void {
    this.stop();
    this.delivered = Array.from({ length: watches }, () => fromRevision - 1);
    this.verified = this.delivered.slice();
    this.strikes = 0;
    this.schedule(this.run);
  }

  /** Records what watch `i` delivered in one response. */
  onResponse(i: number, res: IWatchResponse): void {
    const last = res.events.at(-1);
    const rev = Number(last ? last.kv.mod_revision : res.header.revision);
    if (rev > (this.delivered[i] ?? Infinity)) this.delivered[i] = rev;
  }

  stop(): void {
    this.run++;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(run: number): void {
    this.timer = this.opts.clock.setTimer(this.opts.intervalMs, () => void this.check(run));
  }

  private async check(run: number): Promise<void> {
    const now = this.delivered.slice();
    const position = Math.min(...this.verified);
    let compacted: boolean;
    try {
      compacted = await this.opts.compacted(position + 1);
    } catch (e) {
      // Unreachable etcd: the watch's own disconnect handling covers outages.
      if (run === this.run) {
        this.opts.logger?.debug('watch check failed', { event: 'watchCheckFailed', error: errorMessage(e) });
        this.schedule(run);
      }
      return;
    }
    if (run !== this.run) return;
    if (!compacted) {
      this.verified = now;
      this.strikes = 0;
    } else if (++this.strikes >= 2) {
      this.stop();
      this.opts.onStall(position);
      return;
    }
    this.schedule(run);
  }
}
