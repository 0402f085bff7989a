// Real BGP peers for integration tests: BIRD 2, GoBGP and FRR, each started in the
// foreground inside a lab host (test/helpers/netns.ts), with its config and control socket in
// the lab's temp dir, its log captured, and query helpers that parse the daemon's own CLI.
//
// BIRD is configured the way calico-node's confd renders bird.cfg (reference §1): device +
// direct protocols (cali* excluded), static blackholes, a kernel protocol only when asked,
// and BGP sessions from a template with `gateway recursive`, `add paths on`,
// `graceful restart`, `connect delay time 2`, `connect retry time 5`, `error wait time 5,30`.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import type { Lab, ProcHandle } from './netns.js';

export type Family = 'ipv4' | 'ipv6';

export interface NeighborSpec {
  address: string;
  asn: number;
  /** Routes carried; default: the family of `address`. */
  family?: Family | 'both';
  /** BIRD protocol name (default `Peer_<address with _>`, Calico names Mesh_/Global_/Node_). */
  name?: string;
  port?: number;
  passive?: boolean;
  /** true: multihop (no TTL limit), a number: that TTL. */
  multihop?: boolean | number;
  /** RFC 7911 send+receive; default true for BIRD (Calico), false for GoBGP/FRR. */
  addPaths?: boolean;
  /** default true for BIRD (Calico), false for GoBGP/FRR. */
  gracefulRestart?: boolean;
  gracefulRestartTime?: number;
  holdTime?: number;
  keepaliveTime?: number;
  sourceAddress?: string;
  localAsn?: number;
  password?: string;
  nextHop?: 'self' | 'keep';
  /** We reflect to this peer (RFC 4456). */
  rrClient?: boolean;
}

export interface StaticRoute { prefix: string; blackhole?: boolean; via?: string }

async function retry<T>(lab: Lab, what: string, fn: () => Promise<T>): Promise<T> {
  return lab.waitFor(async () => ({ v: await fn() }), { what, timeoutMs: 15_000, intervalMs: 200 }).then((r) => r.v);
}

const fam = (a: string): Family => (a.includes(':') ? 'ipv6' : 'ipv4');
const families = (n: NeighborSpec): Family[] =>
  (n.family === 'both' ? ['ipv4', 'ipv6'] : [n.family ?? fam(n.address)]);
export const birdName = (n: NeighborSpec): string => n.name ?? `Peer_${n.address.replace(/[.:]/g, '_')}`;

// ---------------------------------------------------------------------------------- BIRD 2

export interface BirdOptions {
  routerId: string;
  asn: number;
  neighbors: NeighborSpec[];
  staticRoutes?: StaticRoute[];
  /** Export every route to every peer (default: static + BGP routes, like Calico's pools). */
  exportAll?: boolean;
  /** Run a kernel protocol that writes learned routes into this namespace's FIB. */
  kernelExport?: boolean;
  /** RR cluster id when some neighbor is an rrClient. */
  rrClusterId?: string;
  listenPort?: number;
  /** Start in graceful-restart recovery (`bird -R`), as calico-node does. */
  recovery?: boolean;
  debugAll?: boolean;
  extraConfig?: string;
}

export interface BirdProtocol { name: string; proto: string; table: string; state: string; since: string; info: string }
export interface BirdRoute {
  prefix: string;
  type: string; // unicast | blackhole | unreachable | prohibited
  protocol: string;
  from?: string;
  primary: boolean;
  preference: number;
  nextHops: Array<{ via?: string; dev?: string }>;
  /** Raw `Name: value` lines (`BGP.as_path`, `BGP.next_hop`, `Type`, …). */
  attrs: Record<string, string>;
  asPath: number[];
  origin?: string;
  bgpNextHop?: string[];
  localPref?: number;
  med?: number;
  communities?: string[];
  largeCommunities?: string[];
  originatorId?: string;
  clusterList?: string[];
}

export interface BirdHandle {
  proc: ProcHandle; socket: string; configFile: string; opts: BirdOptions;
  birdc(...args: string[]): Promise<string>;
  protocols(): Promise<BirdProtocol[]>;
  routes(table?: string): Promise<BirdRoute[]>;
  waitEstablished(name?: string, timeoutMs?: number): Promise<void>;
  /** Rewrites the config and reloads (`birdc configure`). */
  reconfigure(opts: BirdOptions): Promise<void>;
  stop(): Promise<void>;
}

