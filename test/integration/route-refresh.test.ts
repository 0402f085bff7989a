// Enhanced route refresh (RFC 7313) against BIRD 2 in namespaces: `birdc reload in` makes
// BIRD send ROUTE-REFRESH; tern answers with BoRR, its routes, EoRR (BIRD logs each marker),
// and BIRD, which marks tern's routes stale at BoRR and removes the ones not re-sent at EoRR,
// still has tern's block afterwards, on the same session.
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startBird } from '../helpers/peers.js';
import { startTern } from '../helpers/tern.js';

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
