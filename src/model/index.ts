// The model: Calico `projectcalico.org/v3` resources as written (types.ts) and the BGP kinds
// as typed values (bgp.ts: seconds, address + port + family, compiled selectors, checked AS
// numbers, canonical prefixes), with one parser per kind (parse-bgp.ts: Node,
// BGPConfiguration, BGPPeer; parse-ipam.ts: IPPool, BlockAffinity, BGPFilter, and bgpModel()
// for a whole Snapshot) and one parser per grammar: Go durations (duration.ts), BGPPeer
// peerIP (peer-ip.ts), AS numbers (asn.ts). Every refusal is a ModelError (errors.ts: code
// ERR_CONFIG_INVALID, kind, resource, field, reason). The datastore's validation runs these
// parsers (validation is parsing); src/peering consumes only the typed values, so a value
// accepted at the edge runs as it was read.
//
// Invariants: pure; imports only src/net, src/selector, src/util; never the datastore, never
// anything that runs sessions.
export * from './types.js';
export { parseDuration, formatDuration, durationField, durationSeconds, DurationError } from './duration.js';
export { parsePeerIP, type PeerIP } from './peer-ip.js';
export { DEFAULT_AS, MAX_AS, asNumberFromText, isValidAs, parseAsNumber } from './asn.js';
export * from './bgp.js';
export { ModelError } from './errors.js';
export { bgpPeerConflict, MAX_PREFIXES_ANNOTATION, parseBgpConfiguration, parseBgpPeer, parseMaxPrefixes, parseNode, parseNodeAddress } from './parse-bgp.js';
export { bgpModel, parseBgpFilter, parseBlockAffinity, parseIpPool } from './parse-ipam.js';
