// buildModel's node addresses: taken from the typed Node model, canonical, one list per node.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import { snapshot } from './fixtures/resources.js';
import type { NodeResource } from '../../src/model/types.js';

t.test('host addresses of each node come from the typed model and the Node address grammar', async (t) => {
  const full: NodeResource = {
    apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a' },
    spec: {
      bgp: { ipv4Address: '10.0.0.11/24', ipv6Address: 'FD00:0::11/64', ipv4IPIPTunnelAddr: '10.244.1.1' },
      addresses: [{ address: '192.168.1.5' }, { address: '10.0.0.11/24' }, { address: 'not-an-address' }],
    },
  };
  const bare: NodeResource = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'b' }, spec: { bgp: { ipv4Address: '10.0.0.12' } } };
  const none: NodeResource = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'c' }, spec: {} };
  const m = buildModel(snapshot({ nodes: [full, bare, none] }));
  t.same(m.nodeAddrs.get('a'), ['10.0.0.11', 'fd00::11', '10.244.1.1', '192.168.1.5'], 'canonical, without lengths, duplicates and text that does not parse');
  t.same(m.nodeAddrs.get('b'), ['10.0.0.12'], 'a bare BGP address');
  t.same(m.nodeAddrs.get('c'), []);
});
