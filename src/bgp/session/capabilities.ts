// Capability negotiation (RFC 5492): from our OPEN and the peer's OPEN to the `Negotiated`
// view every later layer uses (codec options, Adj-RIB-Out, GR handling).
//
// RFC 4760 §8 (no MP capability from the peer: IPv4 unicast only), RFC 6793 (4-octet AS),
// RFC 7911 §4 (ADD-PATH per direction), RFC 4724 §3 (graceful restart), RFC 8538 (N bit),
// RFC 2918 / 7313 (route refresh), RFC 8654 (extended message), RFC 4271 §4.2 (hold time).
import { AddPathMode } from '../wire/constants.js';
import { afiSafiToFamily } from '../wire/family.js';
import type { Capability, DecodeOptions, EncodeOptions, OpenMessage } from '../wire/types.js';
import type { Family } from '../../net/prefix.js';

export interface PeerGracefulRestart {
  /** Seconds the peer asks us to keep its routes (RFC 4724 §3). */
  readonly restartTime: number;
  /** R bit: the peer has just restarted. */
  readonly restarting: boolean;
  /** N bit, when both sides set it (RFC 8538): NOTIFICATIONs other than Hard Reset keep GR. */
  readonly notification: boolean;
  /** Negotiated families the peer can preserve, with its F bit. */
  readonly families: ReadonlyMap<Family, { readonly forwardingPreserved: boolean }>;
}

export interface Negotiated {
  /** Families both sides advertised (or IPv4 implied, RFC 4760 §8), intersected with ours. */
  readonly families: ReadonlySet<Family>;
  readonly fourOctetAs: boolean;
  /** Families on which WE send path identifiers (RFC 7911). */
  readonly addPathSend: ReadonlySet<Family>;
  /** Families on which the PEER sends path identifiers. */
  readonly addPathReceive: ReadonlySet<Family>;
  /** Seconds; 0 means no hold timer and no keepalives (RFC 4271 §4.2). */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly peerRouterId: string;
  readonly peerAs: number;
  readonly ebgp: boolean;
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedMessage: boolean;
  /** The peer's GR capability, null when it sent none. */
  readonly peerGracefulRestart: PeerGracefulRestart | null;
  readonly decodeOptions: DecodeOptions;
  readonly encodeOptions: EncodeOptions;
}

type Cap<K extends Capability['kind']> = Extract<Capability, { kind: K }>;

export function findCapability<K extends Capability['kind']>(open: OpenMessage, kind: K): Cap<K> | undefined {
  let found: Cap<K> | undefined;
  for (const c of open.capabilities) if (c.kind === kind) found = c as Cap<K>; // the last one wins
  return found;
}

export function hasCapability(open: OpenMessage, kind: Capability['kind']): boolean {
  return open.capabilities.some((c) => c.kind === kind);
}

/** The AS a speaker announced: 4-octet capability when present, else My AS (RFC 6793 §4.2.2). */
export function announcedAs(open: OpenMessage): number {
  return findCapability(open, 'fourOctetAs')?.asn ?? open.myAs;
}

/** Families announced with the MP capability; RFC 4760 §8: none at all means IPv4 unicast. */
export function announcedFamilies(open: OpenMessage): Set<Family> {
  const out = new Set<Family>();
  let anyMp = false;
  for (const c of open.capabilities) {
    if (c.kind !== 'multiprotocol') continue;
    anyMp = true;
    const f = afiSafiToFamily(c.afi, c.safi);
    if (f) out.add(f);
  }
  if (!anyMp) out.add('ipv4');
  return out;
}

function addPathModes(open: OpenMessage): Map<Family, number> {
  const out = new Map<Family, number>();
  for (const c of open.capabilities) {
    if (c.kind !== 'addPath') continue;
    for (const f of c.families) {
      const fam = afiSafiToFamily(f.afi, f.safi);
      if (fam) out.set(fam, f.mode);
    }
  }
  return out;
}

const sends = (mode: number | undefined): boolean => mode === AddPathMode.Send || mode === AddPathMode.Both;
const receives = (mode: number | undefined): boolean => mode === AddPathMode.Receive || mode === AddPathMode.Both;

/** RFC 4271 §4.2 / §10: the smaller hold time; keepalive as configured (scaled like BIRD) or hold/3. */
export function negotiateTimers(ourHold: number, theirHold: number, keepaliveConfigured?: number): { holdTime: number; keepaliveTime: number } {
  const holdTime = Math.min(ourHold, theirHold);
  if (holdTime === 0) return { holdTime, keepaliveTime: 0 };
  const keepaliveTime = keepaliveConfigured !== undefined && keepaliveConfigured > 0 && ourHold > 0
    ? Math.max(1, Math.floor((keepaliveConfigured * holdTime) / ourHold))
    : Math.max(1, Math.floor(holdTime / 3));
  return { holdTime, keepaliveTime };
}

