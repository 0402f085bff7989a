// The demo's lab (scripts/demo.ts) for the etcd mesh integration tests: a bridge fabric
// 10.200.0.0/24, etcd at 10.200.0.2 in its own namespace, tern nodes at 10.200.0.1x with
// one /26 block each (10.244.x.0/26), pods wired as Calico's CNI wires them. Helpers read
// etcd with etcdctl inside the etcd namespace and the kernel routes with `ip -j`.
import { writeFileSync } from 'node:fs';
import type { Lab } from '../../lab/netns.js';
import { calico, calicoYaml, clusterDocs } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startLabEtcd, type LabEtcd } from '../helpers/lab-etcd.js';
import { startTern, TERN_BIN, type TernHandle } from '../helpers/tern.js';
import type { PeerStatusJson } from '../../src/api/types.js';

export const FABRIC = 'fabric';
export const ETCD_HOST = 'etcd';
export const ETCD_IP = '10.200.0.2';
export const AS = 64512;

export interface NodeDef { name: string; ip: string; block: string; autodetect?: boolean }
export const nodeDef = (i: number, autodetect = false): NodeDef =>
  ({ name: `node-${i}`, ip: `10.200.0.${10 + i}`, block: `10.244.${i}.0/26`, autodetect });

export interface MeshLab {
  lab: Lab;
  etcd: LabEtcd;
  ds: string;
  terns: Map<string, TernHandle>;
  nodes: Map<string, NodeDef>;
  etcdctl(...args: string[]): Promise<string>;
  /** etcdctl get KEY --print-value-only, parsed; undefined when the key is absent. */
  etcdJson(key: string): Promise<unknown>;
  /** A lab host for the node, plugged into the fabric at its address as `eth0`. */
  plug(def: { name: string; ip: string }): Promise<void>;
  /** `tern <args> --datastore etcd:…` inside the etcd namespace; exit status kept. */
  tern(args: string[], allowFail?: boolean): Promise<{ stdout: string; stderr: string }>;
  apply(yaml: string, name: string): Promise<string>;
  addNode(def: NodeDef): Promise<TernHandle>;
}

export function affinityYaml(node: string, cidr: string): string {
  return calico.blockAffinity(node, cidr);
}

/** The cluster's resources without Nodes (each tern registers its own): mesh on, the pool, the blocks. */
export function baseYaml(nodes: readonly NodeDef[]): string {
  return calicoYaml(clusterDocs({ asNumber: AS, mesh: true, nodes: nodes.map((n) => ({ name: n.name, block: n.block })) }));
}

/** Fabric + etcd + `tern apply` of the base resources + one daemon per node. */
export async function buildMeshLab(lab: Lab, defs: readonly NodeDef[]): Promise<MeshLab> {
  await segment(lab, FABRIC, { [ETCD_HOST]: `${ETCD_IP}/24` });
  const etcd = await startLabEtcd(lab, ETCD_HOST, ETCD_IP);
  const ds = `etcd:${etcd.endpoint}`;
  const env = { ...process.env, ETCDCTL_API: '3' };
  let seq = 0;
  const m: MeshLab = {
    lab, etcd, ds, terns: new Map(), nodes: new Map(),
    etcdctl: async (...args) => (await lab.exec(ETCD_HOST, 'etcdctl', ['--endpoints', etcd.endpoint, ...args], { env })).stdout,
    async etcdJson(key) {
      const out = (await m.etcdctl('get', key, '--print-value-only')).trim();
      return out ? JSON.parse(out) : undefined;
    },
    async plug(def) {
      await lab.addHost(def.name);
      await lab.attach(def.name, FABRIC, { v4: `${def.ip}/24`, ifName: 'eth0' });
    },
    tern: (args, allowFail = false) => {
      const e = { ...process.env };
      delete e.NODE_OPTIONS;
      return lab.exec(ETCD_HOST, process.execPath, [TERN_BIN, ...args, '--datastore', ds], { env: e, allowFail });
    },
    async apply(yaml, name) {
      const file = lab.path(`${name}-${++seq}.yaml`);
      writeFileSync(file, yaml);
      return (await m.tern(['apply', '-f', file])).stdout;
    },
    async addNode(def) {
      await m.plug(def);
      const h = await startTern(lab, def.name, { datastore: ds, node: def.name, ...(def.autodetect ? {} : { ip: `${def.ip}/24` }) });
      m.terns.set(def.name, h);
      m.nodes.set(def.name, def);
      return h;
    },
  };
  await m.apply(baseYaml(defs), 'base');
  for (const d of defs) await m.addNode(d);
  return m;
}

