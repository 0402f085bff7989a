// A source's paths removed (session down), marked stale and swept (graceful restart), on
// random tables against a model of what the table must hold: the counts returned, the paths
// left, the best paths (against a Loc-RIB built afresh from the model), and each flush's
// batch (every prefix whose selection changed, each once, nothing else). Sources both small
// (their prefix list read entry by entry) and large (a quarter of the table or more: the
// table walked) take part; withdrawals and re-announcements leave repeated and dead entries
// in the sources' prefix lists.
import t, { type Test } from 'tap';
import type { BestChange, LocRib } from '../../src/rib/loc-rib.js';
import type { Path } from '../../src/rib/path.js';
import type { Family } from '../../src/net/prefix.js';
import { makeRib, addPeer, attrs, rng } from './fixtures/helpers.js';

const PEERS = [2, 3, 4, 5] as const;
const key = (n: number): string => `10.0.0.${n}|179`;

interface ModelPath { src: string; pathId: number; med: number; stale: boolean }
type Model = Map<string, Map<string, ModelPath>>;

const famOf = (prefix: string): Family => (prefix.includes(':') ? 'ipv6' : 'ipv4');

function announce(rib: LocRib, model: Model, src: string, prefix: string, pathId: number, med: number): void {
  const nextHop = famOf(prefix) === 'ipv4' ? src.split('|')[0]! : `2001:db8::${src.split('.')[3]!.split('|')[0]}`;
  rib.update(src, prefix, pathId, rib.attrSets.intern(attrs({ nextHop, med })));
  let paths = model.get(prefix);
  if (!paths) model.set(prefix, (paths = new Map()));
  paths.set(`${src}#${pathId}`, { src, pathId, med, stale: false });
}

/** The paths of `src` in `family` (all, or only the stale ones) leave the model; their number. */
function modelRemove(model: Model, src: string, family: Family | undefined, staleOnly: boolean): number {
  let n = 0;
  for (const [prefix, paths] of model) {
    if (family !== undefined && famOf(prefix) !== family) continue;
    for (const [k, p] of paths) if (p.src === src && (!staleOnly || p.stale)) { paths.delete(k); n++; }
    if (paths.size === 0) model.delete(prefix);
  }
  return n;
}

/** A path as the selection sees it (the stale mark takes no part: a stale swap is no change). */
const fresh = (p: Path | null): Path | null => (p === null ? null : p.withStale(false));

interface Sel { best: Path | null; multipath: readonly Path[] }

function selections(rib: LocRib): Map<string, Sel> {
  const out = new Map<string, Sel>();
  for (const r of rib.routes()) out.set(r.prefix, { best: r.best, multipath: [...r.multipath] });
  return out;
}

function sameSel(a: Sel | undefined, b: Sel | undefined, f: (p: Path | null) => Path | null): boolean {
  return a !== undefined && b !== undefined && f(a.best) === f(b.best) && a.multipath.length === b.multipath.length && a.multipath.every((x, i) => f(x) === f(b.multipath[i]!));
}

const describe = (p: Path | null | undefined): string => (p ? `${p.source.key}#${p.pathId}/${p.attrs.attrs.med}` : '-');

/** The table against the model, and the best paths against a Loc-RIB built afresh from it. */
function check(t: Test, rib: LocRib, model: Model, what: string): void {
  const got = new Map<string, string[]>();
  for (const r of rib.routes()) got.set(r.prefix, r.paths.map((p) => `${p.source.key}#${p.pathId}/${p.attrs.attrs.med}${p.stale ? ' stale' : ''}`).sort());
  const want = new Map<string, string[]>();
  for (const [prefix, paths] of model) want.set(prefix, [...paths.values()].map((p) => `${p.src}#${p.pathId}/${p.med}${p.stale ? ' stale' : ''}`).sort());
  t.same(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()), `${what}: the paths held`);
  const again = makeRib();
  for (const n of PEERS) if (rib.source(key(n))) addPeer(again, n);
  for (const [prefix, paths] of model) {
    for (const p of paths.values()) {
      const nextHop = famOf(prefix) === 'ipv4' ? p.src.split('|')[0]! : `2001:db8::${p.src.split('.')[3]!.split('|')[0]}`;
      again.update(p.src, prefix, p.pathId, again.attrSets.intern(attrs({ nextHop, med: p.med })));
    }
  }
  again.flush();
  const bad: string[] = [];
  for (const r of again.routes()) {
    const mine = rib.lookup(r.prefix);
    const a = describe(mine?.best);
    const b = describe(r.best);
    const ma = (mine?.multipath ?? []).map(describe).join(',');
    const mb = r.multipath.map(describe).join(',');
    if (a !== b || ma !== mb) bad.push(`${r.prefix}: ${a} [${ma}] against ${b} [${mb}]`);
  }
  t.same(bad, [], `${what}: best paths and multipath as chosen afresh`);
  for (const n of PEERS) {
    if (!rib.source(key(n))) continue;
    let held = 0;
    for (const paths of model.values()) for (const p of paths.values()) if (p.src === key(n)) held++;
    if (rib.source(key(n))!.pathCount !== held) t.fail(`${what}: ${key(n)} holds ${rib.source(key(n))!.pathCount} paths, the model ${held}`);
    for (const f of ['ipv4', 'ipv6'] as const) {
      let stale = 0;
      for (const [prefix, paths] of model) if (famOf(prefix) === f) for (const p of paths.values()) if (p.src === key(n) && p.stale) stale++;
      if (rib.staleCount(key(n), f) !== stale) t.fail(`${what}: ${key(n)} ${f} stale ${rib.staleCount(key(n), f)}, the model ${stale}`);
    }
  }
}

