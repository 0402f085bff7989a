// Randomized model test of one BGP session: a RawPeer drives seeded random sequences of valid
// and invalid traffic against a Speaker with one configured peer over loopback, the FakeClock
// advanced at random. After each step settles it checks: no exception escapes; every
// NOTIFICATION the speaker sends carries the code/subcode this file's own table names for what
// was sent (RFC 4271 §6, RFC 6608, RFC 7606); the status row follows the FSM (Established only
// after the OPEN+KEEPALIVE exchange, `since` unchanged while up); after a reset the speaker
// accepts (passive) or redials on its backoff (active) and a fresh exchange reaches Established;
// the routes delivered upward ('update' events) equal a model of the valid UPDATEs sent, with
// treat-as-withdraw ones withdrawn.
import t from 'tap';
import type { Test } from 'tap';
import { once } from 'node:events';
import type { Speaker } from '../../../src/bgp/speaker.js';
import type { FakeClock } from '../../../src/util/clock.js';
import type { PeerHandle } from '../../../src/bgp/session/peer.js';
import type { UpdateMessage } from '../../../src/bgp/wire/types.js';
import { RawPeer, RawListener, MsgType, cap, keepaliveMsg, message, notificationMsg, openMsg, parseNotification, parseOpen } from '../../helpers/raw-peer.js';
import type { RawFrame } from '../../helpers/raw-peer.js';
import { LOCAL_AS, peerSpec, startSpeaker, waitForStatus } from './fixtures.js';
import { rng } from '../../rib/fixtures/helpers.js';
import { collectEscapes } from '../../helpers/escapes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Escaped exceptions fail the current run.
const escaped = collectEscapes(t);

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** What the peer offered in its OPEN, and what follows for the wire. */
interface Offer { holdTime: number; addPathSend: boolean; routeRefresh: boolean; extMessage: boolean; gr: boolean }

function randomOpen(r: Rand, speakerAddPath: boolean): { msg: Buffer; offer: Offer } {
  const caps: Buffer[] = [cap.mp(1)];
  if (r() < 0.8) caps.push(cap.fourOctetAs(LOCAL_AS));
  const routeRefresh = r() < 0.6;
  if (routeRefresh) caps.push(Buffer.from([2, 0]));
  const extMessage = r() < 0.4;
  if (extMessage) caps.push(Buffer.from([6, 0]));
  const gr = r() < 0.4;
  if (gr) caps.push(cap.gracefulRestart(120, 0, [{ afi: 1 }]));
  const apMode = pick(r, [0, 1, 2, 3]);
  if (apMode) caps.push(cap.addPath(1, apMode));
  // Shuffle capability order.
  for (let i = caps.length - 1; i > 0; i--) { const j = int(r, 0, i); [caps[i], caps[j]] = [caps[j]!, caps[i]!]; }
  const holdTime = pick(r, [3, 9, 30, 90, 240]);
  return {
    msg: openMsg({ myAs: LOCAL_AS, holdTime, bgpId: '10.0.0.2', caps }),
    offer: { holdTime: Math.min(holdTime, 90), addPathSend: speakerAddPath && (apMode & 2) !== 0, routeRefresh, extMessage, gr },
  };
}

// ---- UPDATE encoding (independent of the codec under test) ----
interface Route { prefix: string; pathId: number }
const keyOf = (n: { prefix: string; pathId?: number }) => `${n.pathId ?? 0}|${n.prefix}`;

function nlriBytes(routes: readonly Route[], addPath: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const { prefix, pathId } of routes) {
    const [addr, lenS] = prefix.split('/');
    const len = Number(lenS);
    const octets = addr!.split('.').map(Number).slice(0, Math.ceil(len / 8));
    const id = Buffer.alloc(addPath ? 4 : 0);
    if (addPath) id.writeUInt32BE(pathId);
    parts.push(id, Buffer.from([len, ...octets]));
  }
  return Buffer.concat(parts);
}

