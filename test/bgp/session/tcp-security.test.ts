// TCP MD5 (RFC 2385) and GTSM (RFC 5082) between real sockets on loopback: the kernel
// checks the signatures and the TTL, so these tests see what a peer would.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import * as net from 'node:net';
import { fdOf, md5sigStruct, securedSocket, setMinTtl, setMd5Key, setTtl } from '../../../src/bgp/session/sockopt.js';
import { remoteAddressOf, tcpSecurity, ttlPolicy } from '../../../src/bgp/session/transport.js';
import { RawPeer, openMsg } from '../../helpers/raw-peer.js';
import { LOCAL_AS, peerSpec, startSpeaker, waitForStatus } from './fixtures.js';
import { peerInfo } from '../../../src/api/peer-display.js';
import type { FakeClock } from '../../../src/util/clock.js';

/** Speaker A on 127.0.0.1 and B on 127.0.0.2, sharing one fake clock. */
async function pair(t: Test) {
  const a = await startSpeaker({ routerId: '10.0.0.1' });
  const b = await startSpeaker({ routerId: '10.0.0.2', listenAddress: '127.0.0.2', clock: a.clock });
  t.teardown(async () => { await a.speaker.stop(); await b.speaker.stop(); });
  return { a, b };
}

/** Lets real sockets work for `ms` while the fake clock stands still. */
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP connect from `localAddress` that must not complete within `ms` (SYN dropped). */
async function connectDropped(port: number, localAddress: string, ms: number, prepare?: (s: net.Socket) => void, host = '127.0.0.1'): Promise<boolean> {
  const sock = new net.Socket();
  prepare?.(sock);
  let connected = false;
  sock.on('error', () => undefined);
  sock.connect({ host, port, localAddress }, () => { connected = true; });
  await settle(ms);
  sock.destroy();
  return !connected;
}

t.test('md5sigStruct: layout of struct tcp_md5sig (IPv4, IPv4-mapped on a dual-stack socket, IPv6)', async (t) => {
  const v4 = md5sigStruct('ipv4', '10.1.2.3', 'key');
  t.equal(v4.length, 216);
  t.equal(v4.readUInt16LE(0), 2, 'AF_INET');
  t.same([...v4.subarray(4, 8)], [10, 1, 2, 3]);
  t.equal(v4.readUInt16LE(130), 3, 'tcpm_keylen');
  t.equal(v4.subarray(136, 139).toString(), 'key');
  const mapped = md5sigStruct('ipv6', '10.1.2.3', 'key');
  t.equal(mapped.readUInt16LE(0), 10, 'AF_INET6');
  t.same([...mapped.subarray(8, 24)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]);
  const v6 = md5sigStruct('ipv6', 'fd00::1', '');
  t.equal(v6[8], 0xfd);
  t.equal(v6[23], 1);
  t.equal(v6.readUInt16LE(130), 0, 'empty key: removal');
  t.throws(() => md5sigStruct('ipv4', '10.1.2.3', 'x'.repeat(81)), /longer than 80 bytes/);
});

t.test('MD5: matching passwords reach Established, either side dialing', async (t) => {
  for (const dialer of ['a', 'b'] as const) {
    await t.test(`${dialer} dials`, async (t) => {
      const { a, b } = await pair(t);
      const upA = once(a.speaker, 'established');
      const upB = once(b.speaker, 'established');
      // The passive side only listens: its listener key must accept the dialer's signed SYN,
      // and the dialer's socket must sign it (the listener drops anything else).
      a.speaker.setPeers([peerSpec({ address: '127.0.0.2', port: b.port, passive: dialer !== 'a', sourceAddress: '127.0.0.1', password: 's3cret-md5' })]);
      b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: dialer !== 'b', sourceAddress: '127.0.0.2', password: 's3cret-md5' })]);
      await Promise.all([upA, upB]);
      t.match(a.speaker.status()[0], { state: 'up', bgpState: 'Established' });
      t.equal(a.speaker.status()[0]?.notStarted, undefined);
    });
  }
});

