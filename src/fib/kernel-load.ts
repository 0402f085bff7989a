// Loading the kernel's state into FibSync's view: a load (dump of links and routes) runs with
// the notifications that arrive meanwhile held back and replayed right after it, so none is
// applied to a view the dump then replaces. A resync is a load after notifications were lost
// (an overrun) or on the safety-net timer; losses reported while one runs may postdate its
// dump, so it is followed by one more.
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

export class KernelLoader {
  private held: (() => void)[] | null = null;
  private again = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** The resync running now, if any. */
  running: Promise<void> | undefined;

  constructor(
    /** Dumps the kernel and replaces the view with what it read. */
    private readonly loadState: () => Promise<void>,
    private readonly log: Logger,
    private readonly hooks: { loaded: () => void; settled: () => void },
  ) {}

  /** A load runs: hold() would keep what it is given. */
  get holding(): boolean {
    return this.held !== null;
  }

  /** While a load runs, keeps `replay` for after it and returns true; else false. */
  hold(replay: () => void): boolean {
    if (!this.held) return false;
    this.held.push(replay);
    return true;
  }

  /** One load, notifications held from this call on; rejects as the dump does (held ones dropped). */
  async load(): Promise<void> {
    this.held = [];
    try {
      await this.loadState();
    } catch (e) {
      this.held = null;
      throw e;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const replay of held) replay();
  }

  resync(): Promise<void> | undefined {
    if (this.stopped) return undefined;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.load()
      .then(() => this.hooks.loaded())
      .catch((e: unknown) => { this.log.warn('fib resync failed', { event: 'fibResyncFailed', error: errorMessage(e) }); })
      .finally(() => {
        this.running = undefined;
        if (this.again) { this.again = false; void this.resync(); }
        this.hooks.settled();
      });
    return this.running;
  }

  /** A resync every `intervalMs` until stop(). */
  arm(clock: Clock, intervalMs: number): void {
    this.timer = clock.setTimer(intervalMs, () => {
      void this.resync();
      if (!this.stopped) this.arm(clock, intervalMs);
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
