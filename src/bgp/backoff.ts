// Exponential reconnect backoff with jitter (MetalLB backoff.go in spirit): the first delay
// is the configured connect retry time (Calico: 5 s), each failure doubles it up to a cap
// (60 s), and a successful session resets it. Jitter spreads a whole mesh that lost the
// same peer so it does not reconnect in lock-step.
//
// ConnectBackoff pairs it with a fast one for refused connects: a TCP RST means the peer's
// host is up but its speaker is not listening yet (a node starting, a daemon restarting),
// so the redial comes after 250 ms, doubling up to the connect retry time and staying there
// (BIRD's fixed `connect retry time`). Timeouts, errors and sessions that went down keep the
// slow doubling backoff. A whole mesh cold-starting converges in the time its slowest node
// takes to listen, not in multiples of 5 s.

export interface BackoffOptions {
  /** First delay, milliseconds. */
  readonly initialMs: number;
  /** Largest delay, milliseconds. */
  readonly maxMs: number;
  /** Fraction of the delay randomised, 0..1 (0.1: ±10 %). */
  readonly jitter?: number;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private delay: number;

  constructor(private readonly opts: BackoffOptions) {
    this.delay = this.compute();
  }

  /** The delay before the next attempt, milliseconds (stable until advance or reset). */
  current(): number {
    return this.delay;
  }

  /** Counts an attempt: the next delay doubles, up to maxMs. */
  advance(): void {
    this.attempt++;
    this.delay = this.compute();
  }

  reset(): void {
    this.attempt = 0;
    this.delay = this.compute();
  }

  get attempts(): number {
    return this.attempt;
  }

  private compute(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.attempt, 30));
    const jitter = this.opts.jitter ?? 0.1;
    const r = (this.opts.random ?? Math.random)();
    return Math.max(1, Math.round(base * (1 + jitter * (2 * r - 1))));
  }
}

/** What a session needs of its reconnect policy. */
export interface RetryPolicy {
  current(): number;
  advance(): void;
  reset(): void;
  /** The last connection attempt failed; `refused`: with ECONNREFUSED. */
  noteFailure(refused: boolean): void;
  /**
   * The session was ended by us for a fault that a reconnect may meet again (an internal
   * error, the prefix limit): the delay doubles, and a later successful session resets it
   * only down to the penalised level, so a peer that triggers it on every session does not
   * get a reconnect loop at the base rate.
   */
  penalize(): void;
}

export const REFUSED_FIRST_RETRY_MS = 250;

export class ConnectBackoff implements RetryPolicy {
  private readonly normal: Backoff;
  private readonly refused: Backoff;
  private refusedMode = false;
  private penalties = 0;

  constructor(opts: { connectRetryMs: number; maxMs: number; random?: () => number }) {
    const random = opts.random ? { random: opts.random } : {};
    this.normal = new Backoff({ initialMs: opts.connectRetryMs, maxMs: opts.maxMs, ...random });
    this.refused = new Backoff({ initialMs: Math.min(REFUSED_FIRST_RETRY_MS, opts.connectRetryMs), maxMs: opts.connectRetryMs, ...random });
  }

  noteFailure(refused: boolean): void {
    this.refusedMode = refused;
  }

  current(): number {
    return this.active().current();
  }

  advance(): void {
    this.active().advance();
  }

  reset(): void {
    this.refusedMode = false;
    this.normal.reset();
    for (let i = 0; i < this.penalties; i++) this.normal.advance();
    this.refused.reset();
  }

  penalize(): void {
    this.refusedMode = false;
    if (this.penalties < 16) this.penalties++;
    this.normal.advance();
  }

  private active(): Backoff {
    return this.refusedMode ? this.refused : this.normal;
  }
}
