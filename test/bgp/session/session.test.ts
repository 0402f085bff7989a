// Session over in-memory Duplex pairs (no TCP at all) with a FakeClock: the outgoing
// handshake, hold timer, the connect timeout (ConnectRetryTimer in Connect), and Cease on stop.
import t from 'tap';
import { lastErrorText } from '../../../src/api/peer-display.js';
import { once } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { Session } from '../../../src/bgp/session/session.js';
import { ConnectBackoff } from '../../../src/bgp/backoff.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import type { ConnectFn } from '../../../src/bgp/session/transport.js';
import { cap, keepaliveMsg, openMsg } from '../../helpers/raw-peer.js';
import { LOCAL_AS, notificationHex, peerSpec } from './fixtures.js';

/** Two Duplex ends: what one writes, the other reads; end() on one ends the other's readable. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex) => new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) { other().push(chunk); cb(); },
    final(cb) { other().push(null); cb(); },
  });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

/** Collects whole BGP messages written to `d` (hex), in order. */
function frames(d: Duplex): { next(): Promise<string> } {
  let buf = Buffer.alloc(0);
  const out: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  d.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
      const len = buf.readUInt16BE(16);
      const f = buf.subarray(0, len).toString('hex');
      buf = buf.subarray(len);
      const w = waiters.shift();
      if (w) w(f);
      else out.push(f);
    }
  });
  return { next: () => (out.length ? Promise.resolve(out.shift()!) : new Promise((r) => waiters.push(r))) };
}

function session(connect: ConnectFn, clock: FakeClock) {
  return new Session({
    spec: peerSpec({ passive: false, holdTime: 30 }),
    direction: 'outgoing',
    local: () => ({ routerId: '10.0.0.1' }),
    clock,
    logger: silentLogger(),
    backoff: new ConnectBackoff({ connectRetryMs: 5000, maxMs: 60000, random: () => 0.5 }),
    connect,
  });
}

/** A session started on our end of a Duplex pair; `rx` reads the frames it sends. */
function startOverPipe() {
  const clock = new FakeClock();
  const [ours, theirs] = duplexPair();
  const s = session(() => ours, clock);
  const rx = frames(theirs);
  s.start();
  return { clock, theirs, s, rx };
}

t.test('outgoing session over a Duplex pair: OPEN, Established, hold timer 4/0', async (t) => {
  const { clock, theirs, s, rx } = startOverPipe();
  t.equal(s.state, 'Connect');
  const open = await rx.next();
  t.equal(open.slice(36, 38), '01', 'OPEN first');
  t.equal(s.state, 'OpenSent');
  const up = once(s, 'established');
  theirs.write(Buffer.concat([openMsg({ myAs: LOCAL_AS, holdTime: 30, bgpId: '10.0.0.2' }), keepaliveMsg()]));
  await up;
  t.equal(s.state, 'Established');
  t.equal(await rx.next(), 'ff'.repeat(16) + '001304', 'KEEPALIVE from OpenConfirm');
  const closed = once(s, 'closed');
  clock.advance(30_000);
  let f = await rx.next();
  while (f.endsWith('001304')) f = await rx.next(); // keepalives at 10 s and 20 s
  t.equal(f, notificationHex(4, 0));
  const [end] = await closed;
  t.match(end, { reason: 'holdTimerExpired', lastError: { kind: 'sent', code: 4, subcode: 0 }, wasEstablished: true });
  t.equal(lastErrorText(end.lastError), 'BGP Error: Hold timer expired');
  t.equal(s.state, 'Idle');
});

t.test('a connect that never completes is abandoned and retried when ConnectRetryTimer fires', async (t) => {
  const clock = new FakeClock();
  const attempts: PassThrough[] = [];
  const s = session(() => {
    const p = Object.assign(new PassThrough(), { connecting: true });
    attempts.push(p);
    return p;
  }, clock);
  s.start();
  t.equal(attempts.length, 1);
  clock.advance(5_000);
  t.equal(attempts.length, 2, 'second attempt after the connect retry time');
  t.equal(attempts[0]!.destroyed, true, 'first attempt destroyed');
  t.equal(s.state, 'Connect');
  s.stop('adminShutdown');
  t.equal(s.state, 'Idle');
  t.equal(attempts[1]!.destroyed, true);
});

