// Connection collisions (RFC 4271 §6.8), passive peers, reconnects, unresolved passwords. A
// GR-capable peer connecting while Established (RFC 4724 §4.2): held-connection.test.ts.
import t from 'tap';
import { peerInfo } from '../../../src/api/peer-display.js';
import { once } from 'node:events';
import { netConnect } from '../../../src/bgp/session/transport.js';
import type { ConnectRequest } from '../../../src/bgp/session/transport.js';
import { RawListener, RawPeer, keepaliveMsg, openMsg } from '../../helpers/raw-peer.js';
import { LOCAL_AS, notificationHex, peerSpec, rawEstablished, startSpeaker, waitForStatus, withInfo } from './fixtures.js';

/**
 * The speaker (router id 10.0.0.5) dials the raw listener at 127.0.0.2 and is left in
 * OpenConfirm there; the raw side then dials in from 127.0.0.2 and sends its OPEN.
 */
async function collide(rawId: string) {
  const listener = await RawListener.listen('127.0.0.2');
  const { speaker, port } = await startSpeaker({ routerId: '10.0.0.5' });
  speaker.setPeers([peerSpec({ port: listener.port, passive: false })]);
  const out = await listener.accept(); // connection initiated by the speaker
  t.equal((await out.next()).type, 1);
  out.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: rawId }));
  t.equal((await out.next()).type, 4, 'outgoing connection in OpenConfirm');
  const inc = await RawPeer.connect({ port, localAddress: '127.0.0.2' }); // initiated by the raw peer
  t.equal((await inc.next()).type, 1);
  inc.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: rawId }));
  const cleanup = async () => { out.close(); inc.close(); await speaker.stop(); await listener.close(); };
  return { speaker, out, inc, cleanup };
}

t.test('collision: the peer has the higher router id → its connection (incoming) survives', async (t) => {
  const { speaker, out, inc, cleanup } = await collide('10.0.0.9');
  t.teardown(cleanup);
  t.equal((await out.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 7), 'our connection gets Cease 6/7');
  t.equal((await inc.next()).type, 4, 'incoming connection goes to OpenConfirm');
  const up = once(speaker, 'established');
  inc.send(keepaliveMsg());
  const [h] = await up;
  t.equal(h.negotiated?.peerRouterId, '10.0.0.9');
  t.match(withInfo(speaker.status()[0]), { state: 'up', info: 'Established' });
});

t.test('collision: we have the higher router id → our connection (outgoing) survives', async (t) => {
  const { speaker, out, inc, cleanup } = await collide('10.0.0.1');
  t.teardown(cleanup);
  t.equal((await inc.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 7), 'the incoming connection gets Cease 6/7');
  await inc.closed;
  const up = once(speaker, 'established');
  out.send(keepaliveMsg());
  await up;
  t.match(withInfo(speaker.status()[0]), { state: 'up', info: 'Established' });
});

t.test('two active Speakers dialing each other end with exactly one session each', async (t) => {
  const a = await startSpeaker({ routerId: '10.0.0.1' });
  const b = await startSpeaker({ routerId: '10.0.0.2', listenAddress: '127.0.0.2', clock: a.clock });
  t.teardown(async () => { await a.speaker.stop(); await b.speaker.stop(); });
  const upA = once(a.speaker, 'established');
  const upB = once(b.speaker, 'established');
  a.speaker.setPeers([peerSpec({ address: '127.0.0.2', port: b.port, passive: false, sourceAddress: '127.0.0.1' })]);
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.2' })]);
  await Promise.all([upA, upB]);
  t.equal(a.speaker.status()[0]?.state, 'up');
  t.equal(b.speaker.status()[0]?.state, 'up');
});

t.test('a passive peer is never dialed; an active one is, and reports "Socket: Connection refused"', async (t) => {
  const calls: ConnectRequest[] = [];
  const { speaker, clock } = await startSpeaker({ connectFactory: (req) => { calls.push(req); return netConnect(req); } });
  t.teardown(() => speaker.stop());
  const listener = await RawListener.listen('127.0.0.3');
  const closedPort = listener.port;
  await listener.close(); // nothing listens there now: connection refused
  const passive = peerSpec({ address: '127.0.0.2', port: 179, passive: true });
  const active = peerSpec({ address: '127.0.0.3', port: closedPort, passive: false });
  speaker.setPeers([passive, active]);
  const refused = await waitForStatus(speaker, active.key, (s) => peerInfo(s).includes('Connection refused'));
  t.equal(peerInfo(refused), 'Active Socket: Connection refused');
  t.equal(refused.state, 'start');
  for (let i = 0; i < 20; i++) clock.advance(60_000);
  t.ok(calls.length >= 1);
  t.same(calls.filter((c) => c.host === '127.0.0.2'), [], 'no dial to the passive peer');
  t.match(withInfo(speaker.status().find((s) => s.key === passive.key)), { state: 'start', bgpState: 'Passive', info: 'Passive' });
});

