// Validation: every error names file, document, kind/name, field and reason; good input
// comes back typed, with Calico's defaults where Calico applies them.
import t, { type Test } from 'tap';
import { ConfigError } from '../../src/util/errors.js';
import { parseResources, validateResource } from '../../src/datastore/index.js';

const HEAD = 'apiVersion: projectcalico.org/v3\n';

/** The message parseResources throws for `text` as config.yaml (fails the test if none). */
function errorOf(t: Test, text: string): string {
  try {
    parseResources(text, 'config.yaml');
  } catch (e) {
    t.type(e, ConfigError);
    t.equal((e as ConfigError).code, 'ERR_CONFIG_INVALID');
    return (e as Error).message;
  }
  t.fail('expected a ConfigError');
  return '';
}

const node = `${HEAD}kind: Node\nmetadata: {name: node-1}\nspec: {bgp: {ipv4Address: 10.0.0.11/24}}\n`;
const pool = `${HEAD}kind: IPPool\nmetadata: {name: pool-1}\nspec: {cidr: 10.244.0.0/16}\n`;

t.test('exact messages name file, document, kind/name, field and reason', async (t) => {
  const peer = (spec: string): string => `${node}---\n${pool}---\n${HEAD}kind: BGPPeer\nmetadata: {name: tor-1}\nspec: ${spec}\n`;
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.1, asNumber: 0}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.asNumber: must be an integer 1..4294967295, got 0',
  );
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.1, asNumber: 4294967296}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.asNumber: must be an integer 1..4294967295, got 4294967296',
  );
  t.equal(errorOf(t, peer('{peerIP: 10.0.0.1}')), 'config.yaml document 3 (BGPPeer tor-1): spec.asNumber: is required with spec.peerIP');
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.300, asNumber: 65000}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.peerIP: "10.0.0.300" is not "ip", "ip:port" or "[ipv6]:port"',
  );
  t.equal(
    errorOf(t, peer('{peerIP: "10.0.0.1:70000", asNumber: 65000}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.peerIP: "10.0.0.1:70000" has a port outside 1..65535',
  );
  t.equal(
    errorOf(t, peer(`{peerSelector: "rr == 'true'", asNumber: 65000}`)),
    "config.yaml document 3 (BGPPeer tor-1): spec.asNumber: must be empty with spec.peerSelector (each selected node's own AS is used)",
  );
  t.equal(
    errorOf(t, peer(`{peerSelector: "rr == 'true", nodeSelector: all()}`)),
    `config.yaml document 3 (BGPPeer tor-1): spec.peerSelector: invalid selector "rr == 'true": unterminated string at position 6`,
  );
  t.equal(
    errorOf(t, peer('{node: node-1, nodeSelector: all(), peerIP: 10.0.0.1, asNumber: 65000}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.nodeSelector: cannot be set together with spec.node',
  );
  t.equal(
    errorOf(t, peer(`{peerIP: 10.0.0.1, peerSelector: all(), asNumber: 65000}`)),
    'config.yaml document 3 (BGPPeer tor-1): spec.peerSelector: cannot be set together with spec.peerIP',
  );
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.1, asNumber: 65000, keepaliveTime: 2x}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.keepaliveTime: "2x" is not a duration (unknown unit in "2x" (use ns, us, ms, s, m or h)); use e.g. "120s", "2m0s" or "1h"',
  );
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.1, asNumber: 65000, keepaliveTime: 81s}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.keepaliveTime: must be at most a third of the hold time (240 s), i.e. 80 s; got 81 s',
  );
  t.equal(
    errorOf(t, peer('{peerIP: 10.0.0.1, asNumber: 65000, nextHopMode: self}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.nextHopMode: must be one of Auto, Self, Keep, got "self"',
  );
  t.equal(
    errorOf(t, peer('{peerIp: 10.0.0.1, asNumber: 65000}')),
    'config.yaml document 3 (BGPPeer tor-1): spec.peerIp: unknown field (did you mean "peerIP"?)',
  );
});

