// Time, injected. Sessions, backoff, GR timers and reconcilers take a Clock so tests drive
// them with FakeClock instead of waiting.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that only moves when told to. Timers fire in due order during advance(). */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, t] of this.timers) if (t.due <= end && t.due < nextDue) { nextDue = t.due; nextId = id; }
      if (nextId < 0) break;
      const t = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.time = Math.max(this.time, t.due);
      t.fn();
    }
    this.time = end;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
