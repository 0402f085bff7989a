// Enhanced route refresh (RFC 7313) against BIRD 2 in namespaces: `birdc reload in` makes
// BIRD send ROUTE-REFRESH; tern answers with BoRR, its routes, EoRR (BIRD logs each marker),
// and BIRD, which marks tern's routes stale at BoRR and removes the ones not re-sent at EoRR,
// still has tern's block afterwards, on the same session.
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { startBird } from '../helpers/peers.js';
import { startTern } from '../helpers/tern.js';

const NODE = '10.97.0.10';
const BIRD = '10.97.0.20';
const BLOCK = '10.244.9.0/26';

const datastore = [
  'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: { asNumber: 64512, nodeToNodeMeshEnabled: false }',
  `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: { name: node-a }\nspec: { bgp: { ipv4Address: ${NODE}/24 } }`,
  'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: pool }\nspec: { cidr: 10.244.0.0/16, blockSize: 26 }',
  `apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: { name: node-a-block }\nspec: { node: node-a, cidr: ${BLOCK}, state: confirmed }`,
  `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: { name: bird }\nspec: { peerIP: ${BIRD}, asNumber: 65001 }`,
].join('\n---\n');

t.test('BIRD asks for a refresh: BoRR, the block, EoRR; nothing lost, session kept', async (t) => {
  const lab = createLab(t, { area: 'rrefresh' });
  await lab.bridge('seg');
  for (const h of ['node', 'bird']) await lab.addHost(h);
  await lab.attach('node', 'seg', { v4: `${NODE}/24` });
  await lab.attach('bird', 'seg', { v4: `${BIRD}/24` });
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
