// Typed BGP messages: what the pure codec (src/bgp/wire) decodes into and encodes from.
//
// Conventions, relied on by sessions, the RIB and the FIB:
// - A prefix is its canonical text (src/net/prefix.ts): "10.0.0.0/26", "fd00:1::/64";
//   host bits are always zero.
// - Addresses (next hops, BGP identifier, ORIGINATOR_ID, CLUSTER_LIST) are canonical text:
//   dotted quad for IPv4, RFC 5952 compressed lower case for IPv6.
// - `asPath` is always the 4-octet view. Toward/from a 2-octet speaker (RFC 6793) the codec
//   itself substitutes AS_TRANS and emits AS4_PATH / AS4_AGGREGATOR on encode, and merges
//   AS_PATH with AS4_PATH on decode; callers never see AS4_PATH or AS4_AGGREGATOR.
// - MP_REACH_NLRI / MP_UNREACH_NLRI stay as attributes (mpReach / mpUnreach); IPv4 unicast
//   may come either in the classic fields or in MP attributes.
import type { AddPathMode } from './constants.js';
import type { BgpWireError } from './errors.js';
import type { Family } from '../../net/prefix.js';

export interface Nlri {
  readonly prefix: string;
  /** RFC 7911 path identifier, present when ADD-PATH is negotiated for the family in that direction. */
  readonly pathId?: number;
}

export interface AsPathSegment {
  /** AsPathSegmentType: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET. */
  readonly type: 1 | 2 | 3 | 4;
  readonly asns: readonly number[];
}

export interface Aggregator {
  readonly asn: number;
  readonly address: string;
}

/** An attribute the codec does not interpret, kept byte for byte (RFC 4271 §5, §9.1.3). */
export interface RawAttribute {
  readonly flags: number;
  readonly type: number;
  readonly value: Buffer;
}

export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  /** One next hop, or two for IPv6 (global first, then link-local), RFC 2545. */
  readonly nextHops: readonly string[];
  readonly nlri: readonly Nlri[];
}

export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Nlri[];
}

export interface PathAttributes {
  /** 0 IGP, 1 EGP, 2 INCOMPLETE */
  readonly origin?: 0 | 1 | 2;
  readonly asPath?: readonly AsPathSegment[];
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  /** RFC 1997, each as a 32-bit unsigned number (high 16 bits: AS). */
  readonly communities?: readonly number[];
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
  /** RFC 4360, each 8 bytes, kept opaque. */
  readonly extendedCommunities?: readonly Buffer[];
  /** RFC 8092: [global administrator, local data 1, local data 2]. */
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** Unrecognized optional attributes; transitive ones are passed on with Partial set. */
  readonly unknown?: readonly RawAttribute[];
}

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet "My Autonomous System" field as sent (AS_TRANS when the real AS is 4-octet). */
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}

export type Capability =
  | { readonly kind: 'multiprotocol'; readonly afi: number; readonly safi: number }
  | { readonly kind: 'routeRefresh' }
  | { readonly kind: 'enhancedRouteRefresh' }
  | { readonly kind: 'extendedMessage' }
  | { readonly kind: 'fourOctetAs'; readonly asn: number }
  | {
      readonly kind: 'gracefulRestart';
      /** R bit: the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): NOTIFICATIONs are covered by graceful restart. */
      readonly notification: boolean;
      /** seconds, 12 bits */
      readonly restartTime: number;
      readonly families: readonly { readonly afi: number; readonly safi: number; readonly forwardingPreserved: boolean }[];
    }
  | {
      readonly kind: 'addPath';
      readonly families: readonly { readonly afi: number; readonly safi: number; readonly mode: AddPathMode }[];
    }
  | { readonly kind: 'unknown'; readonly code: number; readonly data: Buffer };

export interface UpdateMessage {
  readonly type: 'update';
  /** The classic IPv4 Withdrawn Routes field. */
  readonly withdrawn: readonly Nlri[];
  readonly attributes: PathAttributes;
  /** The classic IPv4 NLRI field. */
  readonly nlri: readonly Nlri[];
  /**
   * RFC 7606 outcome, set only by the decoder: true when an attribute error calls for
   * treat-as-withdraw; every NLRI in this UPDATE (classic and MP_REACH) must then be
   * handled as withdrawn.
   */
  readonly treatAsWithdraw?: boolean;
  /** Non-fatal errors met while decoding (attribute discard, treat-as-withdraw), for logging and counters. */
  readonly errors?: readonly BgpWireError[];
  /**
   * Set by the decoder when attributes were on the wire but left nothing here without an
   * error (unknown non-transitive, iBGP-only from eBGP, unknown AFI/SAFI): the message was
   * not empty on the wire, so it is not End-of-RIB (RFC 4724 §2).
   */
  readonly ignoredAttributes?: number;
}

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export interface RouteRefreshMessage {
  readonly type: 'routeRefresh';
  readonly afi: number;
  readonly safi: number;
  /** RFC 7313 subtype; 0 for a plain RFC 2918 request. */
  readonly subtype: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** What decoding needs to know from the session (negotiated capabilities, receive direction). */
export interface DecodeOptions {
  /** Both sides advertised the 4-octet AS capability (RFC 6793). */
  readonly fourOctetAs: boolean;
  /** Families for which we negotiated to RECEIVE path identifiers (RFC 7911). */
  readonly addPath?: ReadonlySet<Family>;
  /** RFC 8654 negotiated: messages may be up to 65535 octets. */
  readonly extendedMessage?: boolean;
  /** The peer is eBGP: LOCAL_PREF from it is discarded, etc. (RFC 7606 §7). */
  readonly ebgp?: boolean;
}

/** What encoding needs to know from the session (negotiated capabilities, send direction). */
export interface EncodeOptions {
  readonly fourOctetAs: boolean;
  /** Families for which we negotiated to SEND path identifiers (RFC 7911). */
  readonly addPath?: ReadonlySet<Family>;
  readonly extendedMessage?: boolean;
}
