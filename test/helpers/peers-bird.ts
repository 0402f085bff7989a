// BIRD 2 as a test peer: a generic config (neighbours, static routes, optional kernel export)
// with calico-node's session timers; the process itself is lab/bird.ts's spawnBird.
import { writeFileSync } from 'node:fs';
import { spawnBird } from '../../lab/bird.js';
import type { Lab, ProcHandle } from '../../lab/netns.js';
import type { NeighborSpec, StaticRoute } from './peers-common.js';
import { retry, fam, families, birdName } from './peers-common.js';

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
    for (const r of rs) L.push(`  route ${r.prefix} ${r.via ? `via ${r.via}` : 'blackhole'}${r.localPref !== undefined ? ` { bgp_local_pref = ${r.localPref}; }` : ''};`);
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
    if (n.ttlSecurity) L.push('  ttl security on;');
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
  const { proc, socket, configFile, birdc } = await spawnBird(lab, host, birdConfig(opts), { recovery: opts.recovery === true });
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
