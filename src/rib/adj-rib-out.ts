// Adj-RIB-Out: per peer, what has been advertised, and the UPDATEs that bring the peer
// from that to what its update group wants now.
//
// Flow: Loc-RIB flush → AdjRibOutManager invalidates the prefix in every group and hands
// it to every member it concerns (one the selected paths' sources may reach, or one that was
// sent the prefix; a prefix left with no path goes to the members that were sent it, looked
// up once: as the change arrives in a small flush, when taken in a large one) → each such
// member pumps: it takes a batch of pending prefixes (out-queue.ts), diffs the group's
// desired adverts against its advertised map, packs withdrawals (from reused lists of
// prefixes and path ids, no object per prefix) and announcements (NLRI grouped by attribute
// set, RFC 4271 §4.3) and writes them to its sink.
//
// Backpressure: the member writes until sink.write() returns false, then waits for the
// sink's drain. Prefixes that change meanwhile only sit in the pending set, so a prefix that
// changed five times while blocked is sent once, in its latest state. Encoding is never
// done ahead of the socket by more than one batch.
//
// Session up: a walk over the Loc-RIB's prefixes for the family (for an iBGP peer of a node
// that does not reflect, only those of the sources that may reach the peer when they hold
// less than half the table: UpdateGroup.initialWalk), then End-of-RIB (RFC 4724 §2),
// written with the walk's last batch; a prefix whose selected paths no source rule lets
// reach this peer (split horizon, never back to the source) is passed over without an
// export decision. Route refresh (RFC 2918): every advertised route is sent again; with
// enhanced route refresh negotiated (RFC 7313 §4) the re-sent routes are framed by BoRR
// before and EoRR after them. Selection deferral after a restart (RFC 4724 §4.1): hold()
// keeps every member silent; releasing it walks the table afresh, then End-of-RIB.
//
// A route whose attributes leave no room for NLRI in one message for this peer (e.g. an
// eBGP route with a thousand communities gaining LOCAL_PREF toward iBGP) is not sent to
// it, and withdrawn if it was sent before; counted, and logged once per prefix and peer
// while it stays so (BIRD: "attribute list too long"). Any other error while encoding or
// writing for one peer closes that peer's Adj-RIB-Out and is reported through
// PeerSink.fail: the session ends, other peers are not touched.
import type { Family } from '../net/prefix.js';
import type { Nlri } from '../bgp/wire/types.js';
import { attributesFit, packWithdrawn, endOfRib, encodeRouteRefresh } from '../bgp/wire/index.js';
import { RouteRefreshSubtype } from '../bgp/wire/constants.js';
import { familyToAfiSafi } from '../bgp/wire/family.js';
import type { AttrSet } from './attr-set.js';
import type { LocRib, Selected } from './loc-rib.js';
import type { UpdateGroup, Advert, OutPeer, Reach } from './update-group.js';
import type { Logger } from '../util/log.js';
import { OutQueue, NOT_LOOKED_UP } from './out-queue.js';
import { addNlri, forEachEntry, forEachSet, nlri, type Advertised } from './advertised.js';
import { errorMessage } from '../util/errors.js';

/** The session side of a peer: Node-style write semantics (false = buffer full, wait for drain). */
export interface PeerSink {
  write(buf: Buffer): boolean;
  onDrain(cb: () => void): void;
  /** An unexpected error while serving this peer: end its session (the Adj-RIB-Out is closed). */
  fail?(err: unknown): void;
}

/** Prefixes taken from the pending set per fill of the write queue. */
export const DEFAULT_BATCH = 4096;

export class AdjRibOut {
  readonly key: string;
  readonly family: Family;
  /** Export parameters and update group; both change when the peer's export filter does. */
  peer: OutPeer;
  group: UpdateGroup;
  /** prefix → advertised set (no ADD-PATH) or path id → set (ADD-PATH). */
  private readonly advertised = new Map<string, Advertised>();
  /** Prefixes still to look at (out-queue.ts). */
  private readonly pending = new OutQueue();
  /** The batch's withdrawn prefixes and their path ids (0 without ADD-PATH), reused per batch. */
  private readonly wdPrefixes: string[] = [];
  private readonly wdIds: number[] = [];
  private walk: Iterator<[string, Selected]> | null;
  private refresh: Iterator<string> | null = null;
  /** An enhanced refresh is under way: EoRR follows the last re-sent route. */
  private eorrDue = false;
  private eorDue = true;
  private queue: Buffer[] = [];
  private blocked = false;
  private closed = false;
  /** Prefixes held back because their attributes do not fit one message (logged once each). */
  private readonly tooLong = new Set<string>();
  /** RFC 4724 §4.1 selection deferral: nothing is sent (not even End-of-RIB) while set. */
  held = false;
  /** Counters for status / tests. `tooLong`: routes held back, once per prefix while it lasts; `walked`: prefixes the table walks looked at; `taken`: changed prefixes taken from the pending lists. */
  readonly stats = { updates: 0, withdrawals: 0, announcements: 0, endOfRib: 0, refreshes: 0, tooLong: 0, walked: 0, taken: 0 };

