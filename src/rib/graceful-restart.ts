// Graceful restart, receiving speaker side (RFC 4724 §4.2), over the Loc-RIB.
//
// Session down with GR applicable: the peer's paths of the GR families are marked stale
// (they stay in use for forwarding and export) and a timer of the peer's Restart Time
// starts. Expiry removes everything of the peer. Session back up: the restart timer stops;
// families whose new GR capability lacks the Forwarding State bit, or all of them when the
// capability is gone, are swept at once; the others keep their stale paths until the peer's
// End-of-RIB for that family, then the paths not re-advertised are swept. A stale timer
// bounds the wait for End-of-RIB. Session down without GR: everything is removed.
//
// No selection deferral: stale paths are ordinary candidates, so best paths do not move
// while the peer restarts and nothing needs to wait before advertising.
import type { Family } from '../net/prefix.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { LocRib } from './loc-rib.js';

export interface GrDownInfo {
  /** GR was negotiated and the session ended in a way GR covers (RFC 4724 §4.2, RFC 8538). */
  readonly gracefulRestartApplies: boolean;
  /** The peer's advertised Restart Time, seconds. */
  readonly restartTime: number;
  /** Families the peer's GR capability listed; their paths are kept stale. Others are removed. */
  readonly families: readonly Family[];
}

export interface GrUpInfo {
  /** Families with Forwarding State preserved in the new GR capability; null: no GR capability. */
  readonly preservedFamilies: readonly Family[] | null;
}

export type GrState = 'none' | 'restarting' | 'awaitingEndOfRib';

interface PeerGr {
  state: GrState;
  stale: Set<Family>;
  timer: TimerHandle | null;
}

export interface GracefulRestartOptions {
  /** Seconds to wait for End-of-RIB after the session is back (default 360, BIRD's stale time). */
  readonly staleTime?: number;
}

export class GracefulRestartHelper {
  private readonly peers = new Map<string, PeerGr>();

  constructor(
    private readonly rib: LocRib,
    private readonly clock: Clock,
    private readonly opts: GracefulRestartOptions = {},
  ) {}

  state(key: string): GrState {
    return this.peers.get(key)?.state ?? 'none';
  }

  staleFamilies(key: string): Family[] {
    return [...(this.peers.get(key)?.stale ?? [])];
  }

  /** Session down. Returns what happened to the peer's paths. */
  peerDown(key: string, info: GrDownInfo): 'stale' | 'removed' {
    const cur = this.take(key);
    if (!info.gracefulRestartApplies || info.families.length === 0 || info.restartTime <= 0) {
      this.rib.removeSource(key);
      return 'removed';
    }
    const stale = new Set<Family>(info.families);
    for (const f of ['ipv4', 'ipv6'] as const) {
      if (stale.has(f)) this.rib.markStale(key, f); // RFC 4724 §4.2: retain, mark stale
      else this.rib.removeSource(key, f);
    }
    // Down again before End-of-RIB: still stale, the restart timer starts over.
    for (const f of cur?.stale ?? []) if (!stale.has(f)) this.rib.removeSource(key, f);
    const entry: PeerGr = { state: 'restarting', stale, timer: null };
    entry.timer = this.clock.setTimer(info.restartTime * 1000, () => this.expire(key, entry));
    this.peers.set(key, entry);
    return 'stale';
  }

  /** Session established again. */
  peerUp(key: string, info: GrUpInfo): void {
    const e = this.peers.get(key);
    if (!e) return;
    e.timer?.cancel();
    e.timer = null;
    const keep = new Set(info.preservedFamilies ?? []);
    for (const f of [...e.stale]) {
      if (keep.has(f)) continue;
      this.rib.sweepStale(key, f); // RFC 4724 §4.2: no forwarding state preserved
      e.stale.delete(f);
    }
    if (e.stale.size === 0) { this.peers.delete(key); return; }
    e.state = 'awaitingEndOfRib';
    const secs = this.opts.staleTime ?? 360;
    e.timer = this.clock.setTimer(secs * 1000, () => this.expire(key, e));
  }

  /** End-of-RIB received for `family`: sweep what was not re-advertised. Returns the count. */
  endOfRib(key: string, family: Family): number {
    const e = this.peers.get(key);
    if (!e || e.state !== 'awaitingEndOfRib' || !e.stale.has(family)) return 0;
    const n = this.rib.sweepStale(key, family); // RFC 4724 §4.2
    e.stale.delete(family);
    if (e.stale.size === 0) this.take(key);
    return n;
  }

  /** Peer deconfigured: forget it and remove its paths. */
  forget(key: string): void {
    this.take(key);
    this.rib.removeSource(key);
  }

  close(): void {
    for (const e of this.peers.values()) e.timer?.cancel();
    this.peers.clear();
  }

  private take(key: string): PeerGr | undefined {
    const e = this.peers.get(key);
    if (e) { e.timer?.cancel(); this.peers.delete(key); }
    return e;
  }

  private expire(key: string, e: PeerGr): void {
    if (this.peers.get(key) !== e) return;
    this.peers.delete(key);
    if (e.state === 'restarting') this.rib.removeSource(key); // RFC 4724 §4.2: Restart Time over
    else for (const f of e.stale) this.rib.sweepStale(key, f); // stale time over, keep fresh paths
  }
}
