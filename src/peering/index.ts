// Peering: the one home of "who does this node talk BGP to, and how". From a Snapshot of
// the model (src/model) it derives the node's NodeBgpConfig (derive.ts, cluster.ts): router
// id, AS, listen port, own addresses, pools, own IPAM blocks, and the PeerSpec[] the Speaker
// runs: Calico's node-to-node mesh, explicit BGPPeers (with reverse peering) and the
// route-reflector topology, computed as a pure function of the cluster. Node address
// autodetection and registration are the daemon's (src/daemon/autodetect.ts); the RFC 4456
// route rules (what a reflector does to a route) are src/policy/reflection.ts.
//
// Derivation rules:
// - router id = the node's IPv4 address, also on IPv6 sessions (4-octet BGP Identifier,
//   RFC 4271 §4.2); a node without IPv4, or with an IPv4 in 224.0.0.0/4, is an error
//   (RFC 6286 §2.1).
// - AS = Node.spec.bgp.asNumber ?? BGPConfiguration "default" asNumber ?? 64512.
// - listen port and logSeverityScreen: BGPConfiguration "node.<name>" over "default"
//   (179, "Info"); "node.<name>" overrides nothing else.
// - mesh: "default" nodeToNodeMeshEnabled (true), nodeMeshMaxRestartTime (120 s); a node
//   with routeReflectorClusterID never meshes (meshEnabled reports the effective value).
// - pools: every IPPool, modes lower-cased; blocks: this node's BlockAffinities that are
//   not deleted, with their state (only 'confirmed' ones are to be programmed/advertised).
// - Durations are Go durations ("120s", "2m"), rounded to whole seconds as Calico does.
// deriveNodeConfig is pure and deterministic (sorted outputs); it throws ConfigError only for
// problems of the node itself; a bad BGPPeer, IPPool, BlockAffinity or other Node is skipped
// and reported in `warnings`.
//
// Dependencies: src/model, src/net, src/selector, src/util only. Nothing here imports the
// datastore, the speaker or the RIB; they import PeerSpec and NodeBgpConfig from here.
//
// What it reproduces (calico-node's confd: updatePeersV1 and bird.cfg.template):
// - Mesh (full-mesh.ts): when nodeToNodeMeshEnabled (default true) and this node has no
//   routeReflectorClusterID, one session per other node per family (IPv4 sessions between
//   ipv4Addresses, IPv6 between ipv6Addresses), skipping route reflectors. Name
//   Mesh_10_0_0_12 / Mesh_fd00__12; peer AS = that node's AS or the global one; port = that
//   node's listen port; source address = our IP; GR time = nodeMeshMaxRestartTime (120 s).
// - Explicit (explicit.ts): a BGPPeer applies here when `node` is us, `nodeSelector`
//   matches our labels, or neither is set (global). Remote = peerIP[:port] with asNumber,
//   or one session per peerSelector-selected node and family. Names Global_<ip>[_port_N]
//   / Node_<ip>[_port_N] (`_port_N` when a port is written into the peering: explicit in
//   peerIP, or a configured listenPort of the Calico node behind it). A node-specific peer
//   duplicating a global one (same address+port) is dropped; self is skipped.
// - Reverse peering (reversePeering: Auto, the default): when another node's BGPPeer
//   selects THIS node as its remote end (peerSelector, or a peerIP equal to our address
//   with our AS), we get a Node_ session back to each of that BGPPeer's local nodes, so one
//   resource (nodeSelector all() × peerSelector route-reflector == 'true') creates both ends.
//   Reverse sessions take the resource's timers, source address, TTL, password, filters and
//   next-hop handling (confd's nodeAsBGPPeers copies them), but our own AS as local AS and
//   no numAllowedLocalASNumbers (confd copies it to forward peerIP peerings only).
// - Route reflection (RFC 4456 §7, as Calico configures `rr client; rr cluster id`): a node
//   with a cluster id skips the mesh; toward an iBGP peer (same AS as our node AS) whose
//   cluster id differs from ours — a client node, or a non-Calico peer — the session has
//   routeReflectorClient = true; RRs that share our cluster id are plain iBGP. Difference
//   from Calico: for a peerIP that is a Calico node tern uses that node's cluster id (confd
//   leaves it empty for peerIP peerings, which makes same-cluster RRs clients of each other).
//
// Deduplication. One session per address+port (PeerSpec.key). Priority: global explicit >
// node-specific explicit > reverse > mesh. Calico would instead render a Mesh_ and a Node_
// protocol to the same neighbour (BIRD then runs two sessions to one address, which the
// far end cannot tell apart); tern keeps the explicit one, whose options were asked for.
//
// Passive side: string comparison, exactly as confd renders it. The mesh makes peerings
// unidirectional: the side whose peer has the GREATER address is passive (`passive on`), so
// only one side connects (a second, crossing connection would abort a graceful restart in
// progress). Calico's template compares the address TEXT with Go's `gt` on
// strings (`gt $onode_ip $node_ip`: byte order of the canonical text), not the numbers:
// between 10.0.0.9 and 10.0.0.10, "10.0.0.9" > "10.0.0.10" ('9' > '1' at the first
// difference), so node .10 waits and node .9 connects; for IPv6 "fd00::a" > "fd00::10".
// tern uses the same order so that a tern node and a calico-node (BIRD) node in one mesh,
// during a migration, always have exactly one active side; a numeric order would leave
// pairs like .9/.10 with both ends passive and the session never up. Global BGPPeers whose
// address is a Calico node use the same rule (`Global_` only; `Node_` has none): a peerIP
// naming a node (its address and AS, and its port if one is written), and — unlike confd,
// which marks only peerIP peerings `calico_node` — peerSelector peerings too. Never both
// ends passive: a session is passive only toward the greater address, so its other end's is
// active, whatever made it (mesh, Global_, Node_).
// The numeric order remains as an option (deriveNodeConfig `passiveOrder: 'numeric'`).
//
// Invariants: pure and deterministic (input order does not matter: nodes and BGPPeers are
// taken in name order; the output is sorted by name); never throws for one bad resource —
// it is skipped with a warning.
import type { PeerSpec } from './peer-spec.js';
import { explicitSessions } from './explicit.js';
import { meshSessions } from './full-mesh.js';
import type { PeerSetInput } from './types.js';

