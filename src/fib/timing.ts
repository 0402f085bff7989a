// Time from a BGP UPDATE read to the kernel write it caused, per FIB tick (InputToWrite):
// the last SAMPLES samples, their count and maximum. Read by the control socket's `fibTimings`
// (the bench reports it per node for churn); one number per tick, never per route.
const SAMPLES = 256;

export interface TimingView { count: number; maxMs: number; lastMs: number[] }

export class TimingSamples {
  private readonly ring = new Float64Array(SAMPLES);
  count = 0;
  maxMs = 0;

  add(ms: number): void {
    this.ring[this.count % SAMPLES] = ms;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  view(): TimingView {
    const n = Math.min(this.count, SAMPLES);
    const lastMs: number[] = [];
    for (let i = this.count - n; i < this.count; i++) lastMs.push(+this.ring[i % SAMPLES]!.toFixed(3));
    return { count: this.count, maxMs: +this.maxMs.toFixed(3), lastMs };
  }
}

/**
 * The UPDATE-to-write clock of FibSync: started by a BGP input read while nothing earlier is
 * on its way to the kernel, sampled by the tick that writes a BGP route change.
 *
 * Nothing is armed per input. Whether an earlier input is still on its way is decided from
 * state the FIB and the Loc-RIB keep anyway (`note`'s `idle`): an input that changed nothing
 * leaves both idle, and the next input restarts the clock. A write that no BGP route change
 * reached (own blocks, kernel events) ends the clock without a sample.
 */
export class InputToWrite {
  /** performance.now() of the earliest BGP input not yet followed by a kernel write; 0: none. */
  private since = 0;
  /** A BGP best-path change reached the FIB since the clock started. */
  private routed = false;
  readonly samples = new TimingSamples();

  /**
   * A BGP UPDATE was read at `since`; `idle`: no earlier input is pending anywhere (no Loc-RIB
   * flush, no FIB tick, nothing dirty), so a running clock belongs to an input that changed nothing.
   */
  note(since: number, idle: boolean): void {
    if (this.since === 0 || idle) {
      this.since = since;
      this.routed = false;
    }
  }

  /** A BGP best-path change was handed to the FIB (one field write: per route). */
  route(): void {
    this.routed = true;
  }

  /** After a tick: `wrote` whether it issued a kernel write, `done` whether nothing is dirty. */
  ticked(wrote: boolean, done: boolean): void {
    if (this.since === 0) return;
    // the netlink datagram leaves in this same loop pass (util/soon.ts)
    if (wrote && this.routed) this.samples.add(performance.now() - this.since);
    if (wrote || done) {
      this.since = 0;
      this.routed = false;
    }
  }
}
