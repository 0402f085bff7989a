// The blocks a node originates: its confirmed BlockAffinities, except host-length ones (a
// /32 or /128 block), for which confd renders no `route <block> blackhole` (bird_aggr,
// bird6_aggr): calico-node exports such a block only while its workload's kernel route is
// there to be learned.
import t from 'tap';
import { RoutingCore } from '../../src/daemon/routing.js';
import { deriveNodeConfig } from '../../src/peering/index.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { affinity, bgpConfig, node, pool, snapshot } from '../peering/fixtures/snapshot.js';

t.test('confirmed blocks are originated, host-length ones are not', async (t) => {
  const snap = snapshot([
    bgpConfig('default', { asNumber: 64512 }),
    pool('p4', { cidr: '10.244.0.0/16', blockSize: 26 }),
    pool('p4h', { cidr: '10.245.0.0/16', blockSize: 32 }),
    pool('p6', { cidr: 'fd10:244::/48', blockSize: 122 }),
    pool('p6h', { cidr: 'fd10:245::/48', blockSize: 128 }),
    node('self', { ipv4Address: '10.77.0.1/24', ipv6Address: 'fd00:77::1/64' }),
    affinity('self-10-244-0-0-26', { node: 'self', cidr: '10.244.0.0/26', state: 'confirmed' }),
    affinity('self-10-245-0-7-32', { node: 'self', cidr: '10.245.0.7/32', state: 'confirmed' }),
    affinity('self-fd10-244--40-122', { node: 'self', cidr: 'fd10:244::40/122', state: 'confirmed' }),
    affinity('self-fd10-245--7-128', { node: 'self', cidr: 'fd10:245::7/128', state: 'confirmed' }),
  ]);
  const cfg = deriveNodeConfig(snap, 'self');
  t.same(cfg.ownBlocks.map((b) => b.cidr).sort(), ['10.244.0.0/26', '10.245.0.7/32', 'fd10:244::40/122', 'fd10:245::7/128'], 'all four are own blocks');
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  core.setConfig(cfg);
  core.rib.flush();
  t.same([...core.rib.prefixes('ipv4')], ['10.244.0.0/26']);
  t.same([...core.rib.prefixes('ipv6')], ['fd10:244::40/122']);
});
