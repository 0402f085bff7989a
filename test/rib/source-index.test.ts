// What is done to one source costs in proportion to that source's paths: session down,
// stale marking, stale counting and sweeping never walk the whole table.
import t from 'tap';
import { makeRib, addPeer, attrs, announce } from './fixtures/helpers.js';

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
