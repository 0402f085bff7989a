// The etcd datastore's problems in force (what `tern status` lists) against a real etcd
// behind a proxy that can refuse and cut connections: a lost connection and an invalid
// value are separate problems. Reconnecting ends the one, a valid value or a delete at the
// key ends the other; onRecovered comes only when neither is left (as the file datastore's
// invalid content stays an error until the file is valid again). A re-read after a watch
// dropped without an outage (cancelled behind a compaction, never confirmed) that fails is
// the lost connection too, until a re-read succeeds.
import t, { type Test } from 'tap';
import { Etcd3, Range } from 'etcd3';
import { startEtcd } from '../helpers/etcd.js';
import { EtcdDatastore, openDatastore, type Datastore } from '../../src/datastore/index.js';
import { pausableProxy, type PausableProxy } from './pausable-proxy.js';
import { recorder, waitFor, type Recorder } from './recorder.js';
import { V3, RES, peer, client, captured } from './etcd-fixtures.js';

const BROKEN = `${RES}/ippools/broken`;
const pool = (cidr: string): string => JSON.stringify({ kind: 'IPPool', apiVersion: V3, metadata: { name: 'broken' }, spec: { cidr } });

interface Opened {
  ds: Datastore;
  rec: Recorder;
  proxy: PausableProxy;
  /** onRecovered calls so far. */
  recovered: () => number;
  /** Resolves once the datastore has re-read etcd after the n-th reconnect (its log says so). */
  reconnected: (n: number) => Promise<unknown>;
}

async function open(t: Test, etcdPort: number): Promise<Opened> {
  const proxy = await pausableProxy(t, etcdPort);
  const { logger, lines } = captured();
  const ds = openDatastore(`etcd:${proxy.endpoint}`, { debounceMs: 30, logger, affinitiesOf: 'node-1' });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  let recovered = 0;
  ds.onRecovered(() => void recovered++);
  await ds.load();
  return {
    ds, rec, proxy,
    recovered: () => recovered,
    reconnected: (n) => waitFor(() => lines.filter((l) => l.includes('"datastoreReconnected"')).length >= n || undefined, 20_000),
  };
}

/** Cuts tern off from etcd until the loss is reported, then lets it reconnect. */
async function outage(o: Opened, n: number): Promise<void> {
  o.proxy.refuse(true);
  o.proxy.cut();
  const lost = await waitFor(() => o.rec.errors.find((e, i) => i >= n - 1 && e.name === 'DatastoreError'), 20_000);
  if ((lost as { code?: string }).code !== 'ERR_DATASTORE_DISCONNECTED') throw new Error(`unexpected ${lost.message}`);
  o.proxy.refuse(false);
}

/** The problems in force, each as its kind and what it is about (the key, or the error code). */
const problems = (ds: Datastore): string[] => ds.problems().map((e) => `${e.name} ${e.name === 'ConfigError' ? String(e.details.file) : e.code}`);

t.test('an invalid value in etcd stays a problem through a reconnect until its key is fixed or deleted', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  await c.put(BROKEN).value(pool('10.1.2.0/16'));
  const o = await open(t, etcd.clientPort);
  const { ds, rec } = o;
  t.match(rec.errors[0]?.message, `${BROKEN} (IPPool broken): spec.cidr`, 'the invalid value is reported at load');

  await outage(o, 2);
  await o.reconnected(1);
  // The watch is up again: a change written now arrives.
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await rec.change(1, 20_000);
  t.equal(o.recovered(), 0, 'reconnecting does not end the problem of the invalid value etcd still holds');
  t.same(problems(ds), [`ConfigError ${BROKEN}`], 'the problem in force is the invalid value, not the connection');

  await c.put(BROKEN).value(pool('10.1.0.0/16'));
  await rec.change(2);
  t.equal(o.recovered(), 1, 'the key fixed: recovered');
  t.same(problems(ds), [], 'no problem left');

  await c.put(BROKEN).value(pool('10.9.9.0/8'));
  await rec.error(3);
  t.same(problems(ds), [`ConfigError ${BROKEN}`]);
  await c.delete().key(BROKEN);
  await waitFor(() => o.recovered() === 2 || undefined, 10_000);
  t.same(problems(ds), [], 'the key deleted: recovered, no problem left');
  t.equal(rec.errors.length, 3, 'each invalid value and the loss reported once');
});

t.test('a lost connection alone is over once etcd is read again; an invalid value meanwhile outlasts it', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const o = await open(t, etcd.clientPort);
  const { ds, rec } = o;
  await outage(o, 1);
  t.same(problems(ds), ['DatastoreError ERR_DATASTORE_DISCONNECTED'], 'while cut off: the lost connection');
  await o.reconnected(1);
  await waitFor(() => o.recovered() === 1 || undefined, 10_000);
  t.same(problems(ds), [], 'reconnected with nothing invalid: recovered, no problem left');

  // An invalid value written while tern is cut off: found by the re-read, still a problem after it.
  o.proxy.refuse(true);
  o.proxy.cut();
  await waitFor(() => (rec.errors.length >= 2 ? true : undefined), 20_000);
  await c.put(BROKEN).value(pool('10.1.2.0/16'));
  o.proxy.refuse(false);
  await o.reconnected(2);
  await waitFor(() => rec.errors.find((e) => e.name === 'ConfigError'), 10_000);
  t.equal(o.recovered(), 1, 'no recovery while the invalid value is there');
  t.same(problems(ds), [`ConfigError ${BROKEN}`]);
  await c.delete().key(BROKEN);
  await waitFor(() => o.recovered() === 2 || undefined, 10_000);
  t.same(problems(ds), []);
});

