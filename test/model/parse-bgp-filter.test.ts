// The BGPFilter parser on resources built in code (as bgpModel() reads a Snapshot): the v3.32
// fields typed, text AS numbers read by their grammar, and what breaks Calico's rules refused whole
// with the field named, so the filter is in BgpModel.refused rather than applied in part.
import t from 'tap';
import { bgpModel, ModelError, parseBgpFilter } from '../../src/model/index.js';
import type { BGPFilterResource, BGPFilterSpec, Resource } from '../../src/model/types.js';
import { buildSnapshot } from '../../src/datastore/snapshot.js';

const filter = (name: string, spec: BGPFilterSpec): BGPFilterResource => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name }, spec });

function refusal(spec: BGPFilterSpec): [string, string] | undefined {
  try {
    parseBgpFilter(filter('f', spec));
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    return [e.field, e.reason];
  }
  return undefined;
}

t.test('typed: community canonical, AS numbers from numbers, plain and asdot text', async (t) => {
  const f = parseBgpFilter(filter('f', { exportV6: [{
    action: 'Accept', peerType: 'iBGP', communities: { values: ['0065000:7:0009'] }, asPathPrefix: ['1.10', 65000, '4200000000'],
    operations: [{ prependASPath: { prefix: ['0.65535', 7] } }, { addCommunity: { value: '1:2' } }],
  }] }));
  t.same(f.exportV6[0], {
    action: 'Accept', remotePeers: false, peerType: 'iBGP', community: '65000:7:9', asPathPrefix: [65546, 65000, 4200000000],
    operations: [{ kind: 'prependAsPath', asns: [65535, 7] }, { kind: 'addCommunity', community: '1:2' }],
  });
});

t.test('refused, naming the field', async (t) => {
  t.match(refusal({ importV4: [{ action: 'Reject', priority: 0 }] }), ['spec.importV4[0].priority', /^must be an integer 1\.\.2147483646/]);
  t.match(refusal({ exportV4: [{ action: 'Accept', operations: [{ addCommunity: { value: '1:1' } }, { setPriority: { value: 2147483647 } }] }] }),
    ['spec.exportV4[0].operations[1].setPriority.value', /^must be an integer 1\.\.2147483646/]);
  t.same(refusal({ exportV4: [{ action: 'Reject', operations: [{ prependASPath: { prefix: [1] } }] }] }), ['spec.exportV4[0].operations', 'may only be used with action Accept']);
  t.same(refusal({ importV4: [{ action: 'Reject', operations: [{ setPriority: { value: 5 } }] }] }), ['spec.importV4[0].operations', 'may only be used with action Accept']);
  t.match(refusal({ exportV4: [{ action: 'Accept', peerType: 'EBGP' as never }] }), ['spec.exportV4[0].peerType', /must be eBGP or iBGP/]);
  t.match(refusal({ exportV4: [{ action: 'Accept', asPathPrefix: ['65536.1'] }] }), ['spec.exportV4[0].asPathPrefix[0]', /is not an AS number/]);
  t.match(refusal({ exportV4: [{ action: 'Accept', communities: { values: ['1:65536'] } }] }), ['spec.exportV4[0].communities.values[0]', /is not a community/]);
  t.match(refusal({ exportV4: [{ action: 'Accept', operations: [{}] }] }), ['spec.exportV4[0].operations[0]', /exactly one of/]);
});

t.test('priority, setPriority and import operations are typed (Calico v3.32)', async (t) => {
  const f = parseBgpFilter({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'f' }, spec: {
    importV4: [{ action: 'Accept', priority: 512, operations: [{ prependASPath: { prefix: [65001] } }, { setPriority: { value: 1 } }] }],
  } } as BGPFilterResource);
  t.same(f.importV4, [{ action: 'Accept', remotePeers: false, priority: 512, operations: [{ kind: 'prependAsPath', asns: [65001] }, { kind: 'setPriority', priority: 1 }] }]);
});

t.test('bgpModel: a filter with a refused field is refused whole; the others stand', async (t) => {
  const snap = buildSnapshot([
    filter('ok', { exportV4: [{ action: 'Reject', communities: { values: ['65000:1'] } }] }),
    filter('prio', { exportV4: [{ action: 'Reject', priority: 2147483647 }] }),
  ] as Resource[], 1);
  const m = bgpModel(snap);
  t.same([...m.bgpFilters.keys()], ['ok']);
  t.same(m.refused.map((e) => [e.kind, e.resource, e.field]), [['BGPFilter', 'prio', 'spec.exportV4[0].priority']]);
});
