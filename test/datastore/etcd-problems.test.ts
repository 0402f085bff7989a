// The etcd datastore's problems in force (what `tern status` lists) against a real etcd
// behind a proxy that can refuse and cut connections: a lost connection and an invalid
// value are separate problems. Reconnecting ends the one, a valid value or a delete at the
// key ends the other; onRecovered comes only when neither is left (as the file datastore's
// invalid content stays an error until the file is valid again).
import t, { type Test } from 'tap';
import { startEtcd } from '../helpers/etcd.js';
import { openDatastore, type Datastore } from '../../src/datastore/index.js';
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
