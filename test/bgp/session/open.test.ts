// Our OPEN, the peer's OPEN checks (RFC 4271 §6.2) and capability negotiation (RFC 5492,
// 4760 §8, 6793, 7911, 4724), plus the reconnect backoff.
import t from 'tap';
import { buildOpen, compareRouterIds, encodedOpen, validateOpen } from '../../../src/bgp/session/open.js';
import { decodeMessage } from '../../../src/bgp/wire/index.js';
import { negotiate, negotiateTimers } from '../../../src/bgp/session/capabilities.js';
import { gracefulRestartApplies } from '../../../src/bgp/session/peer.js';
import { Backoff } from '../../../src/bgp/backoff.js';
import type { Capability, OpenMessage } from '../../../src/bgp/wire/types.js';
import type { PeerSpec } from '../../../src/peering/peer-spec.js';

const spec = (over: Partial<PeerSpec> = {}): PeerSpec => ({
  key: '10.0.0.2|179', name: 'Mesh_10_0_0_2', type: 'mesh', address: '10.0.0.2', port: 179, family: 'ipv4',
  localAs: 64512, peerAs: 64512, passive: false, holdTime: 240, connectRetryTime: 5, gracefulRestartTime: 120,
  nextHopMode: 'auto', routeReflectorClient: false, addPath: true, ...over,
});
const peerOpen = (over: Partial<OpenMessage> = {}, caps: Capability[] = [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'fourOctetAs', asn: 64512 }]): OpenMessage =>
  ({ type: 'open', version: 4, myAs: 64512, holdTime: 90, bgpId: '10.0.0.2', capabilities: caps, ...over });

t.test('buildOpen: capabilities for the spec family, AS_TRANS for a 4-octet AS, GR bits', async (t) => {
  const o = buildOpen(spec({ localAs: 4200000001, peerAs: 65000, family: 'ipv6', gracefulRestartTime: 300 }), { routerId: '10.0.0.1', gracefulRestart: { restarting: true, forwardingPreserved: true } });
  t.equal(o.myAs, 23456);
  t.equal(o.holdTime, 240);
  t.equal(o.bgpId, '10.0.0.1');
  t.same(o.capabilities, [
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'routeRefresh' },
    { kind: 'enhancedRouteRefresh' },
    { kind: 'gracefulRestart', restarting: true, notification: true, restartTime: 300, families: [{ afi: 2, safi: 1, forwardingPreserved: true }] },
    { kind: 'fourOctetAs', asn: 4200000001 },
    { kind: 'addPath', families: [{ afi: 2, safi: 1, mode: 3 }] },
  ]);
  const plain = buildOpen(spec({ addPath: false }), { routerId: '10.0.0.1' });
  t.equal(plain.myAs, 64512);
  t.notOk(plain.capabilities.some((c) => c.kind === 'addPath'));
});

t.test('buildOpen: sessions with the same settings share one frozen OPEN, encoded once; any setting changed makes another', async (t) => {
  const local = { routerId: '10.0.0.1' };
  const a = buildOpen(spec(), local);
  t.equal(buildOpen(spec({ name: 'another-peer', address: '10.0.0.9' }), local), a, 'another peer, the same settings: the same message');
  t.ok(Object.isFrozen(a) && Object.isFrozen(a.capabilities) && a.capabilities.every((c) => Object.isFrozen(c)), 'frozen, capabilities too');
  t.equal(encodedOpen(a), encodedOpen(buildOpen(spec(), local)), 'encoded once: the same Buffer');
  t.same(decodeMessage(encodedOpen(a), { fourOctetAs: false }), a, 'the bytes decode to the message');
  const differs: [string, OpenMessage][] = [
    ['router id', buildOpen(spec(), { routerId: '10.0.0.2' })],
    ['R bit', buildOpen(spec(), { routerId: '10.0.0.1', gracefulRestart: { restarting: true, forwardingPreserved: false } })],
    ['F bit', buildOpen(spec(), { routerId: '10.0.0.1', gracefulRestart: { restarting: false, forwardingPreserved: true } })],
    ['hold time', buildOpen(spec({ holdTime: 30 }), local)],
    ['local AS', buildOpen(spec({ localAs: 64513 }), local)],
    ['family', buildOpen(spec({ family: 'ipv6' }), local)],
    ['ADD-PATH', buildOpen(spec({ addPath: false }), local)],
    ['restart time', buildOpen(spec({ gracefulRestartTime: 60 }), local)],
  ];
  for (const [what, o] of differs) {
    t.not(o, a, `${what}: another message`);
    t.notSame(encodedOpen(o), encodedOpen(a), `${what}: other bytes`);
  }
});

