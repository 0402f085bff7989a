// FibSync's options, its events, and the bound on kernel operations in flight.
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { KernelRoutes } from './kernel.js';

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
  /**
   * Runs the reconciliation tick soon after a change; default `soon` (util/soon.ts; a timer would add
   * a millisecond or more per hop). Tests driven by a FakeClock pass one of their own.
   */
  defer?: (fn: () => void) => TimerHandle;
  /**
   * Called (on a later turn) once a burst of at least BURST_OPS (writer.ts) kernel operations
   * has been applied, with nothing dirty or in flight any more. Default: one full GC (gc.ts),
   * which returns the burst's garbage, then malloc_trim (util/libc.ts); null: nothing.
   */
  afterBurst?: ((ops: number) => void) | null;
}


export interface FibSyncEvents {
  /** A learned route came, went, or changed its interface. */
  learned: [prefix: string, present: boolean];
  /** The interface a next hop is reached through may have changed (interfaceToward). */
  interfaces: [];
}

/**
 * Kernel operations in flight at most; a tick stops there and the next one runs as they
 * complete. Above what NetlinkKernel keeps in flight (4 datagrams of 512), so it never waits.
 */
export const MAX_INFLIGHT = 4096;