function peerGr(ours: OpenMessage, theirs: OpenMessage, families: ReadonlySet<Family>): PeerGracefulRestart | null {
  const gr = findCapability(theirs, 'gracefulRestart');
  if (!gr) return null;
  const fams: [Family, { readonly forwardingPreserved: boolean }][] = [];
  for (const f of gr.families) {
    const fam = afiSafiToFamily(f.afi, f.safi);
    if (fam && families.has(fam)) fams.push([fam, Object.freeze({ forwardingPreserved: f.forwardingPreserved })]);
  }
  const ourN = findCapability(ours, 'gracefulRestart')?.notification ?? false;
  return Object.freeze({ restartTime: gr.restartTime, restarting: gr.restarting, notification: gr.notification && ourN, families: new FrozenMap(fams) });
}

/** A Set that cannot change after construction: a negotiation result is shared by sessions. */
class FrozenSet<T> extends Set<T> {
  constructor(items: Iterable<T>) {
    super();
    for (const x of items) super.add(x);
    Object.freeze(this);
  }
  override add(): this { throw new TypeError('read-only set'); }
  override delete(): boolean { throw new TypeError('read-only set'); }
  override clear(): void { throw new TypeError('read-only set'); }
}

/** A Map that cannot change after construction (see FrozenSet). */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [k, v] of entries) super.set(k, v);
    Object.freeze(this);
  }
  override set(): this { throw new TypeError('read-only map'); }
  override delete(): boolean { throw new TypeError('read-only map'); }
  override clear(): void { throw new TypeError('read-only map'); }
}

type Shared = Omit<Negotiated, 'peerRouterId'>;
interface Memo {
  readonly ours: OpenMessage;
  readonly localAs: number;
  readonly keepaliveTime: number | undefined;
  readonly myAs: number;
  readonly holdTime: number;
  readonly shared: Shared;
}
/**
 * The last negotiation per received capability list. A frozen list is shared by every OPEN
 * with the same optional-parameter octets (the codec decodes those once), so the peers of a
 * mesh, which all send the same OPEN but for the BGP identifier, are negotiated once; the
 * entry also holds everything else the result depends on, compared on use.
 */
const memos = new WeakMap<readonly Capability[], Memo>();

/**
 * Negotiates a session from both OPENs. The peer's OPEN must already be valid
 * (open.ts validateOpen); this never fails. Everything in the result but the object itself
 * is immutable and may be shared with other sessions.
 */
export function negotiate(ours: OpenMessage, theirs: OpenMessage, opts: { localAs: number; keepaliveTime?: number }): Negotiated {
  const caps = theirs.capabilities;
  const keep = Object.isFrozen(caps) && Object.isFrozen(ours);
  const m = keep ? memos.get(caps) : undefined;
  let shared: Shared;
  if (m !== undefined && m.ours === ours && m.localAs === opts.localAs && m.keepaliveTime === opts.keepaliveTime && m.myAs === theirs.myAs && m.holdTime === theirs.holdTime) {
    shared = m.shared;
  } else {
    shared = negotiateShared(ours, theirs, opts);
    if (keep) memos.set(caps, { ours, localAs: opts.localAs, keepaliveTime: opts.keepaliveTime, myAs: theirs.myAs, holdTime: theirs.holdTime, shared });
  }
  return { ...shared, peerRouterId: theirs.bgpId };
}

/** Everything negotiated but the peer's BGP identifier, frozen. */
function negotiateShared(ours: OpenMessage, theirs: OpenMessage, opts: { localAs: number; keepaliveTime?: number }): Shared {
  const ourFams = announcedFamilies(ours);
  const families = new FrozenSet([...announcedFamilies(theirs)].filter((f) => ourFams.has(f)));
  const fourOctetAs = hasCapability(ours, 'fourOctetAs') && hasCapability(theirs, 'fourOctetAs');
  const ourAp = addPathModes(ours);
  const theirAp = addPathModes(theirs);
  const send: Family[] = [];
  const receive: Family[] = [];
  for (const f of families) {
    if (sends(ourAp.get(f)) && receives(theirAp.get(f))) send.push(f); // RFC 7911 §4
    if (receives(ourAp.get(f)) && sends(theirAp.get(f))) receive.push(f);
  }
  const addPathSend = new FrozenSet(send);
  const addPathReceive = new FrozenSet(receive);
  const { holdTime, keepaliveTime } = negotiateTimers(ours.holdTime, theirs.holdTime, opts.keepaliveTime);
  const peerAs = announcedAs(theirs);
  const ebgp = peerAs !== opts.localAs;
  const both = (k: Capability['kind']) => hasCapability(ours, k) && hasCapability(theirs, k);
  const extendedMessage = both('extendedMessage');
  return Object.freeze({
    families,
    fourOctetAs,
    addPathSend,
    addPathReceive,
    holdTime,
    keepaliveTime,
    peerAs,
    ebgp,
    routeRefresh: both('routeRefresh'),
    enhancedRouteRefresh: both('enhancedRouteRefresh'),
    extendedMessage,
    peerGracefulRestart: peerGr(ours, theirs, families),
    decodeOptions: Object.freeze({ fourOctetAs, addPath: addPathReceive, extendedMessage, ebgp }),
    encodeOptions: Object.freeze({ fourOctetAs, addPath: addPathSend, extendedMessage }),
  });
}