t.test('validateOpen: NOTIFICATION per RFC 4271 §6.2', async (t) => {
  const v = (o: OpenMessage, s = spec()) => {
    const e = validateOpen(o, s, '10.0.0.1');
    return e ? [e.code, e.subcode, e.data.toString('hex')] : null;
  };
  t.equal(v(peerOpen()), null);
  t.same(v(peerOpen({ version: 3 })), [2, 1, '0004']);
  t.same(v(peerOpen({ myAs: 64513 }, [])), [2, 2, ''], 'My AS without the 4-octet capability');
  t.same(v(peerOpen({}, [{ kind: 'fourOctetAs', asn: 4200000001 }])), [2, 2, ''], '4-octet capability wins over My AS');
  t.equal(v(peerOpen({ myAs: 23456 }, [{ kind: 'fourOctetAs', asn: 4200000001 }]), spec({ peerAs: 4200000001 })), null);
  t.same(v(peerOpen({ holdTime: 1 })), [2, 6, '']);
  t.same(v(peerOpen({ holdTime: 2 })), [2, 6, '']);
  t.equal(v(peerOpen({ holdTime: 0 })), null, 'hold time 0 is acceptable');
  t.equal(v(peerOpen({ holdTime: 3 })), null);
  t.same(v(peerOpen({ bgpId: '0.0.0.0' })), [2, 3, '']);
  t.equal(v(peerOpen({ bgpId: '224.0.0.5' })), null, 'RFC 6286 §2.1: a multicast-looking identifier is a valid non-zero one');
  t.equal(v(peerOpen({ bgpId: '255.255.255.255' })), null);
  t.same(v(peerOpen({ bgpId: '10.0.0.1' })), [2, 3, ''], 'iBGP peer with our router id');
  t.equal(v(peerOpen({ bgpId: '10.0.0.1', myAs: 65001 }, []), spec({ peerAs: 65001 })), null, 'eBGP may share the id (RFC 6286 §2.2)');
});

t.test('negotiate: families, 4-octet AS, ADD-PATH directions, timers, GR', async (t) => {
  const ours = buildOpen(spec(), { routerId: '10.0.0.1' });
  const n = negotiate(ours, peerOpen({}, [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'fourOctetAs', asn: 64512 },
    { kind: 'routeRefresh' },
    { kind: 'addPath', families: [{ afi: 1, safi: 1, mode: 1 }] },
    { kind: 'gracefulRestart', restarting: true, notification: true, restartTime: 90, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }] },
  ]), { localAs: 64512 });
  t.same([...n.families], ['ipv4'], 'only families both advertised');
  t.equal(n.fourOctetAs, true);
  t.same([...n.addPathSend], ['ipv4'], 'we send, the peer receives');
  t.same([...n.addPathReceive], [], 'the peer does not send');
  t.equal(n.holdTime, 90);
  t.equal(n.keepaliveTime, 30);
  t.equal(n.peerAs, 64512);
  t.equal(n.ebgp, false);
  t.equal(n.routeRefresh, true);
  t.equal(n.enhancedRouteRefresh, false);
  t.equal(n.peerRouterId, '10.0.0.2');
  t.same(n.peerGracefulRestart && { ...n.peerGracefulRestart, families: [...n.peerGracefulRestart.families] },
    { restartTime: 90, restarting: true, notification: true, families: [['ipv4', { forwardingPreserved: true }]] }, 'N bit: both sides set it (RFC 8538)');
  t.same(n.decodeOptions, { fourOctetAs: true, addPath: new Set(), extendedMessage: false, ebgp: false });
  t.same(n.encodeOptions, { fourOctetAs: true, addPath: new Set(['ipv4']), extendedMessage: false });
});