t.test('MD5 over IPv6 (::1): dual-stack and IPv6 sockets carry IPv6 keys', async (t) => {
  const a = await startSpeaker({ routerId: '10.0.0.1', listenAddress: '::1' });
  const b = await startSpeaker({ routerId: '10.0.0.2', listenAddress: '::1', clock: a.clock });
  t.teardown(async () => { await a.speaker.stop(); await b.speaker.stop(); });
  const v6 = (port: number, passive: boolean, password: string) =>
    peerSpec({ address: '::1', port, family: 'ipv6', passive, sourceAddress: '::1', password, name: 'Node_1' });
  const upA = once(a.speaker, 'established');
  a.speaker.setPeers([v6(b.port, true, 'v6-key')]);
  b.speaker.setPeers([v6(a.port, false, 'v6-key')]);
  await upA;
  t.equal(a.speaker.status()[0]?.bgpState, 'Established');
  const unsigned = new net.Socket();
  let connected = false;
  unsigned.on('error', () => undefined);
  unsigned.connect({ host: '::1', port: a.port }, () => { connected = true; });
  await settle(1000);
  unsigned.destroy();
  t.notOk(connected, 'an unsigned IPv6 SYN is dropped');
});

t.test('MD5: different passwords never reach Established; an unsigned connection gets nothing', async (t) => {
  const { a, b } = await pair(t);
  a.speaker.setPeers([peerSpec({ address: '127.0.0.2', port: b.port, passive: true, sourceAddress: '127.0.0.1', password: 'one' })]);
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.2', password: 'two' })]);
  await settle(1500);
  t.equal(a.speaker.status()[0]?.bgpState, 'Passive', 'A never saw a connection');
  t.match(b.speaker.status()[0], { bgpState: 'Connect' }, 'B still waits for its SYN to be answered');
  t.ok(await connectDropped(a.port, '127.0.0.2', 1000), 'unsigned SYN from the peer address is dropped by the kernel');
  // The key belongs to that peer only: another address connects (and is closed as unknown).
  const other = await RawPeer.connect({ port: a.port, localAddress: '127.0.0.3' });
  await other.closed;
  t.equal(other.received.length, 0);
});

t.test('MD5: keys on every listener, and on the new one after relisten', async (t) => {
  const { speaker, port } = await startSpeaker({ listenAddresses: ['127.0.0.1', '127.0.0.5'] });
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ passive: true, password: 'k' })]);
  t.ok(await connectDropped(port, '127.0.0.2', 800), 'unsigned SYN dropped on 127.0.0.1');
  t.ok(await connectDropped(port, '127.0.0.2', 800, undefined, '127.0.0.5'), 'unsigned SYN dropped on 127.0.0.5');
  await speaker.relisten(0, ['127.0.0.1']);
  t.not(speaker.port, port);
  t.ok(await connectDropped(speaker.port!, '127.0.0.2', 800), 'unsigned SYN dropped on the new listener');
  const b = await startSpeaker({ routerId: '10.0.0.2', listenAddress: '127.0.0.2' });
  t.teardown(() => b.speaker.stop());
  const up = once(speaker, 'established');
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: speaker.port!, passive: false, sourceAddress: '127.0.0.2', password: 'k' })]);
  await up;
  t.pass('a signed peer reaches the moved listener');
});