t.test('after the connection fails the speaker redials on the backoff timer', async (t) => {
  const listener = await RawListener.listen('127.0.0.2');
  const { speaker, clock } = await startSpeaker();
  t.teardown(async () => { await speaker.stop(); await listener.close(); });
  speaker.setPeers([peerSpec({ port: listener.port, passive: false })]);
  const first = await listener.accept();
  first.close();
  await waitForStatus(speaker, speaker.status()[0]!.key, (s) => peerInfo(s).startsWith('Idle Socket:'));
  t.equal(listener.connections, 1);
  clock.advance(6_000); // first delay 5 s ± 10 %
  const second = await listener.accept();
  t.equal(listener.connections, 2);
  second.close();
});

t.test('a refused connect (peer starting) is redialed after 250 ms, doubling up to the connect retry time', async (t) => {
  const calls: number[] = [];
  const { speaker, clock } = await startSpeaker({ connectFactory: (req) => { calls.push(clock.now()); return netConnect(req); } });
  t.teardown(() => speaker.stop());
  const listener = await RawListener.listen('127.0.0.3');
  const closedPort = listener.port;
  await listener.close(); // nothing listens there: every connect is refused (RST)
  const spec = peerSpec({ address: '127.0.0.3', port: closedPort, passive: false, connectRetryTime: 5 });
  speaker.setPeers([spec]);
  const waitCalls = async (n: number) => {
    for (let i = 0; i < 200 && calls.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    t.ok(calls.length >= n, `dial #${n} made`);
  };
  await waitCalls(1);
  await waitForStatus(speaker, spec.key, (s) => peerInfo(s).includes('Connection refused'));
  clock.advance(200);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(calls.length, 1, 'not before 250 ms ± 10 %');
  clock.advance(100);
  await waitCalls(2);
  const gaps: number[] = [];
  for (let i = 0; i < 8; i++) {
    await waitForStatus(speaker, spec.key, (s) => peerInfo(s).includes('Connection refused') && s.bgpState !== 'Connect');
    const before = calls.length;
    for (let step = 0; step < 60 && calls.length === before; step++) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 2));
    }
    gaps.push(calls[calls.length - 1]! - calls[calls.length - 2]!);
  }
  t.ok(gaps[0]! >= 400 && gaps[0]! <= 700, `second gap ≈ 500 ms (got ${gaps[0]})`);
  t.ok(gaps.every((g) => g <= 5600), `never more than the connect retry time (gaps ${gaps.join(', ')})`);
  t.ok(gaps.slice(-3).every((g) => g >= 4400), 'settles at the connect retry time, as BIRD does');
});

t.test('unresolved password: session not started, reported with its reason, incoming refused', async (t) => {
  const calls: ConnectRequest[] = [];
  const { speaker, port } = await startSpeaker({ connectFactory: (req) => { calls.push(req); return netConnect(req); } });
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ passive: false, passwordUnresolved: 'password secret bgp/tor unavailable: no Secret bgp in the datastore' })]);
  t.same(calls, []);
  t.match(withInfo(speaker.status()[0]), {
    state: 'down', bgpState: 'Idle', info: 'Error: password secret bgp/tor unavailable: no Secret bgp in the datastore',
    notStarted: { reason: 'passwordUnresolved', detail: 'password secret bgp/tor unavailable: no Secret bgp in the datastore' },
  });
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  await raw.closed;
  t.equal(raw.received.length, 0, 'an incoming connection from it gets no OPEN');
});

t.test('IPv6 link-local peer: not started, with the reason in status; nothing dialled', async (t) => {
  const calls: ConnectRequest[] = [];
  const { speaker } = await startSpeaker({ connectFactory: (req) => { calls.push(req); return netConnect(req); } });
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ address: 'fe80::1', family: 'ipv6', passive: false, password: 'k' })]);
  t.same(calls, []);
  const st = withInfo(speaker.status()[0]);
  t.match(st, { state: 'down', bgpState: 'Idle', notStarted: { reason: 'linkLocalPeer' } });
  t.match(st?.info, /^Error: the peer address is IPv6 link-local: tern does not run link-local sessions/);
});

t.test('a new connection while Established (no GR) is the one closed, with Cease 6/7', async (t) => {
  const listener = await RawListener.listen('127.0.0.2');
  const { speaker, port } = await startSpeaker({ routerId: '10.0.0.5' });
  t.teardown(async () => { await speaker.stop(); await listener.close(); });
  speaker.setPeers([peerSpec({ port: listener.port, passive: false })]);
  const up = once(speaker, 'established');
  const out = await listener.accept();
  await out.handshake({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.9' });
  await up;
  let downs = 0;
  speaker.on('down', () => downs++);
  const inc = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.equal((await inc.next()).type, 1);
  inc.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.9' }));
  t.equal((await inc.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 7));
  await inc.closed;
  t.equal(downs, 0);
  t.match(withInfo(speaker.status()[0]), { state: 'up', info: 'Established' });
  out.close();
});