t.test('negotiate: no MP capability from the peer implies IPv4 unicast (RFC 4760 §8)', async (t) => {
  const n4 = negotiate(buildOpen(spec(), { routerId: '10.0.0.1' }), peerOpen({}, []), { localAs: 64512 });
  t.same([...n4.families], ['ipv4']);
  t.equal(n4.fourOctetAs, false);
  t.equal(n4.peerGracefulRestart, null);
  const n6 = negotiate(buildOpen(spec({ family: 'ipv6' }), { routerId: '10.0.0.1' }), peerOpen({}, []), { localAs: 64512 });
  t.same([...n6.families], [], 'an IPv6 session with a peer that only implies IPv4 carries nothing');
});

t.test('hold time negotiation: min, 0 disables keepalives, configured keepalive scaled', async (t) => {
  t.same(negotiateTimers(240, 90), { holdTime: 90, keepaliveTime: 30 });
  t.same(negotiateTimers(240, 0), { holdTime: 0, keepaliveTime: 0 });
  t.same(negotiateTimers(0, 90), { holdTime: 0, keepaliveTime: 0 });
  t.same(negotiateTimers(240, 240, 20), { holdTime: 240, keepaliveTime: 20 });
  t.same(negotiateTimers(240, 120, 20), { holdTime: 120, keepaliveTime: 10 });
  t.same(negotiateTimers(3, 3), { holdTime: 3, keepaliveTime: 1 });
});

t.test('collision order compares router ids as unsigned 32-bit numbers', async (t) => {
  t.ok(compareRouterIds('200.0.0.1', '10.0.0.1') > 0);
  t.ok(compareRouterIds('10.0.0.1', '10.0.0.2') < 0);
  t.equal(compareRouterIds('1.2.3.4', '1.2.3.4'), 0);
});

t.test('graceful restart applies (RFC 4724 §4.2, RFC 8538)', async (t) => {
  const ours = buildOpen(spec(), { routerId: '10.0.0.1' });
  const gr = (notification: boolean) => negotiate(ours, peerOpen({}, [{ kind: 'gracefulRestart', restarting: false, notification, restartTime: 120, families: [] }]), { localAs: 64512 });
  const withN = { ...gr(true), peerGracefulRestart: { ...gr(true).peerGracefulRestart!, notification: true } };
  const n = (code: number, subcode: number) => ({ type: 'notification' as const, code, subcode, data: Buffer.alloc(0) });
  t.equal(gracefulRestartApplies(gr(false), { reason: 'connectionFailed', lastError: null, wasEstablished: true }), true, 'TCP loss');
  t.equal(gracefulRestartApplies(gr(false), { reason: 'holdTimerExpired', lastError: null, sent: n(4, 0), wasEstablished: true }), false, 'we sent a NOTIFICATION, no N bit');
  t.equal(gracefulRestartApplies(gr(false), { reason: 'notificationReceived', lastError: null, received: n(6, 2), wasEstablished: true }), false);
  t.equal(gracefulRestartApplies(withN, { reason: 'notificationReceived', lastError: null, received: n(6, 2), wasEstablished: true }), true, 'N bit');
  t.equal(gracefulRestartApplies(withN, { reason: 'notificationReceived', lastError: null, received: n(6, 9), wasEstablished: true }), false, 'Hard Reset');
  const noGr = negotiate(ours, peerOpen(), { localAs: 64512 });
  t.equal(gracefulRestartApplies(noGr, { reason: 'connectionFailed', lastError: null, wasEstablished: true }), false, 'peer without GR');
});

t.test('backoff doubles from the connect retry time to the cap, with bounded jitter, and resets', async (t) => {
  const b = new Backoff({ initialMs: 5000, maxMs: 60000, jitter: 0.1, random: () => 0.5 });
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) { seen.push(b.current()); b.advance(); }
  t.same(seen, [5000, 10000, 20000, 40000, 60000, 60000]);
  b.reset();
  t.equal(b.current(), 5000);
  const lo = new Backoff({ initialMs: 5000, maxMs: 60000, jitter: 0.1, random: () => 0 });
  const hi = new Backoff({ initialMs: 5000, maxMs: 60000, jitter: 0.1, random: () => 0.999999 });
  t.equal(lo.current(), 4500);
  t.equal(hi.current(), 5500);
});
