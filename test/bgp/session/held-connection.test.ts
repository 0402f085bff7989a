// A connection a graceful-restart-capable peer opens while its session is Established
// (src/bgp/session/peer.ts, `hold`): RFC 4724 §4.2 restart detection without the flap of
// simultaneous dials (RFC 4271 §6.8). The connection is held beside the session, runs its
// OPEN exchange, and the session is probed with a KEEPALIVE; the peer's restart is concluded
// only when the held connection would become Established.
import t from 'tap';
import type { Test } from 'tap';
import { once } from 'node:events';
import type { Speaker } from '../../../src/bgp/speaker.js';
import type { PeerHandle } from '../../../src/bgp/session/peer.js';
import type { DownReason } from '../../../src/bgp/session/fsm.js';
import { RawPeer, cap, emptyUpdateMsg, keepaliveMsg, notificationMsg, openMsg } from '../../helpers/raw-peer.js';
import type { OpenFields, RawFrame } from '../../helpers/raw-peer.js';
import { hex, update } from '../wire/helpers.js';
import { makeCore } from '../../rib/fixtures/core.js';
import { LOCAL_AS, notificationHex, peerSpec, rawEstablished, startSpeaker, withInfo } from './fixtures.js';

/** The peer's OPEN: IPv4 unicast, 4-octet AS, GR (restart time 120 s, N bit, F for IPv4); `flags` 0xc adds R. */
const grOpen = (flags = 0x4): OpenFields => ({
  myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2',
  caps: [cap.mp(1), cap.fourOctetAs(LOCAL_AS), cap.gracefulRestart(120, flags, [{ afi: 1, forwarding: true }])],
});

/** An iBGP UPDATE announcing `nlri` (commented hex) with next hop 10.77.0.2. */
const announce = (nlri: string) => update({
  attrs: hex`40 01 01 00         # ORIGIN IGP
             40 02 00            # AS_PATH empty
             40 03 04 0a4d0002   # NEXT_HOP 10.77.0.2
             40 05 04 00000064   # LOCAL_PREF 100`,
  nlri: hex(nlri),
});

/** Message types in `buf` (whole messages, in order). */
function types(buf: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 19 <= buf.length; off += buf.readUInt16BE(off + 16)) out.push(buf[off + 18]!);
  return out;
}

/**
 * A speaker (passive peer 127.0.0.2) with a raw GR peer Established on `old`; every 'down'
 * and 'established' recorded. `wire` sees the speaker before the peer is configured.
 */
async function grEstablished(t: Test, wire?: (speaker: Speaker) => void, open: OpenFields = grOpen()) {
  const started = await startSpeaker();
  const { speaker } = started;
  t.teardown(() => speaker.stop());
  wire?.(speaker);
  speaker.setPeers([peerSpec()]);
  const old = await rawEstablished(speaker, started.port, open);
  t.teardown(() => old.close());
  if ((await old.next()).type !== 4) throw new Error('expected the KEEPALIVE of OpenConfirm'); // what old.next() returns from here on came later
  const downs: { reason: DownReason; gr: boolean; restartTime: number | undefined }[] = [];
  let ups = 0;
  speaker.on('down', (h, reason, gr) => downs.push({ reason, gr, restartTime: h.negotiated?.peerGracefulRestart?.restartTime }));
  speaker.on('established', () => ups++);
  return { ...started, old, downs, ups: () => ups };
}

/** A new connection from the peer's address; `open` is the speaker's OPEN on it. */
async function connectAgain(t: Test, port: number): Promise<{ fresh: RawPeer; open: RawFrame }> {
  const fresh = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => fresh.close());
  const open = await fresh.next();
  return { fresh, open };
}

const row = (speaker: Speaker) => withInfo(speaker.status()[0]);

t.test('simultaneous dials: a late connection that gets OPEN, KEEPALIVE then Cease 6/7 from the peer is dropped; the session, its since and its connection stay', async (t) => {
  const { speaker, clock, port, old, downs, ups } = await grEstablished(t);
  const since = row(speaker)?.since;
  clock.advance(5000); // a status change from here on would show a later since
  const { fresh, open } = await connectAgain(t, port);
  t.equal(open.type, 1, 'the late connection gets our OPEN');
  t.same(downs, [], 'nothing concluded at accept');
  t.equal((await old.next()).type, 4, 'the session is probed with a KEEPALIVE');
  fresh.send(openMsg(grOpen()));
  t.equal((await fresh.next()).type, 4, 'its OPEN is answered (OpenConfirm)');
  fresh.send(notificationMsg(6, 7)); // the peer keeps its Established session
  await fresh.closed;
  t.same(downs, [], 'no down');
  t.equal(ups(), 0, 'no second established');
  t.match(row(speaker), { state: 'up', bgpState: 'Established', since, lastError: null });
  const upd = once(speaker, 'update');
  old.send(emptyUpdateMsg());
  await upd;
  t.pass('the old connection still carries the session');
});

