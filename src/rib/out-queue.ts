// The prefixes an Adj-RIB-Out member still has to look at (adj-rib-out.ts), in three lists:
//
// - waiting: a set, one entry per prefix however often it changed, for a member that is
//   blocked (its sink is full) or held (selection deferral), and for resyncs; drained by one
//   iterator kept across batches (a new iterator per batch would step over every entry
//   deleted before it, quadratic in a large backlog);
// - fresh: the prefixes of the Loc-RIB flush being delivered (a flush lists a prefix once)
//   that concern the member, for a member able to write: an array read by index, no hashing;
// - gone: the prefixes of that flush left with no path (nothing to advertise for them). In a
//   small flush (a route event) the member looked each up as the change arrived and queued
//   only those it was sent, with what it was sent (in a full iBGP mesh a withdrawal from the
//   mesh then touches no member); in a large one it looks each up when it takes it, next to
//   the diff that removes it (adj-rib-out-manager.ts, LOOKUP_AT_ONCE_MAX).
//
// Invariant: fresh and gone live only from a flush's delivery to the pump that follows it;
// when the member blocks or is held, what is left of them moves to `waiting` (spill), and
// looked-up values are dropped (a waiting prefix is looked up when taken). A prefix may sit
// in waiting and fresh at once: the member's diff is idempotent, so it is sent once. A gone
// prefix's looked-up value would be made stale by a diff of the same prefix taken before it,
// so a value is queued only while nothing waits (the caller checks `noneWaiting`), and a
// flush lists a prefix once.

/** What takeGoneSent() gives for a gone prefix not looked up yet. */
export const NOT_LOOKED_UP: unique symbol = Symbol('not looked up');

export class OutQueue {
  private readonly waiting = new Set<string>();
  private it: Iterator<string> | null = null;
  private fresh: string[] = [];
  private freshAt = 0;
  private gone: string[] = [];
  /** What the member had sent for gone[i], when it was looked up as it was queued (else empty). */
  private goneSent: unknown[] = [];
  private goneAt = 0;
  /** What the member had sent for the prefix nextGone() returned last (takeGoneSent). */
  private lastGoneSent: unknown = undefined;

  /** Nothing in the waiting set: a gone prefix may carry its looked-up value (see the header). */
  get noneWaiting(): boolean {
    return this.waiting.size === 0;
  }

  get empty(): boolean {
    return this.waiting.size === 0 && this.fresh.length === 0 && this.gone.length === 0;
  }

  /** Waits in the set (deduplicated) until taken. */
  add(prefix: string): void {
    this.waiting.add(prefix);
  }

  /** A prefix of the flush being delivered that concerns the member. */
  addFresh(prefix: string): void {
    this.fresh.push(prefix);
  }

  /** A prefix of the flush being delivered that has no path any more, to be looked up when taken. */
  addGone(prefix: string): void {
    this.gone.push(prefix);
  }

  /** The same, looked up already: `sent` is what the member had sent for it (one delivery queues all its gone prefixes one way or all the other). */
  addGoneSent(prefix: string, sent: unknown): void {
    this.gone.push(prefix);
    this.goneSent.push(sent);
  }

  /** The next waiting prefix, removed from the set; undefined when none waits. */
  nextWaiting(): string | undefined {
    if (this.waiting.size === 0) return undefined;
    const r = (this.it ??= this.waiting.values()).next();
    if (r.done) { this.it = null; return undefined; }
    this.waiting.delete(r.value);
    return r.value;
  }

  nextFresh(): string | undefined {
    if (this.freshAt >= this.fresh.length) return undefined;
    const p = this.fresh[this.freshAt++];
    if (this.freshAt === this.fresh.length) { this.fresh = []; this.freshAt = 0; }
    return p;
  }

  /** The next gone prefix; takeGoneSent() then gives what the member had sent for it (or NOT_LOOKED_UP). */
  nextGone(): string | undefined {
    if (this.goneAt >= this.gone.length) return undefined;
    this.lastGoneSent = this.goneSent.length > 0 ? this.goneSent[this.goneAt] : NOT_LOOKED_UP;
    const p = this.gone[this.goneAt++];
    if (this.goneAt === this.gone.length) { this.gone = []; this.goneSent = []; this.goneAt = 0; }
    return p;
  }

  /** What the member had sent for the prefix nextGone() returned last; not kept after this call. */
  takeGoneSent(): unknown {
    const sent = this.lastGoneSent;
    this.lastGoneSent = undefined;
    return sent;
  }

  /** What is left of fresh and gone into the set (the member blocked or is held). */
  spill(): void {
    for (let i = this.freshAt; i < this.fresh.length; i++) this.waiting.add(this.fresh[i]!);
    for (let i = this.goneAt; i < this.gone.length; i++) this.waiting.add(this.gone[i]!);
    this.dropFlush();
  }

  clear(): void {
    this.waiting.clear();
    this.it = null;
    this.dropFlush();
  }

  private dropFlush(): void {
    this.fresh = [];
    this.freshAt = 0;
    this.gone = [];
    this.goneSent = [];
    this.goneAt = 0;
    this.lastGoneSent = undefined;
  }
}
