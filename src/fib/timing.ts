// Time from a BGP UPDATE read to the kernel write it caused, per FIB tick: the last
// SAMPLES samples, their count and maximum. Read by the control socket's `fibTimings`
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
