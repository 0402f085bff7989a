// A file written for calico-node loads whole: BGPFilter is validated field by field, and the
// Calico kinds tern does not act on are accepted, kept and listed back, never refused.
import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/util/errors.js';
import { FileDatastore, parseResources, resourcesOfKind, buildSnapshot, snapshotResources } from '../../src/datastore/index.js';

const HEAD = 'apiVersion: projectcalico.org/v3\n';

const CALICO_FILE = `${HEAD}kind: Node
metadata: {name: node-1}
spec: {bgp: {ipv4Address: 10.0.0.11/24}}
---
${HEAD}kind: FelixConfiguration
metadata: {name: default}
spec: {bpfLogLevel: "", logSeverityScreen: Info, reportingInterval: 0s, someFutureField: {a: 1}}
---
${HEAD}kind: ClusterInformation
metadata: {name: default}
spec: {calicoVersion: v3.30.7, clusterGUID: abc, datastoreReady: true}
---
${HEAD}kind: KubeControllersConfiguration
metadata: {name: default}
spec: {controllers: {node: {reconcilerPeriod: 5m}}}
---
${HEAD}kind: IPReservation
metadata: {name: reserved}
spec: {reservedCIDRs: [10.244.0.0/30]}
---
${HEAD}kind: HostEndpoint
metadata: {name: node-1-eth0, labels: {role: host}}
spec: {node: node-1, interfaceName: eth0, expectedIPs: [10.0.0.11]}
---
${HEAD}kind: NetworkSet
metadata: {name: external, namespace: prod}
spec: {nets: [198.51.100.0/24]}
---
${HEAD}kind: GlobalNetworkSet
metadata: {name: blocked}
spec: {nets: [203.0.113.0/24]}
---
${HEAD}kind: Tier
metadata: {name: security}
spec: {order: 100}
---
${HEAD}kind: CalicoNodeStatus
metadata: {name: node-1-status}
spec: {node: node-1, classes: [Agent, BGP], updatePeriodSeconds: 10}
status: {agent: {birdV4: {state: Ready}}}
---
${HEAD}kind: BGPFilter
metadata: {name: no-lb}
spec:
  exportV4:
    - {action: Reject, matchOperator: In, cidr: 10.96.0.0/12, prefixLength: {min: 24}}
    - {action: Accept, source: RemotePeers}
  importV4:
    - {action: Reject, matchOperator: Equal, cidr: 192.0.2.0/24}
  importV6:
    - {action: Accept, interface: "eth*"}
`;

t.test('a Calico file with kinds tern does not act on loads whole', async (t) => {
  const resources = parseResources(CALICO_FILE, 'calico.yaml');
  t.equal(resources.length, 11, 'nothing refused, nothing dropped');
  const snap = buildSnapshot(resources, 1);
  t.same([...snap.ignored.keys()], [
    'CalicoNodeStatus/node-1-status', 'ClusterInformation/default', 'FelixConfiguration/default', 'IPReservation/reserved',
    'KubeControllersConfiguration/default',
  ]);
  t.same([snap.tiers.size, snap.networkSets.size, snap.globalNetworkSets.size, snap.hostEndpoints.size], [1, 1, 1, 1], 'the ACL kinds are acted on');
  const felix = snap.ignored.get('FelixConfiguration/default');
  t.same(felix?.spec, { bpfLogLevel: '', logSeverityScreen: 'Info', reportingInterval: '0s', someFutureField: { a: 1 } }, 'spec kept as written');
  t.same(resourcesOfKind(snap, 'IPReservation').map((r) => r.metadata.name), ['reserved']);
  t.same(resourcesOfKind(snap, 'FelixConfiguration').map((r) => r.metadata.name), ['default'], 'per kind, not the whole ignored map');
  t.equal(snapshotResources(snap).length, 11);
  t.same(snap.bgpFilters.get('no-lb')?.spec.exportV4?.[0], { action: 'Reject', matchOperator: 'In', cidr: '10.96.0.0/12', prefixLength: { min: 24 } });
});

