// The one BIRD 2 config renderer for calico-node stand-ins (tests and benchmarks): bird.cfg as
// calico-node's confd renders it from its templates (bird.cfg.template, bird_aggr.cfg.template,
// bird_ipam.cfg.template), written in BIRD 2 syntax so Debian's bird2 can run it: the kernel
// protocol with `learn`, device/direct, the node's blocks as static blackholes, calico_aggr +
// calico_export_to_bgp_peers, bgp_template with confd's timers, and one protocol per session.
//
// Two front ends build the session list:
// - renderCalicoBirdCfg(node) from a Calico node's view (integration tests): one `Mesh_<ip>`
//   protocol per other node with `source address`, `graceful restart time` and `passive on`
//   exactly when the other node's address is greater AS A STRING (Go `gt`); then the explicit
//   peerings confd builds from BGPPeers: `Global_<ip>` for a BGPPeer without node selector,
//   `Node_<ip>` for one that selects this node (or a reverse peering), each with `ttl security
//   off; multihop;`, `source address`, the export filter with internal_peer = same AS, `passive
//   on` on a Global_ toward a calico-node whose address is greater as a string, and `rr client;
//   rr cluster id <own>` when this node has a cluster id and the peer a different one.
// - calicoBirdConfig(options) from a flat session list (benchmarks), with quiet logging, an
//   optional kernel protocol and an injector mode that exports every static route.
// Differences from the real file that do not change BGP behaviour: one table per family
// (calico-node runs bird and bird6), no `krt_tunnel` (Calico's BIRD fork only).

/** One `protocol bgp` block. */
export interface BirdSession {
  name: string;
  neighbor: string;
  asNumber: number;
  sourceAddress?: string;
  /** `passive on`, with the comment confd writes beside it. */
  passive?: string | true;
  /** A Global_/Node_ peering: `ttl security off; multihop;` and its own export channel. */
  explicit?: boolean;
  restartTime?: number;
  /** `rr client; rr cluster id <id>`. */
  rrClusterId?: string;
}

export interface BirdConfig {
  routerId: string;
  asNumber: number;
  blocks: string[];
  pools: string[];
  sessions: BirdSession[];
  /** Kernel protocol (default true; false for a pure injector). */
  kernel?: boolean;
  /** Log warnings and errors only (benchmarks), instead of everything. */
  quiet?: boolean;
  /** Export every static route to every peer, without Calico's filter (an injector). */
  exportStatic?: boolean;
}

/** Go text/template `gt` on two strings: byte-wise comparison. */
export const goGt = (a: string, b: string): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;

