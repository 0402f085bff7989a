// Adj-RIB-Out model test: random sequences of Loc-RIB and session events, fixed seeds, and at
// quiescence what every peer was sent, decoded and applied in order to a model of that peer's
// Adj-RIB-In, against what the Loc-RIB's current selection exports to it. Never lost routes.
//
// The world: a Loc-RIB (a reflector for even seeds, a mesh node for odd ones) with iBGP
// sources 10.0.0.2/3 (RR clients of the reflector), 10.0.0.4 (not a client), an eBGP source
// 192.0.2.1 (AS 65100) and the node's own routes (`local`); IPv4 and IPv6 prefixes inside and
// outside the pools, own blocks and their more-specifics. Out peers on one AdjRibOutManager:
// iBGP 10.0.0.2 and 10.0.0.3 (one update group; each also a source: never sent its own
// routes), iBGP 10.0.0.4 and 10.0.0.6 with ADD-PATH, eBGP 192.0.2.1 (a source) with the twins
// 192.0.2.5/6 in its group, eBGP 198.51.100.7 (AS 65200, ADD-PATH, 2-octet AS), IPv6 iBGP and
// eBGP (ADD-PATH) peers; small batches (1 to 50 prefixes) so batches split, and a few seeds
// with 1 200 prefixes and mass events for message sizes.
//
// Operations, interleaved with Loc-RIB flushes: announce / re-announce with other attributes
// (next hop, AS path, MED, LOCAL_PREF, communities incl. NO_EXPORT and long lists) / withdraw,
// under received path ids; own routes set and cleared; a source removed (session down);
// graceful restart (mark stale, re-announce some, sweep); a peer's sink stops taking writes
// and later drains (any time, also between an UPDATE and the flush); selection deferral
// (hold) and its release; plain and enhanced route refresh; a peer removed and added again
// (a new session, initial walk); export context changes (an own block added and removed).
//
// The expected export, two ways:
// 1. exportPath (src/policy/export.ts) over the Loc-RIB's current best path (or multipath
//    with ADD-PATH), without the peer's own routes: the policy alone, not the Adj-RIB-Out's
//    machinery (update groups, their cache and reach test, the out queue, the diff). Writing
//    the policy a second time here would only re-implement export.ts; the RIB's selection is
//    checked against a table built afresh by remove-source.test.ts.
// 2. A fresh AdjRibOutManager on a Loc-RIB built afresh from the model's final paths, each
//    peer sent its table by the initial walk only: the code path a long-lived incremental
//    Adj-RIB-Out must end up agreeing with.
// With ADD-PATH the ids differ between the two (each manager hands out its own), so a prefix
// compares as the sorted list of the attribute sets sent under its ids.
//
// Invariants checked as it runs: every message decodes and is at most 4096 octets; nothing
// is written while held; a withdrawal names a route the peer holds; End-of-RIB once per
// session, and when the walk could finish at once the peer's table at End-of-RIB is exactly
// the export; a refresh of an idle peer re-sends exactly its table (enhanced: within
// BoRR/EoRR); the twins receive identical bytes; no ADD-PATH id is held for a path the
// Loc-RIB no longer has; after everything is torn down no attribute set is left interned.
import t, { type Test } from 'tap';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { AdjRibOut, PeerSink } from '../../src/rib/adj-rib-out.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import type { LocRib } from '../../src/rib/loc-rib.js';
import type { Family } from '../../src/net/prefix.js';
import type { PathAttributes, UpdateMessage } from '../../src/bgp/wire/types.js';
import { decodeMessage } from '../../src/bgp/wire/index.js';
import { exportPath, type ExportContext } from '../../src/policy/export.js';
import { makeRib, addPeer, seq } from './fixtures/helpers.js';
import { CTX } from './fixtures/export-ctx.js';
import { splitMessages, isEor } from './fixtures/sink.js';

const MAX_MESSAGE = 4096;
const NO_EXPORT = 0xffffff01;
const CLUSTER = '244.0.0.1';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const famOf = (prefix: string): Family => (prefix.includes(':') ? 'ipv6' : 'ipv4');

// ---- sources ----

interface SourceDef { key: string; n: number; opts: { address?: string; asn?: number; rrClient?: boolean }; ebgp: boolean; v6: string }

function sourceDefs(reflector: boolean): SourceDef[] {
  return [
    { key: '10.0.0.2|179', n: 2, opts: { rrClient: reflector }, ebgp: false, v6: '2001:db8::2' },
    { key: '10.0.0.3|179', n: 3, opts: { rrClient: reflector }, ebgp: false, v6: '2001:db8::3' },
    { key: '10.0.0.4|179', n: 4, opts: {}, ebgp: false, v6: '2001:db8::4' },
    { key: '192.0.2.1|179', n: 1, opts: { address: '192.0.2.1', asn: 65100 }, ebgp: true, v6: '2001:db8:1::1' },
  ];
}

