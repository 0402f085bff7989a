// Our OPEN for a peer, the semantic checks of the peer's OPEN (RFC 4271 §6.2), and its acceptance:
// checked, then negotiated (capabilities.ts). Structural errors (lengths, optional parameters)
// are the codec's; here: version, peer AS, hold time and BGP identifier, which need the session's configuration.
//
// RFC 4271 §4.2, §6.2; RFC 5492 (capabilities); RFC 6793 §4.1 (AS_TRANS in My AS);
// RFC 6286 §2.2 (BGP identifier uniqueness is per AS); RFC 4724 §3 (GR capability);
// RFC 7911 §4 (ADD-PATH); RFC 2918 / 7313 (route refresh).
import { AS_TRANS, AddPathMode, BGP_VERSION, NotifCode, OpenSubcode } from '../wire/constants.js';
import type { Capability, OpenMessage } from '../wire/types.js';
import type { PeerSpec } from '../../peering/peer-spec.js';
import { familyToAfiSafi } from '../wire/family.js';
import { encodeMessage } from '../wire/message.js';
import { ipv4Num } from '../../net/prefix.js';
import { deepFreeze } from '../../util/freeze.js';
import { announcedAs, negotiate, type Negotiated } from './capabilities.js';
import type { ProtocolError } from './fsm.js';

/** Speaker-wide settings that go into every OPEN. */
export interface LocalOpenSettings {
  readonly routerId: string;
  /** RFC 4724: R bit (we are restarting) and F bit (forwarding state kept across the restart). */
  readonly gracefulRestart?: { readonly restarting: boolean; readonly forwardingPreserved: boolean };
}

/** OPENs built, by everything they are made of (openKey); frozen, shared by every session with those settings. */
const opens = new Map<string, OpenMessage>();
const OPENS_KEPT = 64;
/** Each shared OPEN's bytes, encoded once. */
const openBytes = new WeakMap<OpenMessage, Buffer>();

/**
 * Our OPEN for a peer (RFC 4271 §4.2): one frozen message per set of settings, so the sessions
 * of a mesh, which all send the same OPEN, share one message and its encoding (encodedOpen).
 */
export function buildOpen(spec: PeerSpec, local: LocalOpenSettings): OpenMessage {
  const gr = local.gracefulRestart ?? { restarting: false, forwardingPreserved: false };
  const key = `${spec.family}|${spec.localAs}|${spec.holdTime}|${spec.gracefulRestartTime}|${spec.addPath ? 1 : 0}|${local.routerId}|${gr.restarting ? 1 : 0}|${gr.forwardingPreserved ? 1 : 0}`;
  let open = opens.get(key);
  if (open === undefined) {
    open = deepFreeze(makeOpen(spec, local.routerId, gr));
    if (opens.size >= OPENS_KEPT) opens.clear();
    opens.set(key, open);
  }
  return open;
}

/** The bytes of an OPEN from buildOpen, encoded once per message (never modified). */
export function encodedOpen(open: OpenMessage): Buffer {
  let b = openBytes.get(open);
  if (b === undefined) openBytes.set(open, (b = encodeMessage(open, { fourOctetAs: false })));
  return b;
}

function makeOpen(spec: PeerSpec, routerId: string, gr: { readonly restarting: boolean; readonly forwardingPreserved: boolean }): OpenMessage {
  const { afi, safi } = familyToAfiSafi(spec.family);
  const caps: Capability[] = [
    { kind: 'multiprotocol', afi, safi }, // RFC 4760: our transport family only
    { kind: 'routeRefresh' },
    { kind: 'enhancedRouteRefresh' },
    {
      kind: 'gracefulRestart',
      restarting: gr.restarting,
      // RFC 8538: with the N bit on both sides, a NOTIFICATION other than Hard Reset keeps
      // graceful restart, so the Cease sent on SIGTERM lets helpers keep our routes.
      notification: true,
      restartTime: Math.min(spec.gracefulRestartTime, 4095), // 12-bit field
      families: [{ afi, safi, forwardingPreserved: gr.forwardingPreserved }],
    },
    { kind: 'fourOctetAs', asn: spec.localAs },
  ];
  if (spec.addPath) caps.push({ kind: 'addPath', families: [{ afi, safi, mode: AddPathMode.Both }] });
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: spec.localAs > 0xffff ? AS_TRANS : spec.localAs, // RFC 6793 §4.1
    holdTime: spec.holdTime,
    bgpId: routerId,
    capabilities: caps,
  };
}

function openError(subcode: number, message: string, data: Buffer = Buffer.alloc(0)): ProtocolError {
  return { code: NotifCode.OpenMessageError, subcode, data, message };
}

/** BGP identifiers compared as unsigned 32-bit numbers (RFC 4271 §6.8). */
export function compareRouterIds(a: string, b: string): number {
  return ipv4Num(a) - ipv4Num(b);
}

/**
 * RFC 4271 §6.2 semantic checks of the peer's OPEN. Returns the NOTIFICATION to send, or
 * null when the OPEN is acceptable.
 */
export function validateOpen(open: OpenMessage, spec: PeerSpec, localRouterId: string): ProtocolError | null {
  if (open.version !== BGP_VERSION) {
    // data: the largest version we support, 2 octets (RFC 4271 §6.2)
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    return openError(OpenSubcode.UnsupportedVersionNumber, `unsupported version ${open.version}`, data);
  }
  const peerAs = announcedAs(open);
  if (peerAs !== spec.peerAs) {
    return openError(OpenSubcode.BadPeerAs, `peer announced AS ${peerAs}, expected ${spec.peerAs}`);
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return openError(OpenSubcode.UnacceptableHoldTime, `unacceptable hold time ${open.holdTime}`);
  }
  const id = ipv4Num(open.bgpId);
  // RFC 6286 §2.1: any non-zero 4-octet value; it need not be a usable address (224/4 is fine).
  if (id === 0) {
    return openError(OpenSubcode.BadBgpIdentifier, `invalid BGP identifier ${open.bgpId}`);
  }
  // RFC 6286 §2.2: unique within the AS, so the same id is an error for iBGP only.
  if (peerAs === spec.localAs && id === ipv4Num(localRouterId)) {
    return openError(OpenSubcode.BadBgpIdentifier, `peer uses our BGP identifier ${open.bgpId}`);
  }
  return null;
}

/**
 * The peer's OPEN checked (RFC 4271 §6.2) and, when acceptable, negotiated against ours: the
 * NOTIFICATION to send, or what both sides agreed (capabilities, families, timers).
 */
export function acceptOpen(ours: OpenMessage, theirs: OpenMessage, spec: PeerSpec, localRouterId: string): { readonly error: ProtocolError } | { readonly negotiated: Negotiated } {
  const error = validateOpen(theirs, spec, localRouterId);
  if (error) return { error };
  return { negotiated: negotiate(ours, theirs, { localAs: spec.localAs, ...(spec.keepaliveTime !== undefined ? { keepaliveTime: spec.keepaliveTime } : {}) }) };
}
