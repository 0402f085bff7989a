// The model: Calico `projectcalico.org/v3` resources as typed values (types.ts), and the one
// parser of each grammar they use: Go durations (duration.ts), BGPPeer peerIP (peer-ip.ts),
// AS numbers (asn.ts). The datastore validates with these parsers; src/peering derives the
// node's sessions with the same ones, so a value accepted at the edge runs as it was read.
//
// Invariants: pure; imports only src/net, src/util; never the datastore, never anything
// that runs sessions.
export * from './types.js';
export { parseDuration, formatDuration, durationSeconds, DurationError } from './duration.js';
export { parsePeerIP, type PeerIP } from './peer-ip.js';
export { DEFAULT_AS, MAX_AS, asNumberFromText, isValidAs, parseAsNumber } from './asn.js';
