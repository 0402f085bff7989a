// A watch etcd never confirms (src/datastore/etcd-watch-confirm.ts): the check itself on a
// fake clock, and the datastore against a real etcd (test/helpers/etcd.ts) behind a
// pausable proxy: etcd's answers to the watch creations held past the bound, or a creation
// etcd refuses ("created and cancelled", here for a permission revoked at that moment). The
// datastore closes the client, re-reads on a new one and watches again.
import t from 'tap';
import { Etcd3, Range } from 'etcd3';
import { FakeClock } from '../../src/util/clock.js';
import { startEtcd } from '../helpers/etcd.js';
import { EtcdDatastore } from '../../src/datastore/index.js';
import { WatchConfirm } from '../../src/datastore/etcd-watch-confirm.js';
import { recorder, waitFor } from './recorder.js';
import { RES, peer, client, captured } from './etcd-fixtures.js';
import { pausableProxy } from './pausable-proxy.js';




t.test('WatchConfirm: a cancellation before the confirmation or a missing confirmation fails once', async (t) => {
  const clock = new FakeClock();
  const fails: string[] = [];
  const check = new WatchConfirm({ clock, timeoutMs: 1000, onFail: (r) => fails.push(r) });

  check.start(2);
  t.equal(check.confirmed(0), false);
  t.equal(check.confirmed(1), true, 'all confirmed');
  clock.advance(5000);
  t.same(fails, [], 'both confirmed in time: nothing');
  t.equal(check.cancelled(1), false, 'a cancellation after the confirmation is the caller\'s (compaction)');

  check.start(2);
  check.confirmed(0);
  t.equal(check.cancelled(1), true, 'cancelled before its confirmation');
  clock.advance(5000);
  t.equal(fails.length, 1, 'reported once, no timeout after it');
  t.match(fails[0], /cancelled the watch before confirming/);

  check.start(2);
  check.confirmed(1);
  clock.advance(999);
  t.equal(fails.length, 1);
  clock.advance(1);
  t.equal(fails.length, 2, 'one watch unconfirmed after the bound');
  t.match(fails[1], /did not confirm the watch's creation within 1000 ms/);

  check.start(2);
  check.stop();
  clock.advance(5000);
  t.equal(fails.length, 2, 'stopped (a lost connection is handled elsewhere): nothing');
});

t.test('watches etcd does not confirm in time: new client, re-read, watching again, no outage', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([proxy.endpoint], { debounceMs: 30, watchConfirmMs: 1000, logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  const first = await ds.load();
  // load() has sent the watch creations; hold etcd's answers (within gRPC's keepalive bound,
  // so the connection is not dropped) while tor-2 is added and the watches' start revision
  // compacted away.
  proxy.hold();
  const r = await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2'))).exec();
  await c.kv.compact({ revision: Number(r.header.revision), physical: true });
  await waitFor(() => lines.find((l) => /"event":"watchUnconfirmed"/.test(l)), 5000);
  t.same([...(ds.current()?.bgpPeers.keys() ?? [])], ['tor-1'], 'the state is kept until the re-read replaces it');
  await new Promise((res) => setTimeout(res, 1000));
  proxy.release();
  const s = await rec.change(1);
  t.same([...s.bgpPeers.keys()], ['tor-1', 'tor-2'], 'the re-read state');
  t.ok(s.revision > first.revision);
  await c.put(`${RES}/bgppeers/tor-3`).value(JSON.stringify(peer('tor-3', '10.0.0.3')));
  t.same([...(await rec.change(2)).bgpPeers.keys()], ['tor-1', 'tor-2', 'tor-3'], 'the new watch delivers');
  const events = lines.filter((l) => /"event":"watchUnconfirmed"/.test(l));
  t.equal(events.length, 1, 'logged once');
  t.match(events[0], /did not confirm the watch's creation within 1000 ms; replacing the etcd client/);
  t.equal(ds.position().watchStalls, 1, 'counted');
  t.equal(rec.errors.length, 0, 'etcd reachable: no outage reported');
  t.ok(lines.some((l) => /"event":"datastoreRelisted"/.test(l)));
  t.notOk(lines.some((l) => /"event":"datastoreLost"/.test(l)));
});

t.test('a watch creation etcd answers "created and cancelled": new client, re-read, watching again', async (t) => {
  const etcd = await startEtcd(t);
  const setup = client(t, etcd);
  await setup.user('root').create('root-pw');
  await setup.role('root').create();
  await setup.user('root').addRole('root');
  const role = await setup.role('tern').create();
  await role.grant({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await setup.user('tern').create('tern-pw');
  await setup.user('tern').addRole('tern');
  await setup.auth.authEnable();
  const admin = new Etcd3({ hosts: etcd.endpoint, auth: { username: 'root', password: 'root-pw' } });
  t.teardown(() => admin.close());
  const adminRole = admin.role('tern');
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([proxy.endpoint], { debounceMs: 30, watchConfirmMs: 60_000, username: 'tern', password: 'tern-pw', logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await admin.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await ds.load();
  // The client creates the affinity watch only once etcd confirmed the resource watch: hold
  // that confirmation while the affinity keys are taken from tern's role, so etcd refuses the
  // affinity watch's creation ("created and cancelled") when it comes.
  proxy.hold();
  await adminRole.revoke({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await adminRole.grant({ permission: 'Readwrite', range: Range.prefix('/calico/resources/') });
  proxy.release();
  const event = await waitFor(() => lines.find((l) => /"event":"watchUnconfirmed"/.test(l)), 10_000);
  t.match(event, /etcd cancelled the watch before confirming its creation; replacing the etcd client/);
  t.equal(ds.position().watchStalls, 1, 'counted');
  // The re-read covers the affinity keys too: refused (and retried) while the permission is
  // missing; given back, the new client reads and watches.
  await waitFor(() => lines.find((l) => /"event":"reconnectFailed"/.test(l)), 10_000);
  t.same([...(ds.current()?.bgpPeers.keys() ?? [])], ['tor-1'], 'the state is kept');
  await adminRole.grant({ permission: 'Readwrite', range: Range.prefix('/calico/') });
  await waitFor(() => lines.find((l) => /"event":"datastoreReconnected"/.test(l)), 15_000);
  await admin.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2')));
  t.same([...(await rec.change(1)).bgpPeers.keys()], ['tor-1', 'tor-2'], 'the new watch delivers');
  await admin.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  t.equal((await rec.change(2)).blockAffinities.size, 1, 'the affinity watch too');
  t.equal(lines.filter((l) => /"event":"watchUnconfirmed"/.test(l)).length, 1, 'logged once');
});
