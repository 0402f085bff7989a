// Backpressure from the kernel to BGP: while the FIB's backlog (prefixes waiting for a tick
// plus kernel writes in flight) is above INPUT_GATE_HIGH, a peer whose UPDATE was just
// applied stops being read. The kernel's receive buffer fills, TCP closes the peer's window
// and the peer waits; reading resumes once the backlog is down to INPUT_GATE_LOW.
//
// Why: a peer sends an initial table far faster than the kernel takes routes (BIRD's
// 1 000 000 routes reached the Loc-RIB in ~10 s while the kernel took ~40 s), so without it
// the whole table and its garbage pile up in the heap ahead of the kernel.
//
// Invariants: a peer is never held longer than MAX_PAUSE_MS at a time (every peer is then
// read again, so KEEPALIVEs and the hold timer are never starved, and a kernel that stops
// answering does not stop BGP); a peer is read again when its session goes down (a new
// connection starts reading anyway); without a FIB nothing is held.
import type { PeerHandle } from '../bgp/session/peer.js';
import type { Clock, TimerHandle } from '../util/clock.js';

export const INPUT_GATE_HIGH = 32_768;
export const INPUT_GATE_LOW = 8_192;
/** Longest single pause: well below the smallest hold time a session may negotiate (3 s). */
const MAX_PAUSE_MS = 1_000;
const CHECK_MS = 10;

export class InputGate {
  private readonly held = new Set<PeerHandle>();
  private timer: TimerHandle | null = null;
  private since = 0;

  constructor(private readonly backlog: () => number, private readonly clock: Clock) {}

  /** An UPDATE of `h` was applied: hold `h` back while the backlog is high. */
  check(h: PeerHandle): void {
    // written so that NaN (a FIB with no backlog figure) holds nobody
    if (!(this.backlog() >= INPUT_GATE_HIGH) || this.held.has(h)) return;
    h.pauseInput();
    this.held.add(h);
    if (this.timer === null) {
      this.since = this.clock.now();
      this.arm();
    }
  }

  /** `h`'s session went down: nothing to resume for it. */
  forget(h: PeerHandle): void {
    this.held.delete(h);
  }

  /** Reads every held peer again. */
  release(): void {
    this.timer?.cancel();
    this.timer = null;
    const held = [...this.held];
    this.held.clear();
    for (const h of held) h.resumeInput();
  }

  private arm(): void {
    this.timer = this.clock.setTimer(CHECK_MS, () => {
      this.timer = null;
      if (this.backlog() <= INPUT_GATE_LOW || this.clock.now() - this.since >= MAX_PAUSE_MS) this.release();
      else this.arm();
    });
  }
}