export function birdConfig(o: BirdOptions): string {
  const L: string[] = [
    `router id ${o.routerId};`,
    'log stderr all;',
    `debug protocols ${o.debugAll ? 'all' : '{ states }'};`,
    'timeformat protocol "%F_%T";',
    'timeformat route "%F_%T";',
    'timeformat base "%F_%T";',
    o.listenPort ? `# listen port ${o.listenPort} is set per neighbor below` : '',
    'protocol device { scan time 2; }',
    'protocol direct { ipv4; ipv6; interface -"cali*", -"kube-ipvs*", "*"; }',
  ];
  if (o.kernelExport) {
    for (const f of ['ipv4', 'ipv6']) {
      L.push(`protocol kernel kernel_${f} { ${f} { import none; export all; }; learn; persist; scan time 2;` +
        ' merge paths on limit 16; graceful restart; }');
    }
  }
  const st = o.staticRoutes ?? [];
  for (const f of ['ipv4', 'ipv6'] as const) {
    const rs = st.filter((r) => fam(r.prefix) === f);
    if (!rs.length) continue;
    L.push(`protocol static static_${f} { ${f};`);
    for (const r of rs) L.push(`  route ${r.prefix} ${r.via ? `via ${r.via}` : 'blackhole'};`);
    L.push('}');
  }
  const exp = o.exportAll ? 'all' : 'where source ~ [ RTS_STATIC, RTS_BGP ]';
  for (const n of o.neighbors) {
    const addPaths = n.addPaths ?? true;
    const gr = n.gracefulRestart ?? true;
    L.push(`protocol bgp ${birdName(n)} {`);
    L.push(`  local as ${n.localAsn ?? o.asn};`);
    L.push(`  neighbor ${n.address}${n.port ? ` port ${n.port}` : ''} as ${n.asn};`);
    if (n.sourceAddress) L.push(`  source address ${n.sourceAddress};`);
    if (o.listenPort) L.push(`  local port ${o.listenPort};`);
    if (n.passive) L.push('  passive on;');
    if (n.multihop === true) L.push('  multihop;');
    else if (typeof n.multihop === 'number') L.push(`  multihop ${n.multihop};`);
    if (n.password) L.push(`  password "${n.password}";`);
    if (n.holdTime) L.push(`  hold time ${n.holdTime};`);
    if (n.keepaliveTime) L.push(`  keepalive time ${n.keepaliveTime};`);
    L.push(`  graceful restart ${gr ? 'on' : 'off'};`);
    if (n.gracefulRestartTime) L.push(`  graceful restart time ${n.gracefulRestartTime};`);
    if (n.rrClient) L.push(`  rr client;${o.rrClusterId ? ` rr cluster id ${o.rrClusterId};` : ''}`);
    L.push('  connect delay time 2; connect retry time 5; error wait time 5,30;');
    for (const f of families(n)) {
      L.push(`  ${f} { import all; export ${exp}; gateway recursive; add paths ${addPaths ? 'on' : 'off'};` +
        `${n.nextHop ? ` next hop ${n.nextHop};` : ''} };`);
    }
    L.push('}');
  }
  if (o.extraConfig) L.push(o.extraConfig);
  return `${L.filter(Boolean).join('\n')}\n`;
}

export function parseBirdProtocols(out: string): BirdProtocol[] {
  const res: BirdProtocol[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(up|down|start|stop|flush)\s+(\S+)\s*(.*)$/.exec(line);
    if (m && m[1] !== 'Name') {
      res.push({ name: m[1]!, proto: m[2]!, table: m[3]!, state: m[4]!, since: m[5]!, info: (m[6] ?? '').trim() });
    }
  }
  return res;
}

