// Issue "Never fall over" acceptance: tern with a BIRD 2 iBGP peer up, and a raw eBGP peer
// (IPv4 unicast only) that sends a normal route, a 1010-community route inside the IP pool
// (too long for the iBGP UPDATE once LOCAL_PREF is added), an MP_REACH IPv6 route, a route
// with NEXT_HOP 0.0.0.0, one with AS 0 in its path and one whose next hop is tern's own
// address. tern keeps running, the BIRD session never drops, the normal route is in the
// kernel and none of the refused ones is.
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startBird } from '../helpers/peers.js';
import { spawnRawScript } from '../helpers/raw-script.js';
import { startTern } from '../helpers/tern.js';

const NODE = { v4: '10.99.0.10', v6: 'fd99::10' };
const BIRD = { v4: '10.99.0.21', asn: 64512 };
const RAW = { v4: '10.99.0.24', asn: 65005 };

const datastore = [
  calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info' }),
  calico.node('node-a', { ipv4Address: `${NODE.v4}/24` }),
  calico.ipPool('pool-v4', '10.244.0.0/16', { ipipMode: 'Never' }),
  calico.ipPool('pool-v6', 'fd00:244::/48'),
  calico.bgpPeer('bird', { peerIP: BIRD.v4, asNumber: BIRD.asn }),
  calico.bgpPeer('raw', { peerIP: RAW.v4, asNumber: RAW.asn }),
];

t.test('hostile eBGP input next to a BIRD 2 iBGP session', async (t) => {
  const lab = createLab(t, { area: 'hostile' });
  await segment(lab, 'seg', { node: { v4: `${NODE.v4}/24`, v6: `${NODE.v6}/64` }, bird: `${BIRD.v4}/24`, raw: `${RAW.v4}/24` });

  const tern = await startTern(lab, 'node', { datastoreYaml: calicoYaml(datastore), node: 'node-a' });
  const birdH = await startBird(lab, 'bird', {
    routerId: BIRD.v4, asn: BIRD.asn,
    neighbors: [{ address: NODE.v4, asn: 64512, name: 'tern' }],
    staticRoutes: [{ prefix: '10.244.100.0/26', blackhole: true }],
  });
  await tern.waitPeer(BIRD.v4, 'Established', 90_000);
  const birdSince = (await tern.status()).peers.find((p) => p.address === BIRD.v4)?.since;
  const birdProtoSince = (await birdH.protocols()).find((p) => p.name === 'tern')?.since;

  const raw = spawnRawScript(lab, 'raw', 'raw-hostile.ts', [NODE.v4, RAW.v4, String(RAW.asn)]);

  // The normal route reaches tern's RIB, the kernel and BIRD.
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === '10.244.78.0/26' && r.source === RAW.v4), { what: 'normal route from the raw peer', timeoutMs: 30_000 });
  const kernel = await lab.waitFor(async () => {
    const out = (await lab.exec('node', 'ip', ['-4', 'route', 'show', 'proto', 'bird'])).stdout;
    return out.includes('10.244.78.0/26') ? out : null;
  }, { what: 'normal route in the kernel', timeoutMs: 30_000 });
  t.match(kernel, new RegExp(`10\\.244\\.78\\.0/26 via ${RAW.v4.replace(/\./g, '\\.')}`), 'normal route in the kernel via the raw peer');
  await lab.waitFor(async () => (await birdH.routes()).some((r) => r.prefix === '10.244.78.0/26'), { what: 'BIRD got the normal route' });
  // The 1010-community route is valid from eBGP (tern holds it) but cannot go to BIRD.
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === '10.244.80.0/26'), { what: '1010-community route in tern\'s RIB' });

  // Let every refused UPDATE be processed: the status counters show them.
  const st = await lab.waitFor(async () => {
    const s = await tern.status();
    const r = s.peers.find((p) => p.address === RAW.v4)?.refused;
    return r && r.familyNotNegotiated >= 1 && r.invalidNextHop >= 2 ? s : null;
  }, { what: 'refused counters for the raw peer', timeoutMs: 20_000 });
  const refused = st.peers.find((p) => p.address === RAW.v4)!.refused!;
  t.equal(refused.familyNotNegotiated, 1, 'the MP_REACH IPv6 route is counted as a family not negotiated');
  t.equal(refused.invalidNextHop, 2, 'NEXT_HOP 0.0.0.0 and own-address next hop counted');
  const birdRefused = st.peers.find((p) => p.address === BIRD.v4)!.refused;
  t.equal(birdRefused?.attributesTooLong, 1, 'the 1010-community route is held back from BIRD, counted');

  const routes = await tern.routes();
  for (const p of ['fd00:244::/64', '10.244.81.0/26', '10.244.82.0/26', '10.244.83.0/26']) {
    t.notOk(routes.some((r) => r.prefix === p), `${p} not in tern's RIB`);
  }
  const v4k = (await lab.exec('node', 'ip', ['-4', 'route', 'show', 'proto', 'bird'])).stdout;
  const v6k = (await lab.exec('node', 'ip', ['-6', 'route', 'show', 'proto', 'bird'])).stdout;
  for (const p of ['10.244.81.0/26', '10.244.82.0/26', '10.244.83.0/26']) t.notOk(v4k.includes(p), `${p} not in the kernel`);
  t.notOk(v6k.includes('fd00:244::/64'), 'the IPv6 route from an IPv4-only session is not in the kernel');
  const birdRoutes = await birdH.routes();
  t.notOk(birdRoutes.some((r) => r.prefix === '10.244.80.0/26'), 'BIRD never got the 1010-community route');
  for (const p of ['10.244.81.0/26', '10.244.82.0/26', '10.244.83.0/26']) t.notOk(birdRoutes.some((r) => r.prefix === p), `BIRD never got ${p}`);

  // Everything is still up: tern answers, the BIRD session kept its since on both sides.
  const after = await tern.status();
  t.equal(after.peers.find((p) => p.address === BIRD.v4)?.bgpState, 'Established', 'BIRD session Established');
  t.equal(after.peers.find((p) => p.address === BIRD.v4)?.since, birdSince, 'BIRD session never dropped (tern side)');
  t.equal((await birdH.protocols()).find((p) => p.name === 'tern')?.since, birdProtoSince, 'BIRD session never dropped (BIRD side)');
  t.equal(after.peers.find((p) => p.address === RAW.v4)?.bgpState, 'Established', 'raw session stays up: nothing here is a reset');
  const lines = await raw.finish<{ phase: string; open?: boolean }>();
  t.equal(lines.at(-1)?.phase, 'done', 'raw peer finished');
  t.equal(lines.at(-1)?.open, true, 'raw peer session was never closed by tern');
  t.ok((await tern.status()).peers.length === 2, 'tern still answers on its control socket');
});
