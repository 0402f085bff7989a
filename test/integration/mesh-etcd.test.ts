// Issue 4: the demo's lab as integration tests on real etcd. Three tern daemons (node-1 and
// node-2 with --ip, node-3 autodetecting) on a bridge fabric with etcd, resources written by
// `tern apply`. The subtests share the lab and run in order:
//   mesh formation, Calico keys, pods ping · exactly one side of each pair connects ·
//   a fourth node joins without resetting a session · affinity written by etcdctl (as
//   Calico's IPAM would) · pool, peer and AS changes restart only the sessions they touch.
// etcd outage and node deletion: mesh-etcd-outage.test.ts.
import t, { type Test } from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import {
  AS, affinityYaml, buildMeshLab, meshPeers, nodeDef, sinceOf, tcpEstablished, waitMesh, waitNoRoute, waitRoute, type MeshLab,
} from './mesh-lab.js';

const N1 = nodeDef(1), N2 = nodeDef(2), N3 = nodeDef(3, true), N4 = nodeDef(4);
const lab = createLab(t, { area: 'meshetcd' });
let m: MeshLab;

t.before(async () => { m = await buildMeshLab(lab, [N1, N2, N3]); });

const others = (self: string) => [...m.nodes.values()].filter((n) => n.name !== self);

/** Every node has all others as Established mesh peers and every other block via its node. */
async function waitConverged(): Promise<void> {
  for (const n of m.nodes.values()) await waitMesh(m, n.name, others(n.name).map((o) => o.ip));
  for (const n of m.nodes.values()) {
    await waitRoute(m, n.name, n.block, null);
    for (const o of others(n.name)) await waitRoute(m, n.name, o.block, o.ip);
  }
}

/** node → (peer address → since) for every running node. */
async function allSince(): Promise<Map<string, Map<string, string>>> {
  return new Map(await Promise.all([...m.terns].map(async ([n, h]) => [n, await sinceOf(h)] as const)));
}

/** Asserts that every session in `before` is still Established with the same `since`. */
async function assertKept(tt: Test, before: Map<string, Map<string, string>>, except: (node: string, addr: string) => boolean = () => false): Promise<void> {
  for (const [node, peers] of before) {
    const now = (await m.terns.get(node)!.status()).peers;
    for (const [addr, since] of peers) {
      if (except(node, addr)) continue;
      const p = now.find((x) => x.address === addr);
      tt.equal(p?.bgpState, 'Established', `${node} → ${addr} still Established`);
      tt.equal(p?.since, since, `${node} → ${addr} kept since ${since}`);
    }
  }
}

t.test('three nodes form the full mesh and pods reach each other', async (t) => {
  await waitConverged();
  for (const n of m.nodes.values()) {
    const st = await m.terns.get(n.name)!.status();
    const mesh = meshPeers(st.peers);
    t.equal(mesh.length, 2, `${n.name}: 2 mesh peers`);
    t.same(mesh.map((p) => p.address).sort(), others(n.name).map((o) => o.ip).sort(), `${n.name}: peers are the other nodes`);
    for (const p of mesh) {
      t.equal(p.bgpState, 'Established');
      t.equal(p.asn, AS);
      t.equal(p.name, `Mesh_${p.address.replace(/\./g, '_')}`);
    }
    t.equal(st.daemon.routerId, n.ip, `${n.name}: router id is its address`);
    const table = await m.terns.get(n.name)!.cli('status', '--socket', m.terns.get(n.name)!.socket);
    t.equal(table.split('\n').filter((l) => /node-to-node mesh/.test(l) && /Established/.test(l)).length, 2, `${n.name}: \`tern status\` shows 2 Established mesh rows`);
    // Node resources at Calico's key, as JSON.
    const node = await m.etcdJson(`/calico/resources/v3/projectcalico.org/nodes/${n.name}`) as { kind?: string; apiVersion?: string; metadata?: { name?: string }; spec?: { bgp?: { ipv4Address?: string } } };
    t.equal(node?.kind, 'Node');
    t.equal(node?.apiVersion, 'projectcalico.org/v3');
    t.equal(node?.metadata?.name, n.name);
    t.equal(node?.spec?.bgp?.ipv4Address, `${n.ip}/24`, `${n.name} registered ${n.ip}/24${n.autodetect ? ' (autodetected)' : ''}`);
    // Affinities written by `tern apply` sit at Calico's IPAM keys.
    t.same(await m.etcdJson(`/calico/ipam/v2/host/${n.name}/ipv4/block/${n.block.replace('/', '-')}`), { state: 'confirmed', deleted: false });
  }
  const pods: { name: string; ip: string; node: string }[] = [];
  for (const [i, n] of [...m.nodes.values()].entries()) {
    const ip = `10.244.${i + 1}.2`;
    await lab.addPod(n.name, `pod-${i + 1}`, ip);
    pods.push({ name: `pod-${i + 1}`, ip, node: n.name });
  }
  for (const src of pods) {
    for (const dst of pods) {
      if (src.node === dst.node) continue;
      const r = await lab.exec(src.name, 'ping', ['-c', '1', '-W', '2', dst.ip], { allowFail: true });
      t.match(r.stdout, / 0% packet loss/, `${src.name} (${src.node}) → ${dst.ip} (${dst.node})`);
    }
  }
});