export type { AddressOrder, ClusterNode, MeshSettings, PeerRule, PeerSetInput } from './types.js';
export { protocolId, isGreater, isReflectorClient, HOLD_TIME, CONNECT_RETRY_TIME, DEFAULT_RESTART_TIME } from './session.js';
export { deriveNodeConfig, sameDeriveInputs, type DeriveOptions } from './derive.js';
export { confirmedBlocks, type AddressConfig, type EncapMode, type NodeBgpConfig, type OwnBlock, type PoolConfig } from './node-config.js';
export type { SecretResolver } from './cluster.js';
export { peerKey, sessionParamsDiffer, type PeerSpec, type PeerType } from './peer-spec.js';

export interface PeerSet {
  readonly peers: PeerSpec[];
  readonly warnings: string[];
}

export function computePeers(input: PeerSetInput): PeerSet {
  const warnings: string[] = [];
  const explicit = explicitSessions(input, (m) => warnings.push(m));
  const taken = new Set(explicit.map((p) => p.key));
  const mesh: PeerSpec[] = [];
  const meshNodeAt = new Map<string, string>();
  for (const p of meshSessions(input)) {
    // Two Nodes with one address (a node re-addressed while its old Node object remains):
    // one mesh session to that address, to the first by name (confd would render two
    // protocols of one name, which BIRD refuses).
    const first = meshNodeAt.get(p.address);
    if (first !== undefined) {
      warnings.push(`Node ${p.calicoNode} has the address ${p.address} of Node ${first}: no mesh session to it`);
      continue;
    }
    meshNodeAt.set(p.address, p.calicoNode!);
    if (!taken.has(p.key)) mesh.push(p);
  }
  const peers = [...explicit, ...mesh].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { peers, warnings };
}
