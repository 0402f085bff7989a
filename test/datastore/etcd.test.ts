// etcd datastore against a real etcd (test/helpers/etcd.ts): Calico's exact keys, watch,
// affinity keys both ways, surviving an etcd restart, and a bounded failure when etcd is
// unreachable. A watch behind a compaction: etcd-watch-check.test.ts.
import t, { type Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import { freePort, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { EtcdDatastore, openDatastore, type Resource } from '../../src/datastore/index.js';
import { recorder } from './recorder.js';
import { V3, RES, peer, client } from './etcd-fixtures.js';



function open(t: Test, etcd: EtcdServer): EtcdDatastore {
  const ds = openDatastore(`etcd:${etcd.endpoint}`, { debounceMs: 30 }) as EtcdDatastore;
  t.teardown(() => ds.close());
  return ds;
}


t.test('apply writes Calico keys and values; list and delete read them back', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const ds = open(t, etcd);
  await ds.load();
  await ds.apply([
    peer('tor-1', '10.0.0.1'),
    { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'prod' }, spec: { selector: "app == 'web'" } },
    { apiVersion: V3, kind: 'BlockAffinity', metadata: { name: 'x' }, spec: { node: 'node-1', cidr: '10.244.1.0/26', state: 'confirmed' } },
    { apiVersion: V3, kind: 'BlockAffinity', metadata: { name: 'y' }, spec: { node: 'node-1', cidr: 'fd00:1::/122', state: 'pending' } },
  ]);
  const all = await c.getAll().prefix('/calico/').strings();
  t.same(Object.keys(all).sort(), [
    '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26',
    '/calico/ipam/v2/host/node-1/ipv6/block/fd00:1::-122',
    `${RES}/bgppeers/tor-1`,
    `${RES}/networkpolicies/prod/web`,
  ]);
  t.equal(all['/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26'], '{"state":"confirmed","deleted":false}');
  t.equal(all['/calico/ipam/v2/host/node-1/ipv6/block/fd00:1::-122'], '{"state":"pending","deleted":false}');
  const stored = JSON.parse(all[`${RES}/bgppeers/tor-1`] ?? '{}') as Record<string, unknown> & { metadata: Record<string, unknown> };
  t.same(Object.keys(stored), ['kind', 'apiVersion', 'metadata', 'spec'], "Calico's field order");
  t.same(stored.spec, { peerIP: '10.0.0.1', asNumber: 65001 });
  t.equal(stored.metadata.name, 'tor-1');
  t.match(stored.metadata.uid, /^[0-9a-f-]{36}$/);
  t.notOk('resourceVersion' in stored.metadata, 'resourceVersion is the etcd revision, not stored');

  const affs = await ds.list('BlockAffinity');
  t.same(affs.map((a) => a.metadata.name).sort(), ['node-1-10-244-1-0-26', 'node-1-fd00-1---122']);
  t.same((await ds.list('NetworkPolicy', 'web', 'prod')).map((r) => r.metadata.namespace), ['prod']);
  t.equal(await ds.delete('BlockAffinity', 'node-1-fd00-1---122'), true);
  t.equal(await ds.delete('NetworkPolicy', 'web', 'prod'), true);
  t.equal(await ds.delete('BGPPeer', 'nope'), false);
  t.same(Object.keys(await c.getAll().prefix('/calico/').strings()).sort(), [
    '/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26',
    `${RES}/bgppeers/tor-1`,
  ]);
});