export function meshPeers(peers: readonly PeerStatusJson[]): PeerStatusJson[] {
  return peers.filter((p) => p.type === 'node-to-node mesh');
}

/** Waits until the node has exactly these mesh peers (addresses), all Established. */
export async function waitMesh(m: MeshLab, node: string, addresses: readonly string[], timeoutMs = 60_000): Promise<PeerStatusJson[]> {
  const want = [...addresses].sort().join(',');
  return m.lab.waitFor(async () => {
    const peers = meshPeers((await m.terns.get(node)!.status()).peers);
    const up = peers.filter((p) => p.bgpState === 'Established').map((p) => p.address).sort().join(',');
    return peers.length === addresses.length && up === want ? peers : null;
  }, { what: `${node}: Established mesh peers ${want}`, timeoutMs, intervalMs: 300 });
}

/** address → since of every peer of a node. */
export async function sinceOf(h: TernHandle): Promise<Map<string, string>> {
  return new Map((await h.status()).peers.map((p) => [p.address, p.since]));
}

export interface KRoute { dst: string; gateway?: string; type?: string; protocol?: string; dev?: string }

/** The node's `proto bird` IPv4 routes (what tern wrote), by prefix. */
export async function birdRoutes(m: MeshLab, host: string): Promise<Map<string, KRoute>> {
  const rs = await m.lab.ipJson<KRoute[]>(host, 'route', 'show', 'table', 'main', 'proto', 'bird');
  // `ip -j route show proto X` omits the protocol field; every row here is proto bird.
  return new Map(rs.map((r) => [r.dst, r]));
}

/** Waits until `host` has a route for `prefix` via `gateway` (or a blackhole when gateway is null). */
export async function waitRoute(m: MeshLab, host: string, prefix: string, gateway: string | null, timeoutMs = 30_000): Promise<KRoute> {
  return m.lab.waitFor(async () => {
    const r = (await birdRoutes(m, host)).get(prefix);
    if (!r) return null;
    if (gateway === null) return r.type === 'blackhole' ? r : null;
    return r.gateway === gateway ? r : null;
  }, { what: `${host}: ${prefix} ${gateway === null ? 'blackhole' : `via ${gateway}`}`, timeoutMs, intervalMs: 200 });
}

export async function waitNoRoute(m: MeshLab, host: string, prefix: string, timeoutMs = 30_000): Promise<boolean> {
  return m.lab.waitFor(async () => !(await birdRoutes(m, host)).has(prefix),
    { what: `${host}: no route for ${prefix}`, timeoutMs, intervalMs: 200 });
}

/** Established TCP connections in a host namespace: [local, remote] "addr:port" pairs. */
export async function tcpEstablished(m: MeshLab, host: string): Promise<Array<[string, string]>> {
  const out = (await m.lab.exec(host, 'ss', ['-tnH', 'state', 'established'])).stdout;
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c.length >= 4)
    .map((c) => [plain(c[c.length - 2]!), plain(c[c.length - 1]!)] as [string, string]);
}

/** `[::ffff:10.0.0.1]:179` (an IPv4 peer on a dual-stack listener) → `10.0.0.1:179`. */
function plain(endpoint: string): string {
  return endpoint.replace(/^\[::ffff:([0-9.]+)\]/, '$1');
}
