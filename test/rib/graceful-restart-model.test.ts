// Randomized model test of graceful restart, receiving speaker (RFC 4724 §4.2), with a
// FakeClock, at two layers: the GracefulRestartHelper over the Loc-RIB it drives, and the
// RoutingCore (sessions established and down with the peer's GR capability in the
// negotiated parameters, UPDATEs and End-of-RIB through onUpdate, peerRemoved; no sockets).
//
// 2–4 iBGP peers announce and withdraw IPv4 and IPv6 paths (some with ADD-PATH ids), go
// down with or without GR (the GR capability of the session that ends: its families and
// Restart Time, sometimes 0), come back with a new capability (families present or absent,
// each with or without the Forwarding State bit, or no capability at all), send End-of-RIB for
// one family or both in any order (or never), go down again before End-of-RIB, or are
// deconfigured while stale; the clock is moved to just before, at and just after the restart
// and stale deadlines. After every step an independent model is compared with the Loc-RIB:
// each path (source, prefix, path id, attributes) and its stale mark, each peer's GR state,
// stale families and stale counts, and the number of timers running (one per peer whose
// recovery is not over). At each flush the batch lists each prefix once: every prefix whose
// best path changed, with the right best and previous best, and no other but one whose best
// is the same route as a new Path object (changes go by identity, destination.ts). Stale paths take no part in
// selection in tern (path.ts): the model's best is the highest LOCAL_PREF, stale or not
// (every path at a prefix has its own LOCAL_PREF, all else equal).
import t, { type Test } from 'tap';
import { FakeClock } from '../../src/util/clock.js';
import { GracefulRestartHelper } from '../../src/rib/graceful-restart.js';
import type { BestChange, LocRib } from '../../src/rib/loc-rib.js';
import type { Path } from '../../src/rib/path.js';
import type { Family } from '../../src/net/prefix.js';
import { makeRib, addPeer, announce, rng } from './fixtures/helpers.js';
import { makeCore } from './fixtures/core.js';
import type { PeerHandle } from '../../src/bgp/session/peer.js';
import type { PeerGracefulRestart } from '../../src/bgp/session/capabilities.js';
import type { Nlri, UpdateMessage } from '../../src/bgp/wire/types.js';

const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
const PREFIXES: Record<Family, string[]> = {
  ipv4: Array.from({ length: 12 }, (_, i) => `10.244.${i}.0/26`),
  ipv6: Array.from({ length: 12 }, (_, i) => `fd00:${i + 1}::/64`),
};

interface MPath { lp: number; stale: boolean }
type Phase = 'none' | 'restarting' | 'awaitingEndOfRib';
interface MPeer {
  key: string;
  /** The GR capability of the current (or last) session. */
  cap: GrCap;
  session: 'up' | 'down' | 'unconfigured';
  phase: Phase;
  staleFams: Set<Family>;
  deadline: number | null;
  /** `${prefix}#${pathId}` → path */
  paths: Map<string, MPath>;
}

const fam = (prefix: string): Family => (prefix.includes(':') ? 'ipv6' : 'ipv4');
function attrsFor(prefix: string, lp: number) {
  return fam(prefix) === 'ipv4'
    ? { origin: 0 as const, asPath: [], nextHop: '10.0.0.254', localPref: lp }
    : { origin: 0 as const, asPath: [], nextHop: 'fd00::254', localPref: lp };
}
const pathStr = (p: { key: string; pathId: number; lp: number; stale: boolean }) => `${p.key}#${p.pathId} lp=${p.lp}${p.stale ? ' stale' : ''}`;
const ofPath = (p: Path) => ({ key: p.source.key, pathId: p.pathId, lp: p.attrs.attrs.localPref ?? -1, stale: p.stale });
const bestId = (p: { key: string; pathId: number; lp: number } | null | undefined) => (p ? `${p.key}#${p.pathId} lp=${p.lp}` : 'none');

class Model {
  readonly peers: MPeer[];
  now: number;
  /** Best at the last flush, per prefix. */
  flushedBest = new Map<string, string>();
  /** The best Path object at the last flush, per prefix. */
  flushedObj = new Map<string, Path | null>();
  constructor(keys: readonly string[], now: number) {
    this.now = now;
    this.peers = keys.map((key) => ({
      key, session: 'up' as const, phase: 'none' as const, staleFams: new Set<Family>(), deadline: null, paths: new Map(), cap: null,
    }));
  }

