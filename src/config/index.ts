// Configuration derivation: turns the Calico `projectcalico.org/v3` resources of a
// datastore Snapshot (edge types, src/datastore/types.ts) into the internal NodeBgpConfig of
// one node — router id, AS, listen port, own addresses, pools, own IPAM blocks, and the
// PeerSpec[] the Speaker runs (computed by src/mesh). This folder is the only place that
// reads Calico field names for BGP; inner modules see NodeBgpConfig and PeerSpec only.
//
// Rules (calico-bgp-behaviour.md §1–§3):
// - router id = the node's IPv4 address, also on IPv6 sessions (4-octet BGP Identifier,
//   RFC 4271 §4.2); a node without IPv4, or with an IPv4 in 224.0.0.0/4, is an error
//   (RFC 6286 §2.1; Calico #5146 for the hashed id that landed there).
// - AS = Node.spec.bgp.asNumber ?? BGPConfiguration "default" asNumber ?? 64512.
// - listen port and logSeverityScreen: BGPConfiguration "node.<name>" over "default"
//   (179, "Info"); "node.<name>" overrides nothing else.
// - mesh: "default" nodeToNodeMeshEnabled (true), nodeMeshMaxRestartTime (120 s); a node
//   with routeReflectorClusterID never meshes (meshEnabled reports the effective value).
// - pools: every IPPool, modes lower-cased; blocks: this node's BlockAffinities that are
//   not deleted, with their state (only 'confirmed' ones are to be programmed/advertised).
// - passwords (BGPPeer password, nodeMeshPassword secretKeyRef): from v1 Secrets in the
//   datastore, then a secrets directory (secrets.ts); one that cannot be resolved gives its
//   sessions `passwordUnresolved` and they are not started (Calico would run them unsigned).
// - Durations are Go durations ("120s", "2m"), rounded to whole seconds as Calico does.
//
// Invariants: deriveNodeConfig is pure and deterministic (sorted outputs); it throws
// ConfigError only for problems of the node itself; a bad BGPPeer, IPPool, BlockAffinity
// or other Node is skipped and reported in `warnings`.
export { deriveNodeConfig, type DeriveOptions } from './derive.js';
export type { AddressConfig, EncapMode, NodeBgpConfig, OwnBlock, PoolConfig } from './node-config.js';
export { parseGoDuration } from './duration.js';
export { parseNodeAddress, parsePeerIP, type SecretLookup, type SecretResolver } from './cluster.js';
export { secretResolver, type SecretSource } from './secrets.js';
export { peerKey, sessionParamsDiffer, type PeerSpec, type PeerType } from './peer-spec.js';
