// Per-peer counts of the inbound routes the routing core refused (family not negotiated,
// unusable next hop, import limit exceeded), kept across sessions while the peer is
// configured and shown in `tern status --json` (`refused`). The first refusal of each kind
// per peer is logged at warn; later ones only count. The import limit itself is enforced
// here too (RFC 4486 §4: Cease 6/1 when a peer sends more routes than its limit), and the
// addresses an UPDATE's next hops are screened against are kept per peer.
import type { PeerHandle } from '../bgp/session/peer.js';
import type { PeerSpec } from '../peering/peer-spec.js';
import type { NodeBgpConfig } from '../peering/node-config.js';
import type { Logger } from '../util/log.js';

/** Per-peer counts of inbound routes tern refused (kept across sessions while configured). */
export interface InboundCounters {
  /** NLRI of an address family the session did not negotiate (RFC 4760, RFC 5492). */
  familyNotNegotiated: number;
  /** Announcements treated as withdrawn for an unusable next hop (RFC 4271 §5.1.3, RFC 7606 §7.3). */
  invalidNextHop: number;
  /** Sessions ended for exceeding the import prefix limit (Cease 6/1). */
  prefixLimitExceeded: number;
}

/** What screenUpdate checks a peer's next hops against, for the configuration `cfg`. */
interface ScreenAddresses { readonly cfg: NodeBgpConfig; readonly ownAddresses: ReadonlySet<string>; readonly linkLocalSession: boolean }

export class InboundRefusals {
  private readonly byPeer = new Map<string, InboundCounters>();
  private readonly screens = new WeakMap<PeerSpec, ScreenAddresses>();
  /** "peer#kind" already logged at warn. */
  private readonly logged = new Set<string>();

  constructor(private readonly log: Logger) {}

  /**
   * RFC 4486 §4: more routes than the peer's import limit ends the session with Cease 6/1,
   * data AFI (2), SAFI (1), the limit (4); its routes go with the session (no graceful
   * restart) and the reconnect backs off. `held` is the number of paths held from the peer.
   */
  checkImportLimit(h: PeerHandle, held: number): void {
    const limit = h.spec.importLimit;
    if (limit === undefined || held <= limit) return;
    this.counters(h.spec.key).prefixLimitExceeded++;
    this.log.warn('import prefix limit exceeded; closing the session', { event: 'prefixLimitExceeded', peer: h.spec.address, limit, held });
    const data = Buffer.alloc(7);
    data.writeUInt16BE(h.spec.family === 'ipv4' ? 1 : 2, 0);
    data[2] = 1; // unicast
    data.writeUInt32BE(limit >>> 0, 3);
    h.prefixLimitExceeded(data);
  }

  /** Our addresses and the peer's source address, and whether its session is link-local: built once per peer spec and configuration, not per UPDATE. */
  screenAddresses(spec: PeerSpec, cfg: NodeBgpConfig): ScreenAddresses {
    const hit = this.screens.get(spec);
    if (hit && hit.cfg === cfg) return hit;
    const ownAddresses = new Set([cfg.ipv4?.address, cfg.ipv6?.address, spec.sourceAddress].filter((a): a is string => !!a));
    const made = { cfg, ownAddresses, linkLocalSession: /^fe[89ab][0-9a-f]:/i.test(spec.address) };
    this.screens.set(spec, made);
    return made;
  }

  /** Counts refused inbound NLRI; the first of each kind per peer is logged at warn. */
  refused(key: string, kind: Exclude<keyof InboundCounters, 'prefixLimitExceeded'>, count: number, meta: Record<string, unknown>): void {
    const c = this.counters(key);
    c[kind] += count;
    if (this.logged.has(`${key}#${kind}`)) return;
    this.logged.add(`${key}#${kind}`);
    const text = kind === 'familyNotNegotiated' ? 'routes of an address family the session did not negotiate ignored' : 'routes with an unusable next hop treated as withdrawn';
    this.log.warn(text, { event: kind, peer: key, count, ...meta });
  }

  private counters(key: string): InboundCounters {
    let c = this.byPeer.get(key);
    if (!c) { c = { familyNotNegotiated: 0, invalidNextHop: 0, prefixLimitExceeded: 0 }; this.byPeer.set(key, c); }
    return c;
  }

  /** The peer left the configuration: its counts and log marks go with it. */
  forget(key: string): void {
    this.byPeer.delete(key);
    for (const k of [...this.logged]) if (k.startsWith(`${key}#`)) this.logged.delete(k);
  }

  /** Inbound routes refused from a peer, by cause (zeros when none). */
  countsOf(key: string): InboundCounters {
    return { ...(this.byPeer.get(key) ?? { familyNotNegotiated: 0, invalidNextHop: 0, prefixLimitExceeded: 0 }) };
  }
}