  pathsAt(prefix: string): { key: string; pathId: number; lp: number; stale: boolean }[] {
    const out = [];
    for (const p of this.peers) {
      for (const [k, v] of p.paths) {
        const [pfx, id] = k.split('#');
        if (pfx === prefix) out.push({ key: p.key, pathId: Number(id), lp: v.lp, stale: v.stale });
      }
    }
    return out;
  }

  best(prefix: string): string {
    const ps = this.pathsAt(prefix);
    if (ps.length === 0) return 'none';
    return bestId(ps.reduce((a, b) => (b.lp > a.lp ? b : a)));
  }

  drop(p: MPeer, family: Family | null, staleOnly: boolean): void {
    for (const [k, v] of [...p.paths]) {
      if (family && fam(k.split('#')[0]!) !== family) continue;
      if (staleOnly && !v.stale) continue;
      p.paths.delete(k);
    }
  }

  /** Timers due by `to`, in deadline order (peer order on a tie, as the helper set them... checked by outcome only). */
  advance(to: number): void {
    for (;;) {
      const due = this.peers.filter((p) => p.deadline !== null && p.deadline <= to).sort((a, b) => a.deadline! - b.deadline!);
      const p = due[0];
      if (!p) break;
      // Restart Time over: everything of the peer goes; stale time over: the still-stale paths go
      seen(p.phase === 'restarting' ? 'restart timer expired' : 'stale timer expired');
      if (p.deadline === to) seen('timer expired at exactly the clock');
      if (p.phase === 'restarting') this.drop(p, null, false);
      else for (const f of p.staleFams) this.drop(p, f, true);
      p.phase = 'none';
      p.staleFams.clear();
      p.deadline = null;
    }
    this.now = to;
  }
}

function check(t: Test, d: Driver, m: Model, where: string): boolean {
  const { rib, gr, clock } = d;
  for (const f of FAMILIES) {
    for (const prefix of PREFIXES[f]) {
      const want = m.pathsAt(prefix).map(pathStr).sort();
      const got = (rib.lookup(prefix)?.paths ?? []).map((p) => pathStr(ofPath(p))).sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) { t.same(got, want, `${where}: paths at ${prefix}`); return false; }
    }
  }
  for (const p of m.peers) {
    if (gr.state(p.key) !== p.phase) { t.equal(gr.state(p.key), p.phase, `${where}: GR state of ${p.key}`); return false; }
    const sf = gr.staleFamilies(p.key).sort();
    if (JSON.stringify(sf) !== JSON.stringify([...p.staleFams].sort())) { t.same(sf, [...p.staleFams].sort(), `${where}: stale families of ${p.key}`); return false; }
    for (const f of FAMILIES) {
      const want = [...p.paths].filter(([k, v]) => v.stale && fam(k.split('#')[0]!) === f).length;
      if (rib.staleCount(p.key, f) !== want) { t.equal(rib.staleCount(p.key, f), want, `${where}: stale count ${p.key} ${f}`); return false; }
    }
  }
  const timers = m.peers.filter((p) => p.deadline !== null).length + d.otherTimers;
  if (clock.pendingTimers() !== timers) { t.equal(clock.pendingTimers(), timers, `${where}: timers running`); return false; }
  return true;
}

function checkFlush(t: Test, rib: LocRib, m: Model, changes: BestChange[], where: string): boolean {
  const seen = new Set<string>();
  for (const c of changes) {
    if (seen.has(c.prefix)) { t.fail(`${where}: ${c.prefix} twice in one batch`); return false; }
    seen.add(c.prefix);
  }
  for (const f of FAMILIES) {
    for (const prefix of PREFIXES[f]) {
      const prev = m.flushedBest.get(prefix) ?? 'none';
      const now = m.best(prefix);
      const got = bestId(rib.lookup(prefix)?.best ? ofPath(rib.lookup(prefix)!.best!) : null);
      if (got !== now) { t.equal(got, now, `${where}: best at ${prefix}`); return false; }
      const c = changes.find((x) => x.prefix === prefix);
      // A change is reported where the best path is another (source, path id, attributes);
      // also, by identity (destination.ts recompute), where it is the same route as a new Path
      // object (withdrawn and re-announced between flushes: a new attribute set).
      const obj = rib.lookup(prefix)?.best ?? null;
      const sameObj = obj === (m.flushedObj.get(prefix) ?? null);
      if (prev !== now ? c === undefined : c !== undefined && sameObj) { t.fail(`${where}: ${prefix} best ${prev} -> ${now} (same Path: ${sameObj}), reported: ${c !== undefined}`); return false; }
      m.flushedObj.set(prefix, obj);
      if (c) {
        const cb = bestId(c.best ? ofPath(c.best) : null);
        const cp = bestId(c.previousBest ? ofPath(c.previousBest) : null);
        if (cb !== now || cp !== prev) { t.same([cp, cb], [prev, now], `${where}: change at ${prefix}`); return false; }
      }
      if (now === 'none') m.flushedBest.delete(prefix); else m.flushedBest.set(prefix, now);
    }
  }
  return true;
}

