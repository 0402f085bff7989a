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
// A healthy watch is never caught while etcd keeps more history than one interval. A watch
// with no events for longer than etcd's retention (etcd sends progress notifications every
// 10 minutes by default) falls behind a compaction without having missed anything: where
// its prefix is cheap to read (`unchanged`: the node's own block affinities), a read that
// finds exactly the state held moves its position on; otherwise it is re-read once after
// such a compaction: a false alarm costs one full read, never a wrong state.
import type { IWatchResponse } from 'etcd3';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { Resource } from '../model/types.js';
import type { EtcdConnection } from './etcd-client.js';
import { prefixEnd } from './etcd-keys.js';

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
  /**
   * A revision up to which watch `i`'s prefix in etcd is exactly the state held (so the
   * watch has nothing undelivered up to it), or undefined when it differs or is not read.
   */
  unchanged?(i: number): Promise<number | undefined>;
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
    let position = Math.min(...this.verified);
    let compacted: boolean;
    try {
      compacted = await this.opts.compacted(position + 1);
      if (run !== this.run) return;
      if (compacted && this.opts.unchanged) {
        for (let i = 0; i < now.length && run === this.run; i++) {
          const upTo = await this.opts.unchanged(i);
          if (upTo === undefined || run !== this.run) continue;
          this.delivered[i] = Math.max(this.delivered[i]!, upTo);
          this.verified[i] = Math.max(this.verified[i]!, upTo);
          now[i] = Math.max(now[i]!, upTo);
        }
        position = Math.min(...this.verified);
        compacted = await this.opts.compacted(position + 1);
      }
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
      this.opts.logger?.debug('watch checked', { event: 'watchChecked', watchPositions: now });
    } else if (++this.strikes >= 2) {
      this.stop();
      this.opts.onStall(position);
      return;
    }
    this.schedule(run);
  }
}

/** True when etcd refuses a read (of one key) at `revision` as compacted; a future one is not. */
export async function compactedAt(connection: EtcdConnection, key: string, revision: number): Promise<boolean> {
  try {
    await connection.request(() => connection.client.kv.range({ key: Buffer.from(key), revision: String(revision), keys_only: true }, { deadline: connection.deadline() }));
    return false;
  } catch (e) {
    const msg = errorMessage(e);
    if (/required revision has been compacted/.test(msg)) return true;
    if (/required revision is a future revision/.test(msg)) return false;
    throw e;
  }
}

/**
 * The revision at which the keys under `prefix` in etcd are exactly those in `held` (same
 * keys, same mod revisions), or undefined.
 */
export async function unchangedAt(connection: EtcdConnection, prefix: string, held: Map<string, Resource>): Promise<number | undefined> {
  const res = await connection.request(() => connection.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true }, { deadline: connection.deadline() }));
  let count = 0;
  for (const key of held.keys()) if (key.startsWith(prefix)) count++;
  const same = res.kvs.length === count && res.kvs.every((kv) => held.get(kv.key.toString())?.metadata.resourceVersion === String(kv.mod_revision));
  return same ? Number(res.header.revision) : undefined;
}