  constructor(
    peer: OutPeer,
    group: UpdateGroup,
    private readonly rib: LocRib,
    private readonly sink: PeerSink,
    private readonly batchSize: number,
    private readonly hooks: { readonly log?: Logger; readonly onFail?: (out: AdjRibOut, err: unknown) => void } = {},
  ) {
    this.peer = peer;
    this.group = group;
    this.key = peer.key;
    this.family = peer.family;
    this.walk = group.initialWalk(this.key);
    sink.onDrain(() => {
      this.blocked = false;
      this.pump();
    });
  }

  /** Number of prefixes advertised (with ADD-PATH: prefixes, not paths). */
  get size(): number {
    return this.advertised.size;
  }

  /** The attribute sets advertised for a prefix, by path id. */
  advertisedFor(prefix: string): ReadonlyMap<number, AttrSet> {
    const a = this.advertised.get(prefix);
    if (a === undefined) return new Map();
    return a instanceof Map ? a : new Map([[0, a]]);
  }

  get idle(): boolean {
    return this.pending.empty && this.walk === null && this.refresh === null && this.queue.length === 0 && !this.eorDue;
  }

  markPending(prefix: string): void {
    if (this.closed) return;
    this.pending.add(prefix);
    this.group.setBusy(this, true);
  }

  /** `prefix`, which concerns this member, changed in the flush being delivered; pump() follows. */
  changed(prefix: string): void {
    if (this.closed) return;
    if (this.blocked || this.held) this.pending.add(prefix);
    else this.pending.addFresh(prefix);
    this.group.setBusy(this, true);
  }

  /**
   * `prefix` has no path left after the flush being delivered; pump() follows. It concerns
   * this member only if it was sent (or held back). `lookNow` (a small flush): looked up
   * here, so a member that was not sent it is not pumped, and what was sent goes with the
   * prefix to the pump; otherwise looked up when taken, once. False when passed over.
   */
  gone(prefix: string, lookNow: boolean): boolean {
    if (this.closed || (this.advertised.size === 0 && this.tooLong.size === 0)) return false;
    if (this.blocked || this.held) {
      if (!this.concerns(prefix, null)) return false;
      this.pending.add(prefix);
    } else if (lookNow) {
      const sent = this.advertised.get(prefix);
      if (sent === undefined && (this.tooLong.size === 0 || !this.tooLong.has(prefix))) return false;
      if (this.pending.noneWaiting) this.pending.addGoneSent(prefix, sent);
      else this.pending.add(prefix);
    } else this.pending.addGone(prefix);
    this.group.setBusy(this, true);
    return true;
  }

  /**
   * Whether a change of `prefix` whose selection reaches `reach` (UpdateGroup.reach) can
   * change what this peer is sent: only when the prefix may reach it now, or it was sent
   * (or held back as too long) before. Otherwise the group exports nothing of it to this
   * peer, before or after, and the change needs no work here.
   */
  concerns(prefix: string, reach: Reach): boolean {
    // sizes first: a peer sent nothing (an injector's, during its own table) costs no lookups
    return (reach !== null && reach !== this.key) || (this.advertised.size > 0 && this.advertised.has(prefix))
      || (this.tooLong.size > 0 && this.tooLong.has(prefix));
  }

  /** Re-evaluates every prefix (export context changed); no End-of-RIB. */
  resync(): void {
    this.walk = this.rib.selections(this.family);
    for (const p of this.advertised.keys()) this.pending.add(p);
    this.group.setBusy(this, true);
  }

  /**
   * RFC 2918: send every advertised route again. `enhanced` (RFC 7313 §4): BoRR first, EoRR
   * after the last route. A request during a refresh starts it over with a new BoRR. While
   * held (selection deferral) nothing was sent yet and the release sends the whole table.
   */
  routeRefresh(enhanced = false): void {
    if (this.closed || this.held) return;
    this.stats.refreshes++;
    this.refresh = this.advertised.keys();
    this.eorrDue = enhanced;
    if (enhanced) this.queue.push(this.refreshMarker(RouteRefreshSubtype.BeginningOfRouteRefresh));
    this.group.setBusy(this, true);
  }

  private refreshMarker(subtype: number): Buffer {
    return encodeRouteRefresh({ type: 'routeRefresh', ...familyToAfiSafi(this.family), subtype });
  }

