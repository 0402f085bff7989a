// What is done to one source costs in proportion to that source's paths: session down,
// stale marking, stale counting and sweeping never walk the whole table.
import t from 'tap';
import { makeRib, addPeer, attrs, announce, seq, rejecting } from './fixtures/helpers.js';

/** Makes any walk over the Loc-RIB's IPv4 table throw. */
function forbidTableWalks(rib: object): void {
  const table = (rib as unknown as { tables: { ipv4: Map<string, unknown> } }).tables.ipv4;
  const boom = () => { throw new Error('walked the whole table'); };
  Object.assign(table, { [Symbol.iterator]: boom, entries: boom, values: boom, keys: boom, forEach: boom });
}

t.test('a 10-route peer next to 5000 others: down, stale, sweep without a table walk', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  addPeer(rib, 3);
  for (let i = 0; i < 5000; i++) announce(rib, '10.0.0.2|179', `10.${i >> 8}.${i & 255}.0/24`, attrs({ nextHop: '10.0.0.2' }));
  for (let i = 0; i < 10; i++) {
    announce(rib, '10.0.0.3|179', `10.200.${i}.0/24`, attrs({ nextHop: '10.0.0.3' }));
    announce(rib, '10.0.0.3|179', `10.200.${i}.0/24`, attrs({ nextHop: '10.0.0.3', med: 1 }), 7); // a second path id
  }
  announce(rib, '10.0.0.3|179', '10.0.1.0/24', attrs({ nextHop: '10.0.0.3' })); // shared with the big peer
  rib.flush();
  forbidTableWalks(rib);
  t.equal(rib.markStale('10.0.0.3|179', 'ipv4'), 21);
  t.equal(rib.staleCount('10.0.0.3|179', 'ipv4'), 21);
  announce(rib, '10.0.0.3|179', '10.200.0.0/24', attrs({ nextHop: '10.0.0.3' })); // re-advertised: fresh again
  t.equal(rib.sweepStale('10.0.0.3|179', 'ipv4'), 20);
  t.equal(rib.source('10.0.0.3|179')!.pathCount, 1);
  t.ok(rib.withdraw('10.0.0.3|179', '10.200.0.0/24'));
  announce(rib, '10.0.0.3|179', '10.200.5.0/24', attrs({ nextHop: '10.0.0.3' }));
  t.equal(rib.removeSource('10.0.0.3|179'), 1);
  t.equal(rib.source('10.0.0.3|179')!.pathCount, 0);
  t.equal(rib.removeSource('10.0.0.3|179'), 0, 'nothing left');
  t.equal(rib.source('10.0.0.2|179')!.pathCount, 5000, 'the other peer untouched');
  t.equal(rib.lookup('10.0.1.0/24')!.paths.length, 1, 'the shared prefix keeps the other peer\'s path');
});

t.test('ADD-PATH ids are freed when no path of (source, path id) is left, and reused', async (t) => {
  const { AdjRibOutManager } = await import('../../src/rib/adj-rib-out-manager.js');
  const { CTX } = await import('./fixtures/export-ctx.js');
  const { FakeSink } = await import('./fixtures/sink.js');
  const rib = makeRib();
  addPeer(rib, 7, { ebgp: true, asn: 65007 });
  const src = '10.0.0.7|179';
  const a = (med: number) => attrs({ nextHop: '10.0.0.7', asPath: seq(65007), med });
  announce(rib, src, '10.244.1.0/24', a(1), 1);
  announce(rib, src, '10.244.1.0/24', a(1), 2);
  announce(rib, src, '10.244.2.0/24', a(1), 2);
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer({ key: '10.0.0.2|179', family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: true }, sink);
  t.equal(out.ids.size, 2, 'one id per (source, received path id)');
  rib.withdraw(src, '10.244.1.0/24', 2);
  rib.flush();
  t.equal(out.ids.size, 2, 'path id 2 is still held for 10.244.2.0/24');
  rib.withdraw(src, '10.244.2.0/24', 2);
  rib.flush();
  t.equal(out.ids.size, 1, 'freed once no path uses it');
  announce(rib, src, '10.244.3.0/24', a(1), 9);
  rib.flush();
  t.equal(out.ids.size, 2);
  rib.removeSource(src);
  rib.flush();
  t.equal(out.ids.size, 0, 'all freed when the source goes');
  out.close();
});

t.test('a path an import filter moves out of the Loc-RIB leaves its path id unused; moved back, the id is used again', async (t) => {
  const rib = makeRib();
  addPeer(rib, 7, { ebgp: true, asn: 65007 });
  const src = '10.0.0.7|179';
  const unused: string[] = [];
  rib.onPathIdUnused((s, id) => unused.push(`${s.key}#${id}`));
  const a = attrs({ nextHop: '10.0.0.7', asPath: seq(65007) });
  announce(rib, src, '10.244.1.0/24', a, 5);
  announce(rib, src, '10.244.2.0/24', a, 6);
  announce(rib, src, '10.244.2.0/24', a, 5);
  rib.flush();
  t.equal(rib.setImportFilter(src, rejecting((prefix) => prefix === '10.244.2.0/24')), 2);
  t.same(unused, [], 'told at the flush, once the selections no longer hold the path');
  rib.flush();
  t.same(unused, [`${src}#6`], 'id 6 had only the path filtered out; id 5 still has 10.244.1.0/24');
  t.equal(rib.source(src)!.pathCount, 1);
  t.equal(rib.setImportFilter(src, null), 2, 'both back');
  t.equal(rib.source(src)!.pathCount, 3);
  rib.flush();
  unused.length = 0;
  t.ok(rib.withdraw(src, '10.244.2.0/24', 6));
  rib.flush();
  t.same(unused, [`${src}#6`], 'the id is told unused once its last path is withdrawn again');
  // filtered out, then withdrawn while held back, then the session goes down
  t.equal(rib.setImportFilter(src, rejecting(() => true)), 2);
  rib.flush();
  t.same(unused, [`${src}#6`, `${src}#5`], 'every path gone: id 5 unused too');
  t.ok(!rib.withdraw(src, '10.244.1.0/24', 5), 'withdrawn while held back: not in the Loc-RIB');
  t.equal(rib.filteredCount(src), 1, 'one path still held back');
  t.equal(rib.removeSource(src), 0);
  t.equal(rib.filteredCount(src), 0);
  t.equal(rib.source(src)!.pathCount, 0);
  rib.flush();
  t.same(unused, [`${src}#6`, `${src}#5`], 'nothing told twice');
  t.equal(rib.size('ipv4'), 0);
});
