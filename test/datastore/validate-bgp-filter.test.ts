// BGPFilter's v3.32 fields through the validator and the model's parser, file (strict) and
// etcd (unknown fields kept): peerType, communities, asPathPrefix, priority, and operations
// addCommunity, prependASPath and setPriority on import and export rules are typed; shapes
// Calico's CRD refuses are refused.
import t from 'tap';
import { ConfigError } from '../../src/util/errors.js';
import { parseResources, validateResource } from '../../src/datastore/validate.js';
import { parseBgpFilter } from '../../src/model/parse-bgp-filter.js';
import type { BGPFilterResource } from '../../src/model/types.js';

const HEAD = 'apiVersion: projectcalico.org/v3\n';

function load(spec: string): BGPFilterResource {
  const [r] = parseResources(`${HEAD}kind: BGPFilter\nmetadata: {name: f}\nspec: ${spec}\n`, 'f.yaml');
  return r as BGPFilterResource;
}

function refusal(spec: string, unknownFields: 'error' | 'keep' = 'error'): string {
  try {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'f' }, spec: JSON.parse(spec) };
    validateResource(doc, { file: 'f.json', document: 1 }, { unknownFields });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.replace('f.json document 1 (BGPFilter f): ', '');
  }
  return 'accepted';
}

t.test('match fields and export operations are accepted and typed', async (t) => {
  const r = load(`{exportV4: [{action: Accept, peerType: eBGP, communities: {values: ["65000:042"]}, asPathPrefix: [65000, "1.10"],
    operations: [{addCommunity: {value: "65000:300:400"}}, {prependASPath: {prefix: [64999, "65001"]}}]}],
    importV6: [{action: Reject, peerType: iBGP, communities: {values: ["1:2:3"]}}]}`);
  const f = parseBgpFilter(r);
  t.same(f.exportV4, [{
    action: 'Accept', remotePeers: false, peerType: 'eBGP', community: '65000:42', asPathPrefix: [65000, 65546],
    operations: [{ kind: 'addCommunity', community: '65000:300:400' }, { kind: 'prependAsPath', asns: [64999, 65001] }],
  }], 'community canonical, asdot and text AS numbers as numbers');
  t.same(f.importV6, [{ action: 'Reject', remotePeers: false, peerType: 'iBGP', community: '1:2:3', operations: [] }]);
  t.same((r.spec.exportV4?.[0]?.asPathPrefix), [65000, 65546], 'the stored spec holds numbers');
});

t.test('priority, setPriority and import operations: typed, on file and etcd alike', async (t) => {
  for (const unknownFields of ['error', 'keep'] as const) {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'f' }, spec: {
      exportV4: [{ action: 'Accept', priority: 512, operations: [{ setPriority: { value: 256 } }] }],
      importV6: [{ action: 'Accept', cidr: 'fd00::/64', matchOperator: 'In', operations: [{ addCommunity: { value: '65000:1' } }, { setPriority: { value: 2147483646 } }] }],
    } };
    const f = parseBgpFilter(validateResource(doc, { file: 'f.json', document: 1 }, { unknownFields }) as BGPFilterResource);
    t.same(f.exportV4, [{ action: 'Accept', remotePeers: false, priority: 512, operations: [{ kind: 'setPriority', priority: 256 }] }], unknownFields);
    t.same(f.importV6[0]?.operations, [{ kind: 'addCommunity', community: '65000:1' }, { kind: 'setPriority', priority: 2147483646 }], `${unknownFields}: import operations`);
  }
  t.match(refusal('{"exportV4": [{"action": "Accept", "priority": 2147483647}]}'), /^spec\.exportV4\[0\]\.priority: /, 'above 2^31-2: Calico\'s range');
  t.match(refusal('{"importV4": [{"action": "Accept", "operations": [{"setPriority": {"value": 0}}]}]}', 'keep'), /setPriority\.value: /, 'below 1, etcd too');
});

