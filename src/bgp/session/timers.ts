// A session's RFC 4271 §10 timers (ConnectRetry, Hold, Keepalive) on the Clock, as the FSM's
// startTimer / stopTimer actions name them.
//
// The hold and keepalive timers restart on every message received and sent: when the running
// timer is due no later than the new time, only its due time moves, and it re-arms itself for
// the rest when it fires, so a message costs no clock timer cancelled and created.
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { FsmState, TimerName } from './fsm.js';

export class SessionTimers {
  /** Running timers: the clock timer and the time (clock ms) the timer is due. */
  private readonly running = new Map<TimerName, { handle: TimerHandle; due: number }>();

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
    const due = this.clock.now() + seconds * 1000;
    const running = this.running.get(name);
    if (running && running.due <= due) { running.due = due; return; }
    running?.handle.cancel();
    this.arm(name, due, seconds * 1000);
  }

  /** RFC 4271 §10: the KeepaliveTimer restarts whenever any message is sent. */
  messageSent(fsm: FsmState): void {
    const st = fsm.state;
    if ((st === 'OpenConfirm' || st === 'Established') && fsm.keepaliveTime > 0) this.start('keepalive', fsm.keepaliveTime);
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