t.test('apiVersion, kind and metadata', async (t) => {
  t.equal(
    errorOf(t, `apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16}\n`),
    'config.yaml document 1 (IPPool p): apiVersion: must be "projectcalico.org/v3", got "crd.projectcalico.org/v1" (crd.projectcalico.org/v1 is the Kubernetes CRD storage form; write projectcalico.org/v3 as calicoctl does)',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPFilterz\nmetadata: {name: p}\n`),
    'config.yaml document 1 (BGPFilterz p): kind: unknown kind "BGPFilterz" (expected one of Node, BGPConfiguration, BGPPeer, IPPool, BlockAffinity, BGPFilter, GlobalNetworkPolicy, NetworkPolicy, Profile, WorkloadEndpoint, Tier, NetworkSet, GlobalNetworkSet, HostEndpoint, FelixConfiguration, ClusterInformation, KubeControllersConfiguration, IPAMConfig, IPAMConfiguration, IPAMBlock, IPAMHandle, IPReservation, CalicoNodeStatus, StagedGlobalNetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy)',
  );
  t.equal(errorOf(t, `${HEAD}kind: Node\nspec: {}\n`), 'config.yaml document 1 (Node): metadata.name: is required');
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: Node_1}\n`),
    `config.yaml document 1 (Node Node_1): metadata.name: "Node_1" is not a valid name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`,
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p, namespace: kube-system}\nspec: {cidr: 10.0.0.0/16}\n`),
    'config.yaml document 1 (IPPool kube-system/p): metadata.namespace: must not be set: IPPool is not namespaced',
  );
  // dots are allowed, as in Calico (FQDN node names)
  const [n] = parseResources(`${HEAD}kind: Node\nmetadata: {name: node-1.example.com}\n`, 'x.yaml');
  t.equal(n?.metadata.name, 'node-1.example.com');
});

t.test('Node, BGPConfiguration, IPPool, BlockAffinity fields', async (t) => {
  // Calico's grammar (cidrv4/cidrv6): a CIDR, or a bare address taken as /32 or /128.
  const bare = parseResources(`${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: 10.0.0.11, ipv6Address: 'fd00::11'}}\n`, 'config.yaml');
  t.same((bare[0]?.spec as { bgp?: unknown }).bgp, { ipv4Address: '10.0.0.11', ipv6Address: 'fd00::11' }, 'a bare address is accepted and stored as written');
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: 10.0.0.11/33}}\n`),
    'config.yaml document 1 (Node n): spec.bgp.ipv4Address: "10.0.0.11/33" has a bad prefix length',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: 10.0.0.256}}\n`),
    'config.yaml document 1 (Node n): spec.bgp.ipv4Address: "10.0.0.256" is not a valid IPv4 address or CIDR',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: 'fd00::11'}}\n`),
    'config.yaml document 1 (Node n): spec.bgp.ipv4Address: "fd00::11" is not an IPv4 address',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv6Address: 10.0.0.11/24}}\n`),
    'config.yaml document 1 (Node n): spec.bgp.ipv6Address: "10.0.0.11/24" is not an IPv6 CIDR',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {routeReflectorClusterID: 224.0.0}}\n`),
    'config.yaml document 1 (Node n): spec.bgp.routeReflectorClusterID: "224.0.0" must be a dotted IPv4 such as "244.0.0.1"',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {listenPort: 0}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.listenPort: must be an integer 1..65535, got 0',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {logSeverityScreen: Verbose}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.logSeverityScreen: must be one of Debug, Info, Warning, Error, Fatal, got "Verbose"',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: "yes"}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.nodeToNodeMeshEnabled: must be true or false, got "yes"',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: node.node-1}\nspec: {asNumber: 65010, listenPort: 1179}\n`),
    'config.yaml document 1 (BGPConfiguration node.node-1): spec.asNumber: is global: set it in BGPConfiguration "default" (node.<name> overrides only listenPort, logSeverityScreen and prefixAdvertisements)',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: 120s}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.nodeMeshMaxRestartTime: requires the node-to-node mesh (spec.nodeToNodeMeshEnabled is false)',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.244.1.0/16}\n`),
    'config.yaml document 1 (IPPool p): spec.cidr: "10.244.1.0/16" has host bits set (did you mean "10.244.0.0/16"?)',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.244.0.0/16, blockSize: 19}\n`),
    'config.yaml document 1 (IPPool p): spec.blockSize: must be an integer 20..32, got 19',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p}\nspec: {cidr: "fd00::/48", blockSize: 26}\n`),
    'config.yaml document 1 (IPPool p): spec.blockSize: must be an integer 116..128, got 26',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.244.0.0/16, ipipMode: Always, vxlanMode: CrossSubnet}\n`),
    'config.yaml document 1 (IPPool p): spec.vxlanMode: cannot be CrossSubnet while spec.ipipMode is Always; choose one encapsulation',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: IPPool\nmetadata: {name: p}\nspec: {cidr: "fd00::/48", ipipMode: Always}\n`),
    'config.yaml document 1 (IPPool p): spec.ipipMode: IPIP is for IPv4 pools only; set Never for fd00::/48',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BlockAffinity\nmetadata: {name: a}\nspec: {node: n, cidr: 10.244.1.0/26, state: active}\n`),
    'config.yaml document 1 (BlockAffinity a): spec.state: must be one of confirmed, pending, pendingDeletion, got "active"',
  );
});

t.test('BGPConfiguration fields of calico-node v3.31 and v3.32 are accepted (a file written for them loads)', async (t) => {
  const v332 = parseResources(
    `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceLoadBalancerAggregation: Disabled, ipv4NormalRoutePriority: 1024, ipv6NormalRoutePriority: 2000, programClusterRoutes: Enabled}\n`,
    'config.yaml',
  );
  t.equal(v332.length, 1);
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceLoadBalancerAggregation: Off}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.serviceLoadBalancerAggregation: must be one of Enabled, Disabled, got "Off"',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {ipv4NormalRoutePriority: 0}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.ipv4NormalRoutePriority: must be an integer 1..2147483646, got 0',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: default}\nspec: {ipv6NormalRoutePriority: 2147483647}\n`),
    'config.yaml document 1 (BGPConfiguration default): spec.ipv6NormalRoutePriority: must be an integer 1..2147483646, got 2147483647',
  );
  t.equal(
    errorOf(t, `${HEAD}kind: BGPConfiguration\nmetadata: {name: node.node-1}\nspec: {serviceLoadBalancerAggregation: Disabled}\n`),
    'config.yaml document 1 (BGPConfiguration node.node-1): spec.serviceLoadBalancerAggregation: is global: set it in BGPConfiguration "default" (node.<name> overrides only listenPort, logSeverityScreen and prefixAdvertisements)',
  );
});