t.test('shapes Calico refuses', async (t) => {
  const rule = (extra: string) => `{"exportV4": [{"action": "Accept", ${extra}}]}`;
  t.equal(refusal(rule('"peerType": "eBgp"')), 'spec.exportV4[0].peerType: must be one of eBGP, iBGP, got "eBgp"');
  t.equal(refusal(rule('"communities": {"values": []}')), 'spec.exportV4[0].communities.values: must hold exactly one community value, got 0');
  t.equal(refusal(rule('"communities": {"values": ["1:1", "2:2"]}')), 'spec.exportV4[0].communities.values: must hold exactly one community value, got 2');
  t.match(refusal(rule('"communities": {"values": ["65536:1"]}')), /^spec\.exportV4\[0\]\.communities\.values\[0\]: "65536:1" is not a community/);
  t.match(refusal(rule('"communities": {"values": ["1:2:4294967296"]}')), /is not a community/);
  t.match(refusal(rule('"asPathPrefix": [0]')), /^spec\.exportV4\[0\]\.asPathPrefix\[0\]: must be an integer 1\.\.4294967295/);
  t.equal(refusal('{"exportV4": [{"action": "Reject", "operations": [{"addCommunity": {"value": "1:1"}}]}]}'), 'spec.exportV4[0].operations: may only be used with action Accept');
  t.equal(refusal(rule('"operations": [{}]')), 'spec.exportV4[0].operations[0]: exactly one of addCommunity, prependASPath, setPriority must be set, got none');
  t.equal(refusal(rule('"operations": [{"addCommunity": {"value": "1:1"}, "prependASPath": {"prefix": [1]}}]')),
    'spec.exportV4[0].operations[0]: exactly one of addCommunity, prependASPath, setPriority must be set, got addCommunity, prependASPath');
  t.equal(refusal(rule('"operations": [{"prependASPath": {"prefix": []}}]')), 'spec.exportV4[0].operations[0].prependASPath.prefix: must hold 1 to 10 AS numbers');
  t.equal(refusal(rule('"operations": [{"prependASPath": {"prefix": [1,2,3,4,5,6,7,8,9,10,11]}}]')), 'spec.exportV4[0].operations[0].prependASPath.prefix: must hold 1 to 10 AS numbers');
  t.match(refusal(rule('"operations": [{"addCommunity": {"value": "x"}}]')), /^spec\.exportV4\[0\]\.operations\[0\]\.addCommunity\.value: "x" is not a community/);
  const eleven = Array.from({ length: 11 }, () => '{"addCommunity": {"value": "1:1"}}').join(',');
  t.equal(refusal(rule(`"operations": [${eleven}]`)), 'spec.exportV4[0].operations: at most 10 operations, got 11');
  t.match(refusal(rule('"priority": 0')), /^spec\.exportV4\[0\]\.priority: /, 'out of Calico\'s range');
  t.match(refusal(rule('"operations": [{"setPriority": {}}]')), /setPriority\.value: is required/);
  t.match(refusal(rule('"peertype": "eBGP"')), /peertype: unknown field \(did you mean "peerType"\?\)/);
});

// Before: the validator did not know these fields; an etcd resource (unknown fields kept)
// was accepted and the parser left them out, so the rule ran without its conditions (here a
// Reject of every route instead of only those carrying 65000:1, toward every peer instead of
// eBGP peers only).
t.test('etcd: a rule\'s conditions written by a newer calico-node are not dropped', async (t) => {
  const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'f' },
    spec: { exportV4: [{ action: 'Reject', peerType: 'eBGP', communities: { values: ['65000:1'] }, asPathPrefix: ['65001'] }] } };
  const stored = validateResource(doc, {}, { unknownFields: 'keep' }) as BGPFilterResource;
  const [rule] = parseBgpFilter(stored).exportV4;
  t.equal(rule?.community, '65000:1');
  t.equal(rule?.peerType, 'eBGP');
  t.same(rule?.asPathPrefix, [65001]);
});
