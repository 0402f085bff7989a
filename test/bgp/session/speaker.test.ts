// Speaker sessions over real loopback TCP with a FakeClock: establishment, NOTIFICATIONs for
// protocol errors (exact bytes), hold timer, status texts, setPeers diffing, stop().
import t from 'tap';
import { peerInfo } from '../../../src/api/peer-display.js';
import { once } from 'node:events';
import { FakeClock } from '../../../src/util/clock.js';
import { RawPeer, emptyUpdateMsg, keepaliveMsg, message, openMsg, parseOpen } from '../../helpers/raw-peer.js';
import { LOCAL_AS, establishedSpeaker, notificationHex, peerSpec, rawEstablished, startSpeaker, waitForStatus, withInfo } from './fixtures.js';

t.test('two Speakers on loopback reach Established (active 127.0.0.1 → passive 127.0.0.2)', async (t) => {
  const clock = new FakeClock();
  const a = await startSpeaker({ clock, routerId: '10.0.0.1' });
  const b = await startSpeaker({ clock, routerId: '10.0.0.2', listenAddress: '127.0.0.2' });
  t.teardown(async () => { await a.speaker.stop(); await b.speaker.stop(); });
  const upA = once(a.speaker, 'established');
  const upB = once(b.speaker, 'established');
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: true })]);
  a.speaker.setPeers([peerSpec({ address: '127.0.0.2', port: b.port, passive: false, sourceAddress: '127.0.0.1' })]);
  const [[ha], [hb]] = await Promise.all([upA, upB]);
  t.equal(ha.negotiated?.peerRouterId, '10.0.0.2');
  t.equal(hb.negotiated?.peerRouterId, '10.0.0.1');
  t.same([...(ha.negotiated?.families ?? [])], ['ipv4']);
  const [sa] = a.speaker.status();
  t.match(withInfo(sa), { state: 'up', bgpState: 'Established', info: 'Established', routerId: '10.0.0.2', holdTime: 90 });
  t.equal(b.speaker.status()[0]?.state, 'up');
});

t.test('hold timer expiry sends NOTIFICATION 4/0 and reports it like BIRD', async (t) => {
  const { speaker, clock, raw } = await establishedSpeaker(t, { holdTime: 30 });
  const down = once(speaker, 'down');
  clock.advance(30_000); // negotiated min(90, 30); the raw peer stays silent
  const n = await raw.nextNonKeepalive();
  t.equal(n.raw.toString('hex'), notificationHex(4, 0));
  const [, reason, gr] = await down;
  t.equal(reason, 'holdTimerExpired');
  t.equal(gr, false, 'no GR capability from the peer');
  await raw.closed;
  t.match(speaker.status()[0], { state: 'start', bgpState: 'Passive' });
  t.equal(peerInfo(speaker.status()[0]!), 'Passive BGP Error: Hold timer expired');
});

t.test('keepalives are sent every hold/3 while Established', async (t) => {
  const { speaker, clock, raw } = await establishedSpeaker(t, { holdTime: 30 });
  t.equal((await raw.next()).type, 4, 'KEEPALIVE on entering OpenConfirm');
  clock.advance(10_000);
  t.equal((await raw.next()).type, 4, 'KEEPALIVE after 10 s');
  raw.send(keepaliveMsg());
  t.equal(speaker.status()[0]?.state, 'up');
});

const openErrors = [
  { name: 'wrong peer AS → 2/2', open: { myAs: 65001, caps: [] as Buffer[] }, hex: notificationHex(2, 2), info: 'BGP Error: Bad Peer AS' },
  { name: 'hold time 1 → 2/6', open: { holdTime: 1 }, hex: notificationHex(2, 6), info: 'BGP Error: Unacceptable Hold Time' },
  { name: 'version 3 → 2/1 with data 0x0004', open: { version: 3 }, hex: notificationHex(2, 1, '0004'), info: 'BGP Error: Unsupported Version Number' },
];
for (const c of openErrors) {
  t.test(`OPEN with ${c.name}`, async (t) => {
    const { speaker, port } = await startSpeaker();
    t.teardown(() => speaker.stop());
    speaker.setPeers([peerSpec()]);
    const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
    t.teardown(() => raw.close());
    const ours = parseOpen(await raw.next());
    t.match(ours, { version: 4, myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.1' });
    raw.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2', ...c.open }));
    const n = await raw.next();
    t.equal(n.raw.toString('hex'), c.hex);
    await raw.closed;
    t.equal(peerInfo(speaker.status()[0]!), `Passive ${c.info}`);
  });
}

t.test('unexpected UPDATE in OpenConfirm → 5/2 (RFC 6608)', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => raw.close());
  t.equal((await raw.next()).type, 1);
  raw.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2' }), emptyUpdateMsg());
  t.equal((await raw.next()).type, 4, 'KEEPALIVE: the OPEN moved the session to OpenConfirm');
  t.equal((await raw.next()).raw.toString('hex'), notificationHex(5, 2));
});