t.test('ignored kinds still get apiVersion and metadata checked', async (t) => {
  const err = (text: string): string => {
    try {
      parseResources(text, 'c.yaml');
    } catch (e) {
      t.type(e, ConfigError);
      return (e as Error).message;
    }
    t.fail('expected an error');
    return '';
  };
  t.equal(err(`apiVersion: crd.projectcalico.org/v1\nkind: FelixConfiguration\nmetadata: {name: default}\n`).split(':')[0], 'c.yaml document 1 (FelixConfiguration default)');
  t.match(err(`${HEAD}kind: FelixConfiguration\nmetadata: {name: Bad_Name}\n`), /metadata\.name/);
  t.match(err(`${HEAD}kind: IPReservation\nmetadata: {name: a}\nspec: [1]\n`), /spec: must be an object/);
  t.match(err(`${HEAD}kind: ClusterInformation\nmetadata: {name: a, namespace: x}\n`), /metadata\.namespace: must not be set/);
});

function bgpFilterError(t: Test, spec: string): string {
  try {
    parseResources(`${HEAD}kind: BGPFilter\nmetadata: {name: f}\nspec: ${spec}\n`, 'f.yaml');
  } catch (e) {
    t.type(e, ConfigError);
    return (e as Error).message.replace('f.yaml document 1 (BGPFilter f): ', '');
  }
  t.fail(`expected an error for ${spec}`);
  return '';
}

t.test('BGPFilter validation follows Calico validateBGPFilterRule', async (t) => {
  t.equal(bgpFilterError(t, '{exportV4: [{cidr: 10.0.0.0/8, matchOperator: In}]}'), 'spec.exportV4[0].action: is required (Accept or Reject)');
  t.equal(bgpFilterError(t, '{exportV4: [{action: Drop}]}'), 'spec.exportV4[0].action: must be one of Accept, Reject, got "Drop"');
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, cidr: 10.0.0.0/8}]}'), 'spec.exportV4[0].matchOperator: is required with cidr (Equal, NotEqual, In or NotIn)');
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, matchOperator: In}]}'), 'spec.exportV4[0].cidr: is required with matchOperator');
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, matchOperator: Like, cidr: 10.0.0.0/8}]}'), 'spec.exportV4[0].matchOperator: must be one of Equal, NotEqual, In, NotIn, got "Like"');
  t.match(bgpFilterError(t, '{importV4: [{action: Accept, matchOperator: In, cidr: "fd00::/64"}]}'), /^spec\.importV4\[0\]\.cidr: /);
  t.match(bgpFilterError(t, '{importV6: [{action: Accept, matchOperator: In, cidr: 10.0.0.0/8}]}'), /^spec\.importV6\[0\]\.cidr: /);
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, prefixLength: {min: 24}}]}'), 'spec.exportV4[0].prefixLength: needs cidr');
  t.match(bgpFilterError(t, '{exportV4: [{action: Accept, matchOperator: In, cidr: 10.0.0.0/8, prefixLength: {max: 33}}]}'), /^spec\.exportV4\[0\]\.prefixLength\.max: /);
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, matchOperator: In, cidr: 10.0.0.0/8, prefixLength: {min: 28, max: 24}}]}'), 'spec.exportV4[0].prefixLength: min 28 is greater than max 24');
  t.equal(bgpFilterError(t, '{exportV4: [{action: Accept, source: Local}]}'), 'spec.exportV4[0].source: must be one of RemotePeers, got "Local"');
  t.match(bgpFilterError(t, '{exportV4: [{action: Accept, interface: "eth 0"}]}'), /^spec\.exportV4\[0\]\.interface: "eth 0" is not an interface name/);
  t.match(bgpFilterError(t, '{exportV5: []}'), /^spec\.exportV5: /);
  t.match(bgpFilterError(t, '{exportV4: [{action: Accept, matchOperator: In, cidr: 10.0.0.1/8}]}'), /^spec\.exportV4\[0\]\.cidr: /);
  const ok = parseResources(`${HEAD}kind: BGPFilter\nmetadata: {name: f}\nspec: {exportV6: [{action: Reject, matchOperator: NotIn, cidr: "FD00:0::/48"}]}\n`, 'f.yaml');
  t.same(ok[0]?.spec, { exportV6: [{ action: 'Reject', matchOperator: 'NotIn', cidr: 'fd00::/48' }] }, 'cidr canonical');
});

