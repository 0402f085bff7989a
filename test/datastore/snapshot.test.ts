// Snapshot helpers (immutability, ordering, content comparison) and the Go duration parser.
import t from 'tap';
import { buildSnapshot, DurationError, formatDuration, parseDuration, sameContent, SnapshotCounter, snapshotResources, type Resource } from '../../src/datastore/index.js';

const V3 = 'projectcalico.org/v3';
const node = (name: string, rv?: string): Resource => ({ apiVersion: V3, kind: 'Node', metadata: { name, ...(rv ? { resourceVersion: rv } : {}) }, spec: {} });

t.test('snapshots are immutable copies keyed by name, in name order', async (t) => {
  const input = [node('b'), node('a'), { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'prod' }, spec: {} } as Resource];
  const s = buildSnapshot(input, 7);
  t.equal(s.revision, 7);
  t.same([...s.nodes.keys()], ['a', 'b']);
  t.same([...s.networkPolicies.keys()], ['prod/p'], 'namespaced kinds keyed namespace/name');
  t.not(s.nodes.get('a'), input[1], 'resources are copied');
  t.throws(() => (s.nodes as Map<string, Resource>).delete('a'), { code: 'ERR_SNAPSHOT_IMMUTABLE' });
  t.throws(() => (s.nodes as Map<string, Resource>).clear(), { code: 'ERR_SNAPSHOT_IMMUTABLE' });
  t.throws(() => { (s.nodes.get('a')!.metadata as { name: string }).name = 'z'; }, TypeError);
  t.throws(() => { (s as { revision: number }).revision = 8; }, TypeError);
  t.equal(snapshotResources(s).length, 3);
});

t.test('sameContent ignores revision and resourceVersion only', async (t) => {
  t.ok(sameContent(buildSnapshot([node('a', '5')], 1), buildSnapshot([node('a', '9')], 2)));
  t.notOk(sameContent(buildSnapshot([node('a')], 1), buildSnapshot([node('a'), node('b')], 1)));
  const labelled: Resource = { ...node('a'), metadata: { name: 'a', labels: { rr: 'true' } } };
  t.notOk(sameContent(buildSnapshot([node('a')], 1), buildSnapshot([labelled], 1)));
  const c = new SnapshotCounter();
  t.same([c.next(), c.next(), c.current], [1, 2, 2]);
});

t.test('Go durations', async (t) => {
  const cases: [string, number][] = [
    ['120s', 120], ['2m0s', 120], ['1h', 3600], ['1.5h', 5400], ['300ms', 0.3], ['1h2m3.5s', 3723.5], ['0', 0], ['-1m', -60], ['90m', 5400], ['1us', 1e-6], ['1µs', 1e-6],
  ];
  for (const [text, secs] of cases) t.equal(parseDuration(text), secs, text);
  for (const bad of ['', '10', '5d', '1h-2m', 'h', '1.2.3s', ' 1s']) t.throws(() => parseDuration(bad), DurationError, JSON.stringify(bad));
  t.equal(formatDuration(120), '2m0s');
  t.equal(formatDuration(3600), '1h0m0s');
  t.equal(formatDuration(0), '0s');
  t.equal(formatDuration(45), '45s');
});
