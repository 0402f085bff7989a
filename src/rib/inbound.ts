// Inbound screening of a decoded UPDATE against what the session negotiated and what a next
// hop can mean, before it reaches the Loc-RIB. Pure: no state, no logging.
//
// - RFC 4760 §7 / RFC 5492: NLRI (classic fields, MP_REACH, MP_UNREACH) of an address family
//   the session did not negotiate are ignored and counted — never installed or re-exported.
// - RFC 4271 §5.1.3, §6.3, RFC 7606 §7.3 (and §7.11 for MP_REACH): a next hop that cannot be
//   used — 0.0.0.0/8, 127/8, 224/4, 240/4 (so 255.255.255.255), the node's own addresses;
//   IPv6 ::, ::1, ff00::/8, a link-local next hop on a session whose peer address is not
//   link-local (IPv4-mapped ::ffff:0:0/96 too) — makes the announced NLRI withdrawn (treat-
//   as-withdraw), counted.
import type { Family } from '../net/prefix.js';
import { afiSafiToFamily } from '../bgp/wire/family.js';
import type { Nlri, UpdateMessage } from '../bgp/wire/types.js';

export interface ScreenContext {
  /** Families the session negotiated. */
  readonly families: ReadonlySet<Family>;
  /** This node's own addresses (canonical text). */
  readonly ownAddresses: ReadonlySet<string>;
  /** The peer's address is IPv6 link-local: a link-local-only next hop is fine. */
  readonly linkLocalSession: boolean;
}

export interface ScreenResult {
  /** The UPDATE without NLRI of families not negotiated and without the announcements below. */
  readonly msg: UpdateMessage;
  /** Announced NLRI whose next hop is unusable: withdraw them (treat-as-withdraw). */
  readonly withdraw: readonly Nlri[];
  /** NLRI (announced or withdrawn) of a family the session did not negotiate. */
  readonly familyIgnored: number;
  /** Announced NLRI dropped for their next hop. */
  readonly badNextHop: number;
  /** The first unusable next hop met, for the log. */
  readonly badNextHopValue?: string;
}

/** Why `nh` cannot be a next hop, or null when it can. */
export function nextHopProblem(nh: string | undefined, family: Family, ctx: Pick<ScreenContext, 'ownAddresses' | 'linkLocalSession'>): string | null {
  if (nh === undefined) return null; // a missing NEXT_HOP is the decoder's (RFC 7606 §3 d)
  if (ctx.ownAddresses.has(nh)) return 'own address';
  if (!nh.includes(':')) {
    const first = Number(nh.slice(0, nh.indexOf('.')));
    if (first === 0) return 'this-network address (0/8)';
    if (first === 127) return 'loopback address';
    if (first >= 224 && first <= 239) return 'multicast address';
    if (first >= 240) return 'reserved address (240/4)';
    return null;
  }
  if (family === 'ipv4') return null; // RFC 8950 IPv4 over IPv6 next hop: not negotiated, decoder refuses it
  const lower = nh.toLowerCase();
  if (lower === '::') return 'unspecified address';
  if (lower === '::1') return 'loopback address';
  if (lower.startsWith('ff')) return 'multicast address';
  if (lower.startsWith('::ffff:')) return 'IPv4-mapped address';
  if (/^fe[89ab][0-9a-f]:/.test(lower) && !ctx.linkLocalSession) return 'link-local next hop on a session that is not link-local';
  return null;
}

export function screenUpdate(msg: UpdateMessage, ctx: ScreenContext): ScreenResult {
  let familyIgnored = 0;
  let badNextHop = 0;
  let badNextHopValue: string | undefined;
  const withdraw: Nlri[] = [];
  let { withdrawn, nlri } = msg;
  let { mpReach, mpUnreach } = msg.attributes;
  let changed = false;
  if (!ctx.families.has('ipv4') && (withdrawn.length > 0 || nlri.length > 0)) {
    familyIgnored += withdrawn.length + nlri.length;
    withdrawn = [];
    nlri = [];
    changed = true;
  }
  const famOf = (m: { afi: number; safi: number }) => afiSafiToFamily(m.afi, m.safi);
  if (mpUnreach) {
    const f = famOf(mpUnreach);
    if (!f || !ctx.families.has(f)) { familyIgnored += mpUnreach.withdrawn.length; mpUnreach = undefined; changed = true; }
  }
  if (mpReach) {
    const f = famOf(mpReach);
    if (!f || !ctx.families.has(f)) {
      familyIgnored += mpReach.nlri.length;
      mpReach = undefined;
      changed = true;
    } else if (!msg.treatAsWithdraw && mpReach.nlri.length > 0) {
      const why = nextHopProblem(mpReach.nextHops[0], f, ctx);
      if (why) {
        badNextHop += mpReach.nlri.length;
        badNextHopValue ??= mpReach.nextHops[0];
        withdraw.push(...mpReach.nlri);
        mpReach = undefined;
        changed = true;
      }
    }
  }
  if (!msg.treatAsWithdraw && nlri.length > 0 && nextHopProblem(msg.attributes.nextHop, 'ipv4', ctx)) {
    badNextHop += nlri.length;
    badNextHopValue ??= msg.attributes.nextHop;
    withdraw.push(...nlri);
    nlri = [];
    changed = true;
  }
  if (!changed) return { msg, withdraw, familyIgnored, badNextHop };
  const { mpReach: _r, mpUnreach: _u, ...rest } = msg.attributes;
  const attributes = { ...rest, ...(mpReach ? { mpReach } : {}), ...(mpUnreach ? { mpUnreach } : {}) };
  return {
    msg: { ...msg, withdrawn, nlri, attributes },
    withdraw, familyIgnored, badNextHop,
    ...(badNextHopValue !== undefined ? { badNextHopValue } : {}),
  };
}
