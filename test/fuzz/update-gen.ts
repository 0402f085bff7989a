// Seeded random UPDATE streams for differential testing (tern against BIRD 2). Pure: the
// same seed gives the same bytes. The encoder is its own (as test/helpers/raw-peer.ts), so
// the stream does not trust the codec under test.
//
// A stream starts by withdrawing everything it could have announced before (so each stream
// can be replayed alone from its seed), then sends random UPDATEs over a small universe of
// IPv4 prefixes (duplicates and overlaps are the point), then a sentinel route whose MED is
// the stream number: once both speakers show it, everything before it was processed.
//
// Valid content: ORIGIN, AS_PATH with AS_SEQUENCE and AS_SET segments, NEXT_HOP on the
// shared segment, MED, LOCAL_PREF (ignored from eBGP), ATOMIC_AGGREGATE, AGGREGATOR,
// COMMUNITIES (well-known ones too), LARGE_COMMUNITY, unknown optional attributes,
// withdraw and re-announce in one message, ADD-PATH path identifiers.
// Hostile content, limited to what RFC 7606 answers without a session reset: bad ORIGIN
// value, wrong attribute lengths and flags, duplicate attributes, a missing NEXT_HOP,
// AS_CONFED segments from eBGP, AS_PATH overruns, host bits set in NLRI.
import { message, MsgType } from '../helpers/raw-peer.js';
import { prng } from '../bgp/wire/helpers.js';

export const SENTINEL = '198.18.0.0/24';


export interface GenOptions {
  /** Our AS (the first AS of valid paths). */
  readonly asn: number;
  /** The receivers' AS (paths containing it are loops). */
  readonly peerAs: number;
  /** NEXT_HOP candidates (on the shared segment; the first is our own address). */
  readonly nextHops: readonly string[];
  /** ADD-PATH negotiated (we send path identifiers). */
  readonly addPath: boolean;
  /** Sentinel MED: the stream number. */
  readonly mark: number;
  /** UPDATEs after the clean-up, default 40. */
  readonly messages?: number;
  /**
   * Also the cases RFC 4271 §5.1.3, RFC 7607 and RFC 4760 / 5492 ask to be ignored or
   * withdrawn: NEXT_HOP 0.0.0.0, loopback or multicast, AS 0 in AS_PATH or AGGREGATOR,
   * IPv6 MP_REACH on an IPv4-only session (not part of the default run).
   */
  readonly extra?: boolean;
}

export interface Stream {
  /** Raw BGP messages, in order. */
  readonly messages: Buffer[];
  /** One line per UPDATE, for a failure report. */
  readonly log: string[];
}

/** The prefix universe: small, nested, overlapping. */
export const UNIVERSE: readonly string[] = (() => {
  const u: string[] = [];
  for (const b of [0, 1]) {
    u.push(`10.50.${b * 4}.0/22`, `10.50.${b * 4}.0/23`, `10.50.${b * 4}.0/24`, `10.50.${b * 4 + 1}.0/24`);
    for (const c of [0, 64, 128, 192]) u.push(`10.50.${b * 4}.${c}/26`);
    u.push(`10.50.${b * 4}.0/25`, `10.50.${b * 4}.128/25`, `10.50.${b * 4}.7/32`, `10.50.${b * 4}.64/27`);
  }
  u.push('10.50.0.0/16', '10.0.0.0/8');
  return u;
})();

const PATH_IDS = [1, 2, 3];

function attr(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 255) return Buffer.concat([Buffer.from([flags | 0x10, type, value.length >> 8, value.length & 0xff]), value]);
  return Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

/** NLRI encoding (RFC 4271 §4.3, RFC 7911 §3); `hostBits` sets a bit past the length. */
function nlri(prefix: string, pathId: number | null, hostBits = false): Buffer {
  const [addr = '', lenText = '0'] = prefix.split('/');
  const len = Number(lenText);
  const bytes = ip4(addr);
  const n = Math.ceil(len / 8);
  const p = Buffer.from(bytes.subarray(0, n));
  if (hostBits && len % 8 !== 0 && n > 0) p[n - 1]! |= 1 << (7 - (len % 8)); // first bit after the prefix
  const head = Buffer.from([len]);
  return Buffer.concat([pathId === null ? Buffer.alloc(0) : u32(pathId), head, p]);
}

function update(withdrawn: Buffer, attrs: Buffer, reach: Buffer): Buffer {
  const w = Buffer.alloc(2);
  w.writeUInt16BE(withdrawn.length);
  const a = Buffer.alloc(2);
  a.writeUInt16BE(attrs.length);
  return message(MsgType.Update, Buffer.concat([w, withdrawn, a, attrs, reach]));
}

