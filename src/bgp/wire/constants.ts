// BGP wire constants, named as the RFCs name them. `as const` objects, not enums, so they
// survive isolatedModules and type stripping.
//
// RFC 4271 (BGP-4), 4760 (MP-BGP), 5492 (capabilities), 6793 (4-octet AS), 2918 (route
// refresh), 4724 (graceful restart), 7911 (ADD-PATH), 1997 / 8092 (communities),
// 4456 (route reflection), 4486 / 8203 / 9003 (Cease subcodes), 6608 (FSM subcodes),
// 7313 (enhanced route refresh), 8654 (extended messages).

export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
export const MIN_MESSAGE_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: with the Extended Message capability, UPDATE/NOTIFICATION/ROUTE-REFRESH may reach this. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
export const BGP_VERSION = 4;
/** RFC 6793: the 2-octet placeholder for a 4-octet AS. */
export const AS_TRANS = 23456;

export const MsgType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;
export type AttrType = (typeof AttrType)[keyof typeof AttrType];

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

export const AsPathSegmentType = {
  AsSet: 1,
  AsSequence: 2,
  AsConfedSequence: 3,
  AsConfedSet: 4,
} as const;
export type AsPathSegmentType = (typeof AsPathSegmentType)[keyof typeof AsPathSegmentType];

export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export type Afi = (typeof Afi)[keyof typeof Afi];
export const Safi = { Unicast: 1 } as const;
export type Safi = (typeof Safi)[keyof typeof Safi];

export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedNextHop: 5,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
  AddPath: 69,
  EnhancedRouteRefresh: 70,
  LongLivedGracefulRestart: 71,
  Fqdn: 73,
} as const;

/** OPEN optional parameter types. */
export const OpenParamType = { Capabilities: 2, Extended: 255 } as const;

/** RFC 7911 Send/Receive field. */
export const AddPathMode = { Receive: 1, Send: 2, Both: 3 } as const;
export type AddPathMode = (typeof AddPathMode)[keyof typeof AddPathMode];

/** Well-known communities, RFC 1997 and RFC 7999 / 8326. */
export const WellKnownCommunity = {
  NoExport: 0xffffff01,
  NoAdvertise: 0xffffff02,
  NoExportSubconfed: 0xffffff03,
  GracefulShutdown: 0xffff0000,
  Blackhole: 0xffff029a,
} as const;

// ---- NOTIFICATION codes and subcodes (RFC 4271 §4.5 and later) ----

export const NotifCode = {
  MessageHeaderError: 1,
  OpenMessageError: 2,
  UpdateMessageError: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessageError: 7,
} as const;
export type NotifCode = (typeof NotifCode)[keyof typeof NotifCode];

export const HeaderSubcode = {
  Unspecific: 0,
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

export const OpenSubcode = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  // 5 deprecated (Authentication Failure)
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7, // RFC 5492
  RoleMismatch: 11, // RFC 9234
} as const;

export const UpdateSubcode = {
  Unspecific: 0,
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  // 7 deprecated (AS Routing Loop)
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** RFC 6608. */
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

/** RFC 4486, 8203 (shutdown communication), 9003. */
export const CeaseSubcode = {
  Unspecific: 0,
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9, // RFC 8538
  BfdDown: 10, // RFC 9384
} as const;

/** RFC 7313. */
export const RouteRefreshSubcode = {
  Reserved: 0,
  InvalidMessageLength: 1,
} as const;

/** RFC 7313 ROUTE-REFRESH message subtype (the "Reserved" octet in RFC 2918). */
export const RouteRefreshSubtype = {
  Normal: 0,
  BeginningOfRouteRefresh: 1,
  EndOfRouteRefresh: 2,
} as const;
