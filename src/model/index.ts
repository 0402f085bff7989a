// The model: Calico `projectcalico.org/v3` resources as written (types.ts) and as typed
// values. The BGP kinds (bgp.ts: seconds, address + port + family, compiled selectors,
// checked AS numbers, canonical prefixes) have one parser per kind (parse-bgp.ts: Node,
// BGPConfiguration, BGPPeer; parse-ipam.ts: IPPool, BlockAffinity, and bgpModel() for a whole
// Snapshot; parse-bgp-filter.ts: BGPFilter). The policy kinds (policy.ts: actions, protocol
// numbers, port ranges and names, nets canonical by family, compiled selectors, ICMP, tier and policy orders,
// the directions a policy applies in; endpoints' and sets' labels, addresses and named
// ports) have one parser per kind too (parse-policy.ts: GlobalNetworkPolicy, NetworkPolicy,
// Profile, Tier and their rules; parse-endpoints.ts: WorkloadEndpoint, HostEndpoint,
// NetworkSet, GlobalNetworkSet), and policyModel() for a whole Snapshot (policy-model.ts,
// parsed once per resource object). One parser per grammar: Go durations (duration.ts),
// BGPPeer peerIP (peer-ip.ts), AS numbers (asn.ts), community values (community.ts),
// policy nets (parseNets); protocols,
// ports, prefixes and selectors come from src/net and src/selector. Every refusal is a
// ModelError (errors.ts: code ERR_CONFIG_INVALID, kind, resource, field, reason). The
// datastore's validation runs these parsers (validation is parsing); src/peering and
// src/acl consume the typed values, so a value accepted at the edge runs as it was read.
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
export { bgpModel, parseBlockAffinity, parseIpPool } from './parse-ipam.js';
export { parseBgpFilter } from './parse-bgp-filter.js';
export { communityValue } from './community.js';
export * from './policy.js';
export { DEFAULT_TIER, DEFAULT_TIER_ORDER, parseGlobalNetworkPolicy, parseNetworkPolicy, parseNets, parseProfile, parseRule, parseTier } from './parse-policy.js';
export { parseGlobalNetworkSet, parseHostEndpoint, parseNetworkSet, parseWorkloadEndpoint } from './parse-endpoints.js';
export { policyModel } from './policy-model.js';
