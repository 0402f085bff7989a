// The lab of acl-mesh.test.ts: two tern hosts on a bridge fabric (10.200.0.11/.12, blocks
// 10.244.1.0/26 and 10.244.2.0/26) running `tern daemon --acl` in a BGP full mesh, three
// pods wired as Calico's CNI wires them (frontend and other on node-1, db on node-2) with
// tiny TCP servers, an operator's own FORWARD rules on node-2, and a "datastore driver"
// that edits the resources live: either a shared YAML file replaced by rename (as editors
// do) or etcd through `tern apply` / `tern delete`.
//
// Neighbours are pinned (permanent entries, which the kernel exempts from its garbage
// collection): the IPv4 neighbour table's gc_thresh3 counts entries of every namespace on
// the machine, and a parallel benchmark with dozens of namespaces can fill it ("neighbor
// table overflow"), which would make ARP, not the ACL, decide our verdicts.
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Lab } from '../../lab/netns.js';
import { segment } from '../../lab/fixture.js';
import { startLabEtcd } from '../helpers/lab-etcd.js';
import { startTern, TERN_BIN, type TernHandle } from '../helpers/tern.js';

export const FABRIC = 'fabric';
export const AS = 64512;
export const NODES = [
  { name: 'node-1', ip: '10.200.0.11', block: '10.244.1.0/26' },
  { name: 'node-2', ip: '10.200.0.12', block: '10.244.2.0/26' },
] as const;
export type NodeName = (typeof NODES)[number]['name'];
export const PODS = {
  frontend: { node: 'node-1', ip: '10.244.1.2', ports: ['80'] },
  other: { node: 'node-1', ip: '10.244.1.3', ports: [] as string[] },
  db: { node: 'node-2', ip: '10.244.2.2', ports: ['5432', '8080', '9999'] },
} as const;
export type PodName = keyof typeof PODS;

/** A Calico v3 resource as the test writes it. */
export type Doc = { apiVersion: 'projectcalico.org/v3'; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: Record<string, unknown> };
const doc = (kind: string, metadata: Doc['metadata'], spec: Record<string, unknown>): Doc => ({ apiVersion: 'projectcalico.org/v3', kind, metadata, spec });

