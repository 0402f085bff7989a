// `npm run demo`: a 3-node tern cluster in network namespaces, on etcd, with pods wired as
// Calico's CNI wires them. Shows each node's `tern status` and `ip route`, pings pod to pod
// across nodes, and tears everything down (also on Ctrl-C). `--keep` leaves the lab up
// until Ctrl-C and prints the commands to explore it.
//
//   fabric bridge 10.200.0.0/24
//     etcd    10.200.0.2   (etcd-server from Debian)
//     node-1  10.200.0.11  --ip given        pod-1a 10.244.1.2
//     node-2  10.200.0.12  --ip given        pod-2a 10.244.2.2, pod-2b 10.244.2.3
//     node-3  10.200.0.13  address autodetected (first-found)   pod-3a 10.244.3.2
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createLab } from '../lab/netns.js';
import { startLabEtcd } from '../lab/etcd.js';
import { startTern, TERN_BIN, type TernHandle } from '../lab/tern.js';

const keep = process.argv.includes('--keep');
const say = (s: string) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);

const NODES = [
  { name: 'node-1', ip: '10.200.0.11', block: '10.244.1.0/26', pods: [['pod-1a', '10.244.1.2']], autodetect: false },
  { name: 'node-2', ip: '10.200.0.12', block: '10.244.2.0/26', pods: [['pod-2a', '10.244.2.2'], ['pod-2b', '10.244.2.3']], autodetect: false },
  { name: 'node-3', ip: '10.200.0.13', block: '10.244.3.0/26', pods: [['pod-3a', '10.244.3.2']], autodetect: true },
] as const;

function resources(): string {
  const docs = [
    `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: { asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: Info }`,
    `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: default-ipv4-ippool }\nspec: { cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Never, natOutgoing: true }`,
    ...NODES.map((n) => `apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: { name: ${n.name}-${n.block.replace(/[./]/g, '-')} }\nspec: { node: ${n.name}, cidr: ${n.block}, state: confirmed }`),
  ];
  return docs.join('\n---\n') + '\n';
}

async function main(): Promise<void> {
  const lab = createLab(undefined, { area: 'demo', keepDir: keep });
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    say('tearing down');
    await lab.destroy();
    process.stdout.write('lab removed\n');
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  try {
    say('building the lab: a bridge fabric, etcd, three nodes');
    const fabric = 'fabric';
    await lab.bridge(fabric);
    const etcdHost = 'etcd';
    await lab.addHost(etcdHost);
    await lab.attach(etcdHost, fabric, { v4: '10.200.0.2/24' });
    const etcd = await startLabEtcd(lab, etcdHost, '10.200.0.2');
    process.stdout.write(`etcd at ${etcd.endpoint}\n`);

    const hosts: string[] = [];
    for (const n of NODES) {
      await lab.addHost(n.name);
      await lab.attach(n.name, fabric, { v4: `${n.ip}/24`, ifName: 'eth0' });
      hosts.push(n.name);
    }

    say('tern apply: pool, BGP configuration, block affinities (stored at Calico\'s etcd keys)');
    const file = lab.path('cluster.yaml');
    writeFileSync(file, resources());
    const apply = await lab.exec(hosts[0]!, process.execPath, [TERN_BIN, 'apply', '-f', file, '--datastore', `etcd:${etcd.endpoint}`]);
    process.stdout.write(apply.stdout);

    say('starting tern on every node (node-3 autodetects its address)');
    const terns: TernHandle[] = [];
    for (const [i, n] of NODES.entries()) {
      terns.push(await startTern(lab, hosts[i]!, { datastore: `etcd:${etcd.endpoint}`, node: n.name, ...(n.autodetect ? {} : { ip: `${n.ip}/24` }) }));
    }

    say('wiring pods as Calico\'s CNI does (veth cali*, 169.254.1.1 gateway, /32 host route)');
    const pods: { name: string; ip: string; ns: string; node: string }[] = [];
    for (const [i, n] of NODES.entries()) {
      for (const [podName, ip] of n.pods) {
        const pod = await lab.addPod(hosts[i]!, podName, ip);
        pods.push({ name: podName, ip, ns: pod.ns, node: n.name });
        process.stdout.write(`${podName} ${ip} on ${n.name}\n`);
      }
    }

    say('waiting for the full mesh (2 Established peers per node) and every block in every kernel');
    for (const [i, tern] of terns.entries()) {
      await lab.waitFor(async () => ((await tern.status()).peers.filter((p) => p.bgpState === 'Established').length === 2 ? true : null),
        { what: `${NODES[i]!.name}: 2 Established mesh peers`, timeoutMs: 60_000, intervalMs: 300 });
    }
    for (const [i, h] of hosts.entries()) {
      for (const other of NODES.filter((_, j) => j !== i)) {
        await lab.waitFor(async () => ((await lab.ip(h, 'route', 'show', other.block)).includes('proto bird') ? true : null),
          { what: `${NODES[i]!.name} has ${other.block}`, timeoutMs: 30_000, intervalMs: 200 });
      }
    }

    for (const [i, tern] of terns.entries()) {
      say(`${NODES[i]!.name}: tern status`);
      process.stdout.write(await tern.cli('status', '--socket', tern.socket));
      say(`${NODES[i]!.name}: ip route`);
      process.stdout.write(await lab.ip(hosts[i]!, 'route', 'show'));
    }

    say('pinging pod to pod across nodes');
    let failures = 0;
    for (const src of pods) {
      for (const dst of pods) {
        if (src.node === dst.node) continue;
        try {
          execFileSync('ip', ['netns', 'exec', src.ns, 'ping', '-c', '2', '-i', '0.2', '-W', '2', dst.ip], { stdio: 'pipe' });
          process.stdout.write(`ok    ${src.name} (${src.node}) -> ${dst.name} ${dst.ip} (${dst.node})\n`);
        } catch {
          failures++;
          process.stdout.write(`FAIL  ${src.name} (${src.node}) -> ${dst.name} ${dst.ip} (${dst.node})\n`);
        }
      }
    }
    if (failures > 0) throw new Error(`${failures} pod-to-pod pings failed`);
    process.stdout.write('\nevery pod reaches every pod on the other nodes\n');

    if (keep) {
      say('the lab stays up until Ctrl-C; explore it from another shell:');
      for (const [i, h] of hosts.entries()) {
        process.stdout.write(`  ip netns exec ${lab.ns(h)} ${TERN_BIN} status --socket ${terns[i]!.socket}\n`);
        process.stdout.write(`  ip netns exec ${lab.ns(h)} ip route\n`);
      }
      for (const p of pods) process.stdout.write(`  ip netns exec ${p.ns} ping ${pods.find((q) => q.node !== p.node)!.ip}   # from ${p.name}\n`);
      process.stdout.write(`  ip netns exec ${lab.ns(hosts[0]!)} ${TERN_BIN} get nodes -o yaml --datastore etcd:${etcd.endpoint}\n`);
      process.stdout.write(`  logs: ${lab.path('')}\n`);
      await new Promise<void>(() => undefined); // until SIGINT
    }
  } catch (err) {
    process.stdout.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\nlogs kept in ${lab.path('')}\n`);
    lab.dumpLogs();
    process.exitCode = 1;
  } finally {
    if (!keep || process.exitCode === 1) await cleanup();
  }
}

await main();
