// FRR (bgpd, optionally zebra) as a test peer.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import type { Lab, ProcHandle } from '../../lab/netns.js';
import type { Family, NeighborSpec } from './peers-common.js';
import { retry, fam, families } from './peers-common.js';

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
