// Exponential reconnect backoff with jitter (MetalLB backoff.go in spirit): the first delay
// is the configured connect retry time (Calico: 5 s), each failure doubles it up to a cap
// (60 s), and a successful session resets it. Jitter spreads a whole mesh that lost the
// same peer so it does not reconnect in lock-step.

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