const attr = (flags: number, type: number, value: Buffer) => Buffer.concat([Buffer.from([flags, type, value.length]), value]);
function attrs(nextHop: number, med?: Buffer, origin = 0): Buffer {
  const nh = Buffer.from([10, 0, 0, nextHop]);
  const parts = [attr(0x40, 1, Buffer.from([origin])), attr(0x40, 2, Buffer.alloc(0)), attr(0x40, 3, nh), attr(0x40, 5, Buffer.from([0, 0, 0, 100]))];
  if (med) parts.push(attr(0x80, 4, med));
  return Buffer.concat(parts);
}

function updateMsg(withdrawn: readonly Route[], pathAttrs: Buffer, nlri: readonly Route[], addPath: boolean): Buffer {
  const w = nlriBytes(withdrawn, addPath);
  const n = nlriBytes(nlri, addPath);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(pathAttrs.length);
  return message(MsgType.Update, Buffer.concat([wl, w, al, pathAttrs, n]));
}

function randomRoute(r: Rand, addPath: boolean): Route {
  const len = pick(r, [8, 16, 20, 24, 26, 32]);
  const a = [10, int(r, 0, 3), int(r, 0, 3), int(r, 0, 3)];
  const bits = (a[0]! << 24 | a[1]! << 16 | a[2]! << 8 | a[3]!) >>> 0;
  const masked = len === 0 ? 0 : (bits & (0xffffffff << (32 - len))) >>> 0;
  const prefix = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
  return { prefix, pathId: addPath ? int(r, 1, 3) : 0 };
}

// ---- the harness ----
interface World {
  t: Test; key: string; speaker: Speaker; clock: FakeClock; port: number; active: boolean; listener?: RawListener; speakerAddPath: boolean;
  /** Routes as the model says they stand (key → next hop). */
  model: Map<string, number>;
  /** Routes as the speaker delivered them upward. */
  delivered: Map<string, string | undefined>;
  barriers: Map<string, () => void>;
  /** What the speaker sent on the current connection, and the steps so far (for failure messages). */
  frames: RawFrame[];
  log: string[];
}

/** Connects (passive) or accepts the speaker's redial (active), then returns the raw peer once the speaker's OPEN arrived. */
async function connect(w: World): Promise<{ raw: RawPeer; theirs: RawFrame }> {
  if (!w.active) {
    for (let i = 0; i < 20; i++) {
      const raw = await RawPeer.connect({ port: w.port, localAddress: '127.0.0.2' });
      const f = await raw.next().catch(() => undefined);
      if (f?.type === MsgType.Open) return { raw, theirs: f };
      raw.close();
      w.clock.advance(5000);
    }
    throw new Error('speaker never accepted');
  }
  const l = w.listener!;
  const before = l.connections;
  let advanced = 0;
  while (l.connections === before) {
    if (advanced > 200_000) throw new Error(`no redial after ${advanced} ms`);
    w.clock.advance(1000);
    advanced += 1000;
    await sleep(2);
  }
  const raw = await l.accept();
  const f = await raw.next();
  if (f.type !== MsgType.Open) throw new Error(`expected OPEN, got ${f.type}`);
  return { raw, theirs: f };
}

let barrierSeq = 0;
/** A withdrawal of a unique /32 outside the model's space: once the speaker delivers it, everything sent before it was read. */
async function barrier(w: World, raw: RawPeer, addPath: boolean): Promise<void> {
  const n = barrierSeq++;
  const route: Route = { prefix: `192.0.${(n >> 8) & 255}.${n & 255}/32`, pathId: addPath ? 1 : 0 };
  const seen = new Promise<void>((resolve) => w.barriers.set(keyOf(route), resolve));
  raw.send(updateMsg([route], Buffer.alloc(0), [], addPath));
  await Promise.race([seen, raw.closed.then(() => {
    const sent = w.frames.filter((f) => f.type === MsgType.Notification).map((f) => `${parseNotification(f).code}/${parseNotification(f).subcode} ${parseNotification(f).data.toString('hex')}`);
    throw new Error(`speaker closed the session after: ${w.log.slice(-4).join(', ')}; it sent ${sent.join(', ') || 'no NOTIFICATION'}`);
  })]);
}