/**
 * Flushes. The batch must hold each prefix once, every prefix whose selection changed since
 * `before` (stale marks aside), and no prefix whose selection is the very same paths (a
 * stale path re-advertised may be reported: the Loc-RIB compares paths by identity).
 */
function flushAndCheck(t: Test, rib: LocRib, before: Map<string, Sel>, heard: BestChange[][], what: string): void {
  heard.length = 0;
  const batch = rib.flush();
  const after = selections(rib);
  const prefixes = batch.map((c) => c.prefix);
  t.equal(new Set(prefixes).size, prefixes.length, `${what}: each prefix once in the batch`);
  const reported = new Set(prefixes);
  const missing: string[] = [];
  const extra: string[] = [];
  for (const p of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(p);
    const b = after.get(p);
    if (!sameSel(a, b, fresh) && !reported.has(p)) missing.push(p);
    if (sameSel(a, b, (x) => x) && reported.has(p)) extra.push(p);
  }
  t.same(missing, [], `${what}: every prefix whose selection changed is in the batch`);
  t.same(extra, [], `${what}: no prefix whose selection is the same paths is`);
  for (const c of batch) {
    const b = after.get(c.prefix);
    if (c.best !== (b?.best ?? null)) t.fail(`${what}: ${c.prefix} reported with another best than it holds`);
    const a = before.get(c.prefix);
    if (fresh(c.previousBest) !== fresh(a?.best ?? null)) t.fail(`${what}: ${c.prefix} reported with another previous best than it held`);
  }
  t.equal(heard.length, batch.length > 0 ? 1 : 0, `${what}: listeners told once`);
  if (heard.length > 0) t.equal(heard[0], batch, `${what}: listeners get the batch flush returns`);
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  t.test(`random table, seed ${seed}: remove, stale, sweep against the model`, async (t) => {
    const r = rng(seed);
    const rib = makeRib();
    for (const n of PEERS) addPeer(rib, n);
    const heard: BestChange[][] = [];
    rib.onBestChange((c) => heard.push(c as BestChange[]));
    const model: Model = new Map();
    const v4 = Array.from({ length: 240 }, (_, i) => `10.${i >> 6}.${(i & 63) * 4}.0/22`);
    const v6 = Array.from({ length: 80 }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
    const prefix = (): string => (r() < 0.75 ? v4[Math.floor(r() * v4.length)]! : v6[Math.floor(r() * v6.length)]!);
    // peer 2 holds most of the table (its passes walk the table), the others a few prefixes
    for (const p of [...v4, ...v6]) if (r() < 0.8) announce(rib, model, key(2), p, 0, Math.floor(r() * 3));
    for (const n of [3, 4, 5]) for (let i = 0; i < 30; i++) announce(rib, model, key(n), prefix(), Math.floor(r() * 3), Math.floor(r() * 3));
    rib.flush();
    check(t, rib, model, 'loaded');
    for (let step = 0; step < 60; step++) {
      const before = selections(rib);
      const ops: string[] = [];
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const n = PEERS[Math.floor(r() * PEERS.length)]!;
        const src = key(n);
        const family: Family = r() < 0.7 ? 'ipv4' : 'ipv6';
        const x = r();
        if (x < 0.3) {
          // churn: announcements (new, changed, re-advertised) and withdrawals
          for (let i = 0; i < 10; i++) {
            const p = prefix();
            const id = n === 2 ? 0 : Math.floor(r() * 3);
            if (r() < 0.6) announce(rib, model, src, p, id, Math.floor(r() * 3));
            else {
              const had = model.get(p)?.delete(`${src}#${id}`) ?? false;
              if (model.get(p)?.size === 0) model.delete(p);
              t.equal(rib.withdraw(src, p, id), had, `withdraw ${src} ${p} #${id}`);
            }
          }
          ops.push(`churn ${src}`);
        } else if (x < 0.5) {
          let want = 0;
          for (const [p, paths] of model) if (famOf(p) === family) for (const q of paths.values()) if (q.src === src && !q.stale) { q.stale = true; want++; }
          t.equal(rib.markStale(src, family), want, `markStale ${src} ${family}`);
          ops.push(`stale ${src} ${family}`);
        } else if (x < 0.65) {
          const want = modelRemove(model, src, family, true);
          t.equal(rib.sweepStale(src, family), want, `sweepStale ${src} ${family}`);
          ops.push(`sweep ${src} ${family}`);
        } else if (x < 0.8) {
          const want = modelRemove(model, src, family, false);
          t.equal(rib.removeSource(src, family), want, `removeSource ${src} ${family}`);
          ops.push(`remove ${src} ${family}`);
        } else if (x < 0.9) {
          const want = modelRemove(model, src, undefined, false);
          t.equal(rib.removeSource(src), want, `removeSource ${src}`);
          ops.push(`remove ${src}`);
        } else {
          // the source comes back with part of what it had (a re-established session)
          for (let i = 0; i < (n === 2 ? 200 : 20); i++) announce(rib, model, src, prefix(), n === 2 ? 0 : Math.floor(r() * 3), Math.floor(r() * 3));
          ops.push(`back ${src}`);
        }
      }
      const what = `step ${step} (${ops.join('; ')})`;
      flushAndCheck(t, rib, before, heard, what);
      check(t, rib, model, what);
    }
  });
}

