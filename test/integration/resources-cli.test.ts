// `tern apply -f FILE`, `tern get KIND [NAME] [-o yaml|json]` and `tern delete KIND NAME` on
// both datastores: a YAML file and etcd (inside a lab namespace, read back with etcdctl at
// Calico's keys). The same script runs against each; a bad resource is refused with a
// message naming document, field and reason, and nothing of that file is stored.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { createLab } from '../../lab/netns.js';
import { calicoDoc } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startLabEtcd } from '../helpers/lab-etcd.js';
import { TERN_BIN } from '../helpers/tern.js';

const lab = createLab(t, { area: 'rescli' });
const HOST = 'cli';
const ETCD_IP = '10.200.0.2';
const NODE_KEY = '/calico/resources/v3/projectcalico.org/';
const AFF_KEY = '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26';
let etcdEndpoint = '';

t.before(async () => {
  await segment(lab, 'fabric', { [HOST]: `${ETCD_IP}/24` });
  etcdEndpoint = (await startLabEtcd(lab, HOST, ETCD_IP)).endpoint;
});

const env = () => { const e: NodeJS.ProcessEnv = { ...process.env, ETCDCTL_API: "3" }; delete e.NODE_OPTIONS; return e; };
let seq = 0;
function file(text: string): string {
  const p = lab.path(`in-${++seq}.yaml`);
  writeFileSync(p, text);
  return p;
}
async function tern(ds: string, ...args: string[]): Promise<string> {
  return (await lab.exec(HOST, process.execPath, [TERN_BIN, ...args, '--datastore', ds], { env: env() })).stdout;
}
async function etcdJson(key: string): Promise<Record<string, any> | undefined> {
  const out = (await lab.exec(HOST, 'etcdctl', ['--endpoints', etcdEndpoint, 'get', key, '--print-value-only'], { env: env() })).stdout.trim();
  return out ? JSON.parse(out) : undefined;
}
async function etcdPut(key: string, value: string): Promise<void> {
  await lab.exec(HOST, 'etcdctl', ['--endpoints', etcdEndpoint, 'put', key, value], { env: env() });
}

const RESOURCES = [
  calicoDoc('BGPConfiguration', 'default', '{ asNumber: 64512, nodeToNodeMeshEnabled: true }'),
  calicoDoc('IPPool', 'pool-a', '{ cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Never, natOutgoing: true }'),
  calicoDoc('BGPPeer', 'tor-1', '{ peerIP: 10.200.0.254, asNumber: 65001 }'),
  calicoDoc('Node', 'node-1', '{ bgp: { ipv4Address: 10.200.0.11/24 } }'),
  calicoDoc('BlockAffinity', 'node-1-10-244-1-0-26', '{ node: node-1, cidr: 10.244.1.0/26, state: confirmed }'),
].join('---\n');

