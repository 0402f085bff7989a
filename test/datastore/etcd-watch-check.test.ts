// A watch behind a compaction, against a real etcd (test/helpers/etcd.ts) through a
// pausable proxy: etcd cancels it, or (etcd 3.4) moves it on silently and the stall check
// (src/datastore/etcd-watch-check.ts) re-reads; a quiet affinity watch is checked by
// reading its few keys instead.
import t, { type Test } from 'tap';
import { startEtcd } from '../helpers/etcd.js';
import { EtcdDatastore } from '../../src/datastore/index.js';
import { recorder, waitFor } from './recorder.js';
import { RES, peer, client, captured } from './etcd-fixtures.js';
import { pausableProxy } from './pausable-proxy.js';




/**
 * A datastore on a proxied etcd whose watch has fallen behind (held while 300 large writes
 * and the changes to tor-1..3 go in) and whose position etcd has then compacted away.
 */
async function behindCompaction(t: Test, watchCheckMs: number) {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([proxy.endpoint], { debounceMs: 30, watchCheckMs, logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await ds.load();
  // Hold the watch stream while etcd moves on far enough that the watcher falls behind
  // (etcd's send buffer for the stream fills and it parks the watcher as a slow "victim"),
  // then compact past where it stands.
  // The writes go 30 at a time (one revision each, etcd syncs them together): held longer
  // than gRPC's keepalive allows (a ping unanswered for 5 s), the client would drop the
  // connection, which is an outage and another test.
  proxy.hold();
  const big = 'x'.repeat(100_000);
  for (let i = 0; i < 300; i += 30) {
    await Promise.all(Array.from({ length: 30 }, (_, j) => c.put(`${RES}/unrelatedthings/k${i + j}`).value(big)));
  }
  await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2')));
  await c.delete().key(`${RES}/bgppeers/tor-1`);
  const last = await c.put(`${RES}/bgppeers/tor-3`).value(JSON.stringify(peer('tor-3', '10.0.0.3'))).exec();
  const rev = Number(last.header.revision);
  await c.kv.compact({ revision: rev, physical: true });
  /** Waits for the latest state and checks what every way there must give. */
  const lands = async (): Promise<void> => {
    const s = await waitFor(() => {
      const now = rec.changes.at(-1);
      return now && [...now.bgpPeers.keys()].join() === 'tor-2,tor-3' ? now : undefined;
    }, 30_000).catch((e: unknown) => {
      t.comment(lines.filter((l) => !/watchEventStale/.test(l)).join('').slice(-3000));
      t.comment(rec.changes.map((c) => [...c.bgpPeers.keys()].join()).join(' | '));
      throw e;
    });
    t.ok(s, 'the snapshot ends at the latest state (tor-1 deleted, tor-2 and tor-3 added)');
    t.ok(ds.position().etcdRevision! >= rev, `position is at or above the last write (${ds.position().etcdRevision} >= ${rev})`);
    t.equal(rec.errors.length, 0, 'a compaction is not reported as an outage');
    await c.put(`${RES}/bgppeers/tor-4`).value(JSON.stringify(peer('tor-4', '10.0.0.4')));
    await waitFor(() => rec.changes.at(-1)?.bgpPeers.has('tor-4') || undefined, 10_000);
    t.pass('the watch resumed after the re-read');
  };
  return { etcd, proxy, ds, lines, lands };
}

t.test('a watch behind a compaction lands on the latest state, whether etcd cancels it or moves it on silently', async (t) => {
  const { etcd, proxy, lines, lands } = await behindCompaction(t, 3000);
  // Let the stream through in 1 ms pulses until etcd stops counting the watcher as slow.
  // etcd sends the parked events as its send buffer for the stream empties, marks the
  // watcher unsynced, and then finds its start compacted: it cancels the watch if the
  // buffer has room at that moment; if not, etcd 3.4 moves the watcher on to the current
  // revision with no cancellation and without tor-2, tor-1's deletion and tor-3 (etcd issue
  // 17529). The pulses leave the buffer full at that moment in about half the runs (one CI
  // run in seven, on a loaded machine, with a single release); the stall check then re-reads.
  const slowWatchers = async (): Promise<string | undefined> =>
    /^etcd_debugging_mvcc_slow_watcher_total (\S+)$/m.exec(await (await fetch(`${etcd.endpoint}/metrics`)).text())?.[1];
  let slow = await slowWatchers();
  t.equal(slow, '1', 'etcd parked the lagging watcher');
  for (let i = 0; i < 200 && slow !== '0'; i++) {
    proxy.release();
    await new Promise((r) => setTimeout(r, 1));
    proxy.hold();
    await new Promise((r) => setTimeout(r, 300));
    slow = await slowWatchers();
  }
  proxy.release();
  t.equal(slow, '0', 'etcd no longer counts the watcher as slow');
  await lands();
  const how = lines.find((l) => /"event":"(watchCompacted|watchStalled)"/.test(l));
  t.ok(how, 'the state was re-read: etcd cancelled the watch, or the stall check found it behind the compaction');
  t.comment(`re-read after ${/watchStalled/.test(how ?? '') ? 'the stall check' : "etcd's cancellation"}`);
});

t.test('a watch whose position etcd compacted away without cancelling it is re-read by the stall check', async (t) => {
  // etcd cannot tell a watch that skipped events from one that had none to send: a watch on
  // quiet prefixes whose start etcd compacts away is never cancelled, like one etcd moved
  // on silently, and the check re-reads it the same way (only the content decides whether a
  // snapshot follows).
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([etcd.endpoint], { debounceMs: 30, watchCheckMs: 300, logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await ds.load();
  // Both watches created (load() does not wait for that; etcd would cancel a watch created
  // after the compaction): an event from each, the affinity watch being created second.
  await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1')));
  await rec.change(1);
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  await rec.change(2);
  const read = ds.position().etcdRevision!;
  for (let i = 0; i < 5; i++) await c.put(`/calico/ipam/v2/assignment/ipv4/block/10.9.${i}.0-26`).value('{}');
  const compactRev = Number((await c.put('/calico/ipam/v2/assignment/ipv4/block/10.9.9.0-26').value('{}').exec()).header.revision);
  await c.kv.compact({ revision: compactRev, physical: true });
  await waitFor(() => lines.find((l) => /"event":"datastoreRelisted"/.test(l)), 10_000);
  t.notOk(lines.some((l) => /"event":"watchCompacted"/.test(l)), 'etcd did not cancel the watches');
  const stalled = lines.filter((l) => /"event":"watchStalled"/.test(l));
  t.equal(stalled.length, 1, 'logged once');
  const at = (JSON.parse(stalled[0] ?? '{}') as { watchPosition?: number }).watchPosition ?? 0;
  t.ok(at <= read && at + 1 < compactRev, `at a position etcd compacted away (${at})`);
  t.equal(ds.position().watchStalls, 1, 'counted');
  t.ok(ds.position().etcdRevision! >= compactRev, 'the re-read is at or above the compaction');
  t.equal(rec.changes.length, 2, 'nothing changed: no snapshot');
  t.equal(rec.errors.length, 0, 'not reported as an outage');
  await c.put(`${RES}/bgppeers/tor-2`).value(JSON.stringify(peer('tor-2', '10.0.0.2')));
  t.same([...(await rec.change(3)).bgpPeers.keys()], ['tor-1', 'tor-2'], 'the new watch delivers');
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(ds.position().watchStalls, 1, 'a watch past the compaction is not re-read again');
});

t.test('a quiet affinity watch behind a compaction is checked by reading its keys, not re-read', async (t) => {
  const etcd = await startEtcd(t);
  const c = client(t, etcd);
  const { logger, lines } = captured();
  const ds = new EtcdDatastore([etcd.endpoint], { debounceMs: 30, watchCheckMs: 300, affinitiesOf: 'node-1', logger });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await ds.load();
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26').value('{"state":"confirmed","deleted":false}');
  await rec.change(1);
  const busy = Number((await c.put(`${RES}/bgppeers/tor-1`).value(JSON.stringify(peer('tor-1', '10.0.0.1'))).exec()).header.revision);
  await rec.change(2);
  const compactRev = Number((await c.put('/calico/ipam/v2/assignment/ipv4/block/10.9.0.0-26').value('{}').exec()).header.revision);
  const checks = (): number[][] => lines.filter((l) => /"event":"watchChecked"/.test(l)).map((l) => (JSON.parse(l) as { watchPositions: number[] }).watchPositions);
  // A check has seen the resource watch at its event: only the affinity watch (no event
  // since the block's) is then behind the compaction.
  await waitFor(() => checks().some((p) => p[0]! >= busy) || undefined, 10_000);
  await c.kv.compact({ revision: compactRev, physical: true });
  const before = checks().length;
  await waitFor(() => checks().slice(before).some((p) => p[1]! >= compactRev) || undefined, 10_000);
  const n = checks().length;
  await waitFor(() => checks().length >= n + 2 || undefined, 10_000);
  t.notOk(lines.some((l) => /"event":"(watchStalled|datastoreRelisted)"/.test(l)), 'no re-read');
  t.equal(ds.position().watchStalls, 0);
  await c.put('/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.64-26').value('{"state":"confirmed","deleted":false}');
  t.equal((await rec.change(3)).blockAffinities.size, 2, 'the affinity watch still delivers');
});
