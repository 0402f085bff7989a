// Smaller RFC points: RFC 6608 FSM errors for messages a state does not expect (even when
// their body is malformed), RFC 7911 §4 unknown ADD-PATH Send/Receive value, RFC 4271 §5.1.4
// MED toward eBGP, RFC 7606 §5.3 / import limit ending graceful restart.
import t from 'tap';
import { RawPeer, message, openMsg } from '../../helpers/raw-peer.js';
import { LOCAL_AS, notificationHex, peerSpec, startSpeaker } from './fixtures.js';
import { decodeCapability } from '../../../src/bgp/wire/index.js';
import { gracefulRestartApplies } from '../../../src/bgp/session/peer.js';
import type { Negotiated } from '../../../src/bgp/session/capabilities.js';
import type { SessionEnd } from '../../../src/bgp/session/session.js';
import { exportAttributes } from '../../../src/policy/export.js';
import { makeRib, addPeer, attrs, seq, announce } from '../../rib/fixtures/helpers.js';
import { CTX, ebgpPeer } from '../../rib/fixtures/export-ctx.js';

t.setTimeout(30_000);
const MALFORMED_UPDATE = message(2, Buffer.from('ffff0000', 'hex')); // Withdrawn Routes Length 65535

async function connected(port: number): Promise<RawPeer> {
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  const theirs = await raw.next();
  if (theirs.type !== 1) throw new Error('expected OPEN');
  return raw;
}

t.test('RFC 6608: a malformed UPDATE in OpenSent is an FSM error 5/1, not 3/1', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await connected(port);
  t.teardown(() => raw.close());
  raw.send(MALFORMED_UPDATE);
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(5, 1));
});

t.test('RFC 6608: in OpenConfirm a malformed UPDATE gets 5/2, and so does a malformed OPEN', async (t) => {
  const { speaker, port } = await startSpeaker();
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  for (const bad of [MALFORMED_UPDATE, message(1, Buffer.from('04fc00005a0a00000205', 'hex')) /* optional parameters length 5, none there */]) {
    const raw = await connected(port);
    raw.send(openMsg({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2' }));
    t.equal((await raw.next()).type, 4, 'KEEPALIVE: OpenConfirm');
    raw.send(bad);
    t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(5, 2));
    await raw.closed;
  }
});

t.test('RFC 7911 §4: an unknown Send/Receive value makes the ADD-PATH capability ignored', async (t) => {
  t.same(decodeCapability(69, Buffer.from('00010104', 'hex')), { kind: 'unknown', code: 69, data: Buffer.from('00010104', 'hex') });
  t.same(decodeCapability(69, Buffer.from('00010103', 'hex')), { kind: 'addPath', families: [{ afi: 1, safi: 1, mode: 3 }] });
});

t.test('RFC 4271 §5.1.4: a MED from another AS is not sent to eBGP, even when learned over iBGP', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); // iBGP
  announce(rib, '10.0.0.2|179', '10.244.9.0/24', attrs({ nextHop: '10.0.0.2', asPath: seq(65001), med: 50 }));
  announce(rib, '10.0.0.2|179', '10.244.8.0/24', attrs({ nextHop: '10.0.0.2', med: 20 })); // originated in our AS
  rib.flush();
  const out = (p: string) => exportAttributes(CTX, rib.lookup(p)!.best!, ebgpPeer(9));
  t.notOk('med' in ((out('10.244.9.0/24') as { attrs: object }).attrs), 'MED of a route from AS 65001 dropped');
  t.equal((out('10.244.8.0/24') as { attrs: { med?: number } }).attrs.med, 20, 'a MED set inside our AS may go out');
});

t.test('routes that cannot be trusted end graceful restart: RFC 7606 §5.3 reset, import limit', async (t) => {
  const n = { peerGracefulRestart: { restartTime: 120, restarting: false, notification: true, families: new Map() } } as unknown as Negotiated;
  const end = (over: Partial<SessionEnd>): SessionEnd => ({ reason: 'notificationSent', lastError: null, wasEstablished: true, sent: { type: 'notification', code: 3, subcode: 1, data: Buffer.alloc(0) }, ...over });
  t.equal(gracefulRestartApplies(n, end({})), true, 'a plain 3/1 with the N bit keeps the routes stale (RFC 8538)');
  t.equal(gracefulRestartApplies(n, end({ flushRoutes: true })), false, 'NLRI that could not be located: flushed');
  t.equal(gracefulRestartApplies(n, end({ reason: 'prefixLimit', sent: { type: 'notification', code: 6, subcode: 1, data: Buffer.alloc(7) } })), false, 'Cease 6/1: flushed');
});