const LOCAL_V4: PathAttributes = Object.freeze({ origin: 0, asPath: [], nextHop: '10.0.0.1' });
const LOCAL_V6: PathAttributes = Object.freeze({ origin: 0, asPath: [], nextHop: 'fd00::1' });

// ---- out peers ----

function outPeers(reflector: boolean): OutPeer[] {
  const i = (n: number, extra: Partial<OutPeer> = {}): OutPeer => ({ key: `10.0.0.${n}|179`, family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra });
  const e = (key: string, extra: Partial<OutPeer> = {}): OutPeer => ({ ...i(0), key, ebgp: true, peerAs: 65100, ...extra });
  return [
    i(2, { routeReflectorClient: reflector }),
    i(3, { routeReflectorClient: reflector }),
    i(4, { addPath: true }),
    i(6, { routeReflectorClient: reflector, addPath: true }),
    e('192.0.2.1|179'),
    e('192.0.2.5|179'),
    e('192.0.2.6|179'),
    e('198.51.100.7|179', { peerAs: 65200, addPath: true, fourOctetAs: false }),
    { ...i(0), key: 'fd00::2|179', family: 'ipv6', localAddress: 'fd00::1', routeReflectorClient: reflector },
    { ...e('fd00:9::8|179'), family: 'ipv6', localAddress: 'fd00::1', peerAs: 65300, addPath: true },
  ];
}

/** Members of one update group that are sources of nothing: sent the very same bytes. */
const TWINS = ['192.0.2.5|179', '192.0.2.6|179'] as const;
const isTwin = (key: string): boolean => (TWINS as readonly string[]).includes(key);

/** One step. Sources by number (10.0.0.n, 192.0.2.1 is 1), peers by key. */
type Op =
  | { k: 'ann'; src: number; prefix: string; pathId: number; attrs: PathAttributes }
  | { k: 'wd'; src: string; prefix: string; pathId: number }
  | { k: 'local'; prefix: string }
  | { k: 'flush' } | { k: 'ctx' } | { k: 'check' }
  | { k: 'drain'; key: string; room: number }
  | { k: 'block'; key: string; room: number }
  | { k: 'bulk'; src: number; prefixes: string[]; attrs: PathAttributes }
  | { k: 'down'; src: number; fam: Family | undefined }
  | { k: 'stale' | 'sweep'; src: number; fam: Family }
  | { k: 'hold'; on: boolean }
  | { k: 'refresh'; key: string }
  | { k: 'add'; key: string; enhanced: boolean }
  | { k: 'remove'; key: string };

function describeOp(op: Op): string {
  switch (op.k) {
    case 'ann': return `ann ${op.src} ${op.prefix}#${op.pathId} ${attrText(op.attrs).slice(0, 90)}`;
    case 'wd': return `wd ${op.src} ${op.prefix}#${op.pathId}`;
    case 'local': return `local ${op.prefix}`;
    case 'drain': case 'block': return `${op.k} ${op.key} ${op.room}`;
    case 'bulk': return `bulk ${op.src} ${op.prefixes.length} from ${op.prefixes[0]}`;
    case 'down': return `down ${op.src} ${op.fam ?? ''}`;
    case 'stale': case 'sweep': return `${op.k} ${op.src} ${op.fam}`;
    case 'hold': return `hold ${op.on}`;
    case 'add': return `add ${op.key}${op.enhanced ? ' (enhanced refresh)' : ''}`;
    case 'refresh': case 'remove': return `${op.k} ${op.key}`;
    default: return op.k;
  }
}

// ---- what a peer holds: its Adj-RIB-In, built from the bytes it was sent ----

const KNOWN = new Set(['origin', 'asPath', 'nextHop', 'med', 'localPref', 'communities', 'originatorId', 'clusterList', 'mpReach', 'mpUnreach']);

/** The attributes that matter, as one string; `a` decoded (MP next hop) or as exported. */
function attrText(a: PathAttributes): string {
  const nh = a.mpReach ? a.mpReach.nextHops[0] : a.nextHop;
  return JSON.stringify({
    origin: a.origin, asPath: (a.asPath ?? []).map((s) => [s.type, ...s.asns]), nh, med: a.med ?? null, lp: a.localPref ?? null,
    c: a.communities ?? [], oid: a.originatorId ?? null, cl: a.clusterList ?? [], other: Object.keys(a).filter((k) => !KNOWN.has(k)).sort(),
  });
}