t.test('a re-read after a watch etcd cancelled behind a compaction that etcd refuses is the lost connection until a re-read succeeds', async (t) => {
  const etcd = await startEtcd(t);
  const setup = client(t, etcd);
  const secret = 'tern-pw-3f9c';
  await setup.user('root').create('root-pw');
  await setup.role('root').create();
  await setup.user('root').addRole('root');
  const role = await setup.role('tern').create();
  await role.grant({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await setup.user('tern').create(secret);
  await setup.user('tern').addRole('tern');
  await setup.auth.authEnable();
  const admin = new Etcd3({ hosts: etcd.endpoint, auth: { username: 'root', password: 'root-pw' } });
  t.teardown(() => admin.close());
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([proxy.endpoint], { debounceMs: 30, username: 'tern', password: secret, logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  let recovered = 0;
  ds.onRecovered(() => void recovered++);
  await admin.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await ds.load();
  // The client creates the affinity watch only once etcd confirmed the resource watch: hold
  // that confirmation while tor-1 is replaced by tor-2, the watches' start revision is
  // compacted away and tern's role loses the resources, so etcd creates the affinity watch
  // and cancels it (compacted) when it comes, and refuses the re-read that follows.
  proxy.hold();
  // The resource watch created in etcd (its answer held) before anything changes: it is then
  // in sync and stays, and only the affinity watch starts behind the compaction.
  const watchers = async (): Promise<number> =>
    Number(/^etcd_debugging_mvcc_watcher_total (\S+)$/m.exec(await (await fetch(`${etcd.endpoint}/metrics`)).text())?.[1] ?? 0);
  for (let i = 0; i < 100 && (await watchers()) < 1; i++) await new Promise((res) => setTimeout(res, 50));
  t.equal(await watchers(), 1, 'the resource watch is created in etcd');
  await admin.delete().key(`${RES}/bgppeers/tor-1`);
  const r = await admin.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2'))).exec();
  await admin.kv.compact({ revision: Number(r.header.revision), physical: true });
  const tern = admin.role('tern');
  await tern.revoke({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await tern.grant({ permission: 'Readwrite', range: Range.prefix('/calico/ipam/') });
  proxy.release();
  const lost = await rec.error(1, 20_000);
  t.ok(lines.some((l) => /"event":"watchCompacted"/.test(l)), 'etcd created the affinity watch, then cancelled it (compacted)');
  t.match(lost, { name: 'DatastoreError', code: 'ERR_DATASTORE_DISCONNECTED', message: /cannot re-read the datastore after a watch etcd cancelled \(.*permission denied\); keeping the last snapshot and retrying/ });
  t.same(problems(ds), ['DatastoreError ERR_DATASTORE_DISCONNECTED'], 'in force while the re-read fails');
  // Retried (with the reconnect backoff), and not reported again.
  await waitFor(() => lines.find((l) => /"event":"reconnectFailed"/.test(l)), 10_000);
  t.equal(rec.errors.length, 1, 'reported once');
  await tern.grant({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await waitFor(() => recovered === 1 || undefined, 20_000);
  t.same(problems(ds), [], 'a re-read succeeded: no problem left');
  t.same([...(ds.current()?.bgpPeers.keys() ?? [])], ['tor-2'], 'the state in force: tor-1 deleted, tor-2 added');
  const seen = rec.changes.length;
  await admin.put(`${RES}/bgppeers/tor-3`).value(JSON.stringify(peer('tor-3', '10.0.0.3')));
  t.same([...(await rec.change(seen + 1)).bgpPeers.keys()], ['tor-2', 'tor-3'], 'the new watch delivers');
  t.notOk(lines.some((l) => l.includes(secret)) || rec.errors.some((e) => e.message.includes(secret)), 'the password is in no log line and no error');
});

t.test('a re-read after a watch etcd never confirmed, while etcd is unreachable, is the lost connection until etcd is back', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([proxy.endpoint], { debounceMs: 30, watchConfirmMs: 1000, logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  let recovered = 0;
  ds.onRecovered(() => void recovered++);
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await ds.load();
  // etcd's answers to the watch creations held (within gRPC's keepalive bound) and new
  // connections refused: the client replaced after 1 s cannot reach etcd for the re-read.
  proxy.hold();
  proxy.refuse(true);
  await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2')));
  const lost = await rec.error(1, 20_000);
  t.ok(lines.some((l) => /"event":"watchUnconfirmed"/.test(l)), 'the watch was not confirmed');
  t.match(lost, { name: 'DatastoreError', code: 'ERR_DATASTORE_DISCONNECTED', message: /cannot re-read the datastore after a watch etcd did not confirm \(unreachable: / });
  t.same(problems(ds), ['DatastoreError ERR_DATASTORE_DISCONNECTED'], 'in force while etcd is unreachable');
  proxy.refuse(false);
  proxy.release();
  const s = await rec.change(1, 20_000);
  t.same([...s.bgpPeers.keys()], ['tor-1', 'tor-2'], 'the re-read state');
  await waitFor(() => recovered === 1 || undefined, 10_000);
  t.same(problems(ds), [], 'etcd read again: no problem left');
  t.equal(rec.errors.length, 1, 'reported once');
});