function checkRoutes(w: World, msg: string): void {
  const want = [...w.model.entries()].map(([k, nh]) => `${k} via 10.0.0.${nh}`).sort();
  const got = [...w.delivered.entries()].map(([k, nh]) => `${k} via ${nh}`).sort();
  w.t.same(got, want, msg);
}

/** Writes `bytes` in random pieces (separate TCP writes with a pause), or at once. */
async function sendSplit(r: Rand, raw: RawPeer, bytes: Buffer): Promise<void> {
  if (r() < 0.5 || bytes.length < 2) { raw.send(bytes); return; }
  let off = 0;
  while (off < bytes.length) {
    const n = int(r, 1, Math.max(1, Math.floor(bytes.length / 3)));
    raw.send(bytes.subarray(off, off + n));
    off += n;
    await sleep(1);
  }
}


/** Collects every frame from the speaker into `out` until the connection closes. */
function drain(raw: RawPeer, out: RawFrame[]): Promise<void> {
  return (async () => {
    for (;;) {
      try { out.push(await raw.next()); } catch { return; }
    }
  })();
}

type Expect = { code: number; subcode: number } | null;

/** One connection's life: handshake (maybe misbehaving), random in-session steps, one ending. Returns a description of what was done. */
async function episode(w: World, r: Rand, log: string[]): Promise<void> {
  const { raw, theirs } = await connect(w);
  const speakerExt = parseOpen(theirs).caps.some((c) => c.code === 6);
  const frames: RawFrame[] = [];
  const drained = drain(raw, frames);
  w.frames = frames;
  const st0 = w.speaker.status().find((s) => s.key === w.key)!;
  w.t.not(st0.bgpState, 'Established', 'not Established before the exchange');

  const { msg: open, offer } = randomOpen(r, w.speakerAddPath);
  // RFC 8654: larger messages only when both sides announced Extended Message.
  offer.extMessage &&= speakerExt;
  const ap = offer.addPathSend;
  // Misbehaviour before Established, with what the table says must come back.
  const pre = r();
  let ending: { what: string; expect: Expect; unsent?: Buffer } | null = null;
  if (pre < 0.08) {
    raw.send(updateMsg([], attrs(2), [randomRoute(r, false)], false));
    ending = { what: 'UPDATE in OpenSent', expect: { code: 5, subcode: 1 } };
  } else if (pre < 0.14) {
    raw.send(open);
    await waitFor(() => frames.some((f) => f.type === MsgType.Keepalive));
    const st = w.speaker.status().find((s) => s.key === w.key)!;
    w.t.equal(st.bgpState, 'OpenConfirm', 'OPEN without KEEPALIVE: OpenConfirm, not Established');
    raw.send(updateMsg([], attrs(2), [randomRoute(r, ap)], ap));
    ending = { what: 'UPDATE in OpenConfirm', expect: { code: 5, subcode: 2 } };
  } else if (pre < 0.18) {
    const m = keepaliveMsg();
    m[int(r, 0, 15)] = int(r, 0, 254);
    raw.send(m);
    ending = { what: 'bad marker in OpenSent', expect: { code: 1, subcode: 1 } };
  } else if (pre < 0.22) {
    raw.send(open.subarray(0, int(r, 1, open.length - 1)));
    await sleep(5);
    raw.close();
    ending = { what: 'closed mid-OPEN', expect: null };
  }
  if (ending) {
    log.push(ending.what);
    await finish(w, raw, frames, drained, ending);
    return;
  }

  // Valid handshake, possibly split or glued.
  const up = once(w.speaker, 'established');
  await sendSplit(r, raw, Buffer.concat([open, keepaliveMsg()]));
  const [h] = (await up) as [PeerHandle];
  const st = w.speaker.status().find((s) => s.key === w.key)!;
  w.t.equal(st.bgpState, 'Established');
  w.t.equal(st.state, 'up');
  w.t.equal(h.spec.key, w.key);
  w.t.ok(h.negotiated, "handle has the negotiated parameters while up");
  const since = st.since;
  log.push(`up(hold ${offer.holdTime}${ap ? ' addpath' : ''}${offer.extMessage ? ' ext' : ''}${offer.gr ? ' gr' : ''}${offer.routeRefresh ? ' rr' : ''})`);
  // The model and delivered state start empty per session: what the speaker delivers is per connection.
  w.model.clear();
  w.delivered.clear();

  const steps = int(r, 1, 12);
  for (let i = 0; i < steps && !ending; i++) {
    const x = r();
    if (x < 0.35) {
      // A batch of valid UPDATEs (and maybe a treat-as-withdraw one), glued and split.
      const msgs: Buffer[] = [];
      const nUpdates = int(r, 1, 4);
      for (let k = 0; k < nUpdates; k++) {
        const withdrawn = r() < 0.5 ? [...w.model.keys()].filter(() => r() < 0.3).map((key) => ({ prefix: key.split('|')[1]!, pathId: Number(key.split('|')[0]) })) : [];
        const nlri = Array.from({ length: int(r, 0, 5) }, () => randomRoute(r, ap));
        const nh = int(r, 2, 9);
        const bad = r() < 0.2 && nlri.length > 0 ? pick(r, ['med', 'origin']) : null;
        const a = bad === 'med' ? attrs(nh, Buffer.from([0, 0, 1])) : bad === 'origin' ? attrs(nh, undefined, 3) : attrs(nh);
        msgs.push(updateMsg(withdrawn, nlri.length ? a : Buffer.alloc(0), nlri, ap));
        for (const rt of withdrawn) w.model.delete(keyOf(rt));
        for (const rt of nlri) if (bad) w.model.delete(keyOf(rt)); else w.model.set(keyOf(rt), nh);
        log.push(`update(w${withdrawn.length} n${nlri.length}${bad ? ' ' + bad + '→withdraw' : ''})`);
      }
      await sendSplit(r, raw, Buffer.concat(msgs));
    } else if (x < 0.45) {
      raw.send(keepaliveMsg());
      log.push('keepalive');
    } else if (x < 0.52 && offer.routeRefresh) {
      raw.send(message(MsgType.RouteRefresh, Buffer.from([0, 1, 0, 1])));
      log.push('route-refresh');
    } else if (x < 0.58) {
      // The largest legal UPDATE: exactly 4096 octets, or over it once RFC 8654 is negotiated.
      const n = offer.extMessage ? 1100 : ap ? 505 : 1013;
      const nlri = Array.from({ length: n }, (_, k) => ({ prefix: `10.${128 + (k >> 8)}.${k & 255}.0/24`, pathId: ap ? 1 : 0 }));
      if (ap && !offer.extMessage) nlri.push({ prefix: '0.0.0.0/0', pathId: 1 }, { prefix: '10.200.0.0/16', pathId: 1 });
      const m = updateMsg([], attrs(7), nlri, ap);
      if (!offer.extMessage) w.t.equal(m.length, 4096, 'the UPDATE is 4096 octets');
      await sendSplit(r, raw, m);
      for (const rt of nlri) w.model.set(keyOf(rt), 7);
      log.push(`update(${m.length} octets)`);
    } else if (x < 0.7) {
      // Time passes within the hold time (the barrier below refreshed it).
      raw.send(keepaliveMsg());
      await barrier(w, raw, ap);
      const ms = int(r, 0, offer.holdTime * 1000 - 1);
      w.clock.advance(ms);
      log.push(`advance ${ms}`);
    } else if (x < 0.88) {
      continue;
    } else {
      ending = terminal(w, r, raw, offer, open, log);
    }
    if (!ending) {
      await barrier(w, raw, ap);
      checkRoutes(w, `routes after step ${i}`);
      const s = w.speaker.status().find((z) => z.key === w.key)!;
      w.t.equal(s.bgpState, 'Established', 'still Established');
      w.t.equal(s.since, since, '`since` unchanged while up');
    }
  }
  if (!ending) ending = terminal(w, r, raw, offer, open, log);
  if (ending.what === 'silence') {
    if (ending.unsent) {
      raw.send(ending.unsent);
      await barrier(w, raw, ap);
    }
    w.clock.advance(offer.holdTime * 1000 + 1);
  }
  await finish(w, raw, frames, drained, ending);
}

