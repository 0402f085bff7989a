// The path attribute table (BIRD attrs.c bgp_attr_table[], gobgp per-attribute error
// policy) and the loop that walks a Path Attributes field with the RFC 7606 ladder.
//
//  +-----------------+----------------+-----------------------+-----------------+
//  | Attr flags (1)  | Attr type (1)  | Length (1, or 2 if E) | Value           |
//  +-----------------+----------------+-----------------------+-----------------+
//
// Ladder (RFC 7606 §3): each codec names its own action; the strongest action wins (§3 (h)).
// An attribute overrunning the list ends the walk: treat-as-withdraw (§4) only when both
// MP_REACH and MP_UNREACH were already located, else a reset that also flushes the peer's
// routes (§5.3: MP NLRI that cannot be located cannot be withdrawn); duplicate MP_REACH /
// MP_UNREACH (§3 (g)) reset; other duplicates are discarded.
import { Buffer } from 'node:buffer';
import { AttrFlag, AttrType, NotifCode, UpdateSubcode } from '../constants.js';
import { BgpWireError, ErrorAction, strongerAction } from '../errors.js';
import type { DecodeOptions, EncodeOptions, PathAttributes, RawAttribute } from '../types.js';
import { aggregator, as4Aggregator } from './aggregator.js';
import { as4Path, asPath } from './as-path.js';
import { attribute, type AttrCodec, type DraftAttributes } from './codec.js';
import { clusterList, communities, extendedCommunities, largeCommunity } from './lists.js';
import { mpReach, mpUnreach } from './mp.js';
import { atomicAggregate, localPref, med, nextHop, origin, originatorId } from './simple.js';

export const ATTRIBUTES = {
  [AttrType.Origin]: origin,
  [AttrType.AsPath]: asPath,
  [AttrType.NextHop]: nextHop,
  [AttrType.MultiExitDisc]: med,
  [AttrType.LocalPref]: localPref,
  [AttrType.AtomicAggregate]: atomicAggregate,
  [AttrType.Aggregator]: aggregator,
  [AttrType.Communities]: communities,
  [AttrType.OriginatorId]: originatorId,
  [AttrType.ClusterList]: clusterList,
  [AttrType.MpReachNlri]: mpReach,
  [AttrType.MpUnreachNlri]: mpUnreach,
  [AttrType.ExtendedCommunities]: extendedCommunities,
  [AttrType.As4Path]: as4Path,
  [AttrType.As4Aggregator]: as4Aggregator,
  [AttrType.LargeCommunity]: largeCommunity,
} satisfies Record<AttrType, AttrCodec>;

const BY_TYPE = new Map<number, AttrCodec>(Object.values(ATTRIBUTES).map((c) => [c.type, c]));
/** Encoded in ascending type order (RFC 4271 §5), MP attributes separately (RFC 7606 §5.1). */
const ENCODE_ORDER = [...BY_TYPE.values()].filter((c) => c.type !== AttrType.MpReachNlri && c.type !== AttrType.MpUnreachNlri).sort((a, b) => a.type - b.type);

/** Attributes that only make sense inside an AS; from an eBGP peer they are dropped silently. */
const IBGP_ONLY: ReadonlySet<number> = new Set([AttrType.LocalPref, AttrType.OriginatorId, AttrType.ClusterList]);

export interface AttributeParse {
  readonly attrs: DraftAttributes;
  /** Types met at least once (valid or not). */
  readonly seen: ReadonlySet<number>;
  readonly errors: BgpWireError[];
  /** Strongest non-reset action, or null. */
  readonly action: ErrorAction | null;
  /**
   * Attributes present on the wire that left nothing in `attrs` without an error: unknown
   * non-transitive ones, iBGP-only ones from eBGP, MP attributes of an AFI/SAFI tern does
   * not know, AS4 attributes between NEW speakers. (An UPDATE with such an attribute is not
   * empty on the wire, so it is never End-of-RIB.)
   */
  readonly ignored: number;
}

function listError(why: string, data?: Buffer): BgpWireError {
  return new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.MalformedAttributeList, why, data ?? Buffer.alloc(0));
}