/** How often each kind of event happened over every seed: each must happen (the test covers it). */
const stats = new Map<string, number>();
const seen = (k: string): void => void stats.set(k, (stats.get(k) ?? 0) + 1);

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** The peer's GR capability on a session: Restart Time, families with their F bit; null: none. */
type GrCap = { restartTime: number; families: Map<Family, boolean> } | null;

/** What the random steps drive: the helper over a Loc-RIB, or the RoutingCore above it. */
interface Driver {
  readonly rib: LocRib;
  readonly gr: GracefulRestartHelper;
  readonly clock: FakeClock;
  readonly staleTime: number;
  readonly keys: readonly string[];
  /** Timers the driver runs besides GR's. */
  readonly otherTimers: number;
  announce(key: string, prefix: string, pathId: number, lp: number): void;
  withdraw(key: string, prefix: string, pathId: number): void;
  /** Session down; `cap` is the one negotiated on it. Returns what the helper said, if seen. */
  down(key: string, applies: boolean, cap: GrCap): 'stale' | 'removed' | null;
  /** Session established with `cap`. */
  up(key: string, cap: GrCap): void;
  /** End-of-RIB; the number swept, if seen. */
  endOfRib(key: string, f: Family): number | null;
  deconfigure(key: string): void;
  close(): void;
}

function helperDriver(nPeers: number): Driver {
  const rib = makeRib();
  const clock = new FakeClock();
  const staleTime = 50;
  const gr = new GracefulRestartHelper(rib, clock, { staleTime });
  const keys = Array.from({ length: nPeers }, (_, i) => `10.0.0.${i + 2}|179`);
  const num = (key: string) => Number(key.split('|')[0]!.split('.')[3]);
  for (const k of keys) addPeer(rib, num(k));
  return {
    rib, gr, clock, staleTime, keys, otherTimers: 0,
    announce: (key, prefix, pathId, lp) => announce(rib, key, prefix, attrsFor(prefix, lp), pathId),
    withdraw: (key, prefix, pathId) => void rib.withdraw(key, prefix, pathId),
    down: (key, applies, cap) => gr.peerDown(key, { gracefulRestartApplies: applies, restartTime: cap?.restartTime ?? 0, families: cap ? [...cap.families.keys()] : [] }),
    up: (key, cap) => {
      addPeer(rib, num(key));
      gr.peerUp(key, { preservedFamilies: cap ? [...cap.families].filter(([, fbit]) => fbit).map(([f]) => f) : null });
    },
    endOfRib: (key, f) => gr.endOfRib(key, f),
    deconfigure: (key) => gr.forget(key),
    close: () => gr.close(),
  };
}

/**
 * The RoutingCore with stand-in peer handles (no sockets): UPDATEs and End-of-RIB go in by
 * onUpdate, sessions by onEstablished / onDown with the GR capability in the handle's
 * negotiated parameters, deconfiguration by peerRemoved. Both families and ADD-PATH receive
 * are negotiated on every session.
 */
