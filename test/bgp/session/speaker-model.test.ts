// Randomized model test of the speaker's reconfiguration: a seeded PRNG drives sequences of
// Speaker.setPeers calls against one Speaker on 127.0.0.1 peering with 3–8 far-end Speakers
// on 127.0.0.10+ (real loopback TCP, one shared FakeClock). Steps: peers added, removed and
// re-added; session parameters changed (peer AS, local AS, port, passive, hold time,
// keepalive, connect retry, GR time, ADD-PATH, next-hop mode, RR client, allow-own-AS, TCP
// MD5 password and GTSM when the socket options work here, a type change that changes the
// TTL); live fields changed (name, type, Calico node, import limit, filters); the same list
// re-sent, copied and reordered; bursts of these without a pause; far ends that restart.
//
// At each quiet point (every session that can come up is up on both ends, every retired
// connection closed; then fake time runs on for a while) it checks against a model:
// exactly the configured peers have status rows, with their current name and type; a peer
// is Established exactly when its far end accepts its parameters; a peer whose session
// parameters did not change kept its session (same connection, same `since`, no OPEN, no
// 'down' or 'established' on either end); a session ended by a change or a removal got
// exactly one NOTIFICATION, Cease 6/6 or 6/3 (RFC 4486), as the last message before it
// closed, and came back once (one 'established' on each end); a far end's restart ended the
// session without a NOTIFICATION from us; a removed peer is never dialed and nothing is sent
// to it; one connection per session; no exception escapes.
import t from 'tap';
import type { Test } from 'tap';
import type { PeerSpec } from '../../../src/peering/peer-spec.js';
import type { PeerStatus } from '../../../src/bgp/session/peer.js';
import { unavailable } from '../../../src/bgp/session/sockopt.js';
import { fdOf, setMinTtl } from '../../../src/bgp/session/sockopt.js';
import { FakeClock } from '../../../src/util/clock.js';
import { RawListener } from '../../helpers/raw-peer.js';
import type { RawPeer } from '../../helpers/raw-peer.js';
import { rng } from '../../rib/fixtures/helpers.js';
import { LOCAL_AS, notificationHex, peerSpec, startSpeaker } from './fixtures.js';
import { Harness, SPEAKER_ADDRESS, farRow, notifications, sentOpen } from './speaker-model-harness.js';
import type { Conn, FarEnd } from './speaker-model-harness.js';
import { once } from 'node:events';
import { collectEscapes } from '../../helpers/escapes.js';

const escaped = collectEscapes(t);

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
function shuffle<T>(r: Rand, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [xs[i], xs[j]] = [xs[j]!, xs[i]!]; }
  return xs;
}

/** MD5 and GTSM can be set on sockets here (else those parameters are left out). */
const SECURE = unavailable() === undefined;
const BAD_AS = 65999;

// ---- the model of what restarts a session, written from RFC 4271 / BIRD, not from the code ----
const RESTART_FIELDS = ['address', 'port', 'family', 'localAs', 'peerAs', 'sourceAddress', 'passive', 'holdTime', 'keepaliveTime',
  'connectRetryTime', 'gracefulRestartTime', 'nextHopMode', 'routeReflectorClient', 'addPath', 'ttlSecurity', 'password',
  'passwordUnresolved', 'allowOwnAs', 'reachableBy'] as const;
/** An eBGP mesh session without GTSM is single-hop (TTL 1), every other one multihop: a transport parameter. */
const singleHop = (s: PeerSpec) => s.ttlSecurity === undefined && s.type === 'mesh' && s.localAs !== s.peerAs;
function mustRestart(a: PeerSpec, b: PeerSpec): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  return RESTART_FIELDS.some((k) => x[k] !== y[k]) || singleHop(a) !== singleHop(b);
}

/** Would far end `f` run a session with a speaker configured as `s`? */
function accepts(f: FarEnd, s: PeerSpec): boolean {
  return s.localAs === LOCAL_AS && s.peerAs === f.localAs && (s.password ?? '') === (f.password ?? '') && s.ttlSecurity !== 1 &&
    !(s.passive && f.passive) && (s.port === f.port || !f.passive); // the far end dials from any port
}

function set(s: PeerSpec, k: string, v: unknown): PeerSpec {
  const o = { ...s } as Record<string, unknown>;
  if (v === undefined) delete o[k]; else o[k] = v;
  if (k === 'port') o.key = `${s.address}|${String(v)}`;
  return o as unknown as PeerSpec;
}
const filter = (r: Rand) => [{ name: `f${Math.floor(r() * 3)}`, rules: [{ action: 'reject' as const, cidr: '10.9.0.0/16', operator: 'equal' as const }] }];