t.test('load reads what calicoctl/IPAM wrote; the watch picks up puts and deletes', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  await c.put(`${RES}/bgppeers/rr-peers`).value('{"kind":"BGPPeer","apiVersion":"projectcalico.org/v3","metadata":{"name":"rr-peers"},"spec":{"nodeSelector":"all()","peerSelector":"route-reflector == \'true\'"}}');
  await c.put(`${RES}/felixconfigurations/default`).value('{"kind":"FelixConfiguration","apiVersion":"projectcalico.org/v3","metadata":{"name":"default"},"spec":{"bpfEnabled":false}}');
  await c.put('/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26').value('{"cidr":"10.244.1.0/26"}');
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  await c.put(`${RES}/ippools/broken`).value('{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"broken"},"spec":{"cidr":"10.1.2.0/16"}}');
  const ds = open(t, etcd);
  const rec = recorder(ds);
  const s = await ds.load();
  t.same([...s.bgpPeers.keys()], ['rr-peers']);
  t.same([...s.ignored.keys()], ['FelixConfiguration/default'], 'a kind tern does not act on: kept, not refused');
  t.same([...s.blockAffinities.values()].map((a) => [a.metadata.name, a.spec.node, a.spec.cidr, a.spec.state]), [['node-1-10-244-1-0-26', 'node-1', '10.244.1.0/26', 'confirmed']]);
  t.equal(s.ipPools.size, 0, 'an invalid resource is skipped');
  t.match((await rec.error(1)).message, `${RES}/ippools/broken (IPPool broken): spec.cidr: "10.1.2.0/16" has host bits set`);

  const put = await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2'))).exec();
  const s1 = await rec.change(1);
  t.same([...s1.bgpPeers.keys()], ['rr-peers', 'tor-2']);
  t.equal(s1.bgpPeers.get('tor-2')?.metadata.resourceVersion, put.header.revision, 'resourceVersion is the mod revision');
  t.ok(s1.revision > s.revision);

  // A put and a delete in one transaction (one revision, one watch response): one snapshot,
  // however long etcd takes to commit (two separate writes are two snapshots whenever the
  // second commits more than the 30 ms debounce after the first).
  await c.if('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26', 'Create', '>', 0).then(
    c.put('/calico/ipam/v2/host/node-2/ipv6/block/fd00:1::40-122').value('{"state":"pendingDeletion","deleted":false}'),
    c.delete().key('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26'),
  ).commit();
  const s2 = await rec.change(2);
  t.same([...s2.blockAffinities.keys()], ['node-2-fd00-1--40-122']);
  t.equal(s2.blockAffinities.get('node-2-fd00-1--40-122')?.spec.state, 'pendingDeletion');
  t.equal(rec.errors.length, 1, 'nothing else reported');

  // A bad edit of an existing key keeps its last good value, and is reported.
  await c.put(`${RES}/bgppeers/tor-2`).value('{"kind":"BGPPeer",');
  t.match((await rec.error(2)).message, `${RES}/bgppeers/tor-2: invalid JSON`);
  await c.put(`${RES}/bgppeers/tor-3`).value(JSON.stringify(peer('tor-3', '10.0.0.3')));
  const s3 = await rec.change(3);
  t.same([...s3.bgpPeers.keys()], ['rr-peers', 'tor-2', 'tor-3']);
  t.equal(s3.bgpPeers.get('tor-2')?.spec.peerIP, '10.0.0.2', 'last good value kept');
});

t.test('etcd stopped and restarted: snapshot kept, one error, later changes picked up', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  const ds = open(t, etcd);
  const rec = recorder(ds);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));

  const first = await ds.load();
  await etcd.stop();
  const err = await rec.error(1);
  t.match(err, { name: 'DatastoreError', code: 'ERR_DATASTORE_DISCONNECTED' });
  await new Promise((r) => setTimeout(r, 3000)); // several failed reconnect attempts
  t.equal(rec.errors.length, 1, 'the loss is reported once, not per retry');
  t.equal(rec.changes.length, 0, 'no snapshot while etcd is down');
  await etcd.start();

  await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2')));
  const s = await rec.change(1, 20_000);
  t.same([...s.bgpPeers.keys()], ['tor-1', 'tor-2']);
  t.equal(s.revision, first.revision + 1, 'no replayed snapshot before the real change');
  await c.put(`${RES}/bgppeers/tor-3`).value(JSON.stringify(peer('tor-3', '10.0.0.3')));
  const s2 = await rec.change(2);
  t.same([...s2.bgpPeers.keys()], ['tor-1', 'tor-2', 'tor-3'], 'the watch resumed');
  t.equal(rec.errors.length, 1);
  t.same(unhandled, [], 'nothing thrown to the caller');
});

t.test('unreachable etcd: load fails with ERR_DATASTORE_UNREACHABLE', async (t) => {
  const port = await freePort();
  const refused = new EtcdDatastore([`http://127.0.0.1:${port}`]);
  t.teardown(() => refused.close());
  await t.rejects(refused.load(), { name: 'DatastoreError', code: 'ERR_DATASTORE_UNREACHABLE' });

  // A peer that accepts TCP and never answers: bounded by the request timeout.
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => { sockets.forEach((s) => s.destroy()); silent.close(); });
  const addr = silent.address();
  const silentPort = typeof addr === 'object' && addr ? addr.port : 0;
  const hung = new EtcdDatastore([`http://127.0.0.1:${silentPort}`], { requestTimeoutMs: 1000 });
  t.teardown(() => hung.close());
  await t.rejects(hung.load(), { name: 'DatastoreError', code: 'ERR_DATASTORE_UNREACHABLE' });
});