function coreDriver(nPeers: number): Driver {
  const { core, clock, spec } = makeCore(Array.from({ length: nPeers }, (_, i) => i + 2));
  const specs = Array.from({ length: nPeers }, (_, i) => spec(i + 2));
  const byKey = new Map(specs.map((s) => [s.key, s]));
  const handles = new Map<string, PeerHandle>();
  /** Keys whose session is established. */
  const up = new Set<string>();
  const handleFor = (key: string, cap: GrCap): PeerHandle => {
    const sp = byKey.get(key)!;
    const peerGracefulRestart: PeerGracefulRestart | null = cap
      ? { restartTime: cap.restartTime, restarting: false, notification: true, families: new Map([...cap.families].map(([f, fbit]) => [f, { forwardingPreserved: fbit }])) }
      : null;
    const negotiated = {
      families: new Set<Family>(FAMILIES), fourOctetAs: true, addPathSend: new Set(), addPathReceive: new Set<Family>(FAMILIES),
      holdTime: 90, keepaliveTime: 30, peerRouterId: sp.address, peerAs: sp.peerAs, ebgp: false,
      routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false, peerGracefulRestart,
      decodeOptions: { fourOctetAs: true }, encodeOptions: { fourOctetAs: true },
    };
    const h = { spec: sp, negotiated, write: () => true, send: () => true, fail: () => undefined, on: () => h, off: () => h };
    return h as unknown as PeerHandle;
  };
  const upd = (attributes: object, nlri: Nlri[] = [], withdrawn: Nlri[] = []) => ({ type: 'update', withdrawn, attributes, nlri }) as unknown as UpdateMessage;
  return {
    rib: core.rib, gr: core.gr, clock, staleTime: 360, keys: specs.map((s) => s.key), otherTimers: 0,
    announce: (key, prefix, pathId, lp) => {
      const a = attrsFor(prefix, lp);
      core.onUpdate(handles.get(key)!, fam(prefix) === 'ipv4'
        ? upd(a, [{ prefix, pathId }])
        : upd({ origin: 0, asPath: [], localPref: lp, mpReach: { afi: 2, safi: 1, nextHops: [a.nextHop], nlri: [{ prefix, pathId }] } }));
    },
    withdraw: (key, prefix, pathId) => {
      core.onUpdate(handles.get(key)!, fam(prefix) === 'ipv4'
        ? upd({}, [], [{ prefix, pathId }])
        : upd({ mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix, pathId }] } }));
    },
    down: (key, applies) => {
      core.onDown(handles.get(key)!, applies ? 'holdTimerExpired' : 'notificationReceived', applies);
      up.delete(key);
      return null;
    },
    up: (key, cap) => {
      const h = handleFor(key, cap);
      handles.set(key, h);
      up.add(key);
      core.onEstablished(h);
    },
    endOfRib: (key, f) => {
      core.onUpdate(handles.get(key)!, f === 'ipv4' ? upd({}) : upd({ mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }));
      return null;
    },
    deconfigure: (key) => {
      core.peerRemoved(key);
      // The daemon tells the core first; the session it stops (Cease 6/3, or Hard Reset with
      // the N bit: GR does not apply, session/peer.ts) may report down afterwards.
      if (up.delete(key)) core.onDown(handles.get(key)!, 'peerDeconfigured', false);
    },
    close: () => core.close(),
  };
}

