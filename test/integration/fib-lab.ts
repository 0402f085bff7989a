// Helpers for the kernel FIB integration tests (fib-bird.test.ts, fib-restart.test.ts): kernel
// routes read with `ip -j route show exact PREFIX` and reduced to the fields the issue talks
// about (type, protocol, gateway, device, onlink, multipath next hops), a Calico datastore
// builder, and a `ip -t monitor route` recorder for "never deleted" claims.
import type { Lab, ProcHandle } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import type { BirdHandle } from '../helpers/peers.js';
import type { RouteJson } from '../../src/api/types.js';
import type { TernHandle } from '../helpers/tern.js';

export const TERN_AS = 64512;

interface IpNextHop { gateway?: string; dev?: string; flags?: string[] }
export interface IpRoute extends IpNextHop { dst: string; type?: string; protocol?: string; metric?: number; nexthops?: IpNextHop[] }

/** What a kernel route is, as the issue words it: `blackhole … proto bird`, `via NH dev D proto bird onlink`. */
export interface RouteShape {
  type: string;
  protocol?: string | undefined;
  via?: string;
  dev?: string;
  onlink?: boolean;
  nexthops?: Array<{ via?: string; dev?: string; onlink?: boolean }>;
}

function hop(h: IpNextHop): { via?: string; dev?: string; onlink?: boolean } {
  return { ...(h.gateway ? { via: h.gateway } : {}), ...(h.dev ? { dev: h.dev } : {}), ...(h.flags?.includes('onlink') ? { onlink: true } : {}) };
}

export function shapeOf(r: IpRoute): RouteShape {
  const type = r.type ?? 'unicast';
  if (type !== 'unicast') return { type, protocol: r.protocol };
  return { type, protocol: r.protocol, ...hop(r), ...(r.nexthops ? { nexthops: r.nexthops.map(hop) } : {}) };
}

/** Every main-table route for exactly this prefix (any protocol, any metric). */
export async function kernelRoutes(lab: Lab, host: string, prefix: string): Promise<IpRoute[]> {
  const fam = prefix.includes(':') ? '-6' : '-4';
  const rs = await lab.ipJson<IpRoute[]>(host, fam, 'route', 'show', 'table', 'main', 'exact', prefix);
  return rs.filter((r) => r.dst === prefix);
}

/** The shapes of the routes for `prefix` (usually 0 or 1). */
export async function kernelShapes(lab: Lab, host: string, prefix: string): Promise<RouteShape[]> {
  return (await kernelRoutes(lab, host, prefix)).map(shapeOf);
}