/** Walks buf[start, end); throws BgpWireError for `reset`, returns weaker outcomes. */
export function decodeAttributes(buf: Buffer, start: number, end: number, opts: DecodeOptions): AttributeParse {
  const attrs: DraftAttributes = {};
  const seen = new Set<number>();
  const errors: BgpWireError[] = [];
  const unknown: RawAttribute[] = [];
  let action: ErrorAction | null = null;
  let ignored = 0;
  const fail = (err: BgpWireError): void => {
    if (err.action === ErrorAction.Reset || err.action === ErrorAction.AfiSafiDisable) throw err;
    errors.push(err);
    action = action === null ? err.action : strongerAction(action, err.action);
  };
  let off = start;
  while (off < end) {
    const flags = buf[off] ?? 0;
    const type = buf[off + 1] ?? 0;
    const head = flags & AttrFlag.ExtendedLength ? 4 : 3;
    // RFC 7606 §4: an attribute header that does not fit, or a length that runs past the
    // Total Path Attribute Length, ends the walk with treat-as-withdraw; the NLRI field is
    // still located by the Total Path Attribute Length. An MP attribute cut this way hides
    // NLRI that cannot be withdrawn, so that case resets (§5.3).
    const len = end - off < head ? -1 : head === 4 ? buf.readUInt16BE(off + 2) : (buf[off + 2] ?? 0);
    if (len < 0 || off + head + len > end) {
      const why = len < 0 ? `attribute header truncated at octet ${off}` : `attribute ${type} length ${len} overruns the attribute list`;
      // RFC 7606 §5.3: treat-as-withdraw needs every NLRI located. The classic NLRI field is
      // (through the total length); an MP_REACH / MP_UNREACH could still hide in the octets
      // after this point unless both were already found. Otherwise: reset, and the peer's
      // routes of this session are flushed.
      const located = seen.has(AttrType.MpReachNlri) && seen.has(AttrType.MpUnreachNlri);
      if (!located) throw new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.MalformedAttributeList, `${why}; MP_REACH/MP_UNREACH NLRI cannot be located`, Buffer.alloc(0), ErrorAction.Reset, true);
      fail(listError(why).withAction(ErrorAction.Withdraw));
      break;
    }
    const at = off; // the attribute's own octets are copied for an error's data only: no view per attribute
    const value = buf.subarray(off + head, off + head + len);
    off += head + len;
    const codec = BY_TYPE.get(type);
    if (seen.has(type)) {
      // RFC 7606 §3 (g): duplicates are discarded, except MP_REACH/MP_UNREACH → reset.
      const dup = listError(`duplicate attribute ${type}`, Buffer.from(buf.subarray(at, off)));
      fail(type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri ? dup : dup.withAction(ErrorAction.Discard));
      continue;
    }
    seen.add(type);
    if (!codec) {
      if (!(flags & AttrFlag.Optional)) {
        // RFC 4271 §6.3: unrecognized well-known attribute.
        throw new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${type}`, Buffer.from(buf.subarray(at, off)));
      }
      // RFC 4271 §9: keep optional transitive ones, drop optional non-transitive ones.
      if (flags & AttrFlag.Transitive) unknown.push({ flags, type, value: Buffer.from(value) });
      else ignored++;
      continue;
    }
    if (opts.ebgp && IBGP_ONLY.has(type)) { ignored++; continue; } // RFC 7606 §7.5, §7.9, §7.10: discarded from eBGP
    if ((flags & (AttrFlag.Optional | AttrFlag.Transitive)) !== codec.flags) {
      // RFC 7606 §3 (c): wrong Optional/Transitive bits → malformed, the attribute's own action.
      fail(new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.AttributeFlagsError, `${codec.name}: bad flags 0x${flags.toString(16)}`, Buffer.from(buf.subarray(at, off)), codec.onError));
      continue;
    }
    try {
      codec.decode(value, opts, attrs);
      if (leftNothing(type, attrs)) ignored++;
    } catch (err) {
      if (!(err instanceof BgpWireError)) throw err;
      // A codec may name a stronger action than its default (RFC 7607: AS 0 in AS4_PATH).
      const action = err.action === ErrorAction.Reset ? codec.onError : strongerAction(err.action, codec.onError);
      fail(new BgpWireError(err.code, err.subcode, err.message, Buffer.from(buf.subarray(at, off)), action));
    }
  }
  if (unknown.length > 0) attrs.unknown = unknown;
  return { attrs, seen, errors, action, ignored };
}

/** Codecs that may decode successfully to nothing (unknown AFI/SAFI, AS4 between NEW speakers). */
function leftNothing(type: number, d: DraftAttributes): boolean {
  switch (type) {
    case AttrType.MpReachNlri: return d.mpReach === undefined;
    case AttrType.MpUnreachNlri: return d.mpUnreach === undefined;
    case AttrType.As4Path: return d.as4Path === undefined;
    case AttrType.As4Aggregator: return d.as4Aggregator === undefined;
    default: return false;
  }
}

/**
 * Every attribute of `attrs` except MP_REACH / MP_UNREACH, as the octets of a Path
 * Attributes field. Toward a 2-octet speaker this includes AS4_PATH / AS4_AGGREGATOR when
 * needed (RFC 6793 §4.2.2). Unknown transitive attributes get the Partial bit (RFC 4271 §5).
 */
export function encodePathAttributes(attrs: PathAttributes, opts: EncodeOptions): Buffer {
  const parts: { type: number; buf: Buffer }[] = [];
  for (const codec of ENCODE_ORDER) {
    const value = codec.encode?.(attrs, opts);
    if (value !== undefined) parts.push({ type: codec.type, buf: attribute(codec.flags, codec.type, value) });
  }
  for (const u of attrs.unknown ?? []) {
    if (BY_TYPE.has(u.type) || !(u.flags & AttrFlag.Optional) || !(u.flags & AttrFlag.Transitive)) continue;
    parts.push({ type: u.type, buf: attribute(u.flags | AttrFlag.Partial, u.type, u.value) });
  }
  if (parts.length > 1 && attrs.unknown) parts.sort((a, b) => a.type - b.type);
  return Buffer.concat(parts.map((p) => p.buf));
}

/** MP_UNREACH_NLRI then MP_REACH_NLRI when present (first in the message, RFC 7606 §5.1). */
export function encodeMpAttributes(attrs: PathAttributes, opts: EncodeOptions): Buffer {
  const parts: Buffer[] = [];
  for (const codec of [mpUnreach, mpReach]) {
    const value = codec.encode?.(attrs, opts);
    if (value !== undefined) parts.push(attribute(codec.flags, codec.type, value));
  }
  return Buffer.concat(parts);
}