export function parseBirdRoutes(out: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let prefix = '';
  let cur: BirdRoute | undefined;
  for (const line of out.split('\n')) {
    if (!line.trim() || /^(BIRD|Table|Access)/.test(line)) continue;
    const head = /^(\S+)?\s+(unicast|blackhole|unreachable|prohibited)\s+\[(\S+)\s+\S+(?:\s+from\s+(\S+))?\]\s+(\*)?\s*\((\d+)(?:\/\S+)?\)/.exec(line);
    if (head) {
      if (head[1]) prefix = head[1];
      cur = {
        prefix, type: head[2]!, protocol: head[3]!, primary: head[5] === '*', preference: Number(head[6]),
        nextHops: [], attrs: {}, asPath: [],
      };
      if (head[4]) cur.from = head[4];
      routes.push(cur);
      continue;
    }
    if (!cur) continue;
    const t = line.trim();
    const via = /^via (\S+)(?: on (\S+))?/.exec(t);
    if (via) { cur.nextHops.push({ via: via[1]!, ...(via[2] ? { dev: via[2] } : {}) }); continue; }
    const dev = /^dev (\S+)/.exec(t);
    if (dev) { cur.nextHops.push({ dev: dev[1]! }); continue; }
    const kv = /^([A-Za-z_.]+):\s*(.*)$/.exec(t);
    if (!kv) continue;
    const [, k, v = ''] = kv as unknown as [string, string, string];
    cur.attrs[k] = v;
    const words = v.split(/\s+/).filter(Boolean);
    switch (k) {
      case 'BGP.as_path': cur.asPath = words.filter((w) => /^\d+$/.test(w)).map(Number); break;
      case 'BGP.origin': cur.origin = v; break;
      case 'BGP.next_hop': cur.bgpNextHop = words; break;
      case 'BGP.local_pref': cur.localPref = Number(v); break;
      case 'BGP.med': cur.med = Number(v); break;
      case 'BGP.community': cur.communities = (v.match(/\(\d+,\s*\d+\)/g) ?? []).map((c) => c.replace(/[()\s]/g, '').replace(',', ':')); break;
      case 'BGP.large_community': cur.largeCommunities = (v.match(/\(\d+,\s*\d+,\s*\d+\)/g) ?? []).map((c) => c.replace(/[()\s]/g, '').replace(/,/g, ':')); break;
      case 'BGP.originator_id': cur.originatorId = v; break;
      case 'BGP.cluster_list': cur.clusterList = words; break;
      default: break;
    }
  }
  return routes;
}

export async function startBird(lab: Lab, host: string, opts: BirdOptions): Promise<BirdHandle> {
  const base = `${host}-bird`;
  const configFile = lab.path(`${base}.conf`);
  const socket = lab.path(`${base}.ctl`);
  writeFileSync(configFile, birdConfig(opts));
  await lab.exec(host, 'bird', ['-p', '-c', configFile]);
  const args = ['-f', '-c', configFile, '-s', socket, '-P', lab.path(`${base}.pid`)];
  if (opts.recovery) args.push('-R');
  const proc = lab.spawn(host, 'bird', args, { logFile: lab.path(`${base}.log`) });
  const birdc = async (...a: string[]) => (await lab.exec(host, 'birdc', ['-s', socket, ...a])).stdout;
  const h: BirdHandle = {
    proc, socket, configFile, opts,
    birdc,
    protocols: async () => parseBirdProtocols(await birdc('show', 'protocols')),
    routes: async (table?: string) => parseBirdRoutes(await birdc('show', 'route', 'all', ...(table ? ['table', table] : []))),
    async waitEstablished(name?: string, timeoutMs = 60_000) {
      const names = name ? [name] : opts.neighbors.map(birdName);
      await lab.waitFor(async () => {
        const ps = await h.protocols();
        return names.every((n) => ps.some((p) => p.name === n && p.state === 'up' && p.info.startsWith('Established')));
      }, { what: `BIRD on ${host}: ${names.join(', ')} Established`, timeoutMs, intervalMs: 500 });
    },
    async reconfigure(o: BirdOptions) {
      writeFileSync(configFile, birdConfig(o));
      h.opts = o;
      await birdc('configure');
    },
    stop: () => proc.kill(),
  };
  await retry(lab, `BIRD control socket on ${host}`, () => birdc('show', 'status'));
  return h;
}

// ----------------------------------------------------------------------------------- GoBGP