/** Runs `steps` random steps from `seed`; returns the log of the steps on failure (empty when all checks held). */
function run(t: Test, seed: number, steps: number, makeDriver: (nPeers: number) => Driver): string[] {
  const r = rng(seed);
  const d = makeDriver(2 + Math.floor(r() * 3));
  const { rib, gr, clock } = d;
  const t0 = clock.now();
  const m = new Model(d.keys, t0);
  const randomCap = (): GrCap => {
    if (r() < 0.15) return null;
    const families = new Map<Family, boolean>();
    for (const f of FAMILIES) if (r() < 0.75) families.set(f, r() < 0.7);
    return { restartTime: r() < 0.05 ? 0 : 10 + Math.floor(r() * 110), families };
  };
  const capStr = (c: GrCap) => (c ? `rt=${c.restartTime} ${[...c.families].map(([f, fb]) => `${f}${fb ? '+F' : ''}`).join(',') || 'no families'}` : 'no GR');
  for (const p of m.peers) { p.cap = randomCap(); d.up(p.key, p.cap); }
  let changes: BestChange[] = [];
  rib.onBestChange((c) => changes.push(...c));
  const log: string[] = [];

  for (let i = 0; i < steps; i++) {
    const p = pick(r, m.peers);
    const x = r();
    let what: string;
    if (p.session === 'up' && x < 0.4) {
      const staleOnes = [...p.paths].filter(([, v]) => v.stale).map(([k]) => k);
      let prefix: string;
      let pathId: number;
      if (staleOnes.length > 0 && r() < 0.6) { // the restarted peer sends its table again
        const [a, b] = pick(r, staleOnes).split('#');
        prefix = a!; pathId = Number(b);
      } else {
        prefix = pick(r, PREFIXES[pick(r, FAMILIES)]);
        pathId = r() < 0.3 ? 1 + Math.floor(r() * 2) : 0;
      }
      const cur = p.paths.get(`${prefix}#${pathId}`);
      let lp: number;
      if (cur && r() < 0.5) { lp = cur.lp; seen(cur.stale ? 'stale path re-advertised unchanged' : 're-advertised unchanged'); } // re-advertised unchanged
      else {
        const used = new Set(m.pathsAt(prefix).map((q) => q.lp));
        do lp = 1 + Math.floor(r() * 200); while (used.has(lp));
      }
      d.announce(p.key, prefix, pathId, lp);
      p.paths.set(`${prefix}#${pathId}`, { lp, stale: false });
      what = `announce ${p.key} ${prefix}#${pathId} lp=${lp}`;
    } else if (p.session === 'up' && x < 0.5) {
      const own = [...p.paths.keys()];
      const k = own.length > 0 && r() < 0.8 ? pick(r, own) : `${pick(r, PREFIXES[pick(r, FAMILIES)])}#${Math.floor(r() * 3)}`;
      const [prefix, id] = k.split('#');
      d.withdraw(p.key, prefix!, Number(id));
      p.paths.delete(k);
      what = `withdraw ${p.key} ${k}`;
    } else if (p.session === 'up' && x < 0.62) {
      const applies = r() < 0.8;
      const restartTime = p.cap?.restartTime ?? 0;
      const families = p.cap ? [...p.cap.families.keys()] : [];
      const res = d.down(p.key, applies, p.cap);
      p.session = 'down';
      const graceful = applies && restartTime > 0 && families.length > 0;
      seen(graceful ? (p.phase === 'awaitingEndOfRib' ? 'down again before End-of-RIB' : `down with GR for ${families.join('+')}`) : 'down without GR');
      if (!graceful) {
        m.drop(p, null, false);
        p.phase = 'none'; p.staleFams.clear(); p.deadline = null;
      } else {
        for (const f of FAMILIES) {
          if (families.includes(f)) for (const [k, v] of p.paths) { if (fam(k.split('#')[0]!) === f) v.stale = true; }
          else m.drop(p, f, false);
        }
        p.phase = 'restarting';
        p.staleFams = new Set(families);
        p.deadline = m.now + restartTime * 1000;
      }
      if (res !== null && res !== (graceful ? 'stale' : 'removed')) { t.equal(res, graceful ? 'stale' : 'removed', `seed ${seed} step ${i}: peerDown result`); return log; }
      what = `down ${p.key} gr=${applies} rt=${restartTime} fams=${families.join('+')}`;
    } else if (p.session === 'down' && x < 0.6) {
      p.cap = randomCap();
      d.up(p.key, p.cap);
      const preserved = p.cap ? [...p.cap.families].filter(([, fbit]) => fbit).map(([f]) => f) : null;
      p.session = 'up';
      if (p.phase === 'restarting') {
        for (const f of [...p.staleFams]) {
          if (preserved?.includes(f)) continue;
          seen('up without forwarding state for a stale family');
          m.drop(p, f, true); // no forwarding state preserved for f: its stale paths go at once
          p.staleFams.delete(f);
        }
        if (p.staleFams.size > 0) { p.phase = 'awaitingEndOfRib'; p.deadline = m.now + d.staleTime * 1000; }
        else { p.phase = 'none'; p.deadline = null; }
      }
      what = `up ${p.key} ${capStr(p.cap)}`;
    } else if (p.session === 'up' && x < 0.75) {
      const f = pick(r, FAMILIES);
      const before = [...p.paths].filter(([k, v]) => v.stale && fam(k.split('#')[0]!) === f).length;
      const n = d.endOfRib(p.key, f);
      let want = 0;
      if (p.phase === 'awaitingEndOfRib' && p.staleFams.has(f)) {
        want = before;
        m.drop(p, f, true);
        p.staleFams.delete(f);
        if (p.staleFams.size === 0) { p.phase = 'none'; p.deadline = null; }
        seen(want === 0 ? 'End-of-RIB, every stale path re-advertised' : p.staleFams.size === 0 ? 'End-of-RIB swept, recovery over' : 'End-of-RIB swept, other family still stale');
      }
      if (n !== null && n !== want) { t.equal(n, want, `seed ${seed} step ${i}: End-of-RIB ${f} swept count`); return log; }
      what = `EoR ${p.key} ${f} swept=${n}`;
    } else if (x < 0.9) {
      const deadlines = m.peers.map((q) => q.deadline).filter((d): d is number => d !== null);
      let to: number;
      if (deadlines.length > 0 && r() < 0.4) to = Math.max(m.now, pick(r, deadlines) + pick(r, [-1, 0, 1, -1000, 500]));
      else to = m.now + Math.floor(r() * 8_000);
      const from = m.now;
      const hadRestarting = m.peers.filter((q) => q.phase === 'restarting' && q.deadline !== null && q.deadline <= to);
      clock.advance(to - m.now);
      m.advance(to);
      for (const q of hadRestarting) {
        if ([...rib.routes()].some((rv) => rv.paths.some((pp) => pp.source.key === q.key))) { t.fail(`seed ${seed} step ${i}: ${q.key} has paths after its restart timer`); return log; }
      }
      what = `advance ${to - from}ms to t=${to - t0}`;
    } else if (x < 0.95) {
      if (p.session === 'unconfigured') {
        p.cap = randomCap();
        d.up(p.key, p.cap);
        p.session = 'up';
        what = `configure ${p.key} ${capStr(p.cap)}`;
      } else {
        seen(p.phase === 'none' ? 'deconfigured' : 'deconfigured while stale');
        d.deconfigure(p.key);
        m.drop(p, null, false);
        p.session = 'unconfigured'; p.phase = 'none'; p.staleFams.clear(); p.deadline = null;
        what = `deconfigure ${p.key}`;
      }
    } else {
      what = 'nothing';
    }
    log.push(what);
    const where = `seed ${seed} step ${i} (${what})`;
    if (!check(t, d, m, where)) return log;
    if (r() < 0.5) {
      changes = [];
      rib.flush();
      if (!checkFlush(t, rib, m, changes, where)) return log;
    }
  }
  changes = [];
  rib.flush();
  if (!checkFlush(t, rib, m, changes, `seed ${seed} end`)) return log;
  d.close();
  t.equal(clock.pendingTimers(), 0, `seed ${seed}: close leaves no timer`);
  return [];
}

