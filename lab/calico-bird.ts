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
// Releases: by default the file of calico-node up to v3.31. `calicoVersion: 'v3.32'` renders
// v3.32's route priority (bgp_processor.go, template_funcs.go), with N the normal route
// priority (BGPConfiguration ipv4NormalRoutePriority, default 1024):
// - every session has its own import and export filter; the export filter first gives a route
//   learned over BGP `krt_metric = 2147483647 − LOCAL_PREF` and any other route (own blocks,
//   service CIDRs) `LOCAL_PREF = 2147483647 − krt_metric` (krt_metric N when it has none),
//   then the session's BGPFilters, then calico_export_to_bgp_peers;
// - the import filter, after the BGPFilters, sets preference 200 when LOCAL_PREF > 2147483647 − N;
// - calico_aggr also accepts a route inside an own block whose krt_metric is below N;
// - the kernel filter writes a BGP route with metric 2147483647 − LOCAL_PREF (N without one),
//   preference 200 when that is below N (with `metric 0` on the kernel protocol, which BIRD 2
//   needs to write a route's own krt_metric).
// BGPFilters (calicoBgpFilterFunctions) are rendered as template_funcs.go renders them, for the
// fields this kit needs (action, cidr + matchOperator, priority, setPriority), in BIRD 2 syntax.
// Service CIDRs (BGPConfiguration serviceClusterIPs) are static blackholes exported to every
// peer and never programmed into the kernel (confd's /staticroutes and /rejectcidrs).
// Differences from the real file that do not change BGP behaviour: one table per family
// (calico-node runs bird and bird6), no `krt_tunnel` (Calico's BIRD fork only), and in the
// v3.31 file kernel routes at BIRD 2's default metric 32 (calico-node's BIRD writes 0).

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
  /** BGPFilter names in the BGPPeer's order (v3.32 rendering; mesh sessions have none). */
  filters?: string[];
}

/** The part of a BGPFilter rule this kit renders (Calico v3 BGPFilterRuleV4 field names). */
export interface CalicoBgpFilterRule {
  action: 'Accept' | 'Reject';
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  /** Matches routes of this priority: LOCAL_PREF = 2147483647 − priority. */
  priority?: number;
  operations?: Array<{ setPriority: { value: number } }>;
}

/** A BGPFilter's spec as written in the resource (IPv4 rules only). */
export interface CalicoBgpFilterSpec { exportV4?: CalicoBgpFilterRule[]; importV4?: CalicoBgpFilterRule[] }
export interface CalicoBgpFilter { name: string; spec: CalicoBgpFilterSpec }

/** 2^31 − 1: Calico's pivot between a priority (metric) and LOCAL_PREF (template_funcs.go). */
export const BIRD_INT_MAX = 2147483647;
/** LOCAL_PREF carrying a route priority. */
export const priorityToLocalPref = (priority: number): number => BIRD_INT_MAX - priority;

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
  /** Service CIDRs advertised from this node (static blackholes, never in the kernel). */
  serviceCidrs?: string[];
  /** v3.32's route priority with this normal priority N; absent: the v3.31 file. */
  normalRoutePriority?: number;
  /** BGPFilters the sessions may name (v3.32 rendering). */
  bgpFilters?: CalicoBgpFilter[];
}

/** Go text/template `gt` on two strings: byte-wise comparison. */
export const goGt = (a: string, b: string): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;

const CIDR_OP = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' } as const;
const filterFn = (name: string, dir: 'import' | 'export') => `'bgp_${name}_${dir}FilterV4'`;

/** One rule as template_funcs.go's filterStatement writes it. */
function filterStatement(r: CalicoBgpFilterRule): string {
  const cond: string[] = [];
  if (r.cidr) {
    if (!r.matchOperator) throw new Error(`BGPFilter rule on ${r.cidr}: matchOperator is required`);
    cond.push(`(net ${CIDR_OP[r.matchOperator]} ${r.cidr})`);
  }
  if (r.priority !== undefined) cond.push(`(defined(bgp_local_pref)&&(bgp_local_pref = ${priorityToLocalPref(r.priority)}))`);
  const body = [...(r.operations ?? []).map((o) => `bgp_local_pref = ${priorityToLocalPref(o.setPriority.value)};`), `${r.action.toLowerCase()};`].join(' ');
  return cond.length ? `if (${cond.join('&&')}) then { ${body} }` : body;
}

/** The BIRD functions confd renders for these BGPFilters (bgpFilterBIRDFuncs), IPv4. */
export function calicoBgpFilterFunctions(filters: readonly CalicoBgpFilter[]): string[] {
  const L: string[] = [];
  for (const f of filters) {
    for (const [dir, rules] of [['import', f.spec.importV4], ['export', f.spec.exportV4]] as const) {
      if (!rules?.length) continue;
      L.push(`function ${filterFn(f.name, dir)}() {`, ...rules.map((r) => `  ${filterStatement(r)}`), '}', '');
    }
  }
  return L;
}