t.test('a restarted peer: its new connection completes OPEN and KEEPALIVE while the old one is silent → the old session ends as peerRestarted, routes stale, then refreshed', async (t) => {
  const { core } = makeCore([]);
  t.teardown(() => core.close());
  let updates = 0;
  const { speaker, port, old, downs } = await grEstablished(t, (speaker) => {
    speaker.on('established', (h) => core.onEstablished(h));
    speaker.on('down', (h, reason, gr) => core.onDown(h, reason, gr));
    speaker.on('update', (h, msg) => { core.onUpdate(h, msg); updates++; });
  });
  const received = (n: number) => new Promise<void>((resolve) => {
    const check = () => { if (updates >= n) { speaker.off('update', check); resolve(); } };
    speaker.on('update', check);
    check();
  });
  old.send(announce('1a 0af40100  1a 0af40200')); // 10.244.1.0/26, 10.244.2.0/26
  await received(1);
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.2.0/26')?.best?.stale, false);

  const { fresh, open } = await connectAgain(t, port);
  t.equal(open.type, 1);
  t.same(downs, [], 'nothing concluded at accept');
  let staleAtDown: boolean | undefined;
  speaker.once('down', () => { core.rib.flush(); staleAtDown = core.rib.lookup('10.244.2.0/26')?.best?.stale; });
  const up = once(speaker, 'established');
  fresh.send(openMsg(grOpen(0xc)), keepaliveMsg()); // R bit: the peer restarted
  const [h2] = (await up) as [PeerHandle];
  t.same(downs, [{ reason: 'peerRestarted', gr: true, restartTime: 120 }], 'old session down as a restart, GR applies, negotiated readable during down');
  t.equal(staleAtDown, true, 'its routes kept as stale');
  t.equal(h2.negotiated?.peerGracefulRestart?.restarting, true, 'R bit seen on the new session');
  await old.closed;
  t.notOk(types(old.received).includes(3), 'the old connection closed without a NOTIFICATION');
  t.match(row(speaker), { state: 'up', bgpState: 'Established' });

  fresh.send(announce('1a 0af40100'), emptyUpdateMsg()); // 10.244.1.0/26 again, then End-of-RIB
  await received(3);
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.1.0/26')?.best?.stale, false, 're-advertised route no longer stale');
  t.equal(core.rib.lookup('10.244.2.0/26'), undefined, 'the one not re-advertised swept at End-of-RIB');
});

t.test('the old connection answers the probe with a reset: the session ends as a connection failure (GR), the held connection becomes the session', async (t) => {
  const { speaker, clock, port, old, downs, ups } = await grEstablished(t);
  const { fresh } = await connectAgain(t, port);
  // RFC 4271 §4.4: the probe waits until a second after the session's last message (its
  // KEEPALIVE at fake time 0); the real-time wait is the window of a "nothing sent" check.
  const before = old.received.length;
  clock.advance(999);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(old.received.length, before, 'no probe within a second of the last KEEPALIVE');
  clock.advance(1);
  t.equal((await old.next()).type, 4, 'probe sent');
  const down = once(speaker, 'down');
  old.socket.resetAndDestroy(); // the peer's host no longer has this connection
  await down;
  t.same(downs, [{ reason: 'connectionFailed', gr: true, restartTime: 120 }]);
  t.match(row(speaker), { state: 'start' });
  const up = once(speaker, 'established');
  fresh.send(openMsg(grOpen(0xc)), keepaliveMsg());
  await up;
  t.equal(ups(), 1);
  t.equal(downs.length, 1, 'one down in all');
  t.match(row(speaker), { state: 'up', bgpState: 'Established' });
});

t.test('a newer connection replaces a held one, which gets Cease 6/7; the session stays', async (t) => {
  const { speaker, port, downs } = await grEstablished(t);
  const since = row(speaker)?.since;
  const first = await connectAgain(t, port);
  const second = await connectAgain(t, port);
  t.equal((await first.fresh.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 7), 'the held one is refused');
  await first.fresh.closed;
  t.equal(second.open.type, 1, 'the newer one is held');
  t.same(downs, []);
  t.match(row(speaker), { state: 'up', bgpState: 'Established', since });
});

t.test('a held connection that never sends its OPEN ends at its hold timer (4/0); the session stays', async (t) => {
  // Hold time 0 on the session: no timers of its own while fake time runs.
  const { speaker, clock, port, downs } = await grEstablished(t, undefined, { ...grOpen(), holdTime: 0 });
  const since = row(speaker)?.since;
  const { fresh } = await connectAgain(t, port);
  clock.advance(239_000);
  const ended = fresh.nextNonKeepalive();
  clock.advance(1000); // RFC 4271 §8.2.2: 240 s for the OPEN
  t.equal((await ended).raw.toString('hex'), notificationHex(4, 0));
  await fresh.closed;
  t.same(downs, []);
  t.match(row(speaker), { state: 'up', bgpState: 'Established', since, lastError: null });
});

t.test('the peer removed while a connection is held: both connections get its Cease, the session goes down once', async (t) => {
  const { speaker, port, old, downs } = await grEstablished(t);
  const { fresh } = await connectAgain(t, port);
  speaker.setPeers([]);
  // RFC 8538 §5: both sides set N, so 6/3 goes as a Hard Reset on the session; the held
  // connection negotiated nothing yet and gets the plain Cease.
  t.equal((await old.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 9, '0603'));
  t.equal((await fresh.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 3));
  await Promise.all([old.closed, fresh.closed]);
  t.same(downs.map((d) => d.reason), ['peerDeconfigured']);
});