type View = Map<string, string[]>;

class ModelSink implements PeerSink {
  room = Infinity;
  private cb: (() => void) | undefined;
  readonly bytes: Buffer[] = [];
  /** prefix (or prefix#id under ADD-PATH) → attributes, as the peer believes. */
  readonly held = new Map<string, string>();
  readonly errors: string[] = [];
  eor = 0;
  /** Route refresh markers received, in order. */
  readonly markers: string[] = [];
  /** A second table the same messages are applied to (a refresh's capture). */
  capture: Map<string, string> | null = null;
  closed = false;

  constructor(readonly peer: OutPeer, private readonly holding: () => boolean) {}

  write(buf: Buffer): boolean {
    if (this.closed) this.errors.push('written after the peer was removed');
    if (this.holding()) this.errors.push('written while held (selection deferral)');
    this.bytes.push(buf);
    for (const m of splitMessages(buf)) this.apply(m);
    this.room--;
    return this.room > 0;
  }

  onDrain(cb: () => void): void {
    this.cb = cb;
  }

  drain(room = Infinity): void {
    this.room = room;
    this.cb?.();
  }

  private apply(frame: Buffer): void {
    if (frame.length > MAX_MESSAGE) this.errors.push(`message of ${frame.length} octets`);
    const fam = this.peer.family;
    let msg;
    try {
      msg = decodeMessage(frame, { fourOctetAs: this.peer.fourOctetAs, ...(this.peer.addPath ? { addPath: new Set([fam]) } : {}) });
    } catch (err) {
      this.errors.push(`undecodable message: ${(err as Error).message}`);
      return;
    }
    if (msg.type === 'routeRefresh') { this.markers.push(['RR', 'BoRR', 'EoRR'][msg.subtype] ?? `RR${msg.subtype}`); return; }
    if (msg.type !== 'update') { this.errors.push(`unexpected ${msg.type}`); return; }
    const u = msg as UpdateMessage;
    if (isEor(u)) {
      const mp = u.attributes.mpUnreach;
      if ((fam === 'ipv4') !== (mp === undefined)) this.errors.push('End-of-RIB of another family');
      this.eor++;
      return;
    }
    if (this.eor > 1) this.errors.push('End-of-RIB sent twice');
    const a = u.attributes;
    if (fam === 'ipv6' && (u.nlri.length > 0 || u.withdrawn.length > 0)) this.errors.push('IPv4 NLRI to an IPv6 peer');
    const k = (n: { prefix: string; pathId?: number }): string => (this.peer.addPath ? `${n.prefix}#${n.pathId}` : n.prefix);
    for (const n of [...u.withdrawn, ...(a.mpUnreach?.withdrawn ?? [])]) {
      if (famOf(n.prefix) !== fam) this.errors.push(`${n.prefix} withdrawn from a ${fam} peer`);
      if (!this.held.delete(k(n))) this.errors.push(`withdrawal of ${k(n)}, not held`);
      this.capture?.delete(k(n));
    }
    const text = attrText(a);
    for (const n of [...u.nlri, ...(a.mpReach?.nlri ?? [])]) {
      if (famOf(n.prefix) !== fam) this.errors.push(`${n.prefix} announced to a ${fam} peer`);
      this.held.set(k(n), text);
      this.capture?.set(k(n), text);
    }
  }

  view(): View {
    return viewOf(this.held);
  }
}

function viewOf(held: ReadonlyMap<string, string>): View {
  const v: View = new Map();
  for (const [k, text] of held) {
    const prefix = k.split('#')[0]!;
    const l = v.get(prefix);
    if (l) l.push(text);
    else v.set(prefix, [text]);
  }
  for (const l of v.values()) l.sort();
  return v;
}

/** Differences between two views, a few lines at most. */
function diffViews(got: View, want: View): string[] {
  const out: string[] = [];
  for (const [p, w] of want) {
    const g = got.get(p);
    if (!g) out.push(`${p}: missing (want ${w.join(' | ')})`);
    else if (g.join('|') !== w.join('|')) out.push(`${p}: got ${g.join(' | ')} want ${w.join(' | ')}`);
  }
  for (const [p, g] of got) if (!want.has(p)) out.push(`${p}: extra (${g.join(' | ')})`);
  return out.slice(0, 8);
}

// ---- the model of the Loc-RIB's paths ----

interface MPath { src: string; pathId: number; attrs: PathAttributes; stale: boolean }