t.test('file datastore: ignored kinds are listed back by kind (tern get)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tern-kinds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'calico.yaml');
  await writeFile(path, CALICO_FILE);
  const ds = new FileDatastore(path);
  t.teardown(() => ds.close());
  const snap = await ds.load();
  t.equal(snap.ignored.size, 5);
  t.same((await ds.list('FelixConfiguration')).map((r) => r.spec), [{ bpfLogLevel: '', logSeverityScreen: 'Info', reportingInterval: '0s', someFutureField: { a: 1 } }]);
  t.same((await ds.list('NetworkSet', undefined, 'prod')).map((r) => r.metadata.name), ['external']);
  t.same((await ds.list('BGPFilter')).map((r) => r.metadata.name), ['no-lb']);
  await ds.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'IPReservation', metadata: { name: 'more' }, spec: { reservedCIDRs: ['10.244.9.0/30'] } } as never]);
  t.same((await ds.list('IPReservation')).map((r) => r.metadata.name).sort(), ['more', 'reserved'], 'apply works for ignored kinds');
  t.equal(await ds.delete('IPReservation', 'more'), true);
});

t.test('BGPPeer: localWorkloadSelector, reachableBy and keepOriginalNextHop as Calico validates them', async (t) => {
  const peerError = (spec: string): string => {
    try {
      parseResources(`${HEAD}kind: BGPPeer\nmetadata: {name: p}\nspec: ${spec}\n`, 'p.yaml');
    } catch (e) {
      return (e as Error).message.replace('p.yaml document 1 (BGPPeer p): ', '');
    }
    return 'ok';
  };
  t.equal(peerError(`{localWorkloadSelector: "app == 'bgp'", asNumber: 65030}`), 'ok', 'neither peerIP nor peerSelector needed');
  t.equal(peerError(`{localWorkloadSelector: "app == 'bgp'"}`), 'spec.asNumber: is required with spec.localWorkloadSelector');
  t.equal(peerError(`{localWorkloadSelector: "app == 'bgp'", peerIP: 10.0.0.1, asNumber: 65030}`), 'spec.peerIP: must be empty with spec.localWorkloadSelector');
  t.equal(peerError(`{localWorkloadSelector: "app == 'bgp'", peerSelector: all()}`), 'spec.peerSelector: must be empty with spec.localWorkloadSelector');
  t.equal(peerError('{asNumber: 65030}'), 'spec.peerIP: one of spec.peerIP, spec.peerSelector or spec.localWorkloadSelector is required');
  t.equal(peerError('{peerIP: 10.0.0.1, asNumber: 65001, reachableBy: 10.0.0.254}'), 'ok');
  t.equal(peerError('{peerSelector: all(), reachableBy: 10.0.0.254}'), 'spec.reachableBy: must be empty when spec.peerIP is empty');
  t.equal(peerError('{peerIP: 10.0.0.1, asNumber: 65001, reachableBy: "fd00::1"}'), 'spec.reachableBy: "fd00::1" and spec.peerIP are of different address families');
  t.equal(peerError('{peerIP: 10.0.0.1, asNumber: 65001, keepOriginalNextHop: true, nextHopMode: Keep}'), 'spec.keepOriginalNextHop: is deprecated and must not be true when spec.nextHopMode is set');
});

t.test('IPAMBlock and IPAMHandle (projectcalico.org/v3 kinds since Calico v3.32) load as kinds not acted on', async (t) => {
  const text = `${HEAD}kind: IPAMBlock
metadata: {name: 10-244-0-0-26}
spec: {cidr: 10.244.0.0/26, affinity: "host:node-1", allocations: [0, null], unallocated: [1], attributes: [{handle_id: k8s-pod-network.abc}]}
---
${HEAD}kind: IPAMHandle
metadata: {name: k8s-pod-network.abc}
spec: {handleID: k8s-pod-network.abc, block: {10.244.0.0/26: 1}}
`;
  const snap = buildSnapshot(parseResources(text, 'dump.yaml'), 1);
  t.same([...snap.ignored.keys()], ['IPAMBlock/10-244-0-0-26', 'IPAMHandle/k8s-pod-network.abc']);
});