function freshSpec(r: Rand, f: FarEnd): PeerSpec {
  return peerSpec({
    address: f.address, port: f.port, sourceAddress: SPEAKER_ADDRESS, passive: r() < 0.3, peerAs: f.localAs,
    holdTime: pick(r, [60, 90, 240]), type: pick(r, ['mesh', 'global', 'node'] as const), name: `Peer_${f.index}`,
    ...(f.password !== undefined ? { password: f.password } : {}),
  });
}

/** One random change of a session parameter (the model classifies it; some are live after all). */
function sessionChange(r: Rand, s: PeerSpec, f: FarEnd): PeerSpec {
  const changes: (() => PeerSpec)[] = [
    () => set(s, 'holdTime', pick(r, [60, 90, 240].filter((h) => h !== s.holdTime))),
    () => set(s, 'passive', !s.passive),
    () => set(s, 'peerAs', s.peerAs === f.localAs ? BAD_AS : f.localAs),
    () => set(s, 'localAs', s.localAs === LOCAL_AS ? 64999 : LOCAL_AS),
    () => set(s, 'port', s.port === f.port ? 1 : f.port), // port 1: refused; a new key
    () => set(s, 'keepaliveTime', s.keepaliveTime === undefined ? 20 : undefined),
    () => set(s, 'connectRetryTime', s.connectRetryTime === 5 ? 3 : 5),
    () => set(s, 'gracefulRestartTime', s.gracefulRestartTime === 120 ? 90 : 120),
    () => set(s, 'addPath', !s.addPath),
    () => set(s, 'nextHopMode', pick(r, (['auto', 'self', 'keep'] as const).filter((m) => m !== s.nextHopMode))),
    () => set(s, 'routeReflectorClient', !s.routeReflectorClient),
    () => set(s, 'allowOwnAs', s.allowOwnAs === undefined ? 1 : undefined),
    () => set(s, 'type', s.type === 'mesh' ? pick(r, ['global', 'node'] as const) : 'mesh'), // TTL when eBGP
  ];
  if (SECURE) {
    changes.push(() => set(s, 'password', pick(r, [f.password, 'other-key', undefined].filter((p) => p !== s.password))));
    changes.push(() => set(s, 'ttlSecurity', pick(r, [undefined, 255, 1].filter((v) => v !== s.ttlSecurity))));
  }
  return pick(r, changes)();
}

function liveChange(r: Rand, s: PeerSpec): PeerSpec {
  return pick(r, [
    () => set(s, 'name', `Peer_${s.address.split('.')[3]}_${Math.floor(r() * 100)}`),
    () => set(s, 'type', pick(r, ['mesh', 'global', 'node'] as const)),
    () => set(s, 'calicoNode', s.calicoNode === undefined ? 'node-x' : undefined),
    () => set(s, 'importLimit', s.importLimit === undefined ? 1000 : undefined),
    () => set(s, 'importFilter', r() < 0.5 ? undefined : filter(r)),
    () => set(s, 'exportFilter', r() < 0.5 ? undefined : filter(r)),
  ])();
}

type Ev = 'add' | 'remove' | 'restart' | 'live' | 'far';
/** A peer as the last quiet point left it. */
interface Before { up: boolean; key: string | null; since: number; conn: Conn | undefined }