t.test('stop() in OpenSent sends Cease 6/2, then closes', async (t) => {
  const { theirs, s, rx } = startOverPipe();
  await rx.next();
  s.stop('adminShutdown');
  t.equal(await rx.next(), notificationHex(6, 2));
  theirs.end();
  await s.closed();
  t.equal(s.state, 'Idle');
});

// RFC 8538 §5: with the N bit on both sides, Cease 6/1, 6/2 and 6/3 go out as Hard Reset
// (6/9) carrying the original code and subcode; 6/4 (the daemon's own stop) and 6/6 stay
// soft so graceful restart covers them. Without the peer's N bit nothing is wrapped.
for (const [reason, sub, peerN, expect] of [
  ['peerDeconfigured', 3, true, notificationHex(6, 9, '0603')],
  ['adminShutdown', 2, true, notificationHex(6, 9, '0602')],
  ['adminReset', 4, true, notificationHex(6, 4)],
  ['configChanged', 6, true, notificationHex(6, 6)],
  ['peerDeconfigured', 3, false, notificationHex(6, 3)],
] as const) {
  t.test(`stop('${reason}') when Established, peer N bit ${peerN}: ${expect.slice(38)}`, async (t) => {
    const clock = new FakeClock();
    const [ours, theirs] = duplexPair();
    const s = session(() => ours, clock);
    const rx = frames(theirs);
    s.start();
    await rx.next();
    const up = once(s, 'established');
    const caps = [cap.mp(1), cap.fourOctetAs(LOCAL_AS), cap.gracefulRestart(120, peerN ? 0x4 : 0, [{ afi: 1, forwarding: true }])];
    theirs.write(Buffer.concat([openMsg({ myAs: LOCAL_AS, holdTime: 30, bgpId: '10.0.0.2', caps }), keepaliveMsg()]));
    await up;
    await rx.next(); // KEEPALIVE
    const closed = once(s, 'closed');
    s.stop(reason);
    t.equal(await rx.next(), expect);
    const [end] = await closed;
    t.equal(end.sent.subcode, expect === notificationHex(6, sub) ? sub : 9, 'the session end records what was sent');
    theirs.end();
    await s.closed();
  });
}

t.test('hold and keepalive timers restart on every message: hold expires holdTime after the last one received, a KEEPALIVE goes keepaliveTime after the last one sent', async (t) => {
  const clock = new FakeClock();
  const [ours, theirs] = duplexPair();
  const s = session(() => ours, clock);
  const rx = frames(theirs);
  const sent: number[] = []; // clock time of every KEEPALIVE we send
  theirs.on('data', (c: Buffer) => { if (c.toString('hex').endsWith('001304')) sent.push(clock.now()); });
  const settle = () => new Promise((r) => setImmediate(r));
  s.start();
  await rx.next(); // OPEN
  const up = once(s, 'established');
  theirs.write(Buffer.concat([openMsg({ myAs: LOCAL_AS, holdTime: 30, bgpId: '10.0.0.2' }), keepaliveMsg()]));
  await up;
  await settle();
  const t0 = clock.now();
  sent.length = 0;
  clock.advance(5_000);
  s.write(Buffer.from('ff'.repeat(16) + '001304', 'hex')); // a message sent at 5 s: the next KEEPALIVE is due at 15 s
  await settle();
  sent.length = 0;
  clock.advance(9_999);
  await settle();
  t.same(sent, [], 'no KEEPALIVE 10 s after the previous one');
  clock.advance(1);
  await settle();
  t.same(sent.map((x) => x - t0), [15_000], 'KEEPALIVE 10 s after the last message sent');
  theirs.write(keepaliveMsg()); // received at 15 s: hold now expires at 45 s
  await settle();
  let ended = false;
  s.once('closed', () => { ended = true; });
  clock.advance(29_999);
  await settle();
  t.notOk(ended, 'still up 1 ms before holdTime after the last message received');
  t.equal(s.state, 'Established');
  clock.advance(1);
  await settle();
  t.ok(ended, 'hold timer expired holdTime after the last message received');
});
