// The encoded messages an update group's members share (update-group.ts): UPDATEs packed
// once per attribute set and NLRI list, and a member's batch joined into one Buffer that the
// next members with the same messages get too (whole, or as slices when a route of theirs is
// left out: never sent back to its source).
//
// Invariants: a shared Buffer is never modified after it is handed out; sharing happens only
// in groups of more than one member (`shared`); a packed entry goes with its attribute set
// (weak), and a large joined batch is dropped when the group goes idle.
import type { Family } from '../net/prefix.js';
import type { EncodeOptions, Nlri } from '../bgp/wire/types.js';
import { packUpdates } from '../bgp/wire/index.js';
import type { AttrSet } from './attr-set.js';

export class GroupMessages {
  /**
   * The last UPDATE(s) packed per attribute set, shared by every member: a reflector sends
   * each client one UPDATE per route (the client routes' next hops differ, so their NLRI
   * cannot share a message), and every new member of a mesh's group is sent the same few
   * local routes in one message; C members would otherwise each encode the same bytes.
   * Lists of up to PACK_SHARE_MAX NLRI; weak: an entry goes with its set.
   */
  private readonly packed = new WeakMap<AttrSet, { nlri: readonly Nlri[]; bufs: Buffer[] }>();
  /**
   * The last batch joined for a member: its messages and the one Buffer holding them. The
   * next member whose batch is the same messages (the same shared Buffers, see pack) gets
   * that Buffer, or slices of it when its batch leaves some out (a route is never sent back
   * to its source), so the group's batch is concatenated once and every member's socket is
   * handed the same bytes. Kept while the group is idle when it is small (a mesh's next
   * member is sent the same initial table and End-of-RIB).
   */
  private lastBatch: { parts: readonly Buffer[]; buf: Buffer; offsets: number[] } | null = null;

  constructor(private readonly family: Family, private readonly opts: EncodeOptions) {}

  /** The UPDATE(s) announcing `list` with `set`, encoded once for the whole group while the same list repeats (never modified). */
  pack(set: AttrSet, list: readonly Nlri[], shared: boolean): Buffer[] {
    const c = this.packed.get(set);
    if (c && sameNlri(c.nlri, list)) return c.bufs;
    const bufs = packUpdates({ family: this.family, attributes: set.encoded(this.opts), nextHops: set.nextHops, nlri: list, opts: this.opts });
    if (shared && list.length <= PACK_SHARE_MAX) this.packed.set(set, { nlri: list, bufs });
    return bufs;
  }

  /**
   * The messages of one member's batch as few Buffers as possible: one, shared with the
   * members before it when they had the same messages, or up to MAX_SLICES slices of it.
   */
  joinBatch(parts: readonly Buffer[], shared: boolean): Buffer[] {
    if (parts.length <= 1) return parts.slice();
    const last = this.lastBatch;
    if (last) {
      const slices = slicesOf(last, parts);
      if (slices) return slices;
    }
    const buf = Buffer.concat(parts);
    if (shared) {
      const offsets = new Array<number>(parts.length + 1);
      let o = 0;
      for (let i = 0; i < parts.length; i++) { offsets[i] = o; o += parts[i]!.length; }
      offsets[parts.length] = o;
      this.lastBatch = { parts, buf, offsets };
    }
    return [buf];
  }

  /** The group went idle: a large joined batch is not kept for a next member. */
  idle(): void {
    if (this.lastBatch && this.lastBatch.buf.length > KEEP_IDLE_BATCH) this.lastBatch = null;
  }

  clear(): void {
    this.lastBatch = null;
  }
}

/** Longest NLRI list whose packed UPDATEs a group keeps for its next member (pack). */
const PACK_SHARE_MAX = 64;
/** Largest joined batch a group keeps while idle (joinBatch), octets. */
const KEEP_IDLE_BATCH = 16_384;

function sameNlri(a: readonly Nlri[], b: readonly Nlri[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.prefix !== b[i]!.prefix || a[i]!.pathId !== b[i]!.pathId) return false;
  return true;
}

/** Slices of a joined batch a member's batch may be sent as; more and it gets its own Buffer. */
const MAX_SLICES = 4;

/**
 * `parts` as slices of `last.buf` when they are `last.parts` in the same order with some left
 * out (compared by identity), in at most MAX_SLICES slices; null otherwise.
 */
function slicesOf(last: { parts: readonly Buffer[]; buf: Buffer; offsets: number[] }, parts: readonly Buffer[]): Buffer[] | null {
  if (parts.length > last.parts.length) return null;
  const out: Buffer[] = [];
  let j = 0;
  let runStart = -1;
  for (let i = 0; i < parts.length; i++) {
    const b = parts[i]!;
    if (last.parts[j] !== b) {
      if (runStart >= 0) {
        if (out.length === MAX_SLICES) return null;
        out.push(last.buf.subarray(last.offsets[runStart], last.offsets[j]));
        runStart = -1;
      }
      while (j < last.parts.length && last.parts[j] !== b) j++;
      if (j === last.parts.length) return null;
    }
    if (runStart < 0) runStart = j;
    j++;
  }
  if (runStart >= 0) {
    if (out.length === MAX_SLICES) return null;
    out.push(last.buf.subarray(last.offsets[runStart], last.offsets[j]));
  }
  return out;
}