async function suite(t: Test, kind: 'file' | 'etcd'): Promise<void> {
  const fileDs = lab.path(`datastore-${kind}.yaml`);
  const ds = kind === 'file' ? `file:${fileDs}` : `etcd:${etcdEndpoint}`;
  if (kind === 'file') writeFileSync(fileDs, '');

  const applied = await tern(ds, 'apply', '-f', file(RESOURCES));
  t.same(applied.trim().split('\n'), [
    'BGPConfiguration default applied', 'IPPool pool-a applied', 'BGPPeer tor-1 applied', 'Node node-1 applied', 'BlockAffinity node-1-10-244-1-0-26 applied',
  ], 'apply reports every resource');

  const pool = JSON.parse(await tern(ds, 'get', 'ippool', 'pool-a', '-o', 'json'));
  t.match(pool, { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'pool-a' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, natOutgoing: true } }, 'get ippool NAME -o json');
  const peers = JSON.parse(await tern(ds, 'get', 'bgppeers', '-o', 'json'));
  t.equal(peers.kind, 'BGPPeerList');
  t.same(peers.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['tor-1'], 'get bgppeers lists one peer');
  const yamlNodes = YAML.parseAllDocuments(await tern(ds, 'get', 'nodes')).map((d) => d.toJS());
  t.match(yamlNodes, [{ kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4Address: '10.200.0.11/24' } } }], 'get nodes (yaml default)');
  t.equal(yamlNodes.length, 1);
  const aff = JSON.parse(await tern(ds, 'get', 'blockaffinity', 'node-1-10-244-1-0-26', '-o', 'json'));
  t.match(aff, { kind: 'BlockAffinity', spec: { node: 'node-1', cidr: '10.244.1.0/26', state: 'confirmed' } });

  let uid: string | undefined;
  if (kind === 'etcd') {
    const stored = await etcdJson(`${NODE_KEY}ippools/pool-a`);
    t.match(stored, { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'pool-a', uid: /\S/, creationTimestamp: /^\d{4}-\d\d-\d\dT/ }, spec: { cidr: '10.244.0.0/16' } }, 'IPPool JSON at Calico\'s key');
    t.notOk(stored?.metadata?.resourceVersion, 'no resourceVersion stored');
    uid = stored?.metadata?.uid;
    t.match(await etcdJson(`${NODE_KEY}bgppeers/tor-1`), { kind: 'BGPPeer', spec: { peerIP: '10.200.0.254', asNumber: 65001 } });
    t.match(await etcdJson(`${NODE_KEY}nodes/node-1`), { kind: 'Node', spec: { bgp: { ipv4Address: '10.200.0.11/24' } } });
    t.match(await etcdJson(`${NODE_KEY}bgpconfigurations/default`), { kind: 'BGPConfiguration', spec: { asNumber: 64512 } });
    t.same(await etcdJson(AFF_KEY), { state: 'confirmed', deleted: false }, 'affinity at the IPAM key, Calico\'s value');
    t.equal(await etcdJson(`${NODE_KEY}blockaffinities/node-1-10-244-1-0-26`), undefined, 'no v3 BlockAffinity key');
  } else {
    const docs = YAML.parseAllDocuments(readFileSync(fileDs, 'utf8')).map((d) => d.toJS());
    t.same(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      'BGPConfiguration/default', 'BGPPeer/tor-1', 'BlockAffinity/node-1-10-244-1-0-26', 'IPPool/pool-a', 'Node/node-1',
    ], 'the file holds the five resources');
  }

  // Update in place.
  await tern(ds, 'apply', '-f', file(calicoDoc('BGPPeer', 'tor-1', '{ peerIP: 10.200.0.254, asNumber: 65002 }')));
  t.equal(JSON.parse(await tern(ds, 'get', 'bgppeer', 'tor-1', '-o', 'json')).spec.asNumber, 65002, 'apply updates');
  if (kind === 'etcd') {
    await tern(ds, 'apply', '-f', file(calicoDoc('IPPool', 'pool-a', '{ cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Never, natOutgoing: false }')));
    const again = await etcdJson(`${NODE_KEY}ippools/pool-a`);
    t.equal(again?.spec?.natOutgoing, false);
    t.equal(again?.metadata?.uid, uid, 'uid kept across an update');
  }

  // A bad resource: refused with document, field and reason; nothing of the file stored.
  const bad = file([calicoDoc('IPPool', 'pool-b', '{ cidr: 10.245.0.0/16 }'), calicoDoc('BGPPeer', 'tor-2', '{ peerIP: 10.200.0.253, asNumber: banana }')].join('---\n'));
  await t.rejects(tern(ds, 'apply', '-f', bad), /exit 1\): tern: \S+ document 2 \(BGPPeer tor-2\): spec\.asNumber: must be an integer/, 'bad asNumber refused');
  const bad2 = file(calicoDoc('IPPool', 'pool-c', '{ cidr: 10.300.0.0/16 }'));
  await t.rejects(tern(ds, 'apply', '-f', bad2), /document 1 \(IPPool pool-c\): spec\.cidr: /, 'bad cidr refused');
  await t.rejects(tern(ds, 'get', 'ippool', 'pool-b'), /IPPool "pool-b" not found/, 'valid document of a refused file not stored');
  t.same(JSON.parse(await tern(ds, 'get', 'ippools', '-o', 'json')).items.map((p: { metadata: { name: string } }) => p.metadata.name), ['pool-a']);

  // Delete.
  t.match(await tern(ds, 'delete', 'bgppeer', 'tor-1'), /^BGPPeer tor-1 deleted$/m);
  await t.rejects(tern(ds, 'get', 'bgppeer', 'tor-1'), /BGPPeer "tor-1" not found/, 'deleted peer is gone');
  t.match(await tern(ds, 'delete', 'blockaffinity', 'node-1-10-244-1-0-26'), /BlockAffinity node-1-10-244-1-0-26 deleted/);
  t.same(JSON.parse(await tern(ds, 'get', 'blockaffinities', '-o', 'json')).items, [], 'no affinity left');
  if (kind === 'etcd') {
    t.equal(await etcdJson(`${NODE_KEY}bgppeers/tor-1`), undefined, 'peer key removed');
    t.equal(await etcdJson(AFF_KEY), undefined, 'affinity key removed');
  } else {
    t.notMatch(readFileSync(fileDs, 'utf8'), /tor-1|BlockAffinity/, 'file no longer holds them');
  }
  await t.rejects(tern(ds, 'delete', 'bgppeer', 'tor-1'), /exit 1\): tern: BGPPeer "tor-1" not found/, 'delete of a missing resource fails');
  await t.rejects(tern(ds, 'get', 'widgets'), /exit 1\): tern: unknown resource kind "widgets"/, 'unknown kind refused');
  await t.rejects(tern(ds, 'get', 'ippools', '-o', 'xml'), /unknown output format "xml"/, 'unknown output format refused');
}

t.test('file datastore', (t) => suite(t, 'file'));
t.test('etcd datastore', (t) => suite(t, 'etcd'));

t.test('etcd: an affinity written by etcdctl (as Calico IPAM) is listed under Calico\'s name', async (t) => {
  const ds = `etcd:${etcdEndpoint}`;
  await etcdPut('/calico/ipam/v2/host/node-7/ipv4/block/10.244.7.64-26', '{"state":"confirmed","deleted":false}');
  const items = JSON.parse(await tern(ds, 'get', 'blockaffinities', '-o', 'json')).items;
  t.match(items, [{ kind: 'BlockAffinity', metadata: { name: 'node-7-10-244-7-64-26' }, spec: { node: 'node-7', cidr: '10.244.7.64/26', state: 'confirmed' } }]);
  t.equal(items.length, 1);
  t.match(await tern(ds, 'delete', 'blockaffinity', 'node-7-10-244-7-64-26'), /deleted/);
  t.equal(await etcdJson('/calico/ipam/v2/host/node-7/ipv4/block/10.244.7.64-26'), undefined, 'tern delete removed the IPAM key');
});
