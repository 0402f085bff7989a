// bird.cfg as calico-node's confd renders it (confd templates bird.cfg.template,
// bird_aggr.cfg.template, bird_ipam.cfg.template; reference calico-node-details.md §1–§2),
// written in BIRD 2 syntax so Debian's bird2 can run it as a calico-node stand-in:
// the kernel protocol with `learn`, device/direct, the node's blocks as static blackholes,
// calico_aggr + calico_export_to_bgp_peers, bgp_template with confd's timers, and one
// `Mesh_<ip>` protocol per other node with `source address`, `graceful restart time` and
// `passive on` exactly when the other node's address is greater AS A STRING (Go `gt`);
// then the explicit peerings confd builds from BGPPeers (reference §1 "Global_ / Node_
// blocks"): `Global_<ip>` for a BGPPeer without node selector, `Node_<ip>` for one that
// selects this node (or a reverse peering), each with `ttl security off; multihop;`,
// `source address`, the export filter with internal_peer = same AS, `passive on` on a
// Global_ toward a calico-node whose address is greater as a string, and `rr client;
// rr cluster id <own>` when this node has a cluster id and the peer a different one.
// Differences from the real file that do not change BGP behaviour: one table per family
// (calico-node runs bird and bird6), no `krt_tunnel` (Calico's BIRD fork only).

export interface CalicoBirdNode {
  /** This node's IPv4 address (no length). */
  ip: string;
  asNumber: number;
  /** Blocks affine to this node (confirmed). */
  blocks: string[];
  /** IP pools (CIDR) without disableBGPExport. */
  pools: string[];
  /** Other Calico nodes' IPv4 addresses: one Mesh_ session each. */
  meshPeers: string[];
  /** BGPConfiguration nodeMeshMaxRestartTime in seconds (default 120). */
  meshRestartTime?: number;
  /** This node's Node spec.bgp.routeReflectorClusterID. */
  rrClusterId?: string;
  /** Explicit peerings (BGPPeer resources, reverse peerings included). */
  peers?: CalicoBirdPeer[];
}

export interface CalicoBirdPeer {
  /** Global_ (BGPPeer without node/nodeSelector) or Node_ (selects this node). */
  scope: 'Global' | 'Node';
  ip: string;
  asNumber: number;
  /** The peer's routeReflectorClusterID when it is a Calico node (peerSelector branch). */
  rrClusterId?: string;
  /** peerIP equals some Calico node's BGP address (peerIP branch only). */
  calicoNode?: boolean;
  /** BGPPeer maxRestartTime in seconds. */
  restartTime?: number;
}

/** Go text/template `gt` on two strings: byte-wise comparison. */
export const goGt = (a: string, b: string): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;

export function renderCalicoBirdCfg(n: CalicoBirdNode): string {
  const id = (ip: string) => ip.replace(/[.:]/g, '_');
  const L: string[] = [
    `router id ${n.ip};`,
    'log stderr all;',
    '',
    'function calico_aggr() {',
    ...n.blocks.flatMap((b) => [`  if ( net = ${b} ) then { accept; }`, `  if ( net ~ ${b} ) then { reject; }`]),
    '}',
    '',
    'function calico_export_to_bgp_peers(bool internal_peer) {',
    '  if ( internal_peer && defined(ifname) && ifname ~ "*.cali" ) then { reject; }',
    '  calico_aggr();',
    ...n.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '}',
    '',
    'filter calico_kernel_programming {',
    ...n.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '  accept;',
    '}',
    '',
    'protocol kernel {',
    '  learn;',
    '  persist;',
    '  scan time 2;',
    '  ipv4 { import all; export filter calico_kernel_programming; };',
    '  graceful restart;',
    '  merge paths on;',
    '}',
    '',
    'protocol device { debug { states }; scan time 2; }',
    '',
    'protocol direct {',
    '  debug { states };',
    '  ipv4;',
    '  interface -"cali*", -"kube-ipvs*", "*";',
    '}',
    '',
    'protocol static {',
    '  ipv4;',
    ...n.blocks.map((b) => `  route ${b} blackhole;`),
    '}',
    '',
    'template bgp bgp_template {',
    '  debug { states };',
    '  description "Connection to BGP peer";',
    `  local as ${n.asNumber};`,
    '  ipv4 {',
    '    import all;',
    '    export filter { calico_export_to_bgp_peers(true); reject; };',
    '    gateway recursive;',
    '    add paths on;',
    '  };',
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5,30;',
    '}',
    '',
  ];
  for (const peer of [...n.meshPeers].sort()) {
    L.push(
      `protocol bgp Mesh_${id(peer)} from bgp_template {`,
      `  neighbor ${peer} as ${n.asNumber};`,
      `  source address ${n.ip};`,
      ...(goGt(peer, n.ip) ? ['  passive on; # Mesh is unidirectional, peer will connect to us.'] : []),
      `  graceful restart time ${n.meshRestartTime ?? 120};`,
      '}',
      '',
    );
  }
  for (const p of [...(n.peers ?? [])].sort((a, b) => (a.scope === b.scope ? 0 : a.scope === 'Global' ? -1 : 1))) {
    if (p.ip === n.ip) continue;
    const internal = p.asNumber === n.asNumber;
    L.push(
      `protocol bgp ${p.scope}_${id(p.ip)} from bgp_template {`,
      '  ttl security off;',
      '  multihop;',
      `  neighbor ${p.ip} as ${p.asNumber};`,
      `  source address ${n.ip};`,
      // confd's BIRD 1 file has import/export at protocol level; in BIRD 2 they are the channel's.
      `  ipv4 { import all; export filter { calico_export_to_bgp_peers(${internal}); reject; }; };`,
      ...(p.scope === 'Global' && p.calicoNode && goGt(p.ip, n.ip) ? ['  passive on; # Peering with calico/node, peer will connect to us.'] : []),
      ...(p.restartTime !== undefined ? [`  graceful restart time ${p.restartTime};`] : []),
      ...(internal && n.rrClusterId && p.rrClusterId !== n.rrClusterId ? ['  rr client;', `  rr cluster id ${n.rrClusterId};`] : []),
      '}',
      '',
    );
  }
  return L.join('\n');
}