/** Splits NLRI entries into UPDATEs that fit 4096 octets. */
function chunked(entries: Buffer[], make: (part: Buffer) => Buffer, room = 3900): Buffer[] {
  const out: Buffer[] = [];
  let cur: Buffer[] = [];
  let size = 0;
  for (const e of entries) {
    if (size + e.length > room && cur.length) { out.push(make(Buffer.concat(cur))); cur = []; size = 0; }
    cur.push(e);
    size += e.length;
  }
  if (cur.length) out.push(make(Buffer.concat(cur)));
  return out;
}

function asPathValue(segs: { type: number; asns: number[] }[]): Buffer {
  return Buffer.concat(segs.map((s) => Buffer.concat([Buffer.from([s.type, s.asns.length]), ...s.asns.map(u32)])));
}

/** Withdraws the whole universe (every path id with ADD-PATH). */
export function cleanUp(addPath: boolean): Buffer[] {
  const entries = UNIVERSE.flatMap((p) => (addPath ? PATH_IDS.map((id) => nlri(p, id)) : [nlri(p, null)]));
  return chunked(entries, (w) => update(w, Buffer.alloc(0), Buffer.alloc(0)));
}

export function baseAttrs(o: GenOptions, med?: number): Buffer {
  return Buffer.concat([
    attr(0x40, 1, Buffer.from([0])),
    attr(0x40, 2, asPathValue([{ type: 2, asns: [o.asn] }])),
    attr(0x40, 3, ip4(o.nextHops[0]!)),
    ...(med !== undefined ? [attr(0x80, 4, u32(med))] : []),
  ]);
}

export function sentinel(o: GenOptions): Buffer {
  return update(Buffer.alloc(0), baseAttrs(o, o.mark), nlri(SENTINEL, o.addPath ? 1 : null));
}

