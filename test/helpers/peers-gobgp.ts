// GoBGP (gobgpd + the gobgp CLI) as a test peer.
import { writeFileSync } from 'node:fs';
import type { Lab, ProcHandle } from '../../lab/netns.js';
import type { Family, NeighborSpec } from './peers-common.js';
import { retry, fam, families } from './peers-common.js';

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