t.test('KEEPALIVE in OpenSent → 5/1; bad marker → 1/1; malformed UPDATE in Established → 3/1', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const r1 = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  await r1.next();
  r1.send(keepaliveMsg());
  t.equal((await r1.next()).raw.toString('hex'), notificationHex(5, 1));
  await r1.closed;

  const r2 = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  await r2.next();
  const bad = keepaliveMsg();
  bad[3] = 0;
  r2.send(bad);
  t.equal((await r2.next()).raw.toString('hex'), notificationHex(1, 1));
  await r2.closed;

  const r3 = await rawEstablished(speaker, port);
  const down = once(speaker, 'down');
  // Withdrawn Routes Length 0xffff overruns the message → Malformed Attribute List, reset.
  r3.send(message(2, Buffer.from([0xff, 0xff, 0, 0])));
  t.equal((await r3.nextNonKeepalive()).raw.toString('hex'), notificationHex(3, 1));
  t.equal((await down)[1], 'notificationSent');
  await r3.closed;
});

t.test('received NOTIFICATION ends the session: "Received: …" and no answer', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await rawEstablished(speaker, port);
  const down = once(speaker, 'down');
  raw.send(message(3, Buffer.from([6, 2])));
  t.equal((await down)[1], 'notificationReceived');
  await raw.closed;
  const frames = [];
  for (let off = 0; off < raw.received.length; off += raw.received.readUInt16BE(off + 16)) frames.push(raw.received[off + 18]);
  t.notOk(frames.includes(3), 'no NOTIFICATION sent back');
  t.equal(peerInfo(speaker.status()[0]!), 'Passive Received: Administrative shutdown');
});

t.test('connection from an unconfigured address is closed without a byte', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.3' });
  await raw.closed;
  t.equal(raw.received.length, 0);
  t.equal(speaker.status()[0]?.bgpState, 'Passive');
});

t.test('setPeers: unchanged (or name/type-only) keeps the session; changed hold time restarts it with 6/6', async (t) => {
  const { speaker, clock, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  const spec = peerSpec();
  speaker.setPeers([spec]);
  const raw = await rawEstablished(speaker, port);
  t.teardown(() => raw.close());
  const since = speaker.status()[0]?.since;
  let downs = 0;
  speaker.on('down', () => downs++);
  clock.advance(1_000);
  speaker.setPeers([{ ...spec }]);
  speaker.setPeers([{ ...spec, name: 'Global_127_0_0_2', type: 'global' }]);
  t.equal(downs, 0);
  t.match(speaker.status()[0], { state: 'up', since, name: 'Global_127_0_0_2', type: 'global' });
  speaker.setPeers([{ ...spec, holdTime: 60 }]);
  t.equal(downs, 1);
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 6));
  t.match(speaker.status()[0], { state: 'start', holdTime: 60, since: clock.now() });
});

t.test('setPeers: removed peer gets Cease 6/3', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await rawEstablished(speaker, port);
  const down = once(speaker, 'down');
  speaker.setPeers([]);
  t.equal((await down)[1], 'peerDeconfigured');
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 3));
  t.same(speaker.status(), []);
});

t.test('stop() sends Cease 6/4 (Administrative Reset: the daemon is expected back) and resolves once the connection is closed', async (t) => {
  const { speaker, port } = await startSpeaker();
  speaker.setPeers([peerSpec()]);
  const raw = await rawEstablished(speaker, port);
  const stopped = speaker.stop();
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 4));
  await stopped;
  await raw.closed;
  t.equal(speaker.port, null);
});
