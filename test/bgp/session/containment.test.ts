// Containment: an exception thrown while handling one session — in the session or in a
// listener of its events (RIB, Adj-RIB-Out) — ends that session with Cease 6/0 and backs
// off; it never reaches the event loop, and other sessions carry on.
import t, { type Test } from 'tap';
import { peerInfo } from '../../../src/api/peer-display.js';
t.setTimeout(20_000);
import { once } from 'node:events';
import { RawPeer, message } from '../../helpers/raw-peer.js';
import { LOCAL_AS, notificationHex, peerSpec, rawEstablished, startSpeaker, waitForStatus } from './fixtures.js';
import type { PeerHandle } from '../../../src/bgp/session/peer.js';
import { ConnectBackoff } from '../../../src/bgp/backoff.js';

const hex = (s: string) => Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
const UPDATE = hex(`0000 0015  40 01 01 00  40 02 00  40 03 04 0a000002  40 05 04 00000064  18 0af401`);

/**
 * Raw peers A (127.0.0.2) and B (127.0.0.3) Established; A sends an UPDATE whose handling
 * throws, and must get Cease 6/0 and see its session closed. B is returned up.
 */
async function failingAThenB(t: Test, speaker: Awaited<ReturnType<typeof startSpeaker>>['speaker'], port: number): Promise<{ rawB: RawPeer }> {
  const rawA = await rawEstablished(speaker, port);
  t.teardown(() => rawA.close());
  const upB = once(speaker, 'established');
  const rawB = await RawPeer.connect({ port, localAddress: '127.0.0.3' });
  t.teardown(() => rawB.close());
  await rawB.handshake({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.3' });
  await upB;
  rawA.send(message(2, UPDATE));
  const f = await rawA.nextNonKeepalive();
  t.equal(f.raw.toString('hex'), notificationHex(6, 0), 'Cease 6/0 to the peer whose handling failed');
  await rawA.closed;
  return { rawB };
}

t.test('an UPDATE listener that throws ends that session only (Cease 6/0); the other stays up', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  const a = peerSpec({ address: '127.0.0.2' });
  const b = peerSpec({ address: '127.0.0.3' });
  speaker.setPeers([a, b]);
  const delivered: string[] = [];
  speaker.on('update', (h: PeerHandle) => {
    if (h.spec.key === a.key) throw new Error('RIB bug');
    delivered.push(h.spec.key);
  });
  const { rawB } = await failingAThenB(t, speaker, port);
  const st = await waitForStatus(speaker, a.key, (s) => s.bgpState !== 'Established');
  t.match(peerInfo(st), /Cease/);

  const got = once(speaker, 'update');
  rawB.send(message(2, UPDATE));
  await got;
  t.same(delivered, [b.key], 'the other session still delivers');
  t.equal(speaker.status().find((s) => s.key === b.key)!.bgpState, 'Established');
});

t.test("the speaker's direct UPDATE handler (onUpdate) takes UPDATEs in place of the event, and is contained the same way", async (t) => {
  const a = peerSpec({ address: '127.0.0.2' });
  const b = peerSpec({ address: '127.0.0.3' });
  const delivered: string[] = [];
  const { speaker, port } = await startSpeaker({
    onUpdate: (h: PeerHandle) => {
      if (h.spec.key === a.key) throw new Error('RIB bug');
      delivered.push(h.spec.key);
    },
  });
  t.teardown(() => speaker.stop());
  speaker.setPeers([a, b]);
  let events = 0;
  speaker.on('update', () => { events++; });
  const { rawB } = await failingAThenB(t, speaker, port);

  rawB.send(message(2, UPDATE));
  while (delivered.length === 0) await new Promise((r) => setTimeout(r, 5));
  t.same(delivered, [b.key], 'the other session still delivers, to the handler');
  t.equal(events, 0, "no 'update' event while a handler is set");
  t.equal(speaker.status().find((s) => s.key === b.key)!.bgpState, 'Established');
});

t.test('a listener throwing on session down (hold timer) still completes the bookkeeping', async (t) => {
  const { speaker, port, clock } = await startSpeaker();
  t.teardown(() => speaker.stop());
  const a = peerSpec({ address: '127.0.0.2' });
  speaker.setPeers([a]);
  speaker.on('down', () => { throw new Error('cleanup bug'); });
  const raw = await rawEstablished(speaker, port);
  t.teardown(() => raw.close());
  clock.advance(91_000); // hold timer expires with no KEEPALIVE from the raw peer
  const f = await raw.nextNonKeepalive();
  t.equal(f.raw.toString('hex'), notificationHex(4, 0));
  const st = await waitForStatus(speaker, a.key, (s) => s.bgpState !== 'Established');
  t.not(st.bgpState, 'Established', 'the peer is no longer shown up');
  // The passive peer accepts a new connection afterwards: the Peer saw 'closed'.
  const again = await rawEstablished(speaker, port);
  t.teardown(() => again.close());
  t.equal(speaker.status()[0]!.bgpState, 'Established');
});

t.test('an established listener that throws: Cease 6/0', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  const a = peerSpec({ address: '127.0.0.2' });
  speaker.setPeers([a]);
  let n = 0;
  speaker.on('established', () => { if (n++ === 0) throw new Error('Adj-RIB-Out bug'); });
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => raw.close());
  await raw.handshake({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2' });
  const f = await raw.nextNonKeepalive();
  t.equal(f.raw.toString('hex'), notificationHex(6, 0));
  await raw.closed;
});

t.test('backoff after a penalised end: doubles, and a good session resets only to the penalised level', async (t) => {
  const b = new ConnectBackoff({ connectRetryMs: 1000, maxMs: 60_000, random: () => 0.5 });
  t.equal(b.current(), 1000);
  b.penalize();
  t.equal(b.current(), 2000);
  b.reset(); // the next session came up
  t.equal(b.current(), 2000, 'not back to the base rate');
  b.penalize();
  b.reset();
  t.equal(b.current(), 4000);
});