async function run(t: Test, seed: number, steps: number): Promise<void> {
  const r = rng(seed);
  const clock = new FakeClock();
  const h = new Harness(clock);
  const n = 3 + Math.floor(r() * 6);
  const index = (host: string) => Number(host.split('.')[3]) - 10;
  const { speaker, port: sPort } = await startSpeaker({ clock, routerId: '10.0.0.1', connectFactory: h.speakerConnect(index) });
  const far: FarEnd[] = [];
  for (let i = 0; i < n; i++) { // eBGP only with socket options: an eBGP mesh session needs TTL 1
    far.push(await h.startFar({ index: i, address: `127.0.0.${10 + i}`, localAs: SECURE && r() < 0.5 ? 65001 + i : LOCAL_AS, passive: r() < 0.35,
      ...(SECURE && r() < 0.4 ? { password: `pw-${i}` } : {}) }, sPort));
  }
  t.teardown(async () => {
    // Stopping waits for every socket to close; one whose peer's segments are dropped (GTSM)
    // closes on a fake-clock grace timer.
    let done = false;
    const stopped = Promise.all([speaker.stop(), ...far.map((f) => f.speaker.stop())]).then(() => { done = true; });
    for (let k = 0; k < 100 && !done; k++) {
      await Promise.race([stopped, new Promise((res) => setTimeout(res, 10))]);
      clock.advance(1000);
    }
    await stopped;
  });

  const cfg: (PeerSpec | null)[] = far.map(() => null);
  let evs: Ev[][] = far.map(() => []);
  const removedAt: number[] = far.map(() => 0); // conn id from which a removed peer must see nothing
  const sUps = new Map<string, number>();
  const sDowns = new Map<string, string[]>();
  speaker.on('established', (p) => { sUps.set(p.spec.key, (sUps.get(p.spec.key) ?? 0) + 1); h.wake(); });
  speaker.on('down', (p, reason) => { sDowns.set(p.spec.key, [...(sDowns.get(p.spec.key) ?? []), reason]); h.wake(); });
  speaker.on('stateChange', () => h.wake());
  const log: string[] = [];
  let farUps = far.map((f) => f.ups); // each far end's 'established' count when the step began
  let connMark = 0; // first connection id of the step

  const setPeers = (next: (PeerSpec | null)[]) => {
    next.forEach((nw, i) => {
      const old = cfg[i] ?? null;
      if (old && (!nw || old.key !== nw.key)) { evs[i]!.push('remove'); removedAt[i] = h.connCount; }
      if (nw && (!old || old.key !== nw.key)) evs[i]!.push('add');
      else if (old && nw && mustRestart(old, nw)) evs[i]!.push('restart');
      else if (old && nw && JSON.stringify(old) !== JSON.stringify(nw)) evs[i]!.push('live');
      cfg[i] = nw;
    });
    speaker.setPeers(shuffle(r, cfg.filter((s): s is PeerSpec => s !== null).map((s) => structuredClone(s))));
  };
  const expectUp = (i: number) => cfg[i] !== null && accepts(far[i]!, cfg[i]!);
  const open = (i: number) => h.conns.filter((c) => c.peer === i && !c.closed);

  const quiet = (): boolean => {
    const rows = new Map(speaker.status().map((s) => [s.key, s]));
    if (rows.size !== cfg.filter((s) => s).length) return false;
    for (let i = 0; i < n; i++) {
      const s = cfg[i];
      const conns = open(i);
      if (conns.some((c) => notifications(c).length > 0)) return false; // a retired connection still closing
      if (!s) { if (conns.some((c) => c.sent.length > 0)) return false; continue; }
      const row = rows.get(s.key);
      if (!row) return false;
      if (expectUp(i) && (row.bgpState !== 'Established' || farRow(far[i]!)?.bgpState !== 'Established' || conns.length !== 1 || !sentOpen(conns[0]!))) return false;
    }
    return true;
  };
  /** Lets real I/O run; fake time moves 2 s whenever nothing happened for 15 ms. */
  const settle = async (until: () => boolean, fakeMs: number): Promise<boolean> => {
    for (let moved = 0, k = 0; k < 3000; k++) {
      if (until()) return true;
      if (!(await h.nextEvent(15))) {
        if (moved >= fakeMs) return false;
        clock.advance(2000);
        moved += 2000;
      }
    }
    return false;
  };

  const before = (): Before[] => far.map((_, i) => {
    const s = cfg[i];
    const row = s ? speaker.status().find((x) => x.key === s.key) : undefined;
    const conns = open(i);
    return { up: row?.bgpState === 'Established', key: s?.key ?? null, since: row?.since ?? 0, conn: conns.length === 1 ? conns[0] : undefined };
  });

  /** How often each expectation was checked (the committed seeds must reach every kind). */
  const seen = { kept: 0, changed: 0, removed: 0, farRestart: 0, cameUp: 0, refused: 0 };
  const check = (prev: Before[]): string[] => {
    const bad: string[] = [];
    const rows = new Map<string, PeerStatus>(speaker.status().map((s) => [s.key, s]));
    const keys = cfg.filter((s): s is PeerSpec => s !== null).map((s) => s.key).sort();
    if (JSON.stringify([...rows.keys()].sort()) !== JSON.stringify(keys)) bad.push(`rows ${[...rows.keys()].sort().join(' ')} ≠ configured ${keys.join(' ')}`);
    for (let i = 0; i < n; i++) {
      const s = cfg[i];
      const p = prev[i]!;
      const ev = evs[i]!;
      const row = s ? rows.get(s.key) : undefined;
      const up = expectUp(i);
      const say = (m: string) => bad.push(`peer ${i} [${ev.join(',')}] ${m}`);
      const fr = farRow(far[i]!);
      if (s && row && (row.name !== s.name || row.type !== s.type)) say(`row name/type ${row.name}/${row.type} ≠ ${s.name}/${s.type}`);
      if (up && row?.bgpState !== 'Established') say(`not Established (${row?.bgpState})`);
      if (!up && row?.bgpState === 'Established') say('Established with parameters the far end refuses');
      if (!up && fr?.bgpState === 'Established') say('far end Established while it should not be');
      const kept = p.up && up && !ev.some((e) => e === 'remove' || e === 'restart' || e === 'far');
      const ups = (s ? sUps.get(s.key) ?? 0 : 0);
      const downs = [...new Set([p.key, s?.key])].flatMap((k) => (k ? sDowns.get(k) ?? [] : []));
      if (kept) {
        const conns = open(i);
        if (row?.since !== p.since) say(`since ${row?.since} ≠ ${p.since} on a kept session`);
        if (conns.length !== 1 || conns[0] !== p.conn) say(`kept session's connection replaced (${conns.map((c) => c.id).join(',')} vs ${p.conn?.id})`);
        if (ups || downs.length || far[i]!.ups !== farUps[i]) say(`kept session saw established ${ups} / down ${downs.join(',')} / far established ${far[i]!.ups - farUps[i]!}`);
        if (h.conns.some((c) => c.peer === i && c.id >= connMark && sentOpen(c))) say('a new OPEN was sent on a kept session');
        seen.kept++;
        continue;
      }
      if (p.up) {
        const first = ev.find((e) => e === 'remove' || e === 'restart' || e === 'far');
        // RFC 8538 §5: both ends set the N bit, so Peer De-configured goes as a Hard Reset carrying 6/3.
        const want = first === 'remove' ? ['6/9(6/3)'] : first === 'restart' ? ['6/6'] : [];
        const c = p.conn;
        const got = c ? notifications(c) : ['?'];
        if (!c?.closed) say('the old session\'s connection is still open');
        if (JSON.stringify(got) !== JSON.stringify(want)) say(`old session got NOTIFICATIONs [${got.join(' ')}], want [${want.join(' ')}]`);
        const last = first === 'remove' ? notificationHex(6, 9, '0603') : notificationHex(6, 6);
        if (want.length && c && !c.sent.subarray(c.sent.length - last.length / 2).equals(Buffer.from(last, 'hex'))) say('the Cease is not the last message');
        const wantDown = first === 'remove' ? 'peerDeconfigured' : first === 'restart' ? 'configChanged' : 'notificationReceived';
        if (downs.length !== 1 || downs[0] !== wantDown) say(`downs [${downs.join(',')}], want [${wantDown}]`);
        seen[first === 'remove' ? 'removed' : first === 'restart' ? 'changed' : 'farRestart']++;
      } else if (downs.length) say(`down without a session: ${downs.join(',')}`);
      if (up && s && row && p.up && p.key === s.key && !(row.since > p.since)) say('restarted session kept its since');
      if (up) seen.cameUp++; else if (s) seen.refused++;
      if (ups !== (up ? 1 : 0) || far[i]!.ups - farUps[i]! !== (up ? 1 : 0)) say(`established ${ups} here, ${far[i]!.ups - farUps[i]!} at the far end; want ${up ? 1 : 0}`);
      if (!s) {
        for (const c of h.conns) {
          if (c.peer === i && c.id >= removedAt[i]! && (c.dialer === 'speaker' || c.sent.length > 0)) say(`removed peer: connection ${c.id} (${c.dialer}) carried ${c.sent.length} octets from us`);
        }
      }
    }
    return bad;
  };

  const begin = () => {
    evs = far.map(() => []);
    sUps.clear();
    sDowns.clear();
    farUps = far.map((f) => f.ups);
    connMark = h.connCount;
  };
  const quietPoint = async (what: string, prev: Before[]): Promise<boolean> => {
    const ok = await settle(quiet, 240_000);
    if (ok) await settle(() => false, 24_000); // nothing may come up or go down while time runs on
    const settled = ok && (await settle(quiet, 240_000));
    const bad = settled ? check(prev) : ['no quiet point within 240 s of fake time'];
    if (escaped.length) bad.push(...escaped.map((e) => `escaped: ${String(e)}`));
    log.push(what);
    if (bad.length) {
      t.same(bad, [], `seed ${seed}, n ${n}: ${log.join('; ')}`);
      return false;
    }
    return true;
  };

  // Start with a random half of the peers.
  begin();
  let prev = before();
  setPeers(far.map((f) => (r() < 0.6 ? freshSpec(r, f) : null)));
  if (!(await quietPoint('start', prev))) return;
  const removed: (PeerSpec | null)[] = far.map(() => null);
  for (let step = 0; step < steps; step++) {
    clock.advance(1000); // a restarted session gets a later `since`
    prev = before();
    begin();
    const x = r();
    const what: string[] = [];
    const op = (kind: string) => {
      const i = Math.floor(r() * n);
      const s = cfg[i];
      const next = [...cfg];
      if (kind === 'add' || (!s && kind !== 'resend')) {
        if (s) return;
        next[i] = removed[i] && r() < 0.6 ? removed[i] : freshSpec(r, far[i]!);
      } else if (kind === 'remove' && s) { removed[i] = s; next[i] = null; }
      else if (kind === 'change' && s) next[i] = sessionChange(r, s, far[i]!);
      else if (kind === 'live' && s) next[i] = liveChange(r, liveChange(r, s));
      what.push(`${kind} ${i}`);
      setPeers(next);
    };
    if (x < 0.12) op('add');
    else if (x < 0.24) op('remove');
    else if (x < 0.46) op('change');
    else if (x < 0.6) op('live');
    else if (x < 0.7) { op('resend'); op('resend'); }
    else if (x < 0.8) {
      const i = Math.floor(r() * n);
      evs[i]!.push('far');
      what.push(`far restart ${i}`);
      let back = false;
      const restarted = h.restartFar(far[i]!, sPort).then((f) => { far[i] = f; back = true; h.wake(); });
      await settle(() => back, 60_000); // its stop() may wait for a fake-clock grace timer
      await restarted;
    } else {
      for (let k = 1 + Math.floor(r() * 3); k >= 0; k--) op(pick(r, ['add', 'remove', 'change', 'live', 'resend']));
    }
    if (!(await quietPoint(`${step}: ${what.join(', ')}`, prev))) return;
  }
  t.pass(`seed ${seed}: ${n} far ends, ${steps} steps, ${h.conns.length} connections, checked ${JSON.stringify(seen)}${SECURE ? '' : ' (no MD5/GTSM here)'}`);
}