export function generate(seed: number, o: GenOptions): Stream {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const messages: Buffer[] = [...cleanUp(o.addPath)];
  const log: string[] = ['clean-up'];
  const asnPool = [o.asn, 65020, 65030, 4200000001, 65040, 100, 23456];

  const n = o.messages ?? 40;
  for (let i = 0; i < n; i++) {
    const notes: string[] = [];
    const id = () => (o.addPath ? pick(PATH_IDS) : null);
    // Withdrawals, sometimes of a prefix the same message announces (withdrawn first, RFC 4271 §4.3).
    const wd: Buffer[] = [];
    const withdrawnNames: string[] = [];
    if (chance(0.35)) for (let k = int(1, 4); k > 0; k--) { const p = pick(UNIVERSE); const pid = id(); wd.push(nlri(p, pid)); withdrawnNames.push(`${p}${pid !== null ? `#${pid}` : ''}`); }
    const reach: Buffer[] = [];
    const reachNames: string[] = [];
    const announce = chance(0.85);
    if (announce) {
      for (let k = int(1, 5); k > 0; k--) {
        const p = pick(UNIVERSE);
        const pid = id();
        const hb = chance(0.03);
        reach.push(nlri(p, pid, hb));
        reachNames.push(`${p}${pid !== null ? `#${pid}` : ''}${hb ? '(hostbits)' : ''}`);
      }
    }
    const attrs: Buffer[] = [];
    if (announce || chance(0.2)) {
      // ORIGIN
      if (chance(0.03)) { attrs.push(attr(0x40, 1, Buffer.from([int(3, 255)]))); notes.push('origin=bad'); }
      else if (chance(0.02)) { attrs.push(attr(0x40, 1, Buffer.from([0, 0]))); notes.push('origin len 2'); }
      else if (!chance(0.02)) attrs.push(attr(0x40, 1, Buffer.from([int(0, 2)])));
      else notes.push('no origin');
      // AS_PATH
      const segs: { type: number; asns: number[] }[] = [{ type: 2, asns: [o.asn] }];
      for (let k = int(0, 3); k > 0; k--) {
        const type = chance(0.25) ? 1 : 2;
        const asns = Array.from({ length: int(1, 4) }, () => (chance(0.04) ? o.peerAs : pick(asnPool)));
        segs.push({ type, asns });
      }
      if (chance(0.04)) { segs[0] = { type: 1, asns: [o.asn, 65020] }; notes.push('leading AS_SET'); }
      if (chance(0.03)) { segs[0] = { type: 2, asns: [65099] }; notes.push('first AS not the peer'); }
      if (chance(0.02)) { segs.push({ type: 3, asns: [65001] }); notes.push('AS_CONFED_SEQUENCE'); }
      if (o.extra && chance(0.05)) { segs.push({ type: 2, asns: [0] }); notes.push('AS 0'); }
      if (chance(0.02)) {
        const v = asPathValue(segs);
        v[1] = v[1]! + 1; // segment length overruns the attribute
        attrs.push(attr(0x40, 2, v));
        notes.push('as_path overrun');
      } else if (!chance(0.01)) attrs.push(attr(0x40, 2, asPathValue(segs)));
      else notes.push('no as_path');
      notes.push(`path=${segs.map((s) => (s.type === 1 ? `{${s.asns.join(',')}}` : s.type === 3 ? `(${s.asns.join(' ')})` : s.asns.join(' '))).join(' ')}`);
      // NEXT_HOP
      if (o.extra && chance(0.06)) {
        const nh = pick(['0.0.0.0', '127.0.0.1', '224.0.0.5', '240.0.0.1']);
        attrs.push(attr(0x40, 3, ip4(nh)));
        notes.push(`nh=${nh}`);
      } else if (!chance(0.02)) {
        const nh = pick(o.nextHops);
        attrs.push(attr(0x40, 3, ip4(nh)));
        if (nh !== o.nextHops[0]) notes.push(`nh=${nh}`);
      } else notes.push('no next hop');
      // MED
      if (chance(0.4)) {
        if (chance(0.05)) { attrs.push(attr(0x80, 4, Buffer.from([0, 0, 1]))); notes.push('med len 3'); }
        else if (chance(0.03)) { attrs.push(attr(0xc0, 4, u32(7))); notes.push('med flags transitive'); }
        else attrs.push(attr(0x80, 4, u32(chance(0.5) ? int(0, 10) : int(0, 0xffffffff))));
      }
      // LOCAL_PREF from eBGP: ignored (RFC 4271 §5.1.5)
      if (chance(0.15)) attrs.push(attr(0x40, 5, u32(int(0, 500))));
      // ATOMIC_AGGREGATE / AGGREGATOR
      if (chance(0.1)) attrs.push(attr(0x40, 6, chance(0.1) ? Buffer.from([1]) : Buffer.alloc(0)));
      if (chance(0.1)) attrs.push(attr(0xc0, 7, chance(0.1) ? Buffer.alloc(5) : Buffer.concat([u32(pick(asnPool)), ip4('192.0.2.1')])));
      // COMMUNITIES
      if (chance(0.4)) {
        const cs = Array.from({ length: chance(0.05) ? int(200, 300) : int(1, 8) }, () =>
          chance(0.1) ? pick([0xffffff01, 0xffffff02, 0xffffff03, 0xffff029a]) : ((pick([65010, 65020, 100, 0]) << 16) | int(0, 5)) >>> 0);
        const v = Buffer.concat(cs.map(u32));
        if (chance(0.03)) { attrs.push(attr(0xc0, 8, v.subarray(0, v.length - 1))); notes.push('communities len'); }
        else attrs.push(attr(0xc0, 8, v));
        notes.push(`communities x${cs.length}`);
      }
      // LARGE_COMMUNITY
      if (chance(0.2)) {
        const ls = Array.from({ length: int(1, 4) }, () => Buffer.concat([u32(pick([65010, 4200000001])), u32(int(0, 3)), u32(int(0, 3))]));
        attrs.push(attr(0xc0, 32, Buffer.concat(ls)));
      }
      if (o.extra && chance(0.05)) { attrs.push(attr(0xc0, 7, Buffer.concat([u32(0), ip4('192.0.2.1')]))); notes.push('AGGREGATOR AS 0'); }
      if (o.extra && chance(0.05)) {
        // MP_REACH_NLRI, AFI 2 SAFI 1, next hop 2001:db8::1, NLRI 2001:db8:50::/48
        const nh6 = Buffer.from('20010db8000000000000000000000001', 'hex');
        attrs.push(attr(0x80, 14, Buffer.concat([Buffer.from([0, 2, 1, 16]), nh6, Buffer.from([0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 0x50])])));
        notes.push('MP_REACH IPv6');
      }
      // unknown optional attributes
      if (chance(0.1)) attrs.push(attr(0xc0, int(200, 240), Buffer.from([1, 2, 3])));
      if (chance(0.05)) attrs.push(attr(0x80, int(200, 240), Buffer.from([4])));
      // duplicate attribute (RFC 7606 §3 g: all but the first discarded)
      if (chance(0.03) && attrs.length > 0) { attrs.push(attrs[attrs.length - 1]!); notes.push('duplicate attr'); }
      // reorder sometimes (attribute order is free)
      if (chance(0.1)) attrs.reverse();
    }
    const body = Buffer.concat(attrs);
    if (reach.length === 0 && wd.length === 0) continue;
    // NLRI without attributes is malformed (RFC 7606 §3 d: missing mandatory → treat-as-withdraw)
    messages.push(update(Buffer.concat(wd), reach.length ? body : Buffer.alloc(0), Buffer.concat(reach)));
    log.push(`W[${withdrawnNames.join(' ')}] A[${reachNames.join(' ')}] ${notes.join('; ')}`);
  }
  messages.push(sentinel(o));
  log.push(`sentinel med=${o.mark}`);
  return { messages, log };
}