t.test('openDatastore: specs and calico-node environment', async (t) => {
  t.equal(openDatastore('file:/tmp/x.yaml').kind, 'file');
  const e = openDatastore('etcd:127.0.0.1:1,127.0.0.1:2');
  t.equal(e.kind, 'etcd');
  t.same((e as EtcdDatastore).endpoints, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  await e.close();
  const env = openDatastore('', { env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://10.0.0.1:2379' } });
  t.same((env as EtcdDatastore).endpoints, ['http://10.0.0.1:2379']);
  await env.close();
  t.throws(() => openDatastore('', { env: {} }), { code: 'ERR_DATASTORE_SPEC' });
  t.throws(() => openDatastore('consul:x'), { code: 'ERR_DATASTORE_SPEC' });
  t.throws(() => openDatastore('etcd:https://127.0.0.1:2379', { env: { ETCD_CA_CERT_FILE: '/nonexistent/ca.pem' } }), { code: 'ERR_DATASTORE_TLS' });
});

t.test('TLS from ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE (client-cert auth)', async (t) => {
  const etcd = await startEtcd(t, { tls: true });
  const files = etcd.tls!;
  const ds = openDatastore('', {
    env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoint, ETCD_CA_CERT_FILE: files.caFile, ETCD_CERT_FILE: files.certFile, ETCD_KEY_FILE: files.keyFile },
  });
  t.teardown(() => ds.close());
  await ds.load();
  await ds.apply([peer('tor-tls', '10.0.0.9')]);
  t.same((await ds.list('BGPPeer')).map((r) => r.metadata.name), ['tor-tls']);

  const noCert = openDatastore(`etcd:${etcd.endpoint}`, { env: { ETCD_CA_CERT_FILE: files.caFile }, requestTimeoutMs: 2000 });
  t.teardown(() => noCert.close());
  await t.rejects(noCert.load(), { name: 'DatastoreError' }, 'without a client certificate etcd refuses');
});

t.test('BGPFilter under bgpfilters and kinds tern does not act on: read, watched, listed, never refused', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  // As calicoctl writes them (unknown spec fields included: newer Calico versions).
  await c.put(`${RES}/bgpfilters/no-lb`).value(JSON.stringify({
    kind: 'BGPFilter', apiVersion: V3, metadata: { name: 'no-lb', uid: 'u1' },
    spec: { exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '10.96.0.0/12' }] },
  }));
  await c.put(`${RES}/felixconfigurations/default`).value(JSON.stringify({
    kind: 'FelixConfiguration', apiVersion: V3, metadata: { name: 'default' }, spec: { bpfEnabled: false, someNewField: 1 },
  }));
  await c.put(`${RES}/clusterinformations/default`).value(JSON.stringify({
    kind: 'ClusterInformation', apiVersion: V3, metadata: { name: 'default' }, spec: { datastoreReady: true },
  }));
  const ds = open(t, etcd);
  const rec = recorder(ds);
  const snap = await ds.load();
  t.same(snap.bgpFilters.get('no-lb')?.spec, { exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '10.96.0.0/12' }] });
  t.same([...snap.ignored.keys()], ['ClusterInformation/default', 'FelixConfiguration/default']);
  t.same(rec.errors, [], 'nothing reported as invalid');
  t.same((await ds.list('FelixConfiguration')).map((r) => r.spec), [{ bpfEnabled: false, someNewField: 1 }]);

  await c.put(`${RES}/bgpfilters/no-lb`).value(JSON.stringify({
    kind: 'BGPFilter', apiVersion: V3, metadata: { name: 'no-lb' }, spec: { importV4: [{ action: 'Accept' }] },
  }));
  const next = await rec.change(1);
  t.same(next.bgpFilters.get('no-lb')?.spec, { importV4: [{ action: 'Accept' }] }, 'a filter change is watched');
  await ds.apply([{ apiVersion: V3, kind: 'BGPFilter', metadata: { name: 'second' }, spec: { exportV6: [{ action: 'Reject', matchOperator: 'NotIn', cidr: 'fd00::/48' }] } } as Resource]);
  t.ok(await c.get(`${RES}/bgpfilters/second`).string(), "apply writes Calico's key");
});

t.test('a second load() (the daemon re-reads after registering) leaves one live watch; delete and re-add', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const ds = open(t, etcd);
  const rec = recorder(ds);
  await ds.load();
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await ds.load(); // already holds tor-1: the first watch must not replay it as a change
  const r1 = ds.position().etcdRevision!;
  const nodeKey = `${RES}/nodes/node-9`;
  const node = { apiVersion: V3, kind: 'Node', metadata: { name: 'node-9' }, spec: { bgp: { ipv4Address: '10.0.0.9/24' } } };
  await c.put(nodeKey).value(JSON.stringify(node));
  t.ok((await rec.change(1)).nodes.has('node-9'), 'node added');
  await c.delete().key(nodeKey);
  t.notOk((await rec.change(2)).nodes.has('node-9'), 'node deleted');
  await c.put(nodeKey).value(JSON.stringify(node));
  t.ok((await rec.change(3)).nodes.has('node-9'), 'node re-added');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(rec.changes.length, 3, 'each change seen once (no second watch stream)');
  t.ok(ds.position().etcdRevision! >= r1 + 3, 'the position follows the applied events');
});