t.test('MD5: a changed password re-keys that session alone; removing the peer removes its key', async (t) => {
  const { a, b } = await pair(t);
  const third = await startSpeaker({ routerId: '10.0.0.3', listenAddress: '127.0.0.3', clock: a.clock });
  t.teardown(() => third.speaker.stop());
  const toB = (pw: string) => peerSpec({ address: '127.0.0.2', port: b.port, passive: true, sourceAddress: '127.0.0.1', password: pw });
  const toC = peerSpec({ address: '127.0.0.3', port: third.port, passive: true, sourceAddress: '127.0.0.1', password: 'c-key' });
  a.speaker.setPeers([toB('old'), toC]);
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.2', password: 'old' })]);
  third.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.3', password: 'c-key' })]);
  await waitForStatus(a.speaker, toB('').key, (s) => s.bgpState === 'Established');
  const cUp = await waitForStatus(a.speaker, toC.key, (s) => s.bgpState === 'Established');
  // Rotate B's password on both ends.
  a.speaker.setPeers([toB('new'), toC]);
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.2', password: 'new' })]);
  (a.clock as FakeClock).advance(6000); // B redials after its connect retry time
  await waitForStatus(a.speaker, toB('').key, (s) => s.bgpState === 'Established');
  const c = a.speaker.status().find((s) => s.key === toC.key);
  t.equal(c?.since, cUp.since, 'the other MD5 session stayed up');
  t.equal(c?.bgpState, 'Established');
  // Without the peer, its address has no key any more: an unsigned connection is accepted (and closed as unknown).
  a.speaker.setPeers([toC]);
  const raw = await RawPeer.connect({ port: a.port, localAddress: '127.0.0.2' });
  await raw.closed;
  t.equal(raw.received.length, 0);
});

t.test('GTSM: ttlSecurity on both ends reaches Established; the connecting SYN carries TTL 255', { timeout: 20_000 }, async (t) => {
  const { a, b } = await pair(t);
  const upA = once(a.speaker, 'established');
  a.speaker.setPeers([peerSpec({ address: '127.0.0.2', port: b.port, passive: true, sourceAddress: '127.0.0.1', ttlSecurity: 1 })]);
  b.speaker.setPeers([peerSpec({ address: '127.0.0.1', port: a.port, passive: false, sourceAddress: '127.0.0.2', ttlSecurity: 1 })]);
  await upA;
  // A listener that requires TTL 255 (as a GTSM peer's does) hears a GTSM dialer, not a plain
  // one. It answers with TTL 255 too: the dialer drops a SYN-ACK below its own minimum.
  const strict = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => strict.listen({ port: 0, host: '127.0.0.4' }, () => r()));
  t.teardown(() => strict.close());
  setMinTtl(fdOf(strict)!, 'ipv4', 255);
  setTtl(fdOf(strict)!, 'ipv4', 255);
  const port = (strict.address() as net.AddressInfo).port;
  const seen = new Promise<void>((r) => strict.once('connection', () => r()));
  const c = await startSpeaker({ routerId: '10.0.0.3', listenAddress: '127.0.0.3', clock: a.clock });
  t.teardown(() => c.speaker.stop());
  c.speaker.setPeers([peerSpec({ address: '127.0.0.4', port, passive: false, sourceAddress: '127.0.0.3', ttlSecurity: 1 })]);
  await seen;
  t.pass('GTSM dialer accepted by a TTL-255 listener');
  const plainDropped = await connectDropped(port, '127.0.0.3', 1000);
  t.ok(plainDropped, 'a TTL-64 SYN to the same listener is dropped (the check is real)');
});

t.test('GTSM: an accepted connection whose packets arrive with TTL < 255 gets no further', async (t) => {
  const { speaker, port, clock } = await startSpeaker();
  t.teardown(async () => {
    // Their FIN has TTL 64 too and is dropped: our close ends by the flush timeout.
    const stopped = speaker.stop();
    clock.advance(60_000);
    await stopped;
  });
  const spec = peerSpec({ passive: true, ttlSecurity: 1 });
  speaker.setPeers([spec, peerSpec({ address: '127.0.0.3', passive: true })]);
  // With a non-GTSM peer beside it the shared listener cannot check TTLs: the handshake
  // completes, then the accepted socket gets IP_MINTTL 255: our OPEN goes out, the raw
  // peer's TTL-64 OPEN is dropped.
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => raw.close());
  t.equal((await raw.next()).type, 1, 'our OPEN arrives');
  raw.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2' }));
  await settle(1000);
  t.equal(speaker.status()[0]?.bgpState, 'OpenSent', 'their OPEN never reached us');
});