/** What the Loc-RIB's current selection exports to `peer`, by the policy alone. */
function policyView(rib: LocRib, ctx: ExportContext, peer: OutPeer): View {
  const v: View = new Map();
  for (const r of rib.routes(peer.family)) {
    if (!r.best) continue;
    const paths = peer.addPath ? r.multipath : [r.best];
    const l: string[] = [];
    for (const p of paths) {
      const a = exportPath(ctx, r.prefix, p, peer);
      if (a) l.push(attrText(a));
    }
    if (l.length > 0) v.set(r.prefix, l.sort());
  }
  return v;
}

// ---- one run ----

interface Config { seed: number; steps: number; large: boolean }

/** A peer's session: `enhanced`, RFC 7313 negotiated (its refreshes are framed by BoRR/EoRR). */
interface Live { peer: OutPeer; sink: ModelSink; out: AdjRibOut; enhanced: boolean }

class World {
  readonly r: () => number;
  readonly reflector: boolean;
  readonly rib: LocRib;
  readonly ctx0: ExportContext;
  readonly ctx1: ExportContext;
  ctx: ExportContext;
  readonly mgr: AdjRibOutManager;
  readonly batch: number;
  readonly sources: SourceDef[];
  readonly peers: OutPeer[];
  readonly live = new Map<string, Live>();
  readonly model = new Map<string, Map<string, MPath>>();
  readonly v4: string[];
  readonly v6: string[];
  readonly log: string[] = [];
  readonly errors: string[] = [];
  readonly trace: Op[] = [];

  constructor(readonly cfg: Config) {
    this.r = rng(cfg.seed);
    this.reflector = cfg.seed % 2 === 0;
    this.rib = makeRib(this.reflector ? { clusterId: CLUSTER } : {});
    this.sources = sourceDefs(this.reflector);
    for (const s of this.sources) addPeer(this.rib, s.n, s.opts);
    this.ctx0 = this.reflector ? { ...CTX, clusterId: CLUSTER } : CTX;
    this.ctx1 = { ...this.ctx0, ownBlocks: [...this.ctx0.ownBlocks, '10.244.8.0/26'] };
    this.ctx = this.ctx0;
    this.batch = cfg.large ? this.pick([100, 700, 4096]) : this.pick([1, 2, 3, 7, 50]);
    this.mgr = new AdjRibOutManager(this.rib, this.ctx, { batchSize: this.batch });
    this.peers = outPeers(this.reflector);
    const n4 = cfg.large ? 1200 : 24;
    this.v4 = [
      ...Array.from({ length: n4 }, (_, i) => (cfg.large ? `10.244.${8 + (i >> 4)}.${(i & 15) * 16}/28` : `10.244.${8 + (i >> 2)}.${(i & 3) * 64}/26`)),
      '10.244.1.0/26', '10.244.1.0/27', '10.244.7.5/32', '10.250.3.0/26', '10.99.5.0/26', '192.168.5.0/24',
    ];
    this.v6 = [...Array.from({ length: 8 }, (_, i) => `fd00:1:0:${i + 1}::/64`), 'fd00:1::40/122', 'fd99::/64'];
  }

  int(n: number): number { return Math.floor(this.r() * n); }
  pick<T>(l: readonly T[]): T { return l[this.int(l.length)]!; }
  prefix(): string { return this.r() < 0.8 ? this.pick(this.v4) : this.pick(this.v6); }

  note(s: string): void {
    this.log.push(s);
    if (this.log.length > 40) this.log.shift();
  }

  // -- Loc-RIB side --

  randomAttrs(s: SourceDef, prefix: string): PathAttributes {
    const a: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { origin: this.int(3) === 0 ? 1 : 0 };
    a.asPath = s.ebgp ? seq(65100, ...(this.r() < 0.5 ? [65001] : [])) : this.r() < 0.3 ? seq(65010) : [];
    a.nextHop = famOf(prefix) === 'ipv4' ? (this.r() < 0.9 ? s.opts.address ?? `10.0.0.${s.n}` : '10.0.0.99') : s.v6;
    const med = this.int(5);
    if (med < 4) a.med = med;
    const lp = this.int(4);
    if (lp === 1) a.localPref = 100;
    if (lp === 2) a.localPref = 200;
    const c = this.int(10);
    if (c === 0) a.communities = [NO_EXPORT];
    else if (c === 1) a.communities = [65000 * 65536 + this.int(4)];
    else if (c === 2) a.communities = Array.from({ length: 200 + this.int(300) }, (_, i) => 65001 * 65536 + i);
    return a;
  }