  close(): void {
    this.closed = true;
    this.tooLong.clear();
    for (const a of this.advertised.values()) forEachSet(a, (s) => s.release());
    this.advertised.clear();
    this.pending.clear();
    this.queue = [];
    this.walk = this.refresh = null;
    this.eorrDue = false;
    this.group.setBusy(this, false);
  }

  /** Writes until the sink is full or nothing is left. Never throws: a failure ends this peer only. */
  pump(): void {
    if (this.held) { this.pending.spill(); return; }
    try {
      while (!this.blocked && !this.closed) {
        while (this.queue.length > 0) {
          const buf = this.queue.shift()!;
          if (!this.sink.write(buf)) {
            this.blocked = true;
            this.pending.spill();
            return;
          }
        }
        if (!this.fillQueue()) break;
      }
      if (this.idle) this.group.setBusy(this, false);
    } catch (err) {
      if (this.closed) return;
      this.hooks.log?.error('Adj-RIB-Out failed; closing the session', { event: 'adjRibOutError', code: 'ERR_RIB_OUT_INTERNAL', peer: this.key, error: errorMessage(err), stack: (err as Error | undefined)?.stack });
      this.close();
      this.hooks.onFail?.(this, err);
      try { this.sink.fail?.(err); } catch { /* the session reports its own failure */ }
    }
  }

  /** False (and logged once) when `set` cannot be sent to this peer in one message. */
  private sendable(prefix: string, set: AttrSet): boolean {
    const opts = this.group.opts;
    if (attributesFit(this.family, set.encoded(opts).length, set.nextHops, opts)) {
      this.tooLong.delete(prefix);
      return true;
    }
    if (!this.tooLong.has(prefix)) {
      this.tooLong.add(prefix);
      this.stats.tooLong++;
      this.hooks.log?.warn('attribute list too long for one message; route not sent to this peer', { event: 'attributesTooLong', peer: this.key, prefix, octets: set.encoded(opts).length });
    }
    return false;
  }

  /** Encodes the next batch into the queue; false when there was nothing to do. */
  private fillQueue(): boolean {
    if (this.refresh === null && this.walk === null && this.pending.empty && !this.eorDue) return false;
    const announce = new Map<AttrSet, Nlri[]>();
    this.wdPrefixes.length = 0;
    this.wdIds.length = 0;
    let n = 0;
    let eorr = false;
    while (this.refresh && n < this.batchSize) {
      const r = this.refresh.next();
      if (r.done) {
        this.refresh = null;
        eorr = this.eorrDue;
        this.eorrDue = false;
        break;
      }
      const a = this.advertised.get(r.value);
      if (a) forEachEntry(a, (id, set) => addNlri(announce, set, nlri(r.value, id, this.peer.addPath)));
      n++;
    }
    // A batch that re-sent routes for a refresh holds nothing else: its withdrawals are packed
    // before its announcements, so a prefix re-sent above and withdrawn (or changed) by a diff
    // below would reach the peer withdrawn first and re-announced with what it no longer is.
    const refreshed = n;
    const limit = n > 0 ? n : this.batchSize;
    for (let p: string | undefined; n < limit && (p = this.pending.nextWaiting()) !== undefined; n++) this.diff(p, announce);
    for (let p: string | undefined; n < limit && (p = this.pending.nextFresh()) !== undefined; n++) this.diff(p, announce);
    for (let p: string | undefined; n < limit && (p = this.pending.nextGone()) !== undefined; ) {
      let cur = this.pending.takeGoneSent() as Advertised | undefined | typeof NOT_LOOKED_UP;
      if (cur === NOT_LOOKED_UP) {
        // looked up once here: a prefix this member was not sent (nor held back) is passed over
        cur = this.advertised.get(p);
        if (cur === undefined && (this.tooLong.size === 0 || !this.tooLong.has(p))) continue;
      }
      this.diff(p, announce, cur);
      n++;
    }
    this.stats.taken += n - refreshed;
    while (this.walk && n < limit) {
      const r = this.walk.next();
      if (r.done) { this.walk = null; break; }
      const [prefix, sel] = r.value;
      this.stats.walked++;
      // Routes no member of the group may be sent (in a full iBGP mesh, every route learned
      // from the mesh) cost one look at their sources, not a decision and a diff each.
      if (!this.concerns(prefix, this.group.reach(sel.best, sel.multipath))) continue;
      this.diff(prefix, announce);
      n++;
    }
    const opts = this.group.opts;
    const out: Buffer[] = [];
    if (this.wdPrefixes.length > 0) {
      this.collect(out, packWithdrawn({ family: this.family, prefixes: this.wdPrefixes, pathIds: this.wdIds, count: this.wdPrefixes.length, opts }));
      this.stats.withdrawals += this.wdPrefixes.length;
    }
    for (const [set, list] of announce) {
      this.collect(out, this.group.pack(set, list));
      this.stats.announcements += list.length;
    }
    if (eorr) out.push(this.refreshMarker(RouteRefreshSubtype.EndOfRouteRefresh)); // RFC 7313 §4
    // RFC 4724 §2: End-of-RIB once the initial table is out, in the same write as its last
    // batch (one socket write per new session, not two).
    const eor = this.eorDue && this.walk === null && this.pending.empty && this.refresh === null;
    if (eor) {
      this.eorDue = false;
      out.push(endOfRibMessage(this.family));
      this.stats.endOfRib++;
    }
    // One write per batch, not per message: a reflector sending every client one UPDATE per
    // route (next hops differ) otherwise spends most of its time in write syscalls. The
    // group joins a batch once; members with the same messages get the same Buffer.
    if (out.length > 0) for (const b of this.group.joinBatch(out)) this.queue.push(b);
    return n > 0 || eor || eorr;
  }

