// A source's passes (source-passes.ts) read its prefix list in place, or walk the whole
// table when the list is at least a quarter of it: both ways must do the same to the same
// state. Two Loc-RIBs are given the same random operations (IPv4 and IPv6 in one source,
// ADD-PATH ids, /0 and host routes, stale marks and re-announcements before the sweep,
// sources removed and re-registered while a flush is pending, equal paths that make a
// multipath set, IPv4 UPDATEs through import filters that hold paths back and re-admit them
// when changed); around each pass one table reports a size that puts the source exactly at
// the threshold (walked: 4 × its list) and the other one more (its list read), and each is
// checked to have gone that way. After every operation both must hold the same paths, answer
// the same, and match a model; the source's list must cover every prefix it holds a path for
// (what makes reading it enough); the last path of (source, path id) leaving must be told
// at the next flush, once, unless a path took the id again; the paths held back must be the model's. At each flush the batch must hold
// every changed prefix once and agree with LocRib.selection(), the best paths must be those
// of a Loc-RIB built afresh, and selectionsOf (a new peer's walk over a few sources) must
// give each destination those sources hold a path for, once.
import t, { type Test } from 'tap';
import type { BestChange, LocRib } from '../../src/rib/loc-rib.js';
import type { Path, PathSource } from '../../src/rib/path.js';
import type { Family } from '../../src/net/prefix.js';
import { makeRib, addPeer, attrs, rejecting } from './fixtures/helpers.js';
import { prng as rng } from '../bgp/wire/helpers.js';

type Mode = 'walk' | 'list';
const FAMILIES = ['ipv4', 'ipv6'] as const;
const PEERS = [2, 3, 4] as const;
const key = (n: number): string => `10.0.0.${n}|179`;
const famOf = (prefix: string): Family => (prefix.includes(':') ? 'ipv6' : 'ipv4');

interface Internals {
  tables: Record<Family, Map<string, unknown>>;
  bySource: { prefixes(src: PathSource, family: Family): readonly string[] };
}
const inside = (rib: LocRib): Internals => rib as unknown as Internals;

/**
 * Runs `fn` with each table of `rib` reporting a size that puts `src` right at the walk
 * threshold ('walk': 4 × the length of its list there; 'list': one more), and counts the
 * walks over the tables meanwhile (Map#forEach, the only way source-passes.ts walks one).
 */
function atThreshold<T>(rib: LocRib, src: PathSource | undefined, families: readonly Family[], mode: Mode, fn: () => T): { value: T; walks: number; listed: number } {
  const { tables, bySource } = inside(rib);
  let walks = 0;
  let listed = 0;
  for (const f of families) {
    const table = tables[f];
    const n = src ? bySource.prefixes(src, f).length : 0;
    listed += n;
    Object.defineProperty(table, 'size', { configurable: true, get: () => (mode === 'walk' ? 4 * n : 4 * n + 1) });
    Object.defineProperty(table, 'forEach', {
      configurable: true,
      value(this: Map<string, unknown>, ...args: Parameters<Map<string, unknown>['forEach']>) { walks++; return Map.prototype.forEach.apply(this, args); },
    });
  }
  try {
    return { value: fn(), walks, listed };
  } finally {
    for (const f of families) { delete (tables[f] as { size?: number }).size; delete (tables[f] as { forEach?: unknown }).forEach; }
  }
}

interface ModelPath { med: number; stale: boolean }
/** prefix → `${source key}#${path id}` → path. */
type Model = Map<string, Map<string, ModelPath>>;

const describe = (p: Path | null | undefined): string => (p ? `${p.source.key}#${p.pathId}/${p.attrs.attrs.med}${p.stale ? '~' : ''}` : '-');
const fresh = (p: Path | null | undefined): string => (p ? `${p.source.key}#${p.pathId}/${p.attrs.attrs.med}` : '-');