t.test('affinitiesOf: only that node\'s block affinities are read and watched', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  await c.put('/calico/ipam/v2/host/node-10/ipv4/block/10.244.10.0-26').value('{"state":"confirmed","deleted":false}');
  await c.put('/calico/ipam/v2/host/node-2/ipv4/block/10.244.2.0-26').value('{"state":"confirmed","deleted":false}');
  const ds = openDatastore(`etcd:${etcd.endpoint}`, { debounceMs: 30, affinitiesOf: 'node-1' }) as EtcdDatastore;
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  const s = await ds.load();
  t.same([...s.blockAffinities.values()].map((a) => a.spec.cidr), ['10.244.1.0/26'], 'node-10 shares the name prefix but is another node');
  // Another node's block goes and comes, then one of ours: only ours makes a snapshot.
  await c.delete().key('/calico/ipam/v2/host/node-2/ipv4/block/10.244.2.0-26');
  await c.put('/calico/ipam/v2/host/node-10/ipv4/block/10.244.10.64-26').value('{"state":"confirmed","deleted":false}');
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.64-26').value('{"state":"confirmed","deleted":false}');
  const s1 = await rec.change(1);
  t.same([...s1.blockAffinities.values()].map((a) => a.spec.cidr).sort(), ['10.244.1.0/26', '10.244.1.64/26']);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(rec.changes.length, 1, 'no snapshot for the other nodes\' changes');
  t.same((await ds.list('BlockAffinity')).map((a) => (a.spec as { node: string }).node).sort(), ['node-1', 'node-1', 'node-10', 'node-10'], 'list (the CLI) still reads every node\'s');
});

t.test('a BlockAffinity stored as v3 JSON under blockaffinities/ is not read: affinities are the IPAM keys', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const v3 = (node: string, cidr: string, state = 'confirmed'): string =>
    JSON.stringify({ kind: 'BlockAffinity', apiVersion: V3, metadata: { name: `${node}-${cidr.replace(/[./]/g, '-')}` }, spec: { node, cidr, state, deleted: 'false' } });
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  await c.put(`${RES}/blockaffinities/node-2-10-244-2-0-26`).value(v3('node-2', '10.244.2.0/26'));
  await c.put(`${RES}/blockaffinities/node-2-10-244-3-0-26`).value(v3('node-2', '10.244.3.0/26', 'bogus'));
  await c.put(`${RES}/blockaffinities/node-1-10-244-4-0-26`).value(v3('node-1', '10.244.4.0/26'));
  const ds = openDatastore(`etcd:${etcd.endpoint}`, { debounceMs: 30, affinitiesOf: 'node-1' }) as EtcdDatastore;
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  const s = await ds.load();
  t.same([...s.blockAffinities.values()].map((a) => `${a.spec.node} ${a.spec.cidr}`), ['node-1 10.244.1.0/26'], 'another node\'s v3 affinity is not kept (nor this node\'s: Calico keeps none there)');
  t.same(rec.errors.map((e) => e.message), [], 'another node\'s invalid v3 affinity is not validated');
  // Watched: v3 affinities come and go without a snapshot; an IPAM key of this node makes one.
  await c.put(`${RES}/blockaffinities/node-3-10-244-5-0-26`).value(v3('node-3', '10.244.5.0/26'));
  await c.delete().key(`${RES}/blockaffinities/node-2-10-244-2-0-26`);
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.64-26').value('{"state":"confirmed","deleted":false}');
  const s1 = await rec.change(1);
  t.same([...s1.blockAffinities.values()].map((a) => a.spec.cidr).sort(), ['10.244.1.0/26', '10.244.1.64/26']);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(rec.changes.length, 1, 'no snapshot for the v3 affinity keys');
  t.same(rec.errors.map((e) => e.message), [], 'still no error');
  t.same(ds.problems(), [], 'nothing for `tern status` to list');
  t.same((await ds.list('BlockAffinity')).map((a) => a.metadata.name).sort(), ['node-1-10-244-1-0-26', 'node-1-10-244-1-64-26'], 'list (`tern get`) reads the IPAM keys');
});
