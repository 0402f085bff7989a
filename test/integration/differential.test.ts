// Differential testing against BIRD 2 (fixed seed, small): seeded random UPDATE streams,
// valid and hostile, over real sessions to tern and to BIRD side by side; after each stream
// the two Loc-RIBs must agree prefix by prefix. The long run is `npm run fuzz -- --seconds N`.
import t from 'tap';
import { runDifferential } from '../fuzz/differential.js';

t.test('tern and BIRD 2 agree on 12 seeded UPDATE streams', async (t) => {
  const res = await runDifferential({ seed: 20261206, streams: 12, t, log: (l) => t.comment(l) });
  t.comment(`${res.streams} streams in ${res.seconds.toFixed(1)} s`);
  t.equal(res.streams, 12, 'every stream ran');
  t.ok(res.compared > 100, `the tables were not empty (${res.compared} paths compared)`);
  t.same(res.failures.map((f) => `stream ${f.stream} seed ${f.seed}: ${f.diffs.join('\n')}`), [], 'no difference');
});

t.test('the comparison itself finds a difference', async (t) => {
  const { compareRibs } = await import('../fuzz/differential.js');
  const a = new Map([['10.50.0.0/24', [{ source: '10.98.0.2', path: 'x', best: true }]]]);
  const b = new Map([['10.50.0.0/24', [{ source: '10.98.0.2', path: 'y', best: true }]]]);
  t.equal(compareRibs(a, b).length, 1);
  t.equal(compareRibs(a, new Map()).length, 1, 'a prefix only one side has');
  t.same(compareRibs(a, a), []);
});
