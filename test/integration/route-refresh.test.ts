// Enhanced route refresh (RFC 7313) against BIRD 2 in namespaces: `birdc reload in` makes
// BIRD send ROUTE-REFRESH; tern answers with BoRR, its routes, EoRR (BIRD logs each marker),
// and BIRD, which marks tern's routes stale at BoRR and removes the ones not re-sent at EoRR,
// still has tern's block afterwards, on the same session. And a reflector's cluster id
// changed toward a BIRD without route refresh: tern restarts that session (Cease 6/6) to get
// back the route it dropped as a CLUSTER_LIST loop under the old id.
import t from 'tap';
import { renameSync, writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startBird } from '../helpers/peers.js';
import { startTern } from '../helpers/tern.js';
import { writeDatastore } from '../../lab/tern.js';

const NODE = '10.97.0.10';
const BIRD = '10.97.0.20';
const BLOCK = '10.244.9.0/26';

const datastore = calicoYaml(
  calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: false }),
  calico.node('node-a', { ipv4Address: `${NODE}/24` }),
  calico.ipPool('pool', '10.244.0.0/16'),
  calico.blockAffinity('node-a', BLOCK, 'confirmed', 'node-a-block'),
  calico.bgpPeer('bird', { peerIP: BIRD, asNumber: 65001 }),
);

t.test('BIRD asks for a refresh: BoRR, the block, EoRR; nothing lost, session kept', async (t) => {
  const lab = createLab(t, { area: 'rrefresh' });
  await segment(lab, 'seg', { node: `${NODE}/24`, bird: `${BIRD}/24` });
  const tern = await startTern(lab, 'node', { datastoreYaml: datastore, node: 'node-a', extraArgs: ['--no-fib'] });
  const bird = await startBird(lab, 'bird', { routerId: BIRD, asn: 65001, neighbors: [{ address: NODE, asn: 64512, name: 'tern' }], debugAll: true });
  await tern.waitPeer(BIRD, 'Established', 60_000);
  await lab.waitFor(async () => (await bird.routes()).some((r) => r.prefix === BLOCK), { what: 'BIRD has the block' });
  const since = (await tern.status()).peers.find((p) => p.address === BIRD)?.since;
  await bird.birdc('reload', 'in', 'tern');
  await lab.waitFor(() => bird.proc.log().includes('Got END-OF-RR'), { what: 'BIRD got END-OF-RR from tern', timeoutMs: 20_000 });
  const log = bird.proc.log();
  t.ok(log.includes('Got BEGIN-OF-RR'), 'BIRD got BEGIN-OF-RR from tern');
  t.ok(log.indexOf('Got BEGIN-OF-RR') < log.lastIndexOf('Got END-OF-RR'), 'BoRR before EoRR');
  await new Promise((r) => setTimeout(r, 1000));
  t.ok((await bird.routes()).some((r) => r.prefix === BLOCK), 'the block is still at BIRD after EoRR');
  t.equal((await tern.status()).peers.find((p) => p.address === BIRD)?.since, since, 'same session');
});

t.test('cluster id changed: a BIRD without route refresh gets Cease 6/6, and the route that looped under the old id comes back', async (t) => {
  const node = '10.97.1.10';
  const bird = '10.97.1.20';
  const looped = '10.96.9.0/24';
  const plain = '10.96.8.0/24';
  const lab = createLab(t, { area: 'rrcluster' });
  await segment(lab, 'seg', { node: `${node}/24`, bird: `${bird}/24` });
  const docs = (clusterId: string) => calicoYaml(
    calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: false }),
    calico.node('node-a', { ipv4Address: `${node}/24`, routeReflectorClusterID: clusterId }),
    calico.ipPool('pool', '10.244.0.0/16'),
    calico.bgpPeer('bird', { peerIP: bird, asNumber: 64512 }),
  );
  const spec = writeDatastore(lab, docs('244.0.0.1'), 'cluster.yaml');
  const tern = await startTern(lab, 'node', { datastore: spec, node: 'node-a', extraArgs: ['--no-fib'] });
  // BIRD (iBGP, no route refresh) sends a route whose CLUSTER_LIST holds 244.0.0.1
  // (62464 << 16 | 1), a loop for tern while that is its cluster id, and one without.
  const b = await startBird(lab, 'bird', {
    routerId: bird, asn: 64512, neighbors: [], extraConfig: [
      `protocol static statics4 { ipv4; route ${looped} blackhole; route ${plain} blackhole; }`,
      'protocol bgp tern {',
      `  local as 64512; neighbor ${node} as 64512;`,
      '  graceful restart on; enable route refresh off;',
      '  connect delay time 2; connect retry time 5; error wait time 1,5;',
      `  ipv4 { import all; export filter { if source = RTS_STATIC then { if net = ${looped} then bgp_cluster_list.add((62464, 1)); accept; } reject; }; };`,
      '}',
    ].join('\n'),
  });
  const first = await tern.waitPeer(bird, 'Established', 60_000);
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === plain), { what: 'tern holds the route without CLUSTER_LIST' });
  await new Promise((r) => setTimeout(r, 1000));
  t.notOk((await tern.routes()).some((r) => r.prefix === looped), 'the other is dropped: tern\'s cluster id is in its CLUSTER_LIST');
  const file = spec.slice('file:'.length);
  writeFileSync(`${file}.new`, docs('244.0.0.2'));
  renameSync(`${file}.new`, file);
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === looped && r.source === bird), { what: 'tern holds the route from BIRD', timeoutMs: 60_000 });
  t.pass('the route is held under the new cluster id');
  t.match(b.proc.log(), /tern: Received: Other configuration change/, 'BIRD got Cease 6/6');
  const now = (await tern.status()).peers.find((p) => p.address === bird);
  t.not(now?.since, first.since, 'a new session');
});