t.test('GTSM: when every peer uses it, the listener itself drops low-TTL SYNs', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ passive: true, ttlSecurity: 1 }), peerSpec({ address: '127.0.0.3', passive: true, ttlSecurity: 2 })]);
  t.ok(await connectDropped(port, '127.0.0.2', 1000), 'TTL-64 SYN dropped at the listener');
  speaker.setPeers([peerSpec({ passive: true, ttlSecurity: 1 }), peerSpec({ address: '127.0.0.3', passive: true })]);
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.3' });
  t.teardown(() => raw.close());
  t.equal((await raw.next()).type, 1, 'with a plain peer configured, the listener accepts TTL 64 again');
});

t.test('remoteAddressOf: the peer address of an accepted socket, canonical', async (t) => {
  const of = (remoteAddress: string | undefined) => remoteAddressOf({ remoteAddress } as net.Socket);
  t.equal(of('::ffff:10.230.0.12'), '10.230.0.12', 'IPv4-mapped (a dual-stack listener) unwrapped');
  t.equal(of('::FFFF:10.230.0.12'), '10.230.0.12', 'in either case');
  t.equal(of('10.230.0.12'), '10.230.0.12');
  t.equal(of('fe80::1%eth0'), 'fe80::1', 'zone dropped');
  t.equal(of('2001:DB8:0:0::1'), '2001:db8::1', 'IPv6 canonical');
  t.equal(of('::ffff:a00:1'), '::ffff:a00:1', 'only the dotted form is unwrapped');
  t.equal(of('::ffff:10.230.0'), '::ffff:10.230.0', 'nor an incomplete one');
  t.equal(of(undefined), undefined);
  // a connection accepted through the real stack
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(0, '::', res));
  t.teardown(() => server.close());
  const accepted = once(server, 'connection');
  const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [sock] = (await accepted) as [net.Socket];
  t.equal(remoteAddressOf(sock), '127.0.0.1');
  sock.destroy(); c.destroy();
});

t.test('ttlPolicy: what confd makes BIRD send (GTSM 255, eBGP mesh single-hop 1, else multihop 64)', async (t) => {
  const ebgpMesh = peerSpec({ peerAs: 64513 });
  t.same(ttlPolicy(ebgpMesh), { ttl: 1 }, 'mesh to a node of another AS: no multihop line, BIRD direct');
  t.same(tcpSecurity(ebgpMesh), { ttl: 1 });
  t.same(ttlPolicy(peerSpec()), { ttl: 64 }, 'iBGP mesh: BIRD default multihop');
  t.same(tcpSecurity(peerSpec()), {}, 'the kernel default TTL is left alone');
  for (const type of ['global', 'node', 'localWorkload'] as const) {
    t.same(tcpSecurity(peerSpec({ type, peerAs: 65000 })), {}, `${type} eBGP: confd writes multihop`);
  }
  t.same(tcpSecurity(peerSpec({ peerAs: 64513, ttlSecurity: 2 })), { ttl: 255, minTtl: 254 }, 'GTSM wins over single-hop');
  t.same(tcpSecurity(peerSpec({ type: 'global', peerAs: 65000, password: 'k' })), { md5Key: 'k' });
});

/** A listener on `host` that drops segments with TTL below 2 (loopback delivers TTL unchanged). */
async function ttl2Listener(t: Test, host: string): Promise<{ port: number; seen: Promise<void> }> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen({ port: 0, host }, () => r()));
  t.teardown(() => srv.close());
  setMinTtl(fdOf(srv)!, 'ipv4', 2);
  return { port: (srv.address() as net.AddressInfo).port, seen: new Promise<void>((r) => srv.once('connection', () => r())) };
}