  announce(s: SourceDef, prefix: string, pathId: number, a: PathAttributes): void {
    this.rib.update(s.key, prefix, pathId, this.rib.attrSets.intern(a));
    let paths = this.model.get(prefix);
    if (!paths) this.model.set(prefix, (paths = new Map()));
    paths.set(`${s.key}#${pathId}`, { src: s.key, pathId, attrs: a, stale: false });
  }

  withdraw(src: string, prefix: string, pathId: number): void {
    if (src === 'local') this.rib.setLocal(prefix, null);
    else this.rib.withdraw(src, prefix, pathId);
    const paths = this.model.get(prefix);
    paths?.delete(`${src}#${pathId}`);
    if (paths?.size === 0) this.model.delete(prefix);
  }

  setLocal(prefix: string): void {
    const a = famOf(prefix) === 'ipv4' ? LOCAL_V4 : LOCAL_V6;
    this.rib.setLocal(prefix, a);
    let paths = this.model.get(prefix);
    if (!paths) this.model.set(prefix, (paths = new Map()));
    paths.set('local#0', { src: 'local', pathId: 0, attrs: a, stale: false });
  }

  modelRemove(src: string, fam: Family | undefined, staleOnly: boolean): void {
    for (const [prefix, paths] of this.model) {
      if (fam !== undefined && famOf(prefix) !== fam) continue;
      for (const [k, p] of paths) if (p.src === src && (!staleOnly || p.stale)) paths.delete(k);
      if (paths.size === 0) this.model.delete(prefix);
    }
  }

  // -- peers --

  addOut(peer: OutPeer, enhanced: boolean): void {
    const sink = new ModelSink(peer, () => this.mgr.holding);
    const out = this.mgr.addPeer(peer, sink);
    this.live.set(peer.key, { peer, sink, out, enhanced });
    // The walk can finish at once: the peer's table at End-of-RIB is the export, exactly.
    if (!this.mgr.holding && !this.rib.pending) {
      if (sink.eor !== 1) this.fail(`${peer.key}: End-of-RIB ${sink.eor} times right after an unhindered initial walk`);
      const d = diffViews(sink.view(), policyView(this.rib, this.ctx, peer));
      if (d.length) this.fail(`${peer.key}: table at End-of-RIB differs from the export: ${d.join('; ')}`);
    } else if (sink.eor !== 0 && this.mgr.holding) this.fail(`${peer.key}: End-of-RIB while held`);
  }

  removeOut(key: string): void {
    const l = this.live.get(key)!;
    this.mgr.removePeer(key);
    l.sink.closed = true;
    if (l.sink.errors.length) this.fail(`${key} (removed): ${l.sink.errors.slice(0, 4).join('; ')}`);
    this.live.delete(key);
  }

  refresh(key: string): void {
    const l = this.live.get(key)!;
    const enhanced = l.enhanced;
    const strict = !this.mgr.holding && !this.rib.pending && l.sink.room === Infinity && l.out.idle;
    const before = strict ? new Map(l.sink.held) : null;
    const marks = l.sink.markers.length;
    if (strict) l.sink.capture = new Map();
    this.mgr.routeRefresh(key, l.peer.family, enhanced);
    if (!strict || !before) return;
    const d = diffViews(viewOf(l.sink.capture!), viewOf(before));
    l.sink.capture = null;
    if (d.length) this.fail(`${key}: a refresh did not re-send exactly the table: ${d.join('; ')}`);
    const m = l.sink.markers.slice(marks).join(',');
    if (m !== (enhanced ? 'BoRR,EoRR' : '')) this.fail(`${key}: refresh markers ${m}`);
  }

  /** One sink's room (the twins together, so their streams stay the same). */
  sinksOf(key: string): ModelSink[] {
    if (isTwin(key)) return TWINS.map((k) => this.live.get(k)?.sink).filter((s): s is ModelSink => s !== undefined);
    const l = this.live.get(key);
    return l ? [l.sink] : [];
  }

  fail(s: string): void {
    this.errors.push(`seed ${this.cfg.seed}: ${s}\n  last steps: ${this.log.slice(-12).join(' / ')}`);
  }

  // -- steps: generated as data (a trace can be replayed, and cut down to a minimal case) --