t.test('mesh passive side: one connection per pair, dialled by the higher address', async (t) => {
  // Calico's template: `passive on` when the other node's IP is greater than ours, so the
  // lower address waits and the higher one connects (compared as text, as Calico does; here
  // the last octets have equal length, so text and numeric order agree).
  const nodes = [...m.nodes.values()];
  const conns = new Map(await Promise.all(nodes.map(async (n) => [n.name, await tcpEstablished(m, n.name)] as const)));
  for (const a of nodes) {
    for (const b of nodes) {
      if (a.ip >= b.ip) continue;
      const fromA = conns.get(a.name)!.filter(([l, r]) => l.startsWith(`${a.ip}:`) && r.startsWith(`${b.ip}:`));
      const fromB = conns.get(b.name)!.filter(([l, r]) => l.startsWith(`${b.ip}:`) && r.startsWith(`${a.ip}:`));
      t.equal(fromA.length, 1, `${a.name} sees exactly one connection with ${b.name}`);
      t.equal(fromB.length, 1, `${b.name} sees exactly one connection with ${a.name}`);
      t.equal(fromA[0]?.[0], `${a.ip}:179`, `${a.name} (lower) accepted it on :179`);
      t.equal(fromB[0]?.[1], `${a.ip}:179`, `${b.name} (higher) dialled ${a.name}:179`);
    }
  }
});

t.test('a fourth node joins without resetting any existing session', async (t) => {
  const before = await allSince();
  await m.apply(affinityYaml(N4.name, N4.block), 'n4-affinity');
  await m.addNode(N4);
  await waitConverged();
  await assertKept(t, before);
  for (const n of [N1, N2, N3]) {
    const p = (await m.terns.get(n.name)!.status()).peers.find((x) => x.address === N4.ip);
    t.equal(p?.bgpState, 'Established', `${n.name} peers with node-4`);
  }
  t.equal(meshPeers((await m.terns.get(N4.name)!.status()).peers).length, 3, 'node-4 has 3 mesh peers');
});

t.test('an affinity written by etcdctl at the IPAM key is picked up', async (t) => {
  const before = await allSince();
  const block = '10.244.11.0/26';
  await m.etcdctl('put', `/calico/ipam/v2/host/${N1.name}/ipv4/block/10.244.11.0-26`, '{"state":"confirmed","deleted":false}');
  const bh = await waitRoute(m, N1.name, block, null);
  t.equal(bh.type, 'blackhole', 'node-1 blackholes its new block');
  for (const n of [N2, N3, N4]) t.equal((await waitRoute(m, n.name, block, N1.ip)).gateway, N1.ip, `${n.name} routes ${block} via node-1`);
  const get = await m.tern(['get', 'blockaffinity', `${N1.name}-10-244-11-0-26`, '-o', 'json']);
  t.match(JSON.parse(get.stdout), { kind: 'BlockAffinity', spec: { node: N1.name, cidr: block, state: 'confirmed' } }, 'tern get sees it under Calico\'s name');
  // A pending affinity is not a route: Calico only routes confirmed blocks.
  await m.etcdctl('put', `/calico/ipam/v2/host/${N1.name}/ipv4/block/10.244.11.0-26`, '{"state":"pending","deleted":false}');
  await waitNoRoute(m, N1.name, block);
  for (const n of [N2, N3, N4]) await waitNoRoute(m, n.name, block);
  await m.etcdctl('del', `/calico/ipam/v2/host/${N1.name}/ipv4/block/10.244.11.0-26`);
  await assertKept(t, before);
});