export function renderBirdConfig(c: BirdConfig): string {
  const debug = c.quiet ? [] : ['  debug { states };'];
  const exportFilter = (internal: boolean) =>
    (c.exportStatic ? 'where source = RTS_STATIC' : `filter { calico_export_to_bgp_peers(${internal}); reject; }`);
  const L: string[] = [
    `router id ${c.routerId};`,
    ...(c.quiet ? ['log stderr { warning, error, fatal };', 'debug protocols { states };'] : ['log stderr all;']),
    '',
    'function calico_aggr() {',
    ...c.blocks.flatMap((b) => [`  if ( net = ${b} ) then { accept; }`, `  if ( net ~ ${b} ) then { reject; }`]),
    '}',
    '',
    'function calico_export_to_bgp_peers(bool internal_peer) {',
    '  if ( internal_peer && defined(ifname) && ifname ~ "*.cali" ) then { reject; }',
    '  calico_aggr();',
    ...c.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '}',
    '',
    'filter calico_kernel_programming {',
    ...c.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '  accept;',
    '}',
    '',
  ];
  if (c.kernel !== false) {
    L.push(
      'protocol kernel {',
      '  learn;',
      '  persist;',
      '  scan time 2;',
      '  ipv4 { import all; export filter calico_kernel_programming; };',
      '  graceful restart;',
      '  merge paths on;',
      '}',
      '',
    );
  }
  L.push(
    `protocol device {${c.quiet ? '' : ' debug { states };'} scan time 2; }`,
    '',
    'protocol direct {',
    ...debug,
    '  ipv4;',
    '  interface -"cali*", -"kube-ipvs*", "*";',
    '}',
    '',
  );
  if (c.blocks.length) {
    L.push('protocol static {', '  ipv4;', ...c.blocks.map((b) => `  route ${b} blackhole;`), '}', '');
  }
  L.push(
    'template bgp bgp_template {',
    ...debug,
    '  description "Connection to BGP peer";',
    `  local as ${c.asNumber};`,
    '  ipv4 {',
    '    import all;',
    `    export ${exportFilter(true)};`,
    '    gateway recursive;',
    '    add paths on;',
    '  };',
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5,30;',
    '}',
    '',
  );
  for (const s of c.sessions) {
    const internal = s.asNumber === c.asNumber;
    const passive = s.passive === undefined ? [] : [`  passive on;${s.passive === true ? '' : ` # ${s.passive}`}`];
    L.push(
      `protocol bgp ${s.name} from bgp_template {`,
      ...(s.explicit ? ['  ttl security off;', '  multihop;'] : []),
      `  neighbor ${s.neighbor} as ${s.asNumber};`,
      ...(s.sourceAddress ? [`  source address ${s.sourceAddress};`] : []),
      // confd's BIRD 1 file has import/export at protocol level; in BIRD 2 they are the channel's.
      ...(s.explicit ? [`  ipv4 { import all; export ${exportFilter(internal)}; };`] : []),
      ...passive,
      ...(s.restartTime !== undefined ? [`  graceful restart time ${s.restartTime};`] : []),
      ...(s.rrClusterId ? ['  rr client;', `  rr cluster id ${s.rrClusterId};`] : []),
      '}',
      '',
    );
  }
  return L.join('\n');
}

// ------------------------------------------------------------------ a Calico node's view (tests)

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

const protoId = (ip: string) => ip.replace(/[.:]/g, '_');

export function renderCalicoBirdCfg(n: CalicoBirdNode): string {
  const sessions: BirdSession[] = [...n.meshPeers].sort().map((peer) => ({
    name: `Mesh_${protoId(peer)}`, neighbor: peer, asNumber: n.asNumber, sourceAddress: n.ip,
    ...(goGt(peer, n.ip) ? { passive: 'Mesh is unidirectional, peer will connect to us.' } : {}),
    restartTime: n.meshRestartTime ?? 120,
  }));
  for (const p of [...(n.peers ?? [])].sort((a, b) => (a.scope === b.scope ? 0 : a.scope === 'Global' ? -1 : 1))) {
    if (p.ip === n.ip) continue;
    const internal = p.asNumber === n.asNumber;
    sessions.push({
      name: `${p.scope}_${protoId(p.ip)}`, neighbor: p.ip, asNumber: p.asNumber, sourceAddress: n.ip, explicit: true,
      ...(p.scope === 'Global' && p.calicoNode && goGt(p.ip, n.ip) ? { passive: 'Peering with calico/node, peer will connect to us.' } : {}),
      ...(p.restartTime !== undefined ? { restartTime: p.restartTime } : {}),
      ...(internal && n.rrClusterId && p.rrClusterId !== n.rrClusterId ? { rrClusterId: n.rrClusterId } : {}),
    });
  }
  return renderBirdConfig({ routerId: n.ip, asNumber: n.asNumber, blocks: n.blocks, pools: n.pools, sessions });
}

// ------------------------------------------------------------------ a flat session list (benchmarks)

export interface CalicoBirdOptions {
  routerId: string;
  /** AS of this BIRD and (by default) of its peers. */
  asNumber: number;
  /** Own blocks: `route <block> blackhole` in the static protocol. */
  blocks: string[];
  pools: string[];
  peers: Array<{ name: string; address: string; asn?: number; passive?: boolean; sourceAddress?: string; rrClient?: boolean }>;
  rrClusterId?: string;
  /** false for a pure injector (no kernel protocol). */
  kernel?: boolean;
  /** Injector: export every static route (no Calico filter). */
  injector?: boolean;
}

export function calicoBirdConfig(o: CalicoBirdOptions): string {
  return renderBirdConfig({
    routerId: o.routerId, asNumber: o.asNumber, blocks: o.blocks, pools: o.pools, quiet: true,
    ...(o.kernel === false ? { kernel: false } : {}),
    ...(o.injector ? { exportStatic: true } : {}),
    sessions: o.peers.map((p) => ({
      name: p.name, neighbor: p.address, asNumber: p.asn ?? o.asNumber,
      ...(p.sourceAddress ? { sourceAddress: p.sourceAddress } : {}),
      ...(p.passive ? { passive: true as const } : {}),
      ...(p.rrClient && o.rrClusterId ? { rrClusterId: o.rrClusterId } : {}),
    })),
  });
}
