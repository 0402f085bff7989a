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
 * The UPDATE-to-write clock of FibSync: armed by the first BGP input not yet followed by a
 * kernel write, sampled by the tick that writes.
 */
export class InputToWrite {
  /** performance.now() of the earliest BGP input not yet followed by a kernel write; 0: none. */
  private since = 0;
  readonly samples = new TimingSamples();

  /** A BGP UPDATE was read at `since`; `idle()` tells, a loop pass later, that no tick is due. */
  note(since: number, idle: () => boolean): void {
    if (this.since !== 0) return;
    this.since = since;
    // an UPDATE that changed nothing here leaves no tick behind by the next loop pass
    setImmediate(() => { if (idle()) this.since = 0; });
  }

  /** After a tick: `wrote` whether it issued a kernel write, `done` whether nothing is dirty. */
  ticked(wrote: boolean, done: boolean): void {
    if (this.since === 0) return;
    // the netlink datagram leaves in this same loop pass (util/soon.ts)
    if (wrote) this.samples.add(performance.now() - this.since);
    if (wrote || done) this.since = 0;
  }
}