t.test('Node spec.interfaces (calico-node v3.31+) is accepted and checked', async (t) => {
  const n = parseResources(`${HEAD}kind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: 10.0.0.11/24}, interfaces: [{name: eth0, addresses: [10.0.0.11, 'fd00::11']}]}\n`, 'config.yaml');
  t.equal(n.length, 1);
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata: {name: n}\nspec: {interfaces: [{name: eth0, mtu: 1500}]}\n`),
    'config.yaml document 1 (Node n): spec.interfaces[0].mtu: unknown field',
  );
});

t.test('policy structure', async (t) => {
  const gnp = (spec: string): string => `${HEAD}kind: GlobalNetworkPolicy\nmetadata: {name: allow-bgp}\nspec: ${spec}\n`;
  t.equal(
    errorOf(t, gnp('{ingress: [{action: Accept}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.ingress[0].action: must be one of Allow, Deny, Log, Pass, got "Accept"',
  );
  t.equal(
    errorOf(t, gnp('{ingress: [{action: Allow, protocol: 256}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.ingress[0].protocol: must be an integer 1..255, got 256',
  );
  t.equal(
    errorOf(t, gnp('{ingress: [{action: Allow, destination: {ports: [179]}}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.ingress[0].destination.ports: needs protocol TCP, UDP or SCTP on the rule',
  );
  t.equal(
    errorOf(t, gnp('{ingress: [{action: Allow, protocol: TCP, destination: {ports: ["2000:1000"]}}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.ingress[0].destination.ports[0]: "2000:1000": range start is greater than its end',
  );
  t.equal(
    errorOf(t, gnp('{egress: [{action: Deny, destination: {nets: [10.0.0.0/33]}}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.egress[0].destination.nets[0]: "10.0.0.0/33" is not a valid CIDR or IP address',
  );
  t.equal(
    errorOf(t, gnp('{order: high}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.order: must be a number, got "high"',
  );
  t.equal(
    errorOf(t, gnp('{types: [Ingress], egress: [{action: Allow}]}')),
    'config.yaml document 1 (GlobalNetworkPolicy allow-bgp): spec.types: has egress rules but does not list Egress',
  );
  const ok = parseResources(
    `${HEAD}kind: NetworkPolicy\nmetadata: {name: web}\nspec:\n  order: 10.5\n  selector: app == 'web'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n    source: {nets: [10.0.0.0/8, 192.168.1.1]}\n    destination: {ports: [80, "8000:8080", http]}\n`,
    'p.yaml',
  );
  t.equal(ok[0]?.metadata.namespace, 'default', 'namespaced kinds default to namespace "default"');
  t.equal(
    errorOf(t, `${HEAD}kind: WorkloadEndpoint\nmetadata: {name: w, namespace: prod}\nspec: {node: n, interfaceName: cali0123456789abcdef}\n`),
    `config.yaml document 1 (WorkloadEndpoint prod/w): spec.interfaceName: "cali0123456789abcdef" is not a Linux interface name (at most 15 characters, no '/' or spaces)`,
  );
});

t.test('syntax errors, duplicates, JSON', async (t) => {
  t.equal(
    errorOf(t, `${node}---\nkind: [oops\n`),
    'config.yaml document 2: YAML syntax error at line 7, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  );
  t.equal(errorOf(t, `${pool}---\n${pool}`), 'config.yaml document 2 (IPPool pool-1): metadata.name: duplicate of document 1');
  const json = JSON.stringify([{ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'a' }, spec: { cidr: '10.1.0.0/16' } }, { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'b' }, spec: { cidr: 'fd00:1::/64', blockSize: 200 } }]);
  t.equal(errorOf(t, json), 'config.yaml document 2 (IPPool b): spec.blockSize: must be an integer 116..128, got 200');
  t.match(errorOf(t, '{"kind": '), /^config\.yaml: invalid JSON: /);
});

t.test('valid input: typed, defaults applied, input untouched', async (t) => {
  const input = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p6' }, spec: { cidr: 'fd00:1::/48' } };
  const r = validateResource(input, { file: 'x.yaml', document: 1 });
  t.same(r.spec, { cidr: 'fd00:1::/48', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', nodeSelector: 'all()' });
  t.same(input.spec, { cidr: 'fd00:1::/48' }, 'input not mutated');
  const upper = validateResource({ ...input, spec: { cidr: 'FD00:1:0::/48' } });
  t.equal((upper.spec as { cidr: string }).cidr, 'fd00:1::/48', 'pool CIDR stored canonical');
  const v4 = validateResource({ ...input, spec: { cidr: '10.0.0.0/16' } });
  t.equal((v4.spec as { blockSize: number }).blockSize, 26);
  const peers = parseResources(
    `${HEAD}kind: BGPPeer\nmetadata: {name: a}\nspec: {peerIP: "[fd00::1]:1179", asNumber: "1.10", keepaliveTime: 1m0s, maxRestartTime: 1h}\n` +
      `---\n${HEAD}kind: BGPPeer\nmetadata: {name: b}\nspec: {nodeSelector: "has(rr)", peerSelector: "rr == 'true'"}\n---\n`,
    'peers.yaml',
  );
  t.equal(peers.length, 2, 'empty trailing document skipped');
  t.equal((peers[0]?.spec as { asNumber: number }).asNumber, 65546, 'asdot 1.10 = 65546');
  t.throws(() => validateResource({ ...input, kind: 'IPPool', spec: { cidr: '10.0.0.0/16', bogus: 1 } }, {}, { unknownFields: 'error' }));
  t.doesNotThrow(() => validateResource({ ...input, spec: { cidr: '10.0.0.0/16', bogus: 1 } }, {}, { unknownFields: 'keep' }));
  const err = (() => {
    try {
      validateResource({ ...input, spec: { cidr: '10.0.0.0/16', blockSize: 40 } }, { file: 'f.yaml', document: 4 });
    } catch (e) {
      return e as ConfigError;
    }
    return undefined;
  })();
  t.same(err?.details, { file: 'f.yaml', document: 4, kind: 'IPPool', resource: 'p6', field: 'spec.blockSize', reason: 'must be an integer 20..32, got 40' });
});

t.test('labels must be strings (YAML turns true and 1 into other types)', async (t) => {
  t.equal(
    errorOf(t, `${HEAD}kind: Node\nmetadata:\n  name: rr-1\n  labels: {route-reflector: true}\n`),
    'config.yaml document 1 (Node rr-1): metadata.labels.route-reflector: must be a string, got true (quote it: "true")',
  );
});

// The fast reader (js-yaml, core schema) must give exactly the values of the reference
// reader (`yaml`) wherever it is used; anything it cannot match goes to the reference one.
t.test('fast YAML reader: same values as the reference reader, or declines', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { decodeDocuments, decodeDocumentsFast } = await import('../../src/datastore/validate.js');
  const tricky = [
    readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8'),
    '# leading comment\n---\na: 1\n---\n---\nb: [1, 2]\n...\n',
    'a: 010\nb: 0o10\nc: 0x1F\nd: 1e3\ne: .inf\nf: -.Inf\ng: .nan\nh: +12\ni: 1_000\n',
    'a: yes\nb: no\nc: on\nd: True\ne: FALSE\nf: ~\ng: null\nh:\ni: Null\n',
    'ts: 2024-01-02T03:04:05Z\nd: 2024-01-02\nv: 1.10\nip: 10.0.0.1\ncidr: fd00::/64\nport: "179"\n',
    'text: |\n  line one\n  line two\nfolded: >\n  a\n  b\nquoted: "a\\tb\\u00e9"\nsingle: \'it\'\'s\'\n',
    'selector: has(route-reflector) && zone == "a"\nlist:\n- {x: 1}\n- [a, b]\n- - nested\n',
    'kind: NodeList\nitems:\n- kind: Node\n  metadata: {name: n1}\n',
    '',
    '---\n',
  ];
  for (const text of tricky) {
    const fast = decodeDocumentsFast(text);
    const slow = decodeDocuments(text, 'x.yaml');
    if (fast === undefined) {
      t.fail(`the fast reader declined ${JSON.stringify(text.slice(0, 40))}: none of these has an anchor, JSON or an error`);
      continue;
    }
    t.same(fast, slow, `same values for ${JSON.stringify(text.slice(0, 40))}`);
    t.same(fast.map((d) => typeof d.value), slow.map((d) => typeof d.value), 'same types');
  }
  t.equal(decodeDocumentsFast('a: &x {b: 1}\nc: *x\n'), undefined, 'anchors and aliases: reference reader (bounded expansion)');
  t.equal(decodeDocumentsFast('{"a": 1}'), undefined, 'JSON: reference path');
  t.equal(decodeDocumentsFast('a: [1, 2\n'), undefined, 'syntax errors: the reference reader reports them with line and column');
  t.match(errorOf(t, 'a: [1, 2\n'), /line \d+, column \d+/);
});