t.test('a source that flaps its prefixes: its list stays within twice its paths and is dropped when it holds none', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  addPeer(rib, 3);
  const model: Model = new Map();
  for (let i = 0; i < 4000; i++) announce(rib, model, key(2), `10.${i >> 8}.${i & 255}.0/24`, 0, 0);
  const listOf = (n: number, f: Family): number => (rib as unknown as { bySource: { prefixes(s: unknown, f: Family): readonly string[] } }).bySource.prefixes(rib.source(key(n)), f).length;
  for (let round = 0; round < 500; round++) {
    for (let i = 0; i < 5; i++) announce(rib, model, key(3), `10.200.${i}.0/24`, 0, round % 2);
    for (let i = 0; i < 5; i++) t.ok(rib.withdraw(key(3), `10.200.${i}.0/24`), 'withdrawn') || t.bailout();
    rib.flush();
  }
  t.equal(listOf(3, 'ipv4'), 0, 'a source left with no path has no list');
  for (let round = 0; round < 500; round++) {
    for (let i = 0; i < 5; i++) announce(rib, model, key(3), `10.200.${i}.0/24`, 0, 0);
    t.ok(rib.withdraw(key(3), `10.200.${round % 5}.0/24`));
  }
  t.ok(listOf(3, 'ipv4') <= 2 * rib.source(key(3))!.pathCount + 1025, `compacted on the way (${listOf(3, 'ipv4')} entries for ${rib.source(key(3))!.pathCount} paths)`);
  t.equal(rib.source(key(3))!.pathCount, 4);
  t.equal(rib.removeSource(key(3)), 4);
  t.equal(listOf(3, 'ipv4'), 0);
  rib.flush();
  // graceful restart of the big peer: everything stale, 10 re-advertised, the rest swept
  t.equal(rib.markStale(key(2), 'ipv4'), 4000);
  for (let i = 0; i < 10; i++) announce(rib, model, key(2), `10.${i >> 8}.${i & 255}.0/24`, 0, 0);
  t.equal(rib.staleCount(key(2), 'ipv4'), 3990);
  t.equal(rib.sweepStale(key(2), 'ipv4'), 3990);
  t.ok(listOf(2, 'ipv4') <= 2 * 10 + 1024, `the swept source's list compacted (${listOf(2, 'ipv4')} entries)`);
  const batch = rib.flush();
  t.equal(batch.length, 3990, 'every swept prefix reported once');
  t.equal(rib.size('ipv4'), 10);
  t.equal(rib.removeSource(key(2), 'ipv4'), 10);
  t.equal(listOf(2, 'ipv4'), 0, 'no list once the family is gone');
});

t.test('a source holding a whole family goes down: that table is emptied, the other family keeps its routes', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  addPeer(rib, 3);
  const model: Model = new Map();
  for (let i = 0; i < 300; i++) announce(rib, model, key(2), `10.${i >> 8}.${i & 255}.0/24`, 0, 0);
  for (let i = 0; i < 50; i++) announce(rib, model, key(2), `2001:db8:${i.toString(16)}::/48`, 0, 0);
  for (let i = 0; i < 50; i++) announce(rib, model, key(3), `2001:db9:${i.toString(16)}::/48`, 0, 0);
  rib.flush();
  const walk = rib.prefixes('ipv4'); // a table walk in progress (the Adj-RIB-Out's) sees the end of the table
  walk.next();
  const n = rib.removeSource(key(2));
  t.equal(n, modelRemove(model, key(2), undefined, false));
  const batch = rib.flush();
  t.equal(batch.length, n, 'every prefix of the source reported once');
  t.equal(rib.size('ipv4'), 0);
  t.equal(rib.size('ipv6'), 50);
  t.same(walk.next(), { value: undefined, done: true });
  check(t, rib, model, 'after');
  t.equal(batch.filter((c) => c.best !== null).length, 0, 'no prefix kept a best');
});
