// A session's RFC 4271 §10 timers (ConnectRetry, Hold, Keepalive) on the Clock, as the FSM's
// startTimer / stopTimer actions name them.
//
// The hold and keepalive timers restart on every message received and sent: when the running
// timer is due no later than the new time, only its due time moves, and it re-arms itself for
// the rest when it fires, so a message costs no clock timer cancelled and created.
//
// They also space the session's out-of-turn KEEPALIVE (`probe`) from the last message sent:
// RFC 4271 §4.4 allows at most one KEEPALIVE a second.
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { FsmState, TimerName } from './fsm.js';

export class SessionTimers {
  /** Running timers: the clock timer and the time (clock ms) the timer is due. */
  private readonly running = new Map<TimerName, { handle: TimerHandle; due: number }>();
  /** Clock ms of the last message sent in OpenConfirm or Established (-Infinity: none yet). */
  private lastSentAt = -Infinity;
  private probeTimer: TimerHandle | null = null;

  /**
   * Each clock callback runs under `guard` (the session's containment); `expired` is called
   * in it when a timer falls due without having been restarted for later or stopped.
   */
  constructor(
    private readonly clock: Clock,
    private readonly guard: (fn: () => void) => void,
    private readonly expired: (name: TimerName) => void,
  ) {}

  /** (Re)starts a timer to fire `seconds` from now. */
  start(name: TimerName, seconds: number): void {
    this.startAt(name, this.clock.now(), seconds);
  }

  /** RFC 4271 §10: the KeepaliveTimer restarts whenever any message is sent. */
  messageSent(fsm: FsmState): void {
    const st = fsm.state;
    if (st !== 'OpenConfirm' && st !== 'Established') return;
    const now = this.clock.now();
    this.lastSentAt = now;
    if (fsm.keepaliveTime > 0) this.startAt('keepalive', now, fsm.keepaliveTime);
  }

  private startAt(name: TimerName, now: number, seconds: number): void {
    const due = now + seconds * 1000;
    const running = this.running.get(name);
    if (running && running.due <= due) { running.due = due; return; }
    running?.handle.cancel();
    this.arm(name, due, seconds * 1000);
  }

  /** Calls `send` now, or one second after the last message sent; a probe already waiting covers this one. */
  probe(send: () => void): void {
    if (this.probeTimer) return;
    const wait = this.lastSentAt + 1000 - this.clock.now();
    if (wait <= 0) { send(); return; }
    this.probeTimer = this.clock.setTimer(wait, () => this.guard(() => { this.probeTimer = null; send(); }));
  }

  cancelProbe(): void {
    this.probeTimer?.cancel();
    this.probeTimer = null;
  }

  stop(name: TimerName): void {
    this.running.get(name)?.handle.cancel();
    this.running.delete(name);
  }

  private arm(name: TimerName, due: number, ms: number): void {
    const t = {
      due,
      handle: this.clock.setTimer(ms, () => this.guard(() => {
        if (this.running.get(name) !== t) return;
        const left = t.due - this.clock.now();
        if (left > 0) { this.arm(name, t.due, left); return; } // restarted since it was armed
        this.running.delete(name);
        this.expired(name);
      })),
    };
    this.running.set(name, t);
  }
}