t.test('a pool change applies without restarting a session', async (t) => {
  const before = await allSince();
  await m.apply(calicoYaml(calico.ipPool('pool-b', '10.245.0.0/16', { ipipMode: 'Never' }), affinityYaml(N2.name, '10.245.2.0/26')), 'pool-b');
  await waitRoute(m, N2.name, '10.245.2.0/26', null);
  for (const n of [N1, N3, N4]) await waitRoute(m, n.name, '10.245.2.0/26', N2.ip);
  // Exporting is per pool: disableBGPExport withdraws the block everywhere but on its node.
  await m.apply(calico.ipPool('pool-b', '10.245.0.0/16', { ipipMode: 'Never', disableBGPExport: true }), 'pool-b2');
  for (const n of [N1, N3, N4]) await waitNoRoute(m, n.name, '10.245.2.0/26');
  t.ok((await waitRoute(m, N2.name, '10.245.2.0/26', null)).type === 'blackhole', 'node-2 keeps its blackhole');
  await m.tern(['delete', 'blockaffinity', `${N2.name}-10-245-2-0-26`]);
  await waitNoRoute(m, N2.name, '10.245.2.0/26');
  await m.tern(['delete', 'ippool', 'pool-b']);
  await assertKept(t, before);
});

t.test('a global peer added and removed leaves the mesh sessions alone', async (t) => {
  const before = await allSince();
  await m.apply(calico.bgpPeer('tor', { peerIP: '10.200.0.99', asNumber: 65099 }), 'tor');
  for (const h of m.terns.values()) {
    const p = await lab.waitFor(async () => (await h.status()).peers.find((x) => x.address === '10.200.0.99'), { what: `${h.node}: peer 10.200.0.99 configured` });
    t.equal(p.type, 'global', `${h.node}: tor is a global peer`);
    t.equal(p.asn, 65099);
  }
  await m.tern(['delete', 'bgppeer', 'tor']);
  for (const h of m.terns.values()) {
    await lab.waitFor(async () => !(await h.status()).peers.some((x) => x.address === '10.200.0.99'), { what: `${h.node}: tor removed` });
  }
  await assertKept(t, before);
});

t.test('an AS change restarts only the sessions whose AS changed', async (t) => {
  const before = await allSince();
  await m.apply(calico.node(N4.name, { ipv4Address: `${N4.ip}/24`, asNumber: 64513 }), 'n4-as');
  for (const n of [N1, N2, N3]) {
    const h = m.terns.get(n.name)!;
    const p = await lab.waitFor(async () => (await h.status()).peers.find((x) => x.address === N4.ip && x.asn === 64513 && x.bgpState === 'Established'),
      { what: `${n.name}: node-4 Established as AS 64513`, timeoutMs: 60_000 });
    t.not(p.since, before.get(n.name)!.get(N4.ip), `${n.name} → node-4 session was restarted`);
  }
  t.equal((await m.terns.get(N4.name)!.status()).daemon.asNumber, 64513, 'node-4 runs as AS 64513');
  for (const n of [N1, N2, N3]) {
    const r = await waitRoute(m, n.name, N4.block, N4.ip);
    t.equal(r.gateway, N4.ip, `${n.name} still routes node-4's block`);
  }
  await assertKept(t, before, (node, addr) => node === N4.name || addr === N4.ip);
});