/**
 * The session's last step. Half the time a valid UPDATE is glued in front of the bad bytes in
 * the same write: its routes must still be delivered (read before the error, never lost).
 */
function terminal(w: World, r: Rand, raw: RawPeer, offer: Offer, open: Buffer, log: string[]): { what: string; expect: Expect; unsent?: Buffer } {
  let glued: Buffer | undefined;
  if (r() < 0.5) {
    const nlri = Array.from({ length: int(r, 1, 3) }, () => randomRoute(r, offer.addPathSend));
    glued = updateMsg([], attrs(9), nlri, offer.addPathSend);
    for (const rt of nlri) w.model.set(keyOf(rt), 9);
    log.push(`update(n${nlri.length}) glued to`);
  }
  let used = false;
  const send = (b: Buffer) => {
    used = true;
    raw.send(glued ? Buffer.concat([glued, b]) : b);
  };
  const e = lastStep(r, { send, close: () => raw.close() }, offer, open, log);
  return glued && !used ? { ...e, unsent: glued } : e;
}

function lastStep(r: Rand, raw: { send(b: Buffer): void; close(): void }, offer: Offer, open: Buffer, log: string[]): { what: string; expect: Expect } {
  const ap = offer.addPathSend;
  const y = int(r, 0, 9);
  let e: { what: string; expect: Expect };
  switch (y) {
    case 0: raw.send(open); e = { what: 'second OPEN', expect: { code: 5, subcode: 3 } }; break;
    case 1: { const m = keepaliveMsg(); m[int(r, 0, 15)] = 0; raw.send(m); e = { what: 'bad marker', expect: { code: 1, subcode: 1 } }; break; }
    case 2: { const m = keepaliveMsg(); m.writeUInt16BE(int(r, 0, 18), 16); raw.send(m); e = { what: 'length too small', expect: { code: 1, subcode: 2 } }; break; }
    case 3: {
      const m = keepaliveMsg();
      if (offer.extMessage || r() < 0.5) {
        m.writeUInt16BE(int(r, 20, 4096), 16); // RFC 4271 §6.1: a KEEPALIVE is exactly 19 octets
        raw.send(m);
        e = { what: 'KEEPALIVE length too large', expect: { code: 1, subcode: 2 } };
      } else {
        // An otherwise valid UPDATE of 4097 octets without RFC 8654.
        const nlri = Array.from({ length: 1013 }, (_, k) => ({ prefix: `10.${128 + (k >> 8)}.${k & 255}.0/24`, pathId: 0 }));
        const u = updateMsg([], attrs(7), nlri, false);
        const big = Buffer.concat([u, Buffer.from([0])]); // plus a /0
        big.writeUInt16BE(big.length, 16);
        if (ap) big.writeUInt16BE(4097, 16);
        raw.send(big);
        e = { what: 'UPDATE of 4097 octets', expect: { code: 1, subcode: 2 } };
      }
      break;
    }
    case 4: raw.send(message(int(r, 6, 255))); e = { what: 'unknown type', expect: { code: 1, subcode: 3 } }; break;
    case 5: {
      // RFC 7606 §5.3 / RFC 4271 §6.3: an NLRI prefix length over 32 resets the session (3/10).
      const u = updateMsg([], attrs(2), [], ap);
      const pfx = Buffer.from([...(ap ? [0, 0, 0, 1] : []), int(r, 33, 255), 10, 0, 0, 0]);
      const m = Buffer.concat([u, pfx]);
      m.writeUInt16BE(m.length, 16);
      raw.send(m);
      e = { what: 'NLRI length > 32', expect: { code: 3, subcode: 10 } };
      break;
    }
    case 6: raw.send(notificationMsg(6, pick(r, [2, 3, 4, 5]))); e = { what: 'peer Cease', expect: null }; break;
    case 7: { const m = updateMsg([], attrs(2), [randomRoute(r, ap)], ap); raw.send(m.subarray(0, int(r, 1, m.length - 1))); setTimeout(() => raw.close(), 5); e = { what: 'closed mid-message', expect: null }; break; }
    case 8: e = { what: 'silence', expect: { code: 4, subcode: 0 } }; break;
    default: {
      // RFC 7606 §4: Withdrawn Routes Length overruns the message → 3/1 Malformed Attribute List.
      const m = updateMsg([], Buffer.alloc(0), [], ap);
      m.writeUInt16BE(int(r, 1, 200), 19);
      raw.send(m);
      e = { what: 'withdrawn length overrun', expect: { code: 3, subcode: 1 } };
    }
  }
  log.push(e.what);
  return e;
}

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(2);
  }
}