  /** The next random operation, from the current state. */
  gen(): Op[] {
    const x = this.int(100);
    const srcs = this.sources;
    const livePeer = (): string | undefined => (this.live.size ? this.pick([...this.live.keys()]) : undefined);
    if (x < 30) { // announce / re-announce
      const s = this.pick(srcs);
      const prefix = this.prefix();
      const pathId = s.n === 2 ? this.int(3) : 0; // 10.0.0.2 sends ADD-PATH
      return [{ k: 'ann', src: s.n, prefix, pathId, attrs: this.randomAttrs(s, prefix) }];
    }
    if (x < 42) { // withdraw a path the model holds
      const prefixes = [...this.model.keys()];
      if (!prefixes.length) return [];
      const prefix = this.pick(prefixes);
      const p = this.pick([...this.model.get(prefix)!.values()]);
      return [{ k: 'wd', src: p.src, prefix, pathId: p.pathId }];
    }
    if (x < 46) { // own route set / cleared
      const prefix = this.r() < 0.5 ? this.pick(['10.244.1.0/26', '10.99.5.0/26', 'fd00:1::40/122', '10.250.3.0/26']) : this.prefix();
      if (this.model.get(prefix)?.has('local#0') && this.r() < 0.5) return [{ k: 'wd', src: 'local', prefix, pathId: 0 }];
      return [{ k: 'local', prefix }];
    }
    if (x < 60) return [{ k: 'flush' }];
    if (x < 66) { // a sink drains (some room, or all it needs)
      const key = livePeer();
      return key ? [{ k: 'drain', key, room: this.r() < 0.5 ? Infinity : 1 + this.int(3) }] : [];
    }
    if (x < 71) { // a sink stops taking writes after a few
      const key = livePeer();
      return key ? [{ k: 'block', key, room: 1 + this.int(2) }] : [];
    }
    if (x < 74) { // many prefixes at once from one source (mass events, full messages)
      const s = this.pick(srcs);
      const attrs = this.randomAttrs(s, '10.0.0.0/8');
      const from = this.int(this.v4.length);
      const n = this.cfg.large ? 200 + this.int(800) : 4 + this.int(10);
      return [{ k: 'bulk', src: s.n, prefixes: this.v4.slice(from, from + n), attrs }];
    }
    if (x < 77) { // session down without GR
      const s = this.pick(srcs);
      return [{ k: 'down', src: s.n, fam: this.r() < 0.3 ? this.pick(['ipv4', 'ipv6'] as const) : undefined }];
    }
    if (x < 80) { // graceful restart: stale, some re-announced, swept
      const s = this.pick(srcs);
      const fam = this.pick(['ipv4', 'ipv6'] as const);
      const ops: Op[] = [{ k: 'stale', src: s.n, fam }];
      if (this.r() < 0.5) ops.push({ k: 'flush' });
      for (const [prefix, paths] of this.model) {
        if (famOf(prefix) !== fam) continue;
        for (const p of paths.values()) {
          if (p.src !== s.key || this.r() < 0.4) continue;
          ops.push({ k: 'ann', src: s.n, prefix, pathId: p.pathId, attrs: this.r() < 0.6 ? p.attrs : this.randomAttrs(s, prefix) });
        }
      }
      if (this.r() < 0.5) ops.push({ k: 'flush' });
      ops.push({ k: 'sweep', src: s.n, fam });
      return ops;
    }
    if (x < 83) return [{ k: 'hold', on: !this.mgr.holding }];
    if (x < 87) { // route refresh, plain or enhanced
      const key = livePeer();
      return key ? [{ k: 'refresh', key }] : [];
    }
    if (x < 93) { // a session goes down or comes up (the twins stay)
      const peer = this.pick(this.peers.filter((p) => !isTwin(p.key)));
      return [this.live.has(peer.key) ? { k: 'remove', key: peer.key } : { k: 'add', key: peer.key, enhanced: this.r() < 0.5 }];
    }
    if (x < 95) return [{ k: 'ctx' }]; // an own block comes or goes
    return [{ k: 'check' }];
  }

  src(n: number): SourceDef {
    return this.sources.find((s) => s.n === n)!;
  }

