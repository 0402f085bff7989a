// RFC 4456 reflection matrix, reflected attributes, loop drops and CLUSTER_LIST in best path.
import t from 'tap';
import { mayAdvertise, reflectionLoop, reflectAttributes } from '../../src/reflector/index.js';
import { exportPath, explainExport } from '../../src/policy/export.js';
import type { ExportContext } from '../../src/policy/export.js';
import { makeRib, addPeer, attrs, seq, announce } from './fixtures/helpers.js';
import { CTX, ibgpPeer, ebgpPeer } from './fixtures/export-ctx.js';

const RR: ExportContext = { ...CTX, clusterId: '244.0.0.1' };
const P = '10.244.7.0/26';

function setup() {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 11, { rrClient: true });
  addPeer(rib, 21);
  addPeer(rib, 1, { address: '192.0.2.1', asn: 65100 });
  announce(rib, '10.0.0.11|179', P, attrs({ nextHop: '10.0.0.11' }));
  announce(rib, '10.0.0.21|179', P, attrs({ nextHop: '10.0.0.21' }));
  announce(rib, '192.0.2.1|179', P, attrs({ asPath: seq(65100), nextHop: '192.0.2.1' }));
  rib.setLocal(P, {});
  rib.flush();
  const from = (key: string) => rib.lookup(P)!.paths.find((p) => p.source.key === key)!;
  return { rib, from };
}

t.test('who gets what: client → all, non-client → clients only, eBGP and local → all', async (t) => {
  const { from } = setup();
  const targets = { client: ibgpPeer(12, { routeReflectorClient: true }), nonClient: ibgpPeer(22), ebgp: ebgpPeer(9, 65300) };
  const sources = { client: '10.0.0.11|179', nonClient: '10.0.0.21|179', ebgp: '192.0.2.1|179', local: 'local' };
  const expected: Record<string, Record<string, boolean>> = {
    client: { client: true, nonClient: true, ebgp: true },
    nonClient: { client: true, nonClient: false, ebgp: true },
    ebgp: { client: true, nonClient: true, ebgp: true },
    local: { client: true, nonClient: true, ebgp: true },
  };
  for (const [sname, skey] of Object.entries(sources)) {
    for (const [tname, peer] of Object.entries(targets)) {
      t.equal(exportPath(RR, P, from(skey), peer) !== null, expected[sname]![tname], `${sname} → ${tname}`);
    }
  }
});

t.test('not a reflector: plain iBGP split horizon even toward a peer marked client', async (t) => {
  const { from } = setup();
  t.same(explainExport(CTX, P, from('10.0.0.11|179'), ibgpPeer(12, { routeReflectorClient: true })), { rejected: 'splitHorizon' });
  t.equal(mayAdvertise({ kind: 'peer', ebgp: false, routeReflectorClient: true }, { ebgp: false, routeReflectorClient: true }, false), false);
});

t.test('reflected attributes: ORIGINATOR_ID and CLUSTER_LIST added, next hop unchanged', async (t) => {
  const { from } = setup();
  t.same(exportPath(RR, P, from('10.0.0.11|179'), ibgpPeer(22)), {
    origin: 0, asPath: [], nextHop: '10.0.0.11', localPref: 100, originatorId: '10.0.0.11', clusterList: ['244.0.0.1'],
  });
  t.same(reflectAttributes({ originatorId: '10.0.0.50', clusterList: ['244.0.0.7'] }, '10.0.0.11', '244.0.0.1'), {
    originatorId: '10.0.0.50', clusterList: ['244.0.0.1', '244.0.0.7'],
  }, 'an existing ORIGINATOR_ID is kept, the cluster id is prepended');
  const fromEbgp = exportPath(RR, P, from('192.0.2.1|179'), ibgpPeer(12, { routeReflectorClient: true }));
  t.equal(fromEbgp?.originatorId, undefined, 'eBGP-learned to a client is not a reflection');
  t.equal(fromEbgp?.clusterList, undefined);
  const toEbgp = exportPath(RR, P, from('10.0.0.11|179'), ebgpPeer(9, 65300));
  t.equal(toEbgp?.clusterList, undefined, 'never to eBGP');
});

t.test('loop drops on import (RFC 4456 §8)', async (t) => {
  t.equal(reflectionLoop({ clusterList: ['244.0.0.9', '244.0.0.1'] }, '10.0.0.1', '244.0.0.1'), 'clusterList');
  t.equal(reflectionLoop({ originatorId: '10.0.0.1' }, '10.0.0.1', undefined), 'originatorId', 'own originator dropped even by a client');
  t.equal(reflectionLoop({ clusterList: ['244.0.0.1'] }, '10.0.0.1', undefined), null, 'cluster list ignored without a cluster id');
  t.equal(reflectionLoop({ originatorId: '10.0.0.2', clusterList: ['244.0.0.2'] }, '10.0.0.1', '244.0.0.1'), null);
});

t.test('CLUSTER_LIST length decides between reflected copies of one route', async (t) => {
  const rib = makeRib();
  addPeer(rib, 31); addPeer(rib, 32);
  announce(rib, '10.0.0.31|179', P, attrs({ nextHop: '10.0.0.40', originatorId: '10.0.0.40', clusterList: ['244.0.0.2', '244.0.0.3'] }));
  announce(rib, '10.0.0.32|179', P, attrs({ nextHop: '10.0.0.40', originatorId: '10.0.0.40', clusterList: ['244.0.0.3'] }));
  rib.flush();
  const r = rib.lookup(P)!;
  t.equal(r.best!.source.key, '10.0.0.32|179');
  t.equal(r.reason, 'clusterListLength');
});
