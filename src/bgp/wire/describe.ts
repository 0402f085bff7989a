// Human text for NOTIFICATION codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 6608,
// RFC 7313, RFC 8538, RFC 9234, RFC 9384), for logs and status output.
import { CeaseSubcode, FsmSubcode, HeaderSubcode, NotifCode, OpenSubcode, RouteRefreshSubcode, UpdateSubcode } from './constants.js';

const CODES: Readonly<Record<number, string>> = {
  [NotifCode.MessageHeaderError]: 'Message Header Error',
  [NotifCode.OpenMessageError]: 'OPEN Message Error',
  [NotifCode.UpdateMessageError]: 'UPDATE Message Error',
  [NotifCode.HoldTimerExpired]: 'Hold timer expired',
  [NotifCode.FsmError]: 'Finite State Machine Error',
  [NotifCode.Cease]: 'Cease',
  [NotifCode.RouteRefreshMessageError]: 'ROUTE-REFRESH Message Error',
};

const SUBCODES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [NotifCode.MessageHeaderError]: {
    [HeaderSubcode.ConnectionNotSynchronized]: 'Connection Not Synchronized',
    [HeaderSubcode.BadMessageLength]: 'Bad Message Length',
    [HeaderSubcode.BadMessageType]: 'Bad Message Type',
  },
  [NotifCode.OpenMessageError]: {
    [OpenSubcode.UnsupportedVersionNumber]: 'Unsupported Version Number',
    [OpenSubcode.BadPeerAs]: 'Bad Peer AS',
    [OpenSubcode.BadBgpIdentifier]: 'Bad BGP Identifier',
    [OpenSubcode.UnsupportedOptionalParameter]: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    [OpenSubcode.UnacceptableHoldTime]: 'Unacceptable Hold Time',
    [OpenSubcode.UnsupportedCapability]: 'Unsupported Capability',
    [OpenSubcode.RoleMismatch]: 'Role Mismatch',
  },
  [NotifCode.UpdateMessageError]: {
    [UpdateSubcode.MalformedAttributeList]: 'Malformed Attribute List',
    [UpdateSubcode.UnrecognizedWellKnownAttribute]: 'Unrecognized Well-known Attribute',
    [UpdateSubcode.MissingWellKnownAttribute]: 'Missing Well-known Attribute',
    [UpdateSubcode.AttributeFlagsError]: 'Attribute Flags Error',
    [UpdateSubcode.AttributeLengthError]: 'Attribute Length Error',
    [UpdateSubcode.InvalidOriginAttribute]: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    [UpdateSubcode.InvalidNextHopAttribute]: 'Invalid NEXT_HOP Attribute',
    [UpdateSubcode.OptionalAttributeError]: 'Optional Attribute Error',
    [UpdateSubcode.InvalidNetworkField]: 'Invalid Network Field',
    [UpdateSubcode.MalformedAsPath]: 'Malformed AS_PATH',
  },
  [NotifCode.FsmError]: {
    [FsmSubcode.UnexpectedInOpenSent]: 'Receive Unexpected Message in OpenSent State',
    [FsmSubcode.UnexpectedInOpenConfirm]: 'Receive Unexpected Message in OpenConfirm State',
    [FsmSubcode.UnexpectedInEstablished]: 'Receive Unexpected Message in Established State',
  },
  [NotifCode.Cease]: {
    [CeaseSubcode.MaximumPrefixesReached]: 'Maximum Number of Prefixes Reached',
    [CeaseSubcode.AdministrativeShutdown]: 'Administrative shutdown',
    [CeaseSubcode.PeerDeconfigured]: 'Peer de-configured',
    [CeaseSubcode.AdministrativeReset]: 'Administrative reset',
    [CeaseSubcode.ConnectionRejected]: 'Connection rejected',
    [CeaseSubcode.OtherConfigurationChange]: 'Other configuration change',
    [CeaseSubcode.ConnectionCollisionResolution]: 'Connection collision resolution',
    [CeaseSubcode.OutOfResources]: 'Out of resources',
    [CeaseSubcode.HardReset]: 'Hard reset',
    [CeaseSubcode.BfdDown]: 'BFD down',
  },
  [NotifCode.RouteRefreshMessageError]: {
    [RouteRefreshSubcode.InvalidMessageLength]: 'Invalid Message Length',
  },
};

/**
 * "Hold timer expired", "Cease: Administrative shutdown", "OPEN Message Error: Bad Peer AS".
 * Subcode 0 (unspecific) and codes without subcodes give the code text alone; unknown values
 * are shown as numbers.
 */
export function describeNotification(code: number, subcode: number): string {
  const name = CODES[code];
  if (name === undefined) return `Unknown error code ${code} (subcode ${subcode})`;
  if (subcode === 0) return name;
  const sub = SUBCODES[code]?.[subcode];
  return `${name}: ${sub ?? `subcode ${subcode}`}`;
}