  apply(op: Op): void {
    this.trace.push(op);
    this.note(describeOp(op));
    switch (op.k) {
      case 'ann': this.announce(this.src(op.src), op.prefix, op.pathId, op.attrs); break;
      case 'wd': if (this.model.get(op.prefix)?.has(`${op.src}#${op.pathId}`)) this.withdraw(op.src, op.prefix, op.pathId); break;
      case 'local': this.setLocal(op.prefix); break;
      case 'flush': this.rib.flush(); break;
      case 'drain': for (const s of this.sinksOf(op.key)) s.drain(op.room); break;
      case 'block': for (const s of this.sinksOf(op.key)) s.room = op.room; break;
      case 'bulk': for (const p of op.prefixes) this.announce(this.src(op.src), p, 0, op.attrs); break;
      case 'down': {
        const key = this.src(op.src).key;
        this.rib.removeSource(key, op.fam);
        this.modelRemove(key, op.fam, false);
        break;
      }
      case 'stale': {
        const key = this.src(op.src).key;
        this.rib.markStale(key, op.fam);
        for (const [prefix, paths] of this.model) if (famOf(prefix) === op.fam) for (const p of paths.values()) if (p.src === key) p.stale = true;
        break;
      }
      case 'sweep': {
        const key = this.src(op.src).key;
        this.rib.sweepStale(key, op.fam);
        this.modelRemove(key, op.fam, true);
        break;
      }
      case 'hold': this.mgr.hold(op.on); break;
      case 'refresh': for (const k of isTwin(op.key) ? TWINS : [op.key]) if (this.live.has(k)) this.refresh(k); break;
      case 'add': if (!this.live.has(op.key)) this.addOut(this.peers.find((p) => p.key === op.key)!, op.enhanced); break;
      case 'remove': if (this.live.has(op.key)) this.removeOut(op.key); break;
      case 'ctx': this.ctx = this.ctx === this.ctx0 ? this.ctx1 : this.ctx0; this.mgr.setContext(this.ctx); break;
      case 'check': this.quiesceAndCheck(); break;
    }
  }

  // -- quiescence --

  quiesceAndCheck(): void {
    this.mgr.hold(false);
    this.rib.flush();
    for (const l of this.live.values()) l.sink.drain(Infinity);
    for (const [key, l] of this.live) {
      if (this.mgr.get(key) !== l.out) { this.fail(`${key}: its Adj-RIB-Out is gone (closed by an error?)`); continue; }
      if (!l.out.idle) this.fail(`${key}: not idle after every sink drained`);
      if (l.sink.errors.length) this.fail(`${key}: ${l.sink.errors.slice(0, 4).join('; ')}`);
      l.sink.errors.length = 0;
      if (l.sink.eor !== 1) this.fail(`${key}: End-of-RIB ${l.sink.eor} times`);
      const last = l.sink.markers.filter((m) => m === 'BoRR' || m === 'EoRR').at(-1);
      if (last === 'BoRR') this.fail(`${key}: an enhanced refresh without its EoRR`);
      const got = l.sink.view();
      const d = diffViews(got, policyView(this.rib, this.ctx, l.peer));
      if (d.length) this.fail(`${key}: the peer's table differs from the export: ${d.join('; ')}`);
    }
    this.checkFresh();
    const a = this.live.get(TWINS[0]);
    const b = this.live.get(TWINS[1]);
    if (a && b && !Buffer.concat(a.sink.bytes).equals(Buffer.concat(b.sink.bytes))) this.fail('the twins of one update group were sent different bytes');
    // An ADD-PATH id per (source, received path id) the Loc-RIB still holds, at most.
    const pairs = new Set<string>();
    for (const paths of this.model.values()) for (const p of paths.values()) pairs.add(`${p.src}#${p.pathId}`);
    if (this.mgr.ids.size > pairs.size) this.fail(`${this.mgr.ids.size} ADD-PATH ids held for ${pairs.size} (source, path id) pairs`);
  }

  /** A fresh Loc-RIB from the model and a fresh manager: each peer's initial walk only. */
  checkFresh(): void {
    const rib = makeRib(this.reflector ? { clusterId: CLUSTER } : {});
    for (const s of this.sources) addPeer(rib, s.n, s.opts);
    for (const [prefix, paths] of this.model) {
      for (const p of paths.values()) {
        if (p.src === 'local') rib.setLocal(prefix, p.attrs);
        else rib.update(p.src, prefix, p.pathId, rib.attrSets.intern(p.attrs));
      }
    }
    rib.flush();
    const mgr = new AdjRibOutManager(rib, this.ctx, { batchSize: 4096 });
    for (const [key, l] of this.live) {
      const sink = new ModelSink(l.peer, () => false);
      mgr.addPeer(l.peer, sink);
      if (sink.errors.length) this.fail(`${key} (fresh): ${sink.errors.slice(0, 4).join('; ')}`);
      const d = diffViews(l.sink.view(), sink.view());
      if (d.length) this.fail(`${key}: the peer's table differs from a fresh Adj-RIB-Out's initial walk: ${d.join('; ')}`);
    }
    mgr.close();
  }

  /** The random run: a start (maybe under selection deferral), `steps` operations, a final check. */
  run(): void {
    if (this.r() < 0.3) this.apply({ k: 'hold', on: true }); // a restart: deferral from the start
    const twinsEnhanced = this.r() < 0.5;
    for (const p of this.peers) if (isTwin(p.key) || this.r() < 0.6) this.apply({ k: 'add', key: p.key, enhanced: isTwin(p.key) ? twinsEnhanced : this.r() < 0.5 });
    for (let i = 0; i < this.cfg.steps; i++) for (const op of this.gen()) this.apply(op);
    this.finish();
  }