/** Everything a reader can see of the Loc-RIB, as text. */
function snapshot(rib: LocRib): string[] {
  const out: string[] = [];
  for (const f of FAMILIES) {
    out.push(`${f} size ${rib.size(f)}`);
    for (const r of rib.routes(f)) {
      const s = rib.selection(r.prefix);
      out.push(`${r.prefix}: ${r.paths.map(describe).sort().join(' ')} | best ${describe(r.best)} [${r.multipath.map(describe).join(',')}] sel ${describe(s?.best)} [${(s?.multipath ?? []).map(describe).join(',')}]`);
    }
  }
  for (const n of PEERS) {
    const src = rib.source(key(n));
    if (src) out.push(`${src.key} pathCount ${src.pathCount} stale ${rib.staleCount(src.key, 'ipv4')}/${rib.staleCount(src.key, 'ipv6')} held ${rib.filteredCount(src.key)}`);
  }
  out.push(`pending ${rib.pending}`);
  return out.sort();
}

/** The Loc-RIB holds what the model holds; each source's list covers every prefix it holds. */
function checkModel(t: Test, rib: LocRib, model: Model, what: string): void {
  const got: string[] = [];
  for (const r of rib.routes()) for (const p of r.paths) got.push(`${r.prefix} ${p.source.key}#${p.pathId}/${p.attrs.attrs.med}${p.stale ? '~' : ''}`);
  const want: string[] = [];
  for (const [prefix, paths] of model) for (const [k, p] of paths) want.push(`${prefix} ${k}/${p.med}${p.stale ? '~' : ''}`);
  if (got.sort().join('\n') !== want.sort().join('\n')) t.same(got, want, `${what}: the paths held`);
  for (const n of PEERS) {
    const src = rib.source(key(n));
    if (!src) continue;
    let held = 0;
    for (const f of FAMILIES) {
      const list = new Set(inside(rib).bySource.prefixes(src, f));
      for (const r of rib.routes(f)) {
        const mine = r.paths.filter((p) => p.source === src).length;
        held += mine;
        if (mine > 0 && !list.has(r.prefix)) t.fail(`${what}: ${src.key} holds ${r.prefix} but its ${f} list does not name it`);
      }
    }
    if (held !== src.pathCount) t.fail(`${what}: ${src.key} pathCount ${src.pathCount}, it holds ${held}`);
  }
}

/** The best paths and multipath sets against a Loc-RIB built afresh from the model. */
function checkAfresh(t: Test, rib: LocRib, model: Model, routerIds: Map<number, string>, what: string): void {
  const again = makeRib();
  for (const n of PEERS) if (rib.source(key(n))) addPeer(again, n, { routerId: routerIds.get(n)! });
  for (const [prefix, paths] of model) {
    for (const [k, p] of paths) {
      const [src, id] = k.split('#');
      again.update(src!, prefix, Number(id), again.attrSets.intern(attrsOf(src!, prefix, p.med)));
    }
  }
  again.flush();
  const bad: string[] = [];
  for (const r of again.routes()) {
    const mine = rib.selection(r.prefix);
    const a = `${fresh(mine?.best)} [${(mine?.multipath ?? []).map(fresh).join(',')}]`;
    const b = `${fresh(r.best)} [${r.multipath.map(fresh).join(',')}]`;
    if (a !== b) bad.push(`${r.prefix}: ${a} against ${b}`);
  }
  t.same(bad, [], `${what}: best and multipath as chosen afresh`);
}

function attrsOf(src: string, prefix: string, med: number) {
  const n = src.split('|')[0]!.split('.')[3]!;
  return attrs({ nextHop: famOf(prefix) === 'ipv4' ? `10.0.0.${n}` : `2001:db8::${n}`, med });
}