t.test('eBGP single-hop (mesh across ASes): the connecting SYN carries TTL 1, an iBGP one does not', { timeout: 20_000 }, async (t) => {
  const c = await startSpeaker({ routerId: '10.0.0.3', listenAddress: '127.0.0.3' });
  t.teardown(() => c.speaker.stop());
  const single = await ttl2Listener(t, '127.0.0.4');
  c.speaker.setPeers([peerSpec({ address: '127.0.0.4', port: single.port, passive: false, sourceAddress: '127.0.0.3', peerAs: 64513 })]);
  const reached = await Promise.race([single.seen.then(() => true), settle(1500).then(() => false)]);
  t.notOk(reached, 'a min-TTL-2 listener never hears the TTL-1 SYN');
  const multi = await ttl2Listener(t, '127.0.0.5');
  c.speaker.setPeers([peerSpec({ address: '127.0.0.5', port: multi.port, passive: false, sourceAddress: '127.0.0.3', type: 'global', peerAs: 64513 })]);
  await multi.seen;
  t.pass('an explicit eBGP peer (confd: multihop) dials with the default TTL');
});

t.test('eBGP single-hop: an accepted connection answers with TTL 1', { timeout: 20_000 }, async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ passive: true, peerAs: 64513 }), peerSpec({ address: '127.0.0.3', passive: true, type: 'global', peerAs: 64513 })]);
  // The raw peers drop what arrives with TTL < 2 once connected: our OPEN (sent after the
  // accepted socket got its TTL) reaches the multihop peer only.
  const open = (localAddress: string) => {
    const sock = securedSocket('ipv4', '127.0.0.1', { minTtl: 2 }); // set before the handshake
    sock.connect({ port, host: '127.0.0.1', localAddress });
    const raw = new RawPeer(sock);
    t.teardown(() => raw.close());
    return raw.next().then(() => true);
  };
  const single = open('127.0.0.2');
  const multi = open('127.0.0.3');
  // The multihop OPEN arrives whenever the speaker gets to it (bounded by the test's timeout);
  // both OPENs go out as their connections are accepted, so from then on the single-hop one
  // would have arrived too had it been sent with a TTL >= 2: a short window suffices.
  t.ok(await multi, 'the multihop session\'s OPEN arrives');
  t.notOk(await Promise.race([single, settle(500).then(() => false)]), 'no OPEN with TTL >= 2 from the single-hop session');
});

t.test('socket options refused at connect time: a socket error in status, no crash, redial later', async (t) => {
  let calls = 0;
  const { speaker, clock } = await startSpeaker({ connectFactory: () => { calls++; throw new Error('setsockopt TCP_MD5SIG: errno 22'); } });
  t.teardown(() => speaker.stop());
  const spec = peerSpec({ passive: false, password: 'k' });
  speaker.setPeers([spec]);
  const st = await waitForStatus(speaker, spec.key, (s) => peerInfo(s).includes('errno 22'));
  t.match(peerInfo(st), /Socket: setsockopt TCP_MD5SIG: errno 22$/);
  t.notOk(peerInfo(st).includes('"k"'));
  clock.advance(6000);
  await settle(20);
  t.ok(calls >= 2, 'dialed again after the connect retry time');
});

t.test('setMd5Key on a listener: errors name the option, never the key', async (t) => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  t.teardown(() => srv.close());
  const fd = fdOf(srv)!;
  t.doesNotThrow(() => setMd5Key(fd, 'ipv4', '127.0.0.9', 'k'));
  t.doesNotThrow(() => setMd5Key(fd, 'ipv4', '127.0.0.9', null));
  const err = (() => { try { setMd5Key(fd, 'ipv4', '127.0.0.9', null); return undefined; } catch (e) { return e as Error; } })();
  t.match(err?.message, /^setsockopt TCP_MD5SIG: errno \d+$/, 'removing a key that is not there fails with errno only');
});
