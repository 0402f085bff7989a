// AS_PATH (RFC 4271 §4.3, §5.1.2) and AS4_PATH (RFC 6793), plus the RFC 6793 §4.2.3 merge.
//
//  +-----------------+-----------------+---------------------------------+
//  | Segment type (1)| Segment len (1) | len × AS number (2 or 4 octets) |
//  +-----------------+-----------------+---------------------------------+
//
// `asPath` is always the 4-octet view. Toward an OLD (2-octet) speaker the AS_PATH carries
// AS_TRANS for each AS > 65535 and AS4_PATH carries the real path (RFC 6793 §4.2.2).
import { Buffer } from 'node:buffer';
import { AS_TRANS, AsPathSegmentType, AttrType, NotifCode, UpdateSubcode } from '../constants.js';
import { BgpWireError, ErrorAction } from '../errors.js';
import type { AsPathSegment, PathAttributes } from '../types.js';
import { type AttrCodec, malformed, OPTIONAL_TRANSITIVE, WELL_KNOWN } from './codec.js';

/** Parses segments; any structural problem is 3/11 Malformed AS_PATH (RFC 7606 §7.2). */
export function parseSegments(v: Buffer, asSize: 2 | 4, name: string): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let off = 0;
  while (off < v.length) {
    if (off + 2 > v.length) malformed(UpdateSubcode.MalformedAsPath, `${name}: truncated segment header`);
    const type = v[off] ?? 0;
    const count = v[off + 1] ?? 0;
    if (type < 1 || type > 4) malformed(UpdateSubcode.MalformedAsPath, `${name}: segment type ${type}`);
    if (count === 0) malformed(UpdateSubcode.MalformedAsPath, `${name}: empty segment`);
    off += 2;
    if (off + count * asSize > v.length) malformed(UpdateSubcode.MalformedAsPath, `${name}: segment overruns the attribute`);
    const asns: number[] = [];
    for (let i = 0; i < count; i++, off += asSize) asns.push(asSize === 4 ? v.readUInt32BE(off) : v.readUInt16BE(off));
    out.push({ type: type as 1 | 2 | 3 | 4, asns });
  }
  return out;
}