interface Sel { best: unknown; multipath: string }
const ids = new WeakMap<Path, number>();
let nextId = 0;
/** A number per Path object (the same across calls). */
const id = (p: Path): number => ids.get(p) ?? (ids.set(p, nextId), nextId++);
/** Each prefix's selection: as text without stale marks (`fresh`), or by identity (`same`: paths are immutable). */
function selections(rib: LocRib, how: 'fresh' | 'same'): Map<string, Sel> {
  const out = new Map<string, Sel>();
  for (const r of rib.routes()) {
    const s = rib.selection(r.prefix)!;
    out.set(r.prefix, how === 'fresh'
      ? { best: fresh(s.best), multipath: s.multipath.map(fresh).join(',') }
      : { best: s.best, multipath: s.multipath.map((p) => String(id(p))).join(',') });
  }
  return out;
}

const V4 = ['0.0.0.0/0', '10.0.0.0/8', '10.1.2.3/32', '255.255.255.255/32', '0.0.0.0/32', '128.0.0.0/1',
  ...Array.from({ length: 34 }, (_, i) => `10.${1 + (i >> 4)}.${(i & 15) * 16}.0/20`)];
const V6 = ['::/0', '2001:db8::/32', '2001:db8::1/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', '8000::/1',
  ...Array.from({ length: 15 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`)];

for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
  t.test(`seed ${seed}: the list read and the table walk at the threshold do the same, against a model`, async (t) => {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const ribs: Record<Mode, LocRib> = { walk: makeRib(), list: makeRib() };
    const routerIds = new Map<number, string>(PEERS.map((n) => [n, `10.0.0.${n}`]));
    const unused: Record<Mode, string[]> = { walk: [], list: [] };
    /** (source, path id) whose last path left since the last flush, in the model. */
    const leftUnused = new Set<string>();
    const heard: Record<Mode, number> = { walk: 0, list: 0 };
    for (const mode of ['walk', 'list'] as const) {
      for (const n of PEERS) addPeer(ribs[mode], n);
      ribs[mode].onPathIdUnused((s, id) => unused[mode].push(`${s.key}#${id}`));
      ribs[mode].onBestChange(() => heard[mode]++);
    }
    const model: Model = new Map();
    /** Per source: its IPv4 paths its import filter holds back, `${prefix}#${path id}` → med. */
    const held = new Map<string, Map<string, number>>(PEERS.map((n) => [key(n), new Map()]));
    /** Per source: its import filter, on IPv4 prefixes (IPv6 ones are announced by update(), which no filter sees). */
    const filters = new Map<string, ((prefix: string, med: number) => boolean) | null>();
    const dropHeld = (src: string, family: Family | undefined): void => { for (const k of held.get(src)!.keys()) if (family === undefined || famOf(k) === family) held.get(src)!.delete(k); };
    let before = { fresh: selections(ribs.walk, 'fresh'), same: selections(ribs.walk, 'same') };
    let passes = 0;
    let walked = 0;
    let ecmp = 0;
    for (let step = 0; step < 500; step++) {
      const n = pick(PEERS);
      const src = key(n);
      const family: Family = r() < 0.6 ? 'ipv4' : 'ipv6';
      const x = r();
      const idsBefore = new Map<string, number>();
      for (const paths of model.values()) for (const k of paths.keys()) idsBefore.set(k, (idsBefore.get(k) ?? 0) + 1);
      let what: string;
      /** The path ids left unused, when not those the operation leaves unused at its end. */
      let unusedOnTheWay: string[] | undefined;
      if (x < 0.45) {
        // announce: new, changed, or the same attributes again (after a stale mark: fresh again);
        // IPv4 as an UPDATE through the source's import filter, which may hold it back
        const prefix = pick(family === 'ipv4' ? V4 : V6);
        const id = Math.floor(r() * 3);
        const med = Math.floor(r() * 2);
        const rejected = family === 'ipv4' && (filters.get(src)?.(prefix, med) ?? false);
        for (const rib of Object.values(ribs)) {
          if (family === 'ipv6') { rib.update(src, prefix, id, rib.attrSets.intern(attrsOf(src, prefix, med))); continue; }
          const res = rib.applyUpdate(src, { type: 'update', withdrawn: [], attributes: attrsOf(src, prefix, med), nlri: [{ prefix, pathId: id }] });
          t.equal(res.announced, rejected ? 0 : 1, `announce ${src} ${prefix} #${id} med ${med}`);
        }
        let paths = model.get(prefix);
        if (!paths) model.set(prefix, (paths = new Map()));
        if (rejected) {
          paths.delete(`${src}#${id}`);
          if (paths.size === 0) model.delete(prefix);
          held.get(src)!.set(`${prefix}#${id}`, med);
        } else {
          paths.set(`${src}#${id}`, { med, stale: false });
          held.get(src)!.delete(`${prefix}#${id}`);
        }
        what = `announce ${src} ${prefix} #${id} med ${med}${rejected ? ' (held back)' : ''}`;
      } else if (x < 0.62) {
        const prefix = pick(family === 'ipv4' ? V4 : V6);
        const id = Math.floor(r() * 3);
        const had = model.get(prefix)?.delete(`${src}#${id}`) ?? false;
        held.get(src)!.delete(`${prefix}#${id}`);
        if (model.get(prefix)?.size === 0) model.delete(prefix);
        for (const rib of Object.values(ribs)) t.equal(rib.withdraw(src, prefix, id), had, `withdraw ${src} ${prefix} #${id}`);
        what = `withdraw ${src} ${prefix} #${id}`;
      } else if (x < 0.70) {
        dropHeld(src, family); // the peer sends its table again
        let want = 0;
        for (const [p, paths] of model) if (famOf(p) === family) for (const [k, q] of paths) if (k.startsWith(`${src}#`) && !q.stale) { q.stale = true; want++; }
        what = `markStale ${src} ${family} (${want})`;
        const got = { walk: 0, list: 0 };
        for (const mode of ['walk', 'list'] as const) got[mode] = runPass(t, ribs[mode], mode, src, [family], (rib) => rib.markStale(src, family), what);
        t.same(got, { walk: want, list: want }, what);
      } else if (x < 0.77) {
        let want = 0;
        for (const [p, paths] of model) {
          if (famOf(p) !== family) continue;
          for (const [k, q] of paths) if (k.startsWith(`${src}#`) && q.stale) { paths.delete(k); want++; }
          if (paths.size === 0) model.delete(p);
        }
        what = `sweepStale ${src} ${family} (${want})`;
        const got = { walk: 0, list: 0 };
        for (const mode of ['walk', 'list'] as const) got[mode] = runPass(t, ribs[mode], mode, src, [family], (rib) => rib.sweepStale(src, family), what);
        t.same(got, { walk: want, list: want }, what);
      } else if (x < 0.84) {
        const whole = r() < 0.4;
        dropHeld(src, whole ? undefined : family);
        let want = 0;
        for (const [p, paths] of model) {
          if (!whole && famOf(p) !== family) continue;
          for (const k of paths.keys()) if (k.startsWith(`${src}#`)) { paths.delete(k); want++; }
          if (paths.size === 0) model.delete(p);
        }
        what = `removeSource ${src}${whole ? '' : ` ${family}`} (${want})`;
        const got = { walk: 0, list: 0 };
        for (const mode of ['walk', 'list'] as const) got[mode] = runPass(t, ribs[mode], mode, src, whole ? FAMILIES : [family], (rib) => (whole ? rib.removeSource(src) : rib.removeSource(src, family)), what);
        t.same(got, { walk: want, list: want }, what);
      } else if (x < 0.89) {
        // the session comes back with another router id: every destination of the source is reselected
        const id = `10.0.${Math.floor(r() * 256)}.${n}`;
        routerIds.set(n, id);
        what = `re-register ${src} router id ${id}`;
        for (const mode of ['walk', 'list'] as const) runPass(t, ribs[mode], mode, src, FAMILIES, (rib) => { addPeer(rib, n, { routerId: id }); return 0; }, what);
      } else if (x < 0.94) {
        // a new import filter (or none): accepted paths it rejects are held back, held ones it accepts come in
        const which = Math.floor(r() * 3);
        const pred = which === 0 ? null : which === 1 ? (_p: string, med: number) => med === 1 : (p: string) => V4.indexOf(p) % 3 === 0;
        filters.set(src, pred);
        let want = 0;
        if (pred) {
          for (const [p, paths] of model) {
            if (famOf(p) !== 'ipv4') continue;
            for (const [k, q] of paths) if (k.startsWith(`${src}#`) && pred(p, q.med)) { paths.delete(k); held.get(src)!.set(`${p}#${k.split('#')[1]}`, q.med); want++; }
            if (paths.size === 0) model.delete(p);
          }
        }
        // the paths it rejects leave first: an id they leave unused is told, even if a path it admits takes it again
        const idsBetween = new Set<string>();
        for (const paths of model.values()) for (const k of paths.keys()) idsBetween.add(k);
        unusedOnTheWay = [...idsBefore.keys()].filter((k) => !idsBetween.has(k)).sort();
        for (const [k, med] of held.get(src)!) {
          const [p, id] = k.split('#') as [string, string];
          if (pred?.(p, med)) continue;
          held.get(src)!.delete(k);
          let paths = model.get(p);
          if (!paths) model.set(p, (paths = new Map()));
          paths.set(`${src}#${id}`, { med, stale: false });
          want++;
        }
        what = `import filter ${src} ${['none', 'med 1', 'every third prefix'][which]} (${want} moved)`;
        for (const rib of Object.values(ribs)) {
          t.equal(rib.setImportFilter(src, pred ? rejecting((p, a) => famOf(p) === 'ipv4' && pred(p, a.attrs.med ?? 0)) : null), want, what);
        }
      } else {
        what = `staleCount ${src} ${family}`;
        let want = 0;
        for (const [p, paths] of model) if (famOf(p) === family) for (const [k, q] of paths) if (k.startsWith(`${src}#`) && q.stale) want++;
        const got = { walk: 0, list: 0 };
        for (const mode of ['walk', 'list'] as const) got[mode] = runPass(t, ribs[mode], mode, src, [family], (rib) => rib.staleCount(src, family), what);
        t.same(got, { walk: want, list: want }, what);
      }
      if (/^(markStale|sweepStale|removeSource|re-register|staleCount)/.test(what)) passes++;
      const label = `step ${step} (${what})`;
      // the last path of (source, path id) leaving is told at the next flush, once, by both,
      // unless a path uses the id again by then
      const idsAfter = new Map<string, number>();
      for (const paths of model.values()) for (const k of paths.keys()) idsAfter.set(k, (idsAfter.get(k) ?? 0) + 1);
      for (const k of unusedOnTheWay ?? [...idsBefore.keys()].filter((k) => !idsAfter.has(k))) leftUnused.add(k);
      for (const mode of ['walk', 'list'] as const) t.same(unused[mode], [], `${label}: ${mode}: no path id told before the flush`) || t.bailout();
      const a = snapshot(ribs.walk);
      const b = snapshot(ribs.list);
      if (a.join('\n') !== b.join('\n')) { t.same(b, a, `${label}: the same Loc-RIB either way`); t.bailout(); }
      checkModel(t, ribs.list, model, label);
      for (const m of PEERS) if (ribs.list.filteredCount(key(m)) !== held.get(key(m))!.size) t.fail(`${label}: ${key(m)} holds back ${ribs.list.filteredCount(key(m))} paths, the model ${held.get(key(m))!.size}`);
      if (r() < 0.3 || step === 499) {
        heard.walk = heard.list = 0;
        const batches = { walk: ribs.walk.flush(), list: ribs.list.flush() };
        const gone = [...leftUnused].filter((k) => !idsAfter.has(k)).sort();
        leftUnused.clear();
        for (const mode of ['walk', 'list'] as const) {
          t.same(unused[mode].sort(), gone, `${label}: ${mode}: path ids left unused, told at the flush`) || t.bailout();
          unused[mode].length = 0;
        }
        const text = (bs: readonly BestChange[]) => bs.map((c) => `${c.prefix} ${describe(c.previousBest)} -> ${describe(c.best)} [${c.multipath.map(describe).join(',')}]`).sort();
        t.same(text(batches.list), text(batches.walk), `${label}: the same batch either way`);
        for (const mode of ['walk', 'list'] as const) {
          const rib = ribs[mode];
          const batch = batches[mode];
          const prefixes = batch.map((c) => c.prefix);
          t.equal(new Set(prefixes).size, prefixes.length, `${label}: ${mode}: each prefix once in the batch`);
          t.equal(heard[mode], batch.length > 0 ? 1 : 0, `${label}: ${mode}: listeners told once`);
          for (const c of batch) {
            const s = rib.selection(c.prefix);
            if (c.best !== (s?.best ?? null) || c.multipath.length !== (s?.multipath.length ?? 0) || c.multipath.some((p, i) => p !== s!.multipath[i])) {
              t.fail(`${label}: ${mode}: ${c.prefix} reported otherwise than selection() holds`);
            }
            if (c.best === null && rib.selection(c.prefix) !== undefined) t.fail(`${label}: ${mode}: ${c.prefix} gone but still has a destination`);
          }
        }
        const reported = new Set(batches.walk.map((c) => c.prefix));
        const after = { fresh: selections(ribs.walk, 'fresh'), same: selections(ribs.walk, 'same') };
        const missing: string[] = [];
        const extra: string[] = [];
        for (const p of new Set([...before.fresh.keys(), ...after.fresh.keys()])) {
          const f0 = before.fresh.get(p);
          const f1 = after.fresh.get(p);
          if ((f0?.best !== f1?.best || f0?.multipath !== f1?.multipath) && !reported.has(p)) missing.push(p);
          const s0 = before.same.get(p);
          const s1 = after.same.get(p);
          if (s0 !== undefined && s1 !== undefined && s0.best === s1.best && s0.multipath === s1.multipath && reported.has(p)) extra.push(p);
        }
        t.same(missing, [], `${label}: every prefix whose selection changed is in the batch`);
        t.same(extra, [], `${label}: no prefix whose selection is the same paths is`);
        before = after;
        for (const rv of ribs.walk.routes()) if (rv.multipath.length > 1) ecmp++;
        checkAfresh(t, ribs.walk, model, routerIds, label);
        // a new peer's walk over a few sources' destinations: each one they hold a path for, once, as selection() has it
        const some = PEERS.filter(() => r() < 0.5).map((m) => ribs.list.source(key(m))!);
        for (const f of FAMILIES) {
          const got = [...ribs.list.selectionsOf(some, f)];
          const want = [...ribs.list.routes(f)].filter((rv) => rv.paths.some((q) => some.includes(q.source))).map((rv) => rv.prefix).sort();
          t.same(got.map(([p]) => p).sort(), want, `${label}: selectionsOf ${some.map((x) => x.key).join(' ')} ${f}`);
          if (got.some(([p, sel]) => ribs.list.selection(p) !== sel)) t.fail(`${label}: selectionsOf hands another selection than selection()`);
        }
      }
    }
    t.ok(passes > 50, `${passes} passes, ${walked} walked`);
    t.ok(ecmp > 0, `multipath sets of several paths seen (${ecmp})`);

    /** One pass on one Loc-RIB at the threshold; checks it went the way `mode` says. */
    function runPass(t: Test, rib: LocRib, mode: Mode, srcKey: string, families: readonly Family[], fn: (rib: LocRib) => number, what: string): number {
      const { value, walks, listed } = atThreshold(rib, rib.source(srcKey), families, mode, () => fn(rib));
      if (mode === 'list' && walks > 0) t.fail(`${what}: the list's reader walked the table`);
      if (mode === 'walk' && listed > 0 && walks === 0) t.fail(`${what}: at the threshold the table was not walked`);
      if (mode === 'walk') walked += walks;
      return value;
    }
  });
}