// Seed 4 found a session with a GR peer that flapped at start when both ends dialed at once
// (a late accepted connection was taken as the peer's restart); its minimised subtests are
// in held-connection.test.ts. Seeds 1–24 pass; each takes about 5 s.
const SEEDS = process.env.TERN_SPEAKER_MODEL_SEEDS ? process.env.TERN_SPEAKER_MODEL_SEEDS.split(',').map(Number) : [1, 2, 3, 4];
const STEPS = Number(process.env.TERN_SPEAKER_MODEL_STEPS ?? 20);
for (const seed of SEEDS) t.test(`seed ${seed}`, (t) => run(t, seed, STEPS));

t.test('a type change that moves an eBGP session between single-hop (mesh) and multihop restarts it: the next connection has the new TTL', { skip: SECURE ? false : 'socket options unavailable here' }, async (t) => {
  const listener = await RawListener.listen('127.0.0.2');
  const { speaker, clock } = await startSpeaker();
  t.teardown(async () => { await speaker.stop(); await listener.close(); });
  const mesh = peerSpec({ port: listener.port, passive: false, sourceAddress: '127.0.0.1', type: 'mesh', peerAs: 65001 });
  speaker.setPeers([mesh]); // eBGP mesh: TTL 1
  const c1 = await listener.accept();
  const up = once(speaker, 'established');
  await c1.handshake({ myAs: 65001, holdTime: 90, bgpId: '10.0.0.2' });
  await up;
  // From now on the peer is reached through a router: its listener drops segments with TTL 1.
  setMinTtl(fdOf(listener.server)!, 'ipv4', 2);
  speaker.setPeers([{ ...mesh, type: 'global', name: 'Global_127_0_0_2' }]); // multihop: TTL 64
  c1.close(); // and the peer restarts: a new connection is needed either way
  let c2: RawPeer | undefined;
  const accepted = listener.accept().then((p) => { c2 = p; });
  for (let k = 0; k < 20; k++) {
    await Promise.race([accepted, new Promise((res) => setTimeout(res, 50))]);
    if (c2) break;
    clock.advance(5000); // the next connect retry
  }
  t.ok(c2, 'the speaker reconnects past a listener that drops TTL-1 segments');
  if (c2) t.equal((await c2.next()).type, 1, 'and sends its OPEN there');
  c2?.close();
});