const SEEDS = Array.from({ length: 150 }, (_, i) => 4724 + i * 7919);

t.test('random graceful restart sequences agree with the model (GracefulRestartHelper over the Loc-RIB)', async (t) => {
  for (const seed of SEEDS) {
    const log = run(t, seed, 400, helperDriver);
    if (log.length > 0) { t.comment(`seed ${seed} steps:\n  ${log.slice(-30).join('\n  ')}`); break; }
  }
  assertCovered(t);
});

/** Every kind of event happened in the test's runs (since `stats` was cleared). */
function assertCovered(t: Test): void {
  for (const k of [
    're-advertised unchanged', 'stale path re-advertised unchanged', 'down with GR for ipv4', 'down with GR for ipv6', 'down with GR for ipv4+ipv6',
    'down without GR', 'down again before End-of-RIB', 'up without forwarding state for a stale family', 'End-of-RIB swept, recovery over', 'End-of-RIB, every stale path re-advertised',
    'End-of-RIB swept, other family still stale', 'restart timer expired', 'stale timer expired', 'timer expired at exactly the clock',
    'deconfigured', 'deconfigured while stale',
  ]) t.ok((stats.get(k) ?? 0) > 0, `covered: ${k} (${stats.get(k) ?? 0})`);
  stats.clear();
}

t.test('random graceful restart sequences agree with the model (RoutingCore, sessions and UPDATEs)', async (t) => {
  for (const seed of SEEDS.slice(0, 60)) {
    const log = run(t, seed, 400, coreDriver);
    if (log.length > 0) { t.comment(`seed ${seed} steps:\n  ${log.slice(-30).join('\n  ')}`); break; }
  }
  assertCovered(t);
});