/** Waits until the kernel holds exactly one route for `prefix` with this shape; returns it. */
export async function waitShape(lab: Lab, host: string, prefix: string, want: RouteShape, timeoutMs = 30_000): Promise<RouteShape[]> {
  const key = JSON.stringify(want);
  return lab.waitFor(async () => {
    const s = await kernelShapes(lab, host, prefix);
    return s.length === 1 && JSON.stringify(s[0]) === key ? s : null;
  }, { what: `${host}: ${prefix} ${key}`, timeoutMs, intervalMs: 100 }).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}; kernel has ${JSON.stringify(await kernelShapes(lab, host, prefix))}`);
  });
}

export async function waitNoKernelRoute(lab: Lab, host: string, prefix: string, timeoutMs = 30_000): Promise<void> {
  await lab.waitFor(async () => (await kernelRoutes(lab, host, prefix)).length === 0, { what: `${host}: no route for ${prefix}`, timeoutMs, intervalMs: 100 });
}

/** Every proto-bird route of the node's main table (both families), as comparable shapes. */
export async function birdRoutes(lab: Lab, host: string): Promise<Record<string, RouteShape>> {
  const out: Record<string, RouteShape> = {};
  for (const fam of ['-4', '-6']) {
    for (const r of await lab.ipJson<IpRoute[]>(host, fam, 'route', 'show', 'table', 'main')) {
      if (r.protocol === 'bird') out[r.dst] = shapeOf(r);
    }
  }
  return out;
}

/** tern's best path for `prefix`, optionally only when it matches `pred`. */
export async function bestRoute(tern: TernHandle, prefix: string): Promise<RouteJson | undefined> {
  return (await tern.routes()).find((r) => r.prefix === prefix && r.best);
}

export async function waitBest(tern: TernHandle, prefix: string, pred: (r: RouteJson) => boolean = () => true, timeoutMs = 30_000): Promise<RouteJson> {
  return tern.lab.waitFor(async () => {
    const r = await bestRoute(tern, prefix);
    return r && pred(r) ? r : null;
  }, { what: `tern best path for ${prefix}`, timeoutMs, intervalMs: 100 });
}

export async function birdHas(b: BirdHandle, prefix: string): Promise<boolean> {
  return (await b.routes()).some((r) => r.prefix === prefix);
}

/** `ip -t monitor route` in a host: a log of every route change there from the moment this
 *  resolves, that is once the monitor's netlink socket has joined its route groups (its row in
 *  the namespace's /proc/net/netlink: port id = its pid, group bits set). */
export async function monitorRoutes(lab: Lab, host: string): Promise<ProcHandle> {
  const mon = lab.spawn(host, 'ip', ['-t', 'monitor', 'route'], { dumpLines: 60 });
  await lab.waitFor(async () => {
    if (!mon.running()) throw new Error(`ip monitor exited: ${mon.log()}`);
    const rows = (await lab.exec(host, 'cat', ['/proc/net/netlink'])).stdout.split('\n').map((l) => l.trim().split(/\s+/));
    // columns: sk Eth Pid Groups …; Eth 0 is NETLINK_ROUTE
    return rows.some((f) => f[1] === '0' && f[2] === String(mon.pid) && /^[0-9a-f]+$/.test(f[3] ?? '') && Number.parseInt(f[3]!, 16) !== 0);
  }, { what: `ip monitor in ${host} subscribed`, timeoutMs: 20_000, intervalMs: 50 });
  return mon;
}

/** A monitor line announcing the deletion of `prefix`. */
const deletionLine = (prefix: string): RegExp => new RegExp(`^Deleted (?:\\S+ )?${prefix.replace(/[.]/g, '\\.')} `);

/** Lines of a monitor log (from byte `from`) announcing the deletion of `prefix`. */
export function deletions(mon: ProcHandle, prefix: string, from = 0): string[] {
  const re = deletionLine(prefix);
  return mon.log().slice(from).split('\n').filter((l) => re.test(l));
}

/** Wall-clock times (ms) at which the monitor (from byte `from`) saw `prefix` deleted: each
 *  event of `ip -t monitor` follows a `Timestamp: <local ctime> <usec> usec` line. */
export function deletionTimes(mon: ProcHandle, prefix: string, from = 0): number[] {
  const re = deletionLine(prefix);
  const out: number[] = [];
  let at = Number.NaN;
  for (const l of mon.log().slice(from).split('\n')) {
    const ts = /^Timestamp: (.+) (\d+) usec$/.exec(l);
    if (ts) at = Date.parse(ts[1]!) + Math.floor(Number(ts[2]) / 1000);
    else if (re.test(l)) out.push(at);
  }
  return out;
}

export interface PoolDef { name: string; cidr: string; ipipMode?: 'Never' | 'Always' | 'CrossSubnet'; blockSize?: number }
export interface PeerDef { name: string; ip: string; asn: number }
export interface AffinityDef { cidr: string; state: 'confirmed' | 'pending' }

/** Calico v3 resources for one node `node-a`. */
export function datastoreYaml(o: { ipv4: string; ipv6?: string; pools: PoolDef[]; affinities: AffinityDef[]; peers: PeerDef[] }): string {
  return calicoYaml(
    calico.bgpConfiguration({ asNumber: TERN_AS, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info' }),
    calico.node('node-a', { ipv4Address: o.ipv4, ipv6Address: o.ipv6 }),
    o.pools.map((p) => calico.ipPool(p.name, p.cidr, { ...(p.blockSize ? { blockSize: p.blockSize } : {}), ipipMode: p.ipipMode })),
    o.affinities.map((a, i) => calico.blockAffinity('node-a', a.cidr, a.state, `node-a-${i}`)),
    o.peers.map((p) => calico.bgpPeer(p.name, { peerIP: p.ip, asNumber: p.asn })),
  );
}