  /** A given trace (a minimised case), then the final check. */
  replay(ops: readonly Op[]): void {
    for (const op of ops) this.apply(op);
    this.finish();
  }

  finish(): void {
    this.quiesceAndCheck();
    this.teardown();
  }

  /** Everything withdrawn and every peer gone: no attribute set may stay interned. */
  teardown(): void {
    for (const key of [...this.live.keys()]) this.removeOut(key);
    this.mgr.close();
    for (const s of this.sources) this.rib.removeSource(s.key);
    for (const [prefix, paths] of this.model) if (paths.has('local#0')) this.rib.setLocal(prefix, null);
    this.rib.flush();
    this.rib.attrSets.prune();
    if (this.rib.size('ipv4') + this.rib.size('ipv6') !== 0) this.fail('routes left after everything was withdrawn');
    if (this.rib.attrSets.size !== 0) this.fail(`${this.rib.attrSets.size} attribute sets still interned after teardown`);
  }
}

function runSeed(t: Test, cfg: Config): void {
  const w = new World(cfg);
  w.run();
  t.same(w.errors.slice(0, 6), [], `seed ${cfg.seed} (${w.reflector ? 'reflector' : 'mesh node'}, batch ${w.batch}, ${cfg.steps} steps${cfg.large ? ', 1 200 prefixes' : ''})`);
}

// ---- what the random runs found, cut down to a few steps ----

function ebgpPeer(key: string, extra: Partial<OutPeer> = {}): OutPeer {
  return { key, family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

t.test('a refresh re-sending a route and a withdrawal of it in one batch: the peer is left without it (seed 1000, minimised)', async (t) => {
  // The peer is blocked when the refresh is asked for and the route is withdrawn; on the
  // drain one batch held both the re-sent route and its withdrawal, and withdrawals are
  // packed first: W then U, and the peer kept a route the node no longer has.
  const L = '10.244.13.0/26';
  const rib = makeRib();
  rib.setLocal(L, LOCAL_V4);
  rib.flush();
  const mgr = new AdjRibOutManager(rib, CTX);
  const peer = ebgpPeer('192.0.2.6|179');
  const sink = new ModelSink(peer, () => false);
  mgr.addPeer(peer, sink);
  t.same([...sink.held.keys()], [L], 'initial table');
  sink.room = 1;
  rib.setLocal('10.244.14.0/26', LOCAL_V4);
  rib.flush(); // written, and the sink is full
  mgr.routeRefresh(peer.key, 'ipv4', true);
  rib.setLocal(L, null);
  rib.flush();
  sink.drain();
  t.same(sink.errors, []);
  t.same([...sink.held.keys()], ['10.244.14.0/26'], 'the withdrawn route is gone from the peer');
  t.same(sink.markers, ['BoRR', 'EoRR']);
  mgr.close();
});

t.test('a new ADD-PATH peer walking a selection whose path just left: its id is released at the flush (seed 1028, minimised)', async (t) => {
  // The path's (source, path id) became unused at the withdrawal, before the flush; the new
  // peer's walk reads the flushed selection, which still holds the path, and was handed a
  // new id for it, which nothing released afterwards.
  const rib = makeRib();
  addPeer(rib, 2);
  rib.update('10.0.0.2|179', '10.244.12.64/26', 1, rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2' }));
  rib.flush();
  rib.withdraw('10.0.0.2|179', '10.244.12.64/26', 1);
  const mgr = new AdjRibOutManager(rib, CTX);
  const peer = ebgpPeer('198.51.100.7|179', { peerAs: 65200, addPath: true });
  const sink = new ModelSink(peer, () => false);
  mgr.addPeer(peer, sink);
  rib.flush();
  t.same(sink.errors, []);
  t.same([...sink.held.keys()], [], 'announced by the walk, then withdrawn');
  t.equal(mgr.ids.size, 0, 'no ADD-PATH id held for a path the Loc-RIB does not have');
  mgr.close();
});

const SMALL_SEEDS = Array.from({ length: 100 }, (_, i) => 1000 + i);
const LARGE_SEEDS = [7001, 7002, 7003, 7004, 7005, 7006];

t.test('random operations: every peer ends up with what the Loc-RIB exports to it', async (t) => {
  for (const seed of SMALL_SEEDS) runSeed(t, { seed, steps: 300, large: false });
});

t.test('large tables and mass events: full messages, batches split, nothing lost', async (t) => {
  for (const seed of LARGE_SEEDS) runSeed(t, { seed, steps: 120, large: true });
});