/** Segments as octets; segments longer than 255 ASes are split (RFC 4271 §5.1.2). */
export function writeSegments(segments: readonly AsPathSegment[], asSize: 2 | 4, map: (asn: number) => number = (a) => a): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    for (let start = 0; start < seg.asns.length || start === 0; start += 255) {
      const chunk = seg.asns.slice(start, start + 255);
      if (chunk.length === 0) break;
      const b = Buffer.allocUnsafe(2 + chunk.length * asSize);
      b[0] = seg.type;
      b[1] = chunk.length;
      chunk.forEach((asn, i) => (asSize === 4 ? b.writeUInt32BE(map(asn) >>> 0, 2 + i * 4) : b.writeUInt16BE(map(asn) & 0xffff, 2 + i * 2)));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

const toTrans = (asn: number): number => (asn > 0xffff ? AS_TRANS : asn);

export function needsAs4(segments: readonly AsPathSegment[] | undefined): boolean {
  return !!segments?.some((s) => s.asns.some((a) => a > 0xffff));
}

export const asPath: AttrCodec = {
  type: AttrType.AsPath,
  name: 'AS_PATH',
  flags: WELL_KNOWN,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.2
  decode(v, ctx, d) {
    const segs = parseSegments(v, ctx.fourOctetAs ? 4 : 2, 'AS_PATH');
    // RFC 7606 §7.2 / RFC 5065 §5.3: confederation segments from an external (non-confederation)
    // peer make the AS_PATH malformed. tern has no confederations, so every eBGP peer is external.
    if (ctx.ebgp && segs.some((s) => s.type === AsPathSegmentType.AsConfedSequence || s.type === AsPathSegmentType.AsConfedSet)) {
      malformed(UpdateSubcode.MalformedAsPath, 'AS_PATH: confederation segment from an eBGP peer');
    }
    // RFC 7607 §2: AS 0 in AS_PATH makes the UPDATE malformed → treat-as-withdraw.
    if (segs.some((seg) => seg.asns.includes(0))) malformed(UpdateSubcode.MalformedAsPath, 'AS_PATH: contains AS 0');
    d.asPath = segs;
  },
  encode(a: PathAttributes, opts) {
    if (a.asPath === undefined) return undefined;
    return opts.fourOctetAs ? writeSegments(a.asPath, 4) : writeSegments(a.asPath, 2, toTrans);
  },
};

export const as4Path: AttrCodec = {
  type: AttrType.As4Path,
  name: 'AS4_PATH',
  flags: OPTIONAL_TRANSITIVE,
  // RFC 6793 §6: "attribute discard" for a malformed AS4_PATH (RFC 7606 leaves it so).
  onError: ErrorAction.Discard,
  decode(v, ctx, d) {
    if (ctx.fourOctetAs) return; // RFC 6793 §6: ignored between NEW speakers
    // RFC 6793 §6: malformed when shorter than one AS (6 octets) or of odd length.
    if (v.length < 6 || v.length % 2 !== 0) malformed(UpdateSubcode.MalformedAsPath, `AS4_PATH: bad length ${v.length}`);
    const segs = parseSegments(v, 4, 'AS4_PATH');
    // RFC 7607 §2: AS 0 in AS4_PATH is malformed too; tern withdraws the route rather than
    // fall back to an AS_PATH full of AS_TRANS (an AS 0 anywhere in the path is a bogus route).
    if (segs.some((seg) => seg.asns.includes(0))) throw new BgpWireError(NotifCode.UpdateMessageError, UpdateSubcode.MalformedAsPath, 'AS4_PATH: contains AS 0', Buffer.alloc(0), ErrorAction.Withdraw);
    // RFC 6793 §6: confederation segments must not be in AS4_PATH; drop them.
    d.as4Path = segs.filter((s) => s.type === AsPathSegmentType.AsSet || s.type === AsPathSegmentType.AsSequence);
  },
  encode(a, opts) {
    // RFC 6793 §4.2.2: only toward an OLD speaker, only when some AS needs 4 octets,
    // without confederation segments.
    if (opts.fourOctetAs || !needsAs4(a.asPath)) return undefined;
    const segs = (a.asPath ?? []).filter((s) => s.type === AsPathSegmentType.AsSet || s.type === AsPathSegmentType.AsSequence);
    return writeSegments(segs, 4);
  },
};

/** RFC 6793 §4.2.3 path length: AS_SET counts 1, confederation segments 0. */
function pathCount(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.AsSequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AsSet) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: keep the leading (count(AS_PATH) − count(AS4_PATH)) ASes of AS_PATH,
 * then append AS4_PATH. When AS_PATH is shorter, AS4_PATH is ignored.
 */
export function mergeAs4Path(asPathSegs: readonly AsPathSegment[], as4: readonly AsPathSegment[]): AsPathSegment[] {
  let need = pathCount(asPathSegs) - pathCount(as4);
  if (need < 0) return [...asPathSegs];
  const out: AsPathSegment[] = [];
  for (const s of asPathSegs) {
    const confed = s.type === AsPathSegmentType.AsConfedSequence || s.type === AsPathSegmentType.AsConfedSet;
    if (confed) {
      out.push(s); // counts 0 and is not in AS4_PATH: keep it where it is
      continue;
    }
    if (need <= 0) break;
    if (s.type === AsPathSegmentType.AsSequence) {
      const take = Math.min(need, s.asns.length);
      out.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
    } else {
      out.push(s);
      need -= 1;
    }
  }
  for (const s of as4) {
    const last = out[out.length - 1];
    if (last && last.type === AsPathSegmentType.AsSequence && s.type === AsPathSegmentType.AsSequence) {
      out[out.length - 1] = { type: last.type, asns: [...last.asns, ...s.asns] };
    } else out.push(s);
  }
  return out;
}
