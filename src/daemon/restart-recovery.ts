// Restart recovery of one node, RFC 4724 §4.1 as a restarting speaker: the configured peers
// whose first End-of-RIB since start is still awaited, the selection deferral that holds
// every advertisement meanwhile, and the one moment recovery ends.
//
// Invariants
// - Recovery ends once: when the last awaited peer has sent End-of-RIB for its family (or
//   is no longer awaited: deconfigured, or it came up without the GR capability, restarting
//   itself, or without the family), or when end() is called (the stale time ran out). Then
//   the FIB sweeps adopted routes nobody re-advertised (endOfRibAll), a deferral is lifted,
//   and every onRecovered callback runs, in that order.
// - Deferral is only ever switched on while recovering, and only switched off by the end.
import type { Family } from '../net/prefix.js';
import type { PeerSpec } from '../peering/peer-spec.js';
import type { Logger } from '../util/log.js';

export interface RecoveryHooks {
  /** Holds (true) or releases (false) every peer's advertisement. */
  hold(on: boolean): void;
  /** Recovery is over: adopted kernel routes nobody re-advertised may go. */
  endOfRibAll(): void;
}

export class RestartRecovery {
  /** Configured peers (key → family) that have not yet sent End-of-RIB since start; null once recovered. */
  private awaiting: Map<string, Family> | null = new Map();
  private deferring = false;
  private readonly callbacks: (() => void)[] = [];

  constructor(private readonly hooks: RecoveryHooks, private readonly log: Logger) {}

  /** True until recovery ends. */
  get recovering(): boolean {
    return this.awaiting !== null;
  }

  /** True while advertisement is deferred. */
  get deferringAdvertisement(): boolean {
    return this.deferring;
  }

  /** Holds advertisement to every peer until recovery ends; call before expect(). */
  defer(): void {
    if (!this.awaiting || this.deferring) return;
    this.deferring = true;
    this.hooks.hold(true);
    this.log.info('restarting: route advertisement deferred until every peer has sent End-of-RIB', { event: 'selectionDeferred' });
  }

  /** The peers whose End-of-RIB ends recovery (before the first sessions). */
  expect(peers: readonly PeerSpec[]): void {
    if (!this.awaiting) return;
    for (const p of peers) this.awaiting.set(p.key, p.family);
    this.check();
  }

  /** A new configuration: peers no longer configured are not waited for. */
  keepOnly(configured: ReadonlySet<string>): void {
    if (!this.awaiting) return;
    for (const k of [...this.awaiting.keys()]) if (!configured.has(k)) this.awaiting.delete(k);
    this.check();
  }

  /** A peer removed from the configuration. */
  forget(key: string): void {
    this.awaiting?.delete(key);
    this.check();
  }

  /** A peer that came up and cannot send the End-of-RIB awaited from it (`reason` logged). */
  notAwaited(key: string, address: string, reason: string): void {
    if (!this.awaiting?.has(key)) return;
    this.awaiting.delete(key);
    this.log.info('not waiting for End-of-RIB from this peer', { event: 'endOfRibNotAwaited', peer: address, reason });
    this.check();
  }

  /** End-of-RIB from a peer for `family`. */
  endOfRib(key: string, family: Family): void {
    if (this.awaiting?.get(key) !== family) return;
    this.awaiting.delete(key);
    this.check();
  }

  /** Ends recovery now: every peer sent End-of-RIB, or the stale time ran out. */
  end(): void {
    if (!this.awaiting) return;
    if (this.awaiting.size > 0) {
      this.log.info('restart recovery ended without End-of-RIB from every peer', { event: 'recoveryTimeout', missing: [...this.awaiting.keys()] });
    }
    this.awaiting = null;
    this.hooks.endOfRibAll();
    if (this.deferring) {
      this.deferring = false;
      this.log.info('selection deferral over: advertising to peers', { event: 'selectionDeferralEnded' });
      this.hooks.hold(false);
    }
    for (const cb of this.callbacks) cb();
  }

  /** `cb` runs once when recovery ends (at once if it has). */
  onRecovered(cb: () => void): void {
    if (this.awaiting === null) cb();
    else this.callbacks.push(cb);
  }

  private check(): void {
    if (!this.awaiting || this.awaiting.size > 0) return;
    this.log.info('every peer has sent End-of-RIB', { event: 'allEndOfRib' });
    this.end();
  }
}