export function baseDocs(): Doc[] {
  return [
    doc('BGPConfiguration', { name: 'default' }, { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' }),
    doc('IPPool', { name: 'default-ipv4-ippool' }, { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', natOutgoing: true }),
    // The Node resources as the daemons would register them (--ip), so that no daemon writes.
    ...NODES.map((n) => doc('Node', { name: n.name }, { bgp: { ipv4Address: `${n.ip}/24` } })),
    ...NODES.map((n) => doc('BlockAffinity', { name: `${n.name}-${n.block.replace(/[./]/g, '-')}` }, { node: n.name, cidr: n.block, state: 'confirmed' })),
  ];
}

export function wepDoc(pod: PodName, iface: string, labels: Record<string, string>, profiles: string[]): Doc {
  const p = PODS[pod];
  return doc('WorkloadEndpoint', { name: pod, namespace: 'default', labels },
    { node: p.node, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${p.ip}/32`], profiles });
}
export const profileDoc = (name: string, spec: Record<string, unknown>): Doc => doc('Profile', { name }, spec);
export const npDoc = (name: string, spec: Record<string, unknown>): Doc => doc('NetworkPolicy', { name, namespace: 'default' }, spec);
export const gnpDoc = (name: string, spec: Record<string, unknown>): Doc => doc('GlobalNetworkPolicy', { name }, spec);

/** How the test changes the datastore while the daemons run. */
export interface DatastoreDriver {
  readonly name: string;
  /** Hosts the driver put on the fabric (pinned as neighbours like the nodes). */
  readonly fabricHosts?: ReadonlyArray<{ host: string; ip: string }>;
  /** `file:PATH` or `etcd:URL`, for the daemons and `tern acl explain`. */
  readonly spec: string;
  apply(...docs: Doc[]): Promise<void>;
  delete(kind: string, name: string, namespace?: string): Promise<void>;
}

/**
 * One YAML file shared by both daemons. Every change writes the whole file to a temp file
 * in the same directory and renames it over the original, as editors and kubectl do.
 */
export function fileDriver(lab: Lab, initial: Doc[]): DatastoreDriver {
  const path = lab.path('calico.yaml');
  const docs = new Map<string, Doc>();
  const key = (kind: string, name: string, ns?: string): string => `${kind}/${ns ?? ''}/${name}`;
  let seq = 0;
  const write = (): void => {
    const tmp = lab.path(`.calico.yaml.swp-${++seq}`);
    writeFileSync(tmp, [...docs.values()].map((d) => stringify(d)).join('---\n'));
    renameSync(tmp, path);
  };
  for (const d of initial) docs.set(key(d.kind, d.metadata.name, d.metadata.namespace), d);
  write();
  return {
    name: 'file', spec: `file:${path}`,
    async apply(...ds) {
      for (const d of ds) docs.set(key(d.kind, d.metadata.name, d.metadata.namespace), d);
      write();
    },
    async delete(kind, name, namespace) {
      if (!docs.delete(key(kind, name, namespace))) throw new Error(`file driver: no ${kind} ${name}`);
      write();
    },
  };
}

/** etcd in its own namespace on the fabric; changes through `tern apply -f` / `tern delete`. */
export async function etcdDriver(lab: Lab, initial: Doc[]): Promise<DatastoreDriver> {
  await lab.addHost('etcd');
  await lab.attach('etcd', FABRIC, { v4: '10.200.0.2/24' });
  const etcd = await startLabEtcd(lab, 'etcd', '10.200.0.2');
  const spec = `etcd:${etcd.endpoint}`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const tern = (args: string[]) => lab.exec('etcd', process.execPath, [TERN_BIN, ...args, '--datastore', spec], { env });
  let seq = 0;
  const driver: DatastoreDriver = {
    name: 'etcd', spec, fabricHosts: [{ host: 'etcd', ip: '10.200.0.2' }],
    async apply(...ds) {
      const file = lab.path(`apply-${++seq}.yaml`);
      writeFileSync(file, ds.map((d) => stringify(d)).join('---\n'));
      await tern(['apply', '-f', file]);
    },
    async delete(kind, name, namespace) {
      await tern(['delete', kind, name, ...(namespace ? ['-n', namespace] : [])]);
    },
  };
  await driver.apply(...initial);
  return driver;
}

const SERVER = "const net=require('net');for(const p of process.argv.slice(1))net.createServer((s)=>s.end('ok')).listen(+p,()=>console.log('listening '+p));";
const CLIENT = "const net=require('net');const [h,p]=process.argv.slice(1);const s=net.connect({host:h,port:+p});" +
  "const done=(r)=>{console.log(r);process.exit(0)};s.setTimeout(1500,()=>done('timeout'));" +
  "s.on('data',(d)=>{if(String(d)==='ok')done('ok')});s.on('error',(e)=>done('error '+e.code));";
/** Plain node for the servers and clients: without tap's loaders. */
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };

/** Does `flow` (`icmp` or `tcp/PORT`) from pod `from` reach pod `to`? Run in the pod's namespace. */
export async function reach(lab: Lab, from: PodName, to: PodName, flow: string): Promise<boolean> {
  const dst = PODS[to].ip;
  if (flow === 'icmp') {
    const r = await lab.exec(from, 'ping', ['-c', '1', '-W', '1', dst], { allowFail: true });
    return / 1 received/.test(r.stdout);
  }
  const r = await lab.exec(from, process.execPath, ['-e', CLIENT, dst, flow.split('/')[1]!], { timeoutMs: 10_000, env: PLAIN_ENV });
  return r.stdout.trim() === 'ok';
}

/** `nft list table inet tern` on a host ('' when absent). */
export async function ternTable(lab: Lab, host: string): Promise<string> {
  return (await lab.exec(host, 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true })).stdout;
}

export interface AclMesh {
  lab: Lab;
  driver: DatastoreDriver;
  terns: Map<NodeName, TernHandle>;
  ifaces: Record<PodName, string>;
  /** node-2's operator rules: nft table ip opfilter (counters masked) + iptables -S FORWARD. */
  operatorRules(): Promise<string>;
  /** Packets counted by the operator's opfilter counter on node-2. */
  opCounter(): Promise<number>;
}

/**
 * Fabric, two hosts, pods with servers, the operator's rules, the datastore (via
 * `makeDriver`, given the base resources), then one `tern daemon --acl` per host.
 */
export async function buildAclMesh(lab: Lab, makeDriver: (lab: Lab, initial: Doc[]) => DatastoreDriver | Promise<DatastoreDriver>): Promise<AclMesh & { opBefore: string }> {
  await segment(lab, FABRIC, Object.fromEntries(NODES.map((n) => [n.name, { v4: `${n.ip}/24`, ifName: 'eth0' }])));
  const ifaces = {} as Record<PodName, string>;
  for (const [name, p] of Object.entries(PODS) as [PodName, (typeof PODS)[PodName]][]) {
    ifaces[name] = (await lab.addPod(p.node, name, p.ip)).hostIf;
    if (p.ports.length === 0) continue;
    const srv = lab.spawn(name, process.execPath, ['-e', SERVER, ...p.ports], { env: PLAIN_ENV });
    await lab.waitFor(() => p.ports.every((port) => srv.log().includes(`listening ${port}`)), { what: `${name} servers` });
  }
  // The operator's own FORWARD rules on node-2: a counter in their own nft table and an
  // iptables(-nft) drop of tcp/9999, both installed before tern starts.
  await lab.exec('node-2', 'nft', ['-f', '-'], {
    input: `table ip opfilter {\n chain opforward {\n  type filter hook forward priority filter; policy accept;\n  ip daddr ${PODS.db.ip} counter\n }\n}\n`,
  });
  await lab.exec('node-2', 'iptables', ['-A', 'FORWARD', '-p', 'tcp', '--dport', '9999', '-j', 'DROP']);
  const operatorRules = async (): Promise<string> => {
    const nft = (await lab.exec('node-2', 'nft', ['list', 'table', 'ip', 'opfilter'])).stdout.replace(/packets \d+ bytes \d+/g, 'counter');
    return nft + (await lab.exec('node-2', 'iptables', ['-S', 'FORWARD'])).stdout;
  };
  const opCounter = async (): Promise<number> =>
    Number(/packets (\d+)/.exec((await lab.exec('node-2', 'nft', ['list', 'table', 'ip', 'opfilter'])).stdout)?.[1] ?? -1);
  const opBefore = await operatorRules();

  const driver = await makeDriver(lab, baseDocs());
  await pinNeighbours(lab, [...NODES.map((n) => ({ host: n.name, ip: n.ip })), ...(driver.fabricHosts ?? [])], ifaces);
  const terns = new Map<NodeName, TernHandle>();
  for (const n of NODES) {
    terns.set(n.name, await startTern(lab, n.name, { datastore: driver.spec, node: n.name, ip: `${n.ip}/24`, extraArgs: ['--acl'] }));
  }
  return { lab, driver, terns, ifaces, operatorRules, opCounter, opBefore };
}

async function macOf(lab: Lab, host: string, dev: string): Promise<string> {
  const [link] = await lab.ipJson<Array<{ address: string }>>(host, 'link', 'show', dev);
  if (!link) throw new Error(`${host}: no link ${dev}`);
  return link.address;
}

/** Permanent neighbour entries: every fabric host for every other, each pod on its node. */
async function pinNeighbours(lab: Lab, fabric: ReadonlyArray<{ host: string; ip: string }>, ifaces: Record<PodName, string>): Promise<void> {
  const macs = new Map(await Promise.all(fabric.map(async (f) => [f.host, await macOf(lab, f.host, 'eth0')] as const)));
  for (const a of fabric) {
    for (const b of fabric) if (a !== b) await lab.ip(a.host, 'neigh', 'replace', b.ip, 'dev', 'eth0', 'lladdr', macs.get(b.host)!, 'nud', 'permanent');
  }
  for (const [name, p] of Object.entries(PODS) as [PodName, (typeof PODS)[PodName]][]) {
    await lab.ip(p.node, 'neigh', 'replace', p.ip, 'dev', ifaces[name], 'lladdr', await macOf(lab, name, 'eth0'), 'nud', 'permanent');
  }
}

/** Waits until `host` has a kernel route for `prefix` via `gateway`; returns its protocol. */
export async function waitKernelRoute(lab: Lab, host: string, prefix: string, gateway: string): Promise<string> {
  return lab.waitFor(async () => {
    const rs = await lab.ipJson<Array<{ dst: string; gateway?: string; protocol?: string }>>(host, 'route', 'show', prefix);
    const r = rs.find((x) => x.dst === prefix && x.gateway === gateway);
    return r ? (r.protocol ?? 'unknown') : null;
  }, { what: `${host}: ${prefix} via ${gateway}`, timeoutMs: 60_000, intervalMs: 200 });
}