export interface GobgpOptions {
  routerId: string;
  asn: number;
  neighbors: NeighborSpec[];
  /** Originated with `gobgp global rib add` once the daemon is up. */
  routes?: Array<{ prefix: string; nextHop?: string; communities?: string[]; med?: number }>;
  listenPort?: number;
  /** Route-reflector cluster id when some neighbor is an rrClient. */
  rrClusterId?: string;
}
export interface GobgpNeighbor { address: string; asn: number; state: string; raw: unknown }
export interface GobgpPath { prefix: string; best: boolean; nextHop?: string; asPath: number[]; neighbor?: string; pathId?: number; attrs: unknown[] }
export interface GobgpHandle {
  proc: ProcHandle; apiPort: number; configFile: string;
  gobgp(...args: string[]): Promise<string>;
  neighbors(): Promise<GobgpNeighbor[]>;
  rib(family?: Family): Promise<GobgpPath[]>;
  addRoute(prefix: string, opts?: { nextHop?: string; communities?: string[]; med?: number }): Promise<void>;
  delRoute(prefix: string): Promise<void>;
  waitEstablished(address?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function gobgpConfig(o: GobgpOptions): string {
  const L = ['[global.config]', `  as = ${o.asn}`, `  router-id = "${o.routerId}"`, `  port = ${o.listenPort ?? 179}`, ''];
  for (const n of o.neighbors) {
    L.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n.address}"`, `    peer-as = ${n.asn}`);
    if (n.localAsn) L.push(`    local-as = ${n.localAsn}`);
    if (n.password) L.push(`    auth-password = "${n.password}"`);
    L.push('  [neighbors.transport.config]', `    passive-mode = ${n.passive ? 'true' : 'false'}`);
    if (n.port) L.push(`    remote-port = ${n.port}`);
    if (n.sourceAddress) L.push(`    local-address = "${n.sourceAddress}"`);
    L.push('  [neighbors.timers.config]', '    connect-retry = 5',
      `    hold-time = ${n.holdTime ?? 90}`, `    keepalive-interval = ${n.keepaliveTime ?? Math.floor((n.holdTime ?? 90) / 3)}`);
    if (n.multihop) L.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', `    multihop-ttl = ${typeof n.multihop === 'number' ? n.multihop : 255}`);
    if (n.gracefulRestart) L.push('  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${n.gracefulRestartTime ?? 120}`);
    if (n.rrClient) L.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${o.rrClusterId ?? o.routerId}"`);
    for (const f of families(n)) {
      L.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${f}-unicast"`);
      if (n.addPaths) L.push('    [neighbors.afi-safis.add-paths.config]', '      receive = true', '      send-max = 16');
      if (n.gracefulRestart) L.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
    L.push('');
  }
  return `${L.join('\n')}\n`;
}

const GOBGP_STATES: Record<number, string> = { 0: 'unknown', 1: 'idle', 2: 'connect', 3: 'active', 4: 'opensent', 5: 'openconfirm', 6: 'established' };

interface GobgpJsonAttr { type: number; value?: number; nexthop?: string; as_paths?: Array<{ asns?: number[] }>; mp_reach?: unknown; nlris?: unknown }

export async function startGobgp(lab: Lab, host: string, opts: GobgpOptions): Promise<GobgpHandle> {
  const configFile = lab.path(`${host}-gobgpd.toml`);
  writeFileSync(configFile, gobgpConfig(opts));
  const apiPort = lab.nextPort();
  const proc = lab.spawn(host, 'gobgpd', ['-f', configFile, '-p', '--api-hosts', `127.0.0.1:${apiPort}`, '--pprof-disable'],
    { logFile: lab.path(`${host}-gobgpd.log`) });
  const gobgp = async (...a: string[]) => (await lab.exec(host, 'gobgp', ['-u', '127.0.0.1', '-p', String(apiPort), ...a])).stdout;
  const h: GobgpHandle = {
    proc, apiPort, configFile, gobgp,
    async neighbors() {
      const list = JSON.parse((await gobgp('neighbor', '-j')) || '[]') as Array<{ conf?: { neighbor_address?: string; peer_asn?: number }; state?: { session_state?: number | string; peer_asn?: number } }>;
      return list.map((n) => {
        const s = n.state?.session_state;
        return {
          address: n.conf?.neighbor_address ?? '', asn: n.conf?.peer_asn ?? n.state?.peer_asn ?? 0,
          state: typeof s === 'number' ? GOBGP_STATES[s] ?? String(s) : String(s ?? 'unknown').toLowerCase(), raw: n,
        };
      });
    },
    async rib(family: Family = 'ipv4') {
      const out = (await gobgp('global', 'rib', '-a', family, '-j')).trim();
      const obj = (out && out !== 'null' ? JSON.parse(out) : {}) as Record<string, Array<{ best?: boolean; attrs?: GobgpJsonAttr[]; 'neighbor-ip'?: string; id?: number }>>;
      const res: GobgpPath[] = [];
      for (const [prefix, paths] of Object.entries(obj)) {
        for (const p of paths) {
          const attrs = p.attrs ?? [];
          const nh = attrs.find((a) => a.type === 3)?.nexthop ?? (attrs.find((a) => a.type === 14) as { nexthop?: string } | undefined)?.nexthop;
          const asp = attrs.find((a) => a.type === 2)?.as_paths ?? [];
          res.push({
            prefix, best: !!p.best, asPath: asp.flatMap((s) => s.asns ?? []), attrs,
            ...(nh ? { nextHop: nh } : {}), ...(p['neighbor-ip'] ? { neighbor: p['neighbor-ip'] } : {}),
            ...(p.id !== undefined ? { pathId: p.id } : {}),
          });
        }
      }
      return res;
    },
    async addRoute(prefix, o = {}) {
      const a = ['global', 'rib', '-a', fam(prefix), 'add', prefix];
      if (o.nextHop) a.push('nexthop', o.nextHop);
      if (o.med !== undefined) a.push('med', String(o.med));
      if (o.communities?.length) a.push('community', o.communities.join(','));
      await gobgp(...a);
    },
    async delRoute(prefix) { await gobgp('global', 'rib', '-a', fam(prefix), 'del', prefix); },
    async waitEstablished(address?: string, timeoutMs = 60_000) {
      const want = address ? [address] : opts.neighbors.map((n) => n.address);
      await lab.waitFor(async () => {
        const ns = await h.neighbors();
        return want.every((a) => ns.some((n) => n.address === a && n.state === 'established'));
      }, { what: `GoBGP on ${host}: ${want.join(', ')} established`, timeoutMs, intervalMs: 500 });
    },
    stop: () => proc.kill(),
  };
  await retry(lab, `gobgpd API on ${host}`, () => gobgp('global'));
  for (const r of opts.routes ?? []) await h.addRoute(r.prefix, r);
  return h;
}

// ------------------------------------------------------------------------------------- FRR

export interface FrrOptions {
  routerId: string;
  /** 4-octet ASNs (e.g. 4200000001) work. */
  asn: number;
  neighbors: NeighborSpec[];
  /** Originated with `network` (import check off, so no RIB route is needed). */
  networks?: string[];
  /** Also run zebra so bgpd installs routes into the namespace's kernel. Default false
   *  (bgpd alone with --no_zebra). */
  zebra?: boolean;
  extraConfig?: string;
}
export interface FrrHandle {
  procs: ProcHandle[]; vtyDir: string; configFile: string;
  vtysh(...commands: string[]): Promise<string>;
  summary(): Promise<Record<string, { state: string; remoteAs: number; pfxRcd?: number; raw: unknown }>>;
  routes(family?: Family): Promise<Record<string, Array<{ valid: boolean; best: boolean; nextHop?: string; asPath: string; raw: unknown }>>>;
  waitEstablished(address?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function frrConfig(o: FrrOptions): string {
  const L = ['frr defaults traditional', `hostname tern-frr-${o.routerId}`, 'log stdout informational', '!',
    `router bgp ${o.asn}`, ` bgp router-id ${o.routerId}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check',
    ' no bgp default ipv4-unicast'];
  if (o.neighbors.some((n) => n.gracefulRestart)) L.push(' bgp graceful-restart');
  for (const n of o.neighbors) {
    const a = n.address;
    L.push(` neighbor ${a} remote-as ${n.asn}`, ` neighbor ${a} timers connect 5`);
    if (n.port) L.push(` neighbor ${a} port ${n.port}`);
    if (n.passive) L.push(` neighbor ${a} passive`);
    if (n.multihop) L.push(` neighbor ${a} ebgp-multihop${typeof n.multihop === 'number' ? ` ${n.multihop}` : ''}`);
    if (n.holdTime) L.push(` neighbor ${a} timers ${n.keepaliveTime ?? Math.floor(n.holdTime / 3)} ${n.holdTime}`);
    if (n.sourceAddress) L.push(` neighbor ${a} update-source ${n.sourceAddress}`);
    if (n.password) L.push(` neighbor ${a} password ${n.password}`);
    if (n.localAsn) L.push(` neighbor ${a} local-as ${n.localAsn} no-prepend replace-as`);
  }
  for (const f of ['ipv4', 'ipv6'] as const) {
    const ns = o.neighbors.filter((n) => families(n).includes(f));
    const nets = (o.networks ?? []).filter((p) => fam(p) === f);
    if (!ns.length && !nets.length) continue;
    L.push(' !', ` address-family ${f} unicast`);
    for (const p of nets) L.push(`  network ${p}`);
    for (const n of ns) {
      L.push(`  neighbor ${n.address} activate`);
      if (n.addPaths) L.push(`  neighbor ${n.address} addpath-tx-all-paths`);
      if (n.rrClient) L.push(`  neighbor ${n.address} route-reflector-client`);
      if (n.nextHop === 'self') L.push(`  neighbor ${n.address} next-hop-self`);
    }
    L.push(' exit-address-family');
  }
  L.push('exit', '!');
  if (o.extraConfig) L.push(o.extraConfig);
  return `${L.join('\n')}\n`;
}

export async function startFrr(lab: Lab, host: string, opts: FrrOptions): Promise<FrrHandle> {
  const vtyDir = lab.path(`${host}-frr`);
  mkdirSync(vtyDir, { recursive: true });
  const configFile = `${vtyDir}/bgpd.conf`;
  writeFileSync(configFile, frrConfig(opts));
  const zsock = `${vtyDir}/zserv.api`;
  const common = ['--vty_socket', vtyDir, '-S', '--log', 'stdout', '-P', '0'];
  const procs: ProcHandle[] = [];
  if (opts.zebra) {
    // zebra has no --skip_runas: it runs as the package's `frr` user, so it owns the dir.
    writeFileSync(`${vtyDir}/zebra.conf`, 'hostname zebra\n');
    const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }));
    for (const f of [vtyDir, `${vtyDir}/zebra.conf`]) chownSync(f, uid, gid);
    const zArgs = common.filter((a) => a !== '-S');
    procs.push(lab.spawn(host, '/usr/lib/frr/zebra', [...zArgs, '-f', `${vtyDir}/zebra.conf`, '-i', `${vtyDir}/zebra.pid`, '-z', zsock],
      { logFile: lab.path(`${host}-zebra.log`) }));
    await retry(lab, `zebra socket on ${host}`, async () => statSync(zsock));
  }
  const bgpArgs = [...common, '-f', configFile, '-i', `${vtyDir}/bgpd.pid`, ...(opts.zebra ? ['-z', zsock] : ['-Z'])];
  procs.push(lab.spawn(host, '/usr/lib/frr/bgpd', bgpArgs, { logFile: lab.path(`${host}-bgpd.log`) }));
  const vtysh = async (...cmds: string[]) =>
    (await lab.exec(host, 'vtysh', ['--vty_socket', vtyDir, '-d', 'bgpd', ...cmds.flatMap((c) => ['-c', c])])).stdout;
  const h: FrrHandle = {
    procs, vtyDir, configFile, vtysh,
    async summary() {
      const j = JSON.parse(await vtysh('show bgp summary json')) as Record<string, { peers?: Record<string, { state?: string; remoteAs?: number; pfxRcd?: number }> }>;
      const out: Record<string, { state: string; remoteAs: number; pfxRcd?: number; raw: unknown }> = {};
      for (const af of Object.values(j)) {
        for (const [addr, p] of Object.entries(af.peers ?? {})) {
          out[addr] = { state: p.state ?? 'unknown', remoteAs: p.remoteAs ?? 0, ...(p.pfxRcd !== undefined ? { pfxRcd: p.pfxRcd } : {}), raw: p };
        }
      }
      return out;
    },
    async routes(family: Family = 'ipv4') {
      const j = JSON.parse(await vtysh(`show bgp ${family} unicast json`)) as { routes?: Record<string, Array<{ valid?: boolean; bestpath?: boolean; path?: string; nexthops?: Array<{ ip?: string }> }>> };
      const out: Record<string, Array<{ valid: boolean; best: boolean; nextHop?: string; asPath: string; raw: unknown }>> = {};
      for (const [prefix, paths] of Object.entries(j.routes ?? {})) {
        out[prefix] = paths.map((p) => {
          const nh = p.nexthops?.[0]?.ip;
          return { valid: !!p.valid, best: !!p.bestpath, asPath: p.path ?? '', ...(nh ? { nextHop: nh } : {}), raw: p };
        });
      }
      return out;
    },
    async waitEstablished(address?: string, timeoutMs = 60_000) {
      const want = address ? [address] : opts.neighbors.map((n) => n.address);
      await lab.waitFor(async () => {
        const s = await h.summary();
        return want.every((a) => s[a]?.state === 'Established');
      }, { what: `FRR on ${host}: ${want.join(', ')} Established`, timeoutMs, intervalMs: 500 });
    },
    async stop() { for (const p of [...procs].reverse()) await p.kill(); },
  };
  await retry(lab, `bgpd vty on ${host}`, () => vtysh('show bgp summary json'));
  return h;
}