/** v3.32's import and export filter bodies of one session (buildImportFilter, buildExportFilter). */
function priorityFilters(c: BirdConfig, s: BirdSession, n: number, internal: boolean): { imp: string[]; exp: string[] } {
  const calls = (dir: 'importV4' | 'exportV4') => (s.filters ?? []).flatMap((name) => {
    const f = c.bgpFilters?.find((x) => x.name === name);
    return f?.spec[dir]?.length ? [`${filterFn(name, dir === 'importV4' ? 'import' : 'export')}();`] : [];
  });
  return {
    imp: [...calls('importV4'), `if (defined(bgp_local_pref)&&(bgp_local_pref > ${BIRD_INT_MAX - n})) then`, '  preference = 200;', 'accept;'],
    exp: [
      'if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {',
      `  krt_metric = ${BIRD_INT_MAX} - bgp_local_pref;`,
      '} else {',
      `  if (!defined(krt_metric)) then { krt_metric = ${n}; }`,
      `  bgp_local_pref = ${BIRD_INT_MAX} - krt_metric;`,
      '}',
      ...calls('exportV4'),
      `calico_export_to_bgp_peers(${internal});`,
      'reject;',
    ],
  };
}

export function renderBirdConfig(c: BirdConfig): string {
  const debug = c.quiet ? [] : ['  debug { states };'];
  const n = c.normalRoutePriority;
  const services = c.serviceCidrs ?? [];
  const exportFilter = (internal: boolean) =>
    (c.exportStatic ? 'where source = RTS_STATIC' : `filter { calico_export_to_bgp_peers(${internal}); reject; }`);
  const L: string[] = [
    `router id ${c.routerId};`,
    ...(c.quiet ? ['log stderr { warning, error, fatal };', 'debug protocols { states };'] : ['log stderr all;']),
    '',
    'function calico_aggr() {',
    ...c.blocks.flatMap((b) => [
      `  if ( net = ${b} ) then { accept; }`,
      ...(n !== undefined ? [`  if ( net ~ ${b} && krt_metric < ${n} ) then { accept; }`] : []),
      `  if ( net ~ ${b} ) then { reject; }`,
    ]),
    '}',
    '',
    'function calico_export_to_bgp_peers(bool internal_peer) {',
    '  if ( internal_peer && defined(ifname) && ifname ~ "*.cali" ) then { reject; }',
    '  calico_aggr();',
    ...services.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    ...c.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '}',
    '',
    'filter calico_kernel_programming {',
    ...services.map((p) => `  if ( net ~ ${p} ) then { reject; }`),
    ...(n !== undefined ? [
      '  if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {',
      `    krt_metric = ${n};`,
      `    if (defined(bgp_local_pref)) then { krt_metric = ${BIRD_INT_MAX} - bgp_local_pref; }`,
      `    if (krt_metric < ${n}) then { preference = 200; }`,
      '  }',
    ] : []),
    ...c.pools.map((p) => `  if ( net ~ ${p} ) then { accept; }`),
    '  accept;',
    '}',
    '',
    ...(n !== undefined ? calicoBgpFilterFunctions(c.bgpFilters ?? []) : []),
  ];
  if (c.kernel !== false) {
    L.push(
      'protocol kernel {',
      '  learn;',
      '  persist;',
      '  scan time 2;',
      '  ipv4 { import all; export filter calico_kernel_programming; };',
      // BIRD 2 writes every route with the protocol's `metric` (default 32) and reads a route's
      // krt_metric only under `metric 0`, the default of calico-node's BIRD (a BIRD 1.6 fork).
      ...(n !== undefined ? ['  metric 0;'] : []),
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
  if (c.blocks.length || services.length) {
    L.push('protocol static {', '  ipv4;', ...[...c.blocks, ...services].map((b) => `  route ${b} blackhole;`), '}', '');
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
    // confd's BIRD 1 file has import/export at protocol level; in BIRD 2 they are the channel's.
    let channel: string[] = s.explicit ? [`  ipv4 { import all; export ${exportFilter(internal)}; };`] : [];
    if (n !== undefined) {
      const f = priorityFilters(c, s, n, internal);
      channel = ['  ipv4 {', '    import filter {', ...f.imp.map((x) => `      ${x}`), '    };',
        '    export filter {', ...f.exp.map((x) => `      ${x}`), '    };', '  };'];
    }
    L.push(
      `protocol bgp ${s.name} from bgp_template {`,
      ...(s.explicit ? ['  ttl security off;', '  multihop;'] : []),
      `  neighbor ${s.neighbor} as ${s.asNumber};`,
      ...(s.sourceAddress ? [`  source address ${s.sourceAddress};`] : []),
      ...channel,
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
  /** BGPConfiguration default serviceClusterIPs. */
  serviceClusterIPs?: string[];
  /** The calico-node release whose file is rendered (default v3.31; see the header). */
  calicoVersion?: 'v3.31' | 'v3.32';
  /** BGPConfiguration ipv4NormalRoutePriority (v3.32; default 1024). */
  normalRoutePriority?: number;
  /** The cluster's BGPFilters (v3.32 rendering). */
  bgpFilters?: CalicoBgpFilter[];
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
  /** BGPPeer filters. */
  filters?: string[];
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
      ...(p.filters ? { filters: p.filters } : {}),
    });
  }
  return renderBirdConfig({
    routerId: n.ip, asNumber: n.asNumber, blocks: n.blocks, pools: n.pools, sessions,
    ...(n.serviceClusterIPs ? { serviceCidrs: n.serviceClusterIPs } : {}),
    ...(n.calicoVersion === 'v3.32' ? { normalRoutePriority: n.normalRoutePriority ?? 1024, bgpFilters: n.bgpFilters ?? [] } : {}),
  });
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