  private collect(out: Buffer[], bufs: Buffer[]): void {
    for (const b of bufs) out.push(b);
    this.stats.updates += bufs.length;
  }

  /** Brings advertised[prefix] to the group's desired state, collecting NLRI to send. */
  /** `cur`: advertised[prefix] when the caller looked it up already. */
  private diff(prefix: string, announce: Map<AttrSet, Nlri[]>, cur = this.advertised.get(prefix)): void {
    const all = this.group.desired(prefix);
    const want = hasSource(all, this.key) ? all.filter((a) => a.sourceKey !== this.key) : all; // never back to the source
    if (!this.peer.addPath) {
      const first = want[0]?.attrs;
      const w = first && this.sendable(prefix, first) ? first : undefined;
      if (!first && this.tooLong.size > 0) this.tooLong.delete(prefix);
      const c = cur as AttrSet | undefined;
      if (w === c) return;
      if (w) {
        this.advertised.set(prefix, w.retain());
        addNlri(announce, w, { prefix });
      } else {
        this.advertised.delete(prefix);
        this.withdraw(prefix, 0);
      }
      c?.release();
      return;
    }
    this.diffAddPath(prefix, want, cur as Map<number, AttrSet> | undefined, announce);
  }

  private withdraw(prefix: string, pathId: number): void {
    this.wdPrefixes.push(prefix);
    this.wdIds.push(pathId);
  }

  private diffAddPath(prefix: string, want: readonly Advert[], cur: Map<number, AttrSet> | undefined, announce: Map<AttrSet, Nlri[]>): void {
    if (cur === undefined && want.length === 1) { // a new prefix with one path (a route event's usual case)
      const a = want[0]!;
      if (!this.sendable(prefix, a.attrs)) return;
      this.advertised.set(prefix, new Map<number, AttrSet>().set(a.id, a.attrs.retain()));
      addNlri(announce, a.attrs, { prefix, pathId: a.id });
      return;
    }
    if (want.length === 0) { // nothing to advertise: every path sent is withdrawn (no map of what stays)
      if (this.tooLong.size > 0) this.tooLong.delete(prefix);
      if (cur === undefined) return;
      for (const [id, set] of cur) { this.withdraw(prefix, id); set.release(); }
      this.advertised.delete(prefix);
      return;
    }
    const next = new Map<number, AttrSet>();
    for (const a of want) if (!next.has(a.id) && this.sendable(prefix, a.attrs)) next.set(a.id, a.attrs);
    for (const [id, set] of cur ?? []) {
      if (next.get(id) !== set) {
        if (!next.has(id)) this.withdraw(prefix, id); // RFC 7911 §3: withdraw by path id
        set.release();
      }
    }
    for (const [id, set] of next) {
      if (cur?.get(id) === set) continue;
      set.retain();
      addNlri(announce, set, { prefix, pathId: id });
    }
    if (next.size > 0) this.advertised.set(prefix, next);
    else this.advertised.delete(prefix);
  }
}

/** End-of-RIB per family, one Buffer shared by every peer (never modified), so a group's members' batches that end with it stay the same messages (UpdateGroup.joinBatch). */
const EOR = new Map<Family, Buffer>();
function endOfRibMessage(family: Family): Buffer {
  let b = EOR.get(family);
  if (!b) EOR.set(family, (b = endOfRib(family)));
  return b;
}

function hasSource(adverts: readonly Advert[], key: string): boolean {
  for (let i = 0; i < adverts.length; i++) if (adverts[i]!.sourceKey === key) return true;
  return false;
}