async function finish(w: World, raw: RawPeer, frames: RawFrame[], drained: Promise<void>, ending: { what: string; expect: Expect }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([raw.closed, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`speaker did not close after ${ending.what}`)), 3000); })]);
  clearTimeout(timer);
  await drained;
  const notes = frames.filter((f) => f.type !== MsgType.Keepalive && f.type !== MsgType.Open);
  const got = notes.map((f) => (f.type === MsgType.Notification ? `${parseNotification(f).code}/${parseNotification(f).subcode}` : `type ${f.type}`));
  const want = ending.expect ? [`${ending.expect.code}/${ending.expect.subcode}`] : [];
  w.t.same(got, want, `NOTIFICATION for ${ending.what}`);
  await waitFor(() => w.speaker.status().find((s) => s.key === w.key)!.bgpState !== 'Established');
  // Whatever the speaker delivered before the reset matches the model of what was sent.
  checkRoutes(w, `routes before reset (${ending.what})`);
}

async function run(t: Test, seed: number): Promise<void> {
  const r = rng(seed);
  const active = r() < 0.5;
  const speakerAddPath = r() < 0.5;
  const listener = active ? await RawListener.listen('127.0.0.2') : undefined;
  if (listener) t.teardown(() => listener.close());
  const { speaker, clock, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  const w: World = { t, key: `127.0.0.2|${listener ? listener.port : 179}`, speaker, clock, port, active, listener, speakerAddPath, model: new Map(), delivered: new Map(), barriers: new Map(), frames: [], log: [] };
  speaker.on('update', (_h: PeerHandle, m: UpdateMessage) => {
    for (const n of m.withdrawn) {
      const b = w.barriers.get(keyOf(n));
      if (b) { w.barriers.delete(keyOf(n)); b(); continue; }
      w.delivered.delete(keyOf(n));
    }
    for (const n of m.nlri) {
      if (m.treatAsWithdraw) w.delivered.delete(keyOf(n));
      else w.delivered.set(keyOf(n), m.attributes.nextHop);
    }
  });
  speaker.setPeers([peerSpec({ passive: !active, addPath: speakerAddPath, ...(listener ? { port: listener.port } : {}) })]);
  const log = w.log;
  const episodes = int(r, 3, 6);
  for (let i = 0; i < episodes; i++) {
    await episode(w, r, log);
    t.same(escaped, [], `no exception escaped (seed ${seed}: ${log.join(', ')})`);
  }
  t.comment(`seed ${seed} ${active ? 'active' : 'passive'}${speakerAddPath ? ' addpath' : ''}: ${log.join(', ')}`);
}

// Found by this model: a whole UPDATE and a bad header in one TCP read. The UPDATE was
// received first, so it is delivered before the header error resets the session.
t.test('an UPDATE glued in front of a bad marker is delivered, then NOTIFICATION 1/1', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const up = once(speaker, 'established');
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => raw.close());
  await raw.handshake({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2' });
  await up;
  const seen: UpdateMessage[] = [];
  speaker.on('update', (_h: PeerHandle, m: UpdateMessage) => void seen.push(m));
  const bad = keepaliveMsg();
  bad[0] = 0;
  raw.send(Buffer.concat([updateMsg([], attrs(2), [{ prefix: '10.244.1.0/24', pathId: 0 }], false), bad]));
  const n = parseNotification(await raw.nextNonKeepalive());
  t.same([n.code, n.subcode], [1, 1]);
  await raw.closed;
  t.same(seen.map((m) => m.nlri), [[{ prefix: '10.244.1.0/24' }]], 'the UPDATE read before the bad header was delivered');
});

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) {
  t.test(`seed ${seed}`, (t) => run(t, seed));
}
